"""explain: the rows (what clean's own pipeline cuts, on each line as it came in), and the plain, JSON and rich
renderings."""

from __future__ import annotations

import io
import os
import shlex

import orjson
import pytest
import regex
from rich.console import Console

from conftest import DATA, SEED_IDS, SEEDS, parse_jsonl, run_shell
from corpus_tools.cli.explain import plain_line, render_rich
from corpus_tools.credits import CreditsOptions
from corpus_tools.engine import CleanPlan
from corpus_tools.explain import KINDS, Explanation, explain_record
from corpus_tools.normalize import NormalizeOptions
from corpus_tools.teasers import TeasersOptions

SEED_000 = SEEDS / "000_d71da426b8456c2b.txt"
SEED_002 = SEEDS / "002_38a8e521ae68cf37.txt"
GOLDEN_PLAIN = DATA / "golden" / "credits" / "explain_000.tsv"


def plan(normalize: bool = True, credits: bool = True, teasers: bool = True) -> CleanPlan:
    return CleanPlan(
        (
            ("normalize", NormalizeOptions() if normalize else None),
            ("credits", CreditsOptions() if credits else None),
            ("teasers", TeasersOptions() if teasers else None),
        )
    )


def explain_text(text: str, chosen: CleanPlan | None = None, doc_id: str = "", source: str = "") -> Explanation:
    record = {"id": doc_id, "text": text, "source": source}
    return explain_record(record, (chosen or plan()).pipeline())


def _kinds(doc: Explanation) -> dict[int, str]:
    return {row.index: row.kind for row in doc.rows if row.kind != "body"}


def test_rows_carry_each_cut_step_and_rule():
    doc = explain_text(SEED_000.read_text(encoding="utf-8"), doc_id="000")
    assert _kinds(doc) == {14: "bio", 15: "translator", 16: "teaser", 17: "teaser", 18: "teaser", 19: "teaser"}
    by_index = {row.index: row for row in doc.rows}
    assert (by_index[14].step, by_index[14].reason) == ("credits", "bio_before_translator")
    assert (by_index[16].step, by_index[16].reason) == ("teasers", "after-credits")
    assert (by_index[0].step, by_index[0].reason) == (None, None)
    assert doc.counts() == {"body": 14, "byline": 0, "bio": 1, "translator": 1, "contributor": 0, "teaser": 4}
    assert doc.summary() == "20 paragraphs: 14 body, 1 bio, 1 translator, 4 teaser"


@pytest.mark.parametrize("seed", sorted(SEEDS.glob("*.txt")), ids=lambda p: p.stem[:3])
def test_what_explain_marks_cut_is_exactly_what_clean_removes(seed, cli):
    # rows show the lines as they came in: without normalize, the kept ones are clean's output lines verbatim
    doc = explain_text(seed.read_text(encoding="utf-8"), plan(normalize=False))
    [cleaned] = parse_jsonl(cli(["clean", seed, "-q", "--no-corpus-aware", "--no-normalize"]).stdout_bytes)
    kept = [row.text for row in doc.rows if row.kind == "body"]
    assert kept == [line for line in cleaned["text"].split("\n") if line.strip()]
    [normalized] = parse_jsonl(cli(["clean", seed, "-q", "--no-corpus-aware"]).stdout_bytes)
    kept = [row for row in explain_text(seed.read_text(encoding="utf-8")).rows if row.kind == "body"]
    assert len(kept) == len([line for line in normalized["text"].split("\n") if line.strip()])


def test_lines_count_as_the_text_came_in_even_where_normalize_removes_blank_lines():
    """Seed 002 loses blank lines to normalize; its rows still count the lines of the text as it came in."""
    text = SEED_002.read_text(encoding="utf-8")
    doc = explain_text(text)
    assert _kinds(doc) == {}
    assert [row.index for row in doc.rows] == [i for i, line in enumerate(text.split("\n")) if line.strip()]
    assert doc.paragraphs == len(text.split("\n"))
    doctored = "\n\n\n".join(SEED_000.read_text(encoding="utf-8").split("\n"))  # every line break now three
    moved = explain_text(doctored)
    assert _kinds(moved) == {3 * i: kind for i, kind in _kinds(explain_text(SEED_000.read_text("utf-8"))).items()}


