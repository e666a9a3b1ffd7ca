"""``stats``: exact JSON on the seeds (golden), exact figures on small records, bounded repeat counting."""

from __future__ import annotations

import io
import json
from collections import Counter

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from conftest import DATA, SEEDS, parse_jsonl, run_shell
from corpus_tools.io import Item
from corpus_tools.normalize import KINDS
from corpus_tools.stats import RepeatCounter, StatsOptions, render_rich, render_text, stats_items

GOLDEN = DATA / "stats"
ZERO_FIXES = dict.fromkeys(KINDS, 0)


def items(*records: dict) -> list[Item]:
    return [Item("mem.jsonl", n, r) for n, r in enumerate(records, 1)]


def record(id: str, text: str, **metadata: object) -> dict:
    return {"id": id, "text": text, "source": f"{id}.txt", "metadata": metadata}


SMALL = items(
    record(
        "a",
        "One two three.\n\nFour five.\nShared paragraph here.",
        authors=["Cathy Fang"],
        bylines=["Cathy Fang is a policy analyst."],
        translators=[],
        teasers=["T one", "T two"],
        cuts=[{"rule": "truncated", "paragraph": 4}, {"rule": "after-credits", "paragraph": 3}],
        normalize={"entities": 2, "mojibake": 0},
    ),
    record(
        "b",
        "Shared paragraph here.\nAnother one with six words here.",
        authors=[],
        bylines=[],
        translators=["Eddy Chang"],
        teasers=[],
        cuts=[],
        normalize={"entities": 0, "mojibake": 1},
    ),
    record("c", "Solo.", note="no step metadata at all"),
)


def test_small_corpus_figures_are_exact():
    report = stats_items(SMALL, StatsOptions(length_bins=(0, 5, 10))).as_dict()
    assert report == {
        "records": 3,
        "words": 8 + 9 + 1,
        "characters": 49 + 55 + 5,  # "One two three." 14 + 2 newlines + "Four five." 10 + 1 + 22; 22 + 1 + 32; 5
        "paragraphs": 3 + 2 + 1,
        "length_words": {"min": 1, "p10": 1, "median": 8, "p90": 9, "max": 9, "mean": 6.0},
        "length_histogram": [
            {"min_words": 0, "max_words": 4, "records": 1},
            {"min_words": 5, "max_words": 9, "records": 2},
            {"min_words": 10, "max_words": None, "records": 0},
        ],
        "authors": {"records": 1, "share": 0.3333, "recorded": 2},
        "translators": {"records": 1, "share": 0.3333, "recorded": 2},
        "credit_lines": 1,
        "credit_lines_recorded": 2,
        "teasers": {"cut": 2, "records": 1, "per_record": 0.67, "by_count": {"0": 2, "2": 1}, "recorded": 2},
        "cuts": {"after-credits": 1, "truncated": 1},
        "metadata_keys": {
            "normalize": 2,
            "authors": 2,
            "bylines": 2,
            "translators": 2,
            "contributors": 0,
            "teasers": 2,
        },
        "normalize": {"records": 2, "recorded": 2, "fixes": 3, "by_kind": {**ZERO_FIXES, "entities": 2, "mojibake": 1}},
        "top_paragraphs": [{"records": 2, "text": "Shared paragraph here."}],
        "top_paragraphs_exact": True,
    }


def test_plain_report_for_pipes():
    report = stats_items(SMALL, StatsOptions(length_bins=(0, 5, 10))).as_dict()
    assert render_text(report) == (
        "records: 3\n"
        "words: 18\n"
        "characters: 109\n"
        "paragraphs: 6\n"
        "words per record: min 1, p10 1, median 8, p90 9, max 9, mean 6.0\n"
        "length histogram (words: records):\n"
        "  0-4:    1 ###############\n"
        "  5-9:    2 ##############################\n"
        "with authors: 1 (33.3%)\n"
        "with translators: 1 (33.3%)\n"
        "credit lines moved to metadata: 1\n"
        "teasers cut: 2 in 1 record of 3 (0.67 per record)\n"
        "cuts by rule: after-credits 1, truncated 1\n"
        "normalization fixes: 3 in 2 records\n"
        "  entities: 2\n"
        "  mojibake: 1\n"
        "  control_chars: 0\n"
        "  line_breaks: 0\n"
        "  surrogates: 0\n"
        "  ligatures: 0\n"
        "  width: 0\n"
        "  quotes: 0\n"
        "  unicode_form: 0\n"
        "  spaces: 0\n"
        "  space_runs: 0\n"
        "  line_spaces: 0\n"
        "  blank_lines: 0\n"
        "  double_periods: 0\n"
        "  double_dashes: 0\n"
        "top repeated paragraphs:\n"
        "     2 records: Shared paragraph here.\n"
    )


def test_rich_report_on_a_terminal():
    report = stats_items(SMALL).as_dict()
    buffer = io.StringIO()
    render_rich(report, Console(file=buffer, width=160, color_system=None))
    text = buffer.getvalue()
    assert "█" in text
    assert "Shared paragraph here." in text
    assert "normalize" in text and "entities" in text