def test_each_step_can_be_left_out():
    text = SEED_000.read_text(encoding="utf-8")
    assert set(_kinds(explain_text(text, plan(teasers=False))).values()) == {"bio", "translator"}
    assert set(_kinds(explain_text(text, plan(credits=False))).values()) == {"teaser"}
    unnormalized = explain_text(text, plan(normalize=False))
    assert not unnormalized.normalized and explain_text(text).normalized


def test_a_record_already_cleaned_shows_nothing_more_to_cut(cli):
    [cleaned] = parse_jsonl(cli(["clean", SEED_000, "-q", "--no-corpus-aware"]).stdout_bytes)
    doc = explain_record(cleaned, plan().pipeline())
    assert _kinds(doc) == {} and doc.dropped is None


def test_a_dropped_record_says_which_step_dropped_it_and_why():
    # the lines the steps cut before the drop show as clean cut them: here the byline that left nothing
    doc = explain_text("By Ann Lee")
    assert doc.dropped == {"step": "credits", "reason": "empty_after_cleaning"}
    assert doc.summary() == "1 paragraphs: 1 byline; dropped by credits: empty_after_cleaning"
    assert [(row.kind, row.step, row.reason) for row in doc.rows] == [("byline", "credits", "by_name_first_line")]


def test_plain_output_on_a_seed_is_exact(cli):
    result = cli(["explain", SEED_000])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == GOLDEN_PLAIN.read_text(encoding="utf-8")
    # one line per non-blank paragraph, six tab-separated fields, greppable by kind
    lines = result.stdout.splitlines()
    assert len(lines) == 20 and all(line.count("\t") == 5 for line in lines)
    assert [line.split("\t")[1] for line in lines if "\tteaser\t" in line] == ["16", "17", "18", "19"]
    assert cli(["explain", "--format", "plain", SEED_000]).stdout == result.stdout
    deprecated = cli(["explain", "--plain", SEED_000])
    assert deprecated.stdout == result.stdout
    assert deprecated.stderr == "warning: --plain is deprecated, use --format plain\n"


def test_plain_line_keeps_columns_when_the_text_has_tabs():
    doc = explain_text("a\tb", plan(normalize=False), doc_id="d")
    assert plain_line(doc, 0) == "d\t0\tbody\t-\t-\ta b"


def test_json_output_is_one_object_per_document(cli):
    result = cli(["explain", "--format", "json", SEEDS])
    docs = parse_jsonl(result.stdout_bytes)
    assert [d["id"] for d in docs] == sorted(p.stem for p in SEEDS.glob("*.txt"))
    first = docs[0]
    assert set(first) == {"id", "source", "normalized", "summary", "dropped", "paragraphs"}
    assert list(first["summary"]) == list(KINDS)
    assert first["paragraphs"][14] == {
        "index": 14,
        "kind": "bio",
        "step": "credits",
        "reason": "bio_before_translator",
        "words": 18,
        "labels": [{"kind": "bio", "step": "credits", "reason": "bio_before_translator"}],
        "text": "Yao Chung-yuan is a professor and former deputy director of the Ministry of National Defense’s "
        "strategic planning department.",
    }
    assert {d["id"][:3]: d["summary"]["teaser"] for d in docs} == {"000": 4, "001": 4, "002": 0, "003": 4, "004": 4}
    assert orjson.loads(result.stdout_bytes.splitlines()[0]) == first


def test_reads_records_from_a_pipe():
    result = run_shell(
        f"corpus-tools ingest {SEEDS} | corpus-tools explain --no-normalize --no-dedup | cut -f3 | sort | uniq -c"
    )
    assert result.returncode == 0, result.stderr.decode()
    counts = {line.split()[1]: int(line.split()[0]) for line in result.stdout.decode().splitlines()}
    assert counts == {"bio": 4, "body": 113, "teaser": 16, "translator": 2}


def test_bad_input_is_one_line_and_exit_2(cli, tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "ok"}\n{"id": 1}\n', encoding="utf-8")
    result = cli(["explain", path])
    assert result.exit_code == 2
    assert result.stderr == f"error: {path}:2: missing text field 'text'\n"


def _render(doc: Explanation, **kwargs) -> str:
    out = io.StringIO()
    render_rich(doc, Console(file=out, force_terminal=True, width=120, color_system="standard"), **kwargs)
    return out.getvalue()


def test_rich_rendering_is_a_coloured_table_that_fits_the_terminal():
    doc = explain_text(SEED_000.read_text(encoding="utf-8"), doc_id="000_d71da426b8456c2b", source=str(SEED_000))
    ansi = _render(doc)
    plain = regex.sub(r"\x1b\[[0-9;]*m", "", ansi)
    lines = plain.splitlines()
    assert lines[0].startswith("000_d71da426b8456c2b  ") and str(SEED_000) in lines[0]
    assert all(len(line) <= 120 for line in lines)
    # one row per paragraph, long ones cut to one line with an ellipsis
    rows = [line.rstrip() for line in lines if regex.match(r"^\s*\d+\s{2,}", line)]
    assert len(rows) == 20 and all(line.endswith(("…", "Chang")) for line in rows)
    assert any("bio   " in r and "credits bio_before_translator" in r for r in rows)
    assert "20 paragraphs: 14 body · 1 bio · 1 translator · 4 teaser  → 6 would be cut" in plain
    assert ("(normalized: 0 changes)" in lines[0]) is doc.normalized
    # colours: the bio label magenta, teaser red, translator yellow (ANSI 35, 31, 33, bold)
    assert "\x1b[1;35mbio" in ansi and "\x1b[1;31mteaser" in ansi and "\x1b[1;33mtranslator" in ansi


def test_rich_full_mode_wraps_instead_of_cutting():
    doc = explain_text(SEED_000.read_text(encoding="utf-8"), doc_id="000")
    plain = regex.sub(r"\x1b\[[0-9;]*m", "", _render(doc, full=True))
    assert "…" not in plain
    assert "it is reality." in plain  # the end of teaser 16, beyond one line


def test_index_and_text_field_options(cli, tmp_path):
    index = tmp_path / "tails.idx"
    assert cli(["index", SEEDS, "-o", index]).exit_code == 0
    records = tmp_path / "in.jsonl"
    text = SEED_000.read_text(encoding="utf-8")
    records.write_bytes(orjson.dumps({"id": "x", "body": text}) + b"\n")
    result = cli(["explain", "--format", "json", "--index", index, "--text-field", "body", records])
    assert result.exit_code == 0, result.stderr
    [doc] = parse_jsonl(result.stdout_bytes)
    assert doc["summary"]["teaser"] == 4 and doc["summary"]["bio"] == 1


# --------------------------------------------------------------------- odd names and ids in every format


def test_a_file_name_that_is_not_utf8_is_spelled_out_in_every_format(tmp_path):
    folder = tmp_path / "t1b"
    folder.mkdir()
    (folder / os.fsdecode(b"b\xffd.txt")).write_bytes(b"Hello.\n")
    quoted = shlex.quote(str(folder))
    as_json = run_shell(f"corpus-tools explain --format json {quoted}")
    assert (as_json.returncode, as_json.stderr) == (0, b"")
    [doc] = parse_jsonl(as_json.stdout)
    assert (doc["id"], doc["source"]) == ("b\\udcffd", f"{folder}/b\\udcffd.txt")
    for flags in ("", "--plain"):
        plain = run_shell(f"corpus-tools explain {flags} {quoted}")
        assert (plain.returncode, plain.stdout.decode("utf-8")) == (0, "b\\udcffd\t0\tbody\t-\t-\tHello.\n")
    doc = explain_text("Hello.", doc_id=os.fsdecode(b"b\xffd"), source=os.fsdecode(bytes(folder / "b") + b"\xffd.txt"))
    plain = regex.sub(r"\x1b\[[0-9;]*m", "", _render(doc).encode("utf-8").decode())
    assert plain.splitlines()[0].split() == ["b\\udcffd", f"{folder}/b\\udcffd.txt", "(normalized:", "0", "changes)"]