def test_empty_input_reports_zeros(cli):
    result = cli(["stats", "--json"], input=b"")
    report = orjson.loads(result.stdout)
    assert result.exit_code == 0
    assert (report["records"], report["length_words"]["median"], report["top_paragraphs"]) == (0, 0, [])


def test_seeds_json_is_exactly_the_golden_file(cli, tmp_path):
    raw = cli(["ingest", SEEDS])
    path = tmp_path / "raw.jsonl"
    path.write_bytes(raw.stdout_bytes)
    result = cli(["stats", "--json", path])
    assert result.exit_code == 0, result.stderr
    golden = json.loads((GOLDEN / "seeds-ingest.json").read_text(encoding="utf-8"))
    assert orjson.loads(result.stdout) == golden
    # 000 and 001 share their body, 000 and 003 a teaser: nothing in the seeds repeats more than twice.
    assert golden["top_paragraphs"][0]["records"] == 2


def test_cleaned_seeds_through_a_real_pipe():
    result = run_shell("corpus-tools clean seeds/ --no-dedup | corpus-tools stats --format json")
    assert result.returncode == 0, result.stderr
    report = orjson.loads(result.stdout)
    assert report["records"] == 5
    assert report["authors"] == {"records": 4, "share": 0.8, "recorded": 5}
    assert report["translators"] == {"records": 2, "share": 0.4, "recorded": 5}
    assert report["credit_lines"] == 6
    assert report["teasers"] == {
        "cut": 16,
        "records": 4,
        "per_record": 3.2,
        "by_count": {"0": 1, "4": 4},
        "recorded": 5,
    }
    # After cleaning only 000 and 001's shared article body repeats.
    assert {p["records"] for p in report["top_paragraphs"]} == {2}
    cleaned = parse_jsonl(run_shell("corpus-tools clean seeds/ --no-dedup").stdout)
    assert report["words"] == sum(len(r["text"].split()) for r in cleaned)
    fixes = Counter()
    for r in cleaned:
        fixes.update(r["metadata"]["normalize"])
    assert report["normalize"]["by_kind"] == dict(sorted(fixes.items()))


def test_plain_when_piped_and_top_option(cli):
    result = cli(["stats", "--top", "1", SEEDS])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "records: 5"
    # Raw seeds: no step has run, which is not the same as "nothing found".
    assert "with authors: not recorded (the credits step has not run)" in lines
    assert "teasers cut: not recorded (the teasers step has not run)" in lines
    assert "normalization fixes: not recorded (the normalize step has not run)" in lines
    assert "credit lines moved to metadata: not recorded (the credits step has not run)" in lines
    assert not any(line.startswith("  entities:") for line in lines)  # no zeros listed for a step that never ran
    top = lines[lines.index("top repeated paragraphs:") + 1 :]
    assert len(top) == 1 and top[0].startswith("     2 records: Although Taipei")


def test_config_table_and_text_field(cli, tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("[stats]\nlength_bins = [0, 3]\ntop = 0\n", encoding="utf-8")
    line = b'{"id": "a", "body": "one two three four", "source": "s", "metadata": {}}\n'
    report = orjson.loads(cli(["stats", "--json", "--config", config, "--text-field", "body"], input=line).stdout)
    assert report["length_histogram"] == [
        {"min_words": 0, "max_words": 2, "records": 0},
        {"min_words": 3, "max_words": None, "records": 1},
    ]
    config.write_text("[stats]\ntop = 'ten'\n", encoding="utf-8")
    bad = cli(["stats", "--config", config], input=line)
    assert bad.exit_code == 2
    assert "option 'top' must be int" in bad.stderr


def test_bad_input_is_exit_2(cli):
    bad = cli(["stats"], input=b'{"id": "a", "text": 3, "source": "s", "metadata": {}}\n')
    assert bad.exit_code == 2
    assert bad.stderr.startswith("error: -:1: text field 'text' is a number, not a string")
    assert cli(["stats"], input=b"{nope\n").exit_code == 2


@given(st.lists(st.lists(st.sampled_from("abcdefgh"), max_size=6), max_size=40))
def test_repeat_counts_are_exact_below_the_bound(documents: list[list[str]]):
    counter = RepeatCounter(max_tracked=1000)
    truth: Counter[str] = Counter()
    for doc in documents:
        counter.add_document(doc)
        truth.update(set(doc))
    assert counter.exact
    expected = sorted(((n, p) for p, n in truth.items() if n >= 2), key=lambda np: (-np[0], np[1]))
    assert counter.top(100, 2) == expected


@given(st.lists(st.lists(st.integers(0, 60).map(str), max_size=8), min_size=1, max_size=80))
def test_repeat_counts_are_lower_bounds_once_pruned(documents: list[list[str]]):
    counter = RepeatCounter(max_tracked=8)
    truth: Counter[str] = Counter()
    for doc in documents:
        counter.add_document(doc)
        truth.update(set(doc))
        assert len(counter.counts) <= 8
        assert set(counter.texts) <= set(counter.counts)
    for count, text in counter.top(100, 2):
        assert count <= truth[text]


# ------------------------------------------------------------------------------------ option bounds


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"top": -3}, "stats: top must be >= 0 (got -3)"),
        ({"min_repeats": 1}, "stats: min_repeats must be >= 2 (got 1)"),
        ({"max_tracked": 1}, "stats: max_tracked must be >= 2 (got 1)"),
        ({"max_tracked": 2**63}, "stats: max_tracked must be a 64-bit integer (got 9223372036854775808)"),
        ({"length_bins": (0, 2**63)}, "stats: length_bins must be 64-bit integers (got [0, 9223372036854775808])"),
        (
            {"length_bins": (5, 1)},
            "stats: length_bins must be strictly increasing word counts starting at 0 (got [5, 1])",
        ),
        (
            {"length_bins": (0, 5, 5)},
            "stats: length_bins must be strictly increasing word counts starting at 0 (got [0, 5, 5])",
        ),
        (
            {"length_bins": (-1, 5)},
            "stats: length_bins must be strictly increasing word counts starting at 0 (got [-1, 5])",
        ),
        (
            {"length_bins": (5, 10)},
            "stats: length_bins must be strictly increasing word counts starting at 0 (got [5, 10])",
        ),
        ({"length_bins": ()}, "stats: length_bins must be strictly increasing word counts starting at 0 (got [])"),
        (
            {"top": -1, "min_repeats": 0},
            "stats: top must be >= 0 (got -1); min_repeats must be >= 2 (got 0)",
        ),
    ],
)
def test_options_out_of_range_are_config_errors_naming_each_option(fields, message):
    from corpus_tools.errors import ConfigError

    with pytest.raises(ConfigError) as exc:
        StatsOptions(**fields)
    assert str(exc.value) == message