ODD_IDS = [
    ("a\r\nb", "a\\r\\nb"),
    ("a\tb", "a\\tb"),
    ({"x": 1}, '{"x":1}'),
    (5, "5"),
    (None, ""),
]


@pytest.mark.parametrize(("ident", "shown"), ODD_IDS, ids=lambda v: repr(v))
def test_an_odd_id_is_one_tsv_field_and_its_json_value_in_json(cli, ident: object, shown: str):
    line = orjson.dumps({"id": ident, "source": "s", "text": "x &amp; y", "metadata": {}}) + b"\n"
    assert cli(["explain"], input=line).stdout == f"{shown}\t0\tbody\t-\t-\tx &amp; y\n"
    [doc] = parse_jsonl(cli(["explain", "--format", "json"], input=line).stdout_bytes)
    assert doc["id"] == ident


def test_a_missing_id_is_null_in_json_and_an_empty_field_in_tsv(cli):
    line = b'{"source": "s", "text": "x &amp; y\\r more"}\n'
    assert cli(["explain", "--no-normalize"], input=line).stdout == "\t0\tbody\t-\t-\tx &amp; y\\r more\n"
    assert parse_jsonl(cli(["explain", "--format", "json"], input=line).stdout_bytes)[0]["id"] is None


def test_an_index_whose_band_misses_the_teaser_band_is_warned_about_as_in_teasers(cli, tmp_path):
    narrow, default = tmp_path / "narrow.idx", tmp_path / "default.idx"
    assert cli(["index", SEEDS, "-o", narrow, "--min-words", "100", "--max-words", "140", "-q"]).exit_code == 0
    assert cli(["index", SEEDS, "-o", default, "-q"]).exit_code == 0
    warning = (
        f"warning: {narrow} counts paragraphs of 100..140 words; "
        "teasers of 95..110 words outside that band get no recurrence signal\n"
    )
    result = cli(["explain", "--index", narrow, SEED_000])
    assert (result.exit_code, result.stderr) == (0, warning)
    assert cli(["teasers", "--index", narrow, "-q", SEED_000]).stderr == warning  # the very same line
    result = cli(["explain", "--index", default, SEED_000])
    assert (result.exit_code, result.stderr) == (0, "")


def test_piped_explain_says_which_record_a_step_dropped(cli):
    result = cli(["explain", str(SEEDS), "--format", "plain"])
    assert result.exit_code == 0
    dropped = [line for line in result.stdout.splitlines() if "\tdropped\t" in line]
    assert dropped == [f'{SEED_IDS[1]}\t-\tdropped\tdedup\tduplicate_exact\t{{"duplicate_of":"{SEED_IDS[0]}"}}']


def test_an_option_that_names_a_file_to_write_is_refused(cli, tmp_path):
    """explain writes nothing: `--save-index` (dedup's index file) used to be accepted and silently ignored."""
    index = tmp_path / "kept.idx"
    result = cli(["explain", SEEDS / f"{SEED_IDS[0]}.txt", "--save-index", index])
    assert result.exit_code == 2
    assert result.stderr == "error: explain writes nothing: --save-index is for clean and dedup\n"
    assert result.stdout == "" and not index.exists()
    # the same key in a config file shared with clean is clean's: explain leaves it unused
    config = tmp_path / "clean.toml"
    config.write_text(f'[dedup]\nsave_index = "{index}"\n', encoding="utf-8")
    assert cli(["explain", SEEDS / f"{SEED_IDS[0]}.txt", "--config", config]).exit_code == 0
    assert not index.exists()