def test_the_bounds_themselves_are_valid_options():
    one_bin = StatsOptions(top=0, min_repeats=2, max_tracked=2, length_bins=(0,))
    report = stats_items([Item("-", 1, {"id": "a", "text": "one two", "source": "s", "metadata": {}})], one_bin)
    assert report.as_dict()["length_histogram"] == [{"min_words": 0, "max_words": None, "records": 1}]


def test_credit_lines_say_whether_the_credits_step_ran(cli):
    raw = b'{"id": "a", "text": "Body.", "source": "s", "metadata": {}}\n'
    ran = b'{"id": "a", "text": "Body.", "source": "s", "metadata": {"bylines": []}}\n'
    report = orjson.loads(cli(["stats", "--json"], input=raw).stdout)
    assert (report["credit_lines"], report["credit_lines_recorded"]) == (0, 0)
    assert (
        "credit lines moved to metadata: not recorded (the credits step has not run)\n"
        in cli(["stats"], input=raw).stdout
    )
    report = orjson.loads(cli(["stats", "--json"], input=ran).stdout)
    assert (report["credit_lines"], report["credit_lines_recorded"]) == (0, 1)
    assert "credit lines moved to metadata: 0\n" in cli(["stats"], input=ran).stdout
    buffer = io.StringIO()
    render_rich(stats_items(items(record("a", "Body."))).as_dict(), Console(file=buffer, width=160, color_system=None))
    row = next(line for line in buffer.getvalue().splitlines() if line.startswith("│ credit lines "))
    assert row.split("│")[2].strip() == "not recorded (the credits step has not run)"


def test_normalization_fixes_list_every_kind_in_the_steps_order():
    report = stats_items(items(record("a", "Body.", normalize={"entities": 1, "custom": 2}))).as_dict()
    assert list(report["normalize"]["by_kind"].items()) == [*{**ZERO_FIXES, "entities": 1}.items(), ("custom", 2)]
    text = render_text(report)
    listed = text[text.index("normalization fixes: 3 in 1 record\n") :].splitlines()[1 : len(KINDS) + 2]
    assert listed == [f"  {kind}: {1 if kind == 'entities' else 0}" for kind in KINDS] + ["  custom: 2"]
    buffer = io.StringIO()
    render_rich(report, Console(file=buffer, width=160, color_system=None))
    rows = [line.split("│")[1:4] for line in buffer.getvalue().splitlines() if line.startswith("│ normalize ")]
    assert [(kind.strip(), int(n)) for _, kind, n in rows] == list(report["normalize"]["by_kind"].items())


def test_plain_is_spelled_as_explain_spells_it_and_text_is_its_deprecated_alias(cli):
    plain = cli(["stats", SEEDS, "--format", "plain"])
    old = cli(["stats", SEEDS, "--format", "text"])
    assert plain.exit_code == old.exit_code == 0
    assert plain.stdout == old.stdout and plain.stdout.startswith("records: 5\n")
    assert plain.stderr == "" and old.stderr == "warning: --format text is deprecated, use --format plain\n"
