"""explain: the rows (labels from both steps, on normalized text), and the plain, JSON and rich renderings."""

from __future__ import annotations

import io
import os
import shlex

import orjson
import pytest
import regex
from rich.console import Console

from conftest import DATA, SEEDS, parse_jsonl, run_shell
from corpus_tools import explain as explain_module
from corpus_tools.cli.explain import plain_line, render_rich
from corpus_tools.explain import KINDS, ExplainOptions, Explanation, Row, explain_record, explain_text
from corpus_tools.labels import Label

SEED_000 = SEEDS / "000_d71da426b8456c2b.txt"
SEED_002 = SEEDS / "002_38a8e521ae68cf37.txt"
GOLDEN_PLAIN = DATA / "golden" / "credits" / "explain_000.tsv"


def _kinds(doc: Explanation) -> dict[int, str]:
    return {row.index: row.kind for row in doc.rows if row.kind != "body"}


def test_rows_carry_both_steps_labels_and_reasons():
    doc = explain_text(SEED_000.read_text(encoding="utf-8"), doc_id="000")
    assert _kinds(doc) == {14: "bio", 15: "translator", 16: "teaser", 17: "teaser", 18: "teaser", 19: "teaser"}
    by_index = {row.index: row for row in doc.rows}
    assert (by_index[14].step, by_index[14].reason) == ("credits", "bio_before_translator")
    assert (by_index[16].step, by_index[16].reason) == ("teasers", "after-credits")
    assert (by_index[0].step, by_index[0].reason) == (None, None)
    assert doc.counts() == {"body": 14, "heading": 0, "byline": 0, "bio": 1, "translator": 1, "teaser": 4}
    assert doc.summary() == "20 paragraphs: 14 body, 1 bio, 1 translator, 4 teaser"


def test_headings_and_blank_lines():
    """Seed 002: subheads are labelled heading; its four trailing blank lines are not rows but are counted."""
    doc = explain_text(SEED_002.read_text(encoding="utf-8"), ExplainOptions(normalize=False))
    assert set(_kinds(doc).values()) == {"heading"}
    assert [row.text for row in doc.rows if row.kind == "heading"] == [
        "Japan’s growing military",
        "Taiwan’s place in world",
        "The time is now",
    ]
    assert doc.paragraphs == len(doc.rows) + 5  # four blank lines and the empty line after the final newline


def test_each_step_can_be_left_out():
    text = SEED_000.read_text(encoding="utf-8")
    assert set(_kinds(explain_text(text, ExplainOptions(teasers=False))).values()) == {"bio", "translator"}
    assert set(_kinds(explain_text(text, ExplainOptions(credits=False))).values()) == {"teaser"}


def test_labels_are_computed_on_normalized_text_unless_told_not_to(monkeypatch):
    """The mechanism, with a stand-in normalizer: rows show (and labels see) the normalized text."""

    def squeeze(text: str) -> tuple[str, dict[str, int]]:
        return regex.sub(" {2,}", " ", text), {"spaces": text.count("  ")}

    monkeypatch.setattr(explain_module, "normalize_function", lambda: squeeze)
    text = "Body  line   with odd spacing.\nAnn  Lee is a researcher at the Institute of Political Science.\n"
    normalized = explain_text(text)
    raw = explain_text(text, ExplainOptions(normalize=False))
    assert normalized.normalized and not raw.normalized
    assert normalized.normalize_counts == {"spaces": 3}
    assert normalized.rows[0].text == "Body line with odd spacing."
    assert [r.kind for r in normalized.rows] == ["body", "bio"]  # `Ann  Lee` is a name once normalized
    assert [r.kind for r in raw.rows] == ["body", "body"]


def test_the_real_normalize_step_runs_first():
    normalize = pytest.importorskip("corpus_tools.normalize")
    text = "Body  line   with odd spacing.\n"
    doc = explain_text(text)
    assert doc.rows[0].text == normalize.normalize_text(text)[0].split("\n")[0]
    assert doc.normalized and sum(doc.normalize_counts.values()) > 0


def test_a_record_after_credits_shows_the_tail_still_labelled():
    """After `credits` cut the end credits, teasers knows from metadata.credit_cuts where they stood."""
    result = run_shell(f"corpus-tools ingest {SEED_000} | corpus-tools credits")
    [record] = parse_jsonl(result.stdout)
    doc = explain_record(record)
    assert list(_kinds(doc).values()) == ["teaser"] * 4
    assert [row.reason for row in doc.rows[-4:]] == ["after-credits", "truncated", "truncated", "truncated"]
    # the same labels the teasers step gives that record
    cuts = parse_jsonl(
        run_shell(f"corpus-tools ingest {SEED_000} | corpus-tools credits | corpus-tools teasers").stdout
    )
    assert [(c["paragraph"], c["rule"]) for c in cuts[0]["metadata"]["cuts"]] == [
        (row.index, row.reason) for row in doc.rows[-4:]
    ]


def _words(n: int, end: str = "") -> str:
    return " ".join(f"w{i}" for i in range(n)) + end


def test_the_position_of_removed_credits_follows_the_lines_normalizing_moves():
    """Credits ran on raw text (blank-line runs, which normalizing collapses): the position still lands right."""
    from corpus_tools.credits import Credits

    stop, teaser = _words(101, "."), _words(100)
    raw = f"\n\nBody one.\n\n\nBody two.\nAnn Lee is a researcher at an institute.\n\n\n{stop}\n{teaser}"
    record = Credits().process({"id": "r", "text": raw}, "text")
    assert record["metadata"]["credit_cuts"] == [{"rule": "bio_before_tail", "kind": "bio", "paragraph": 6}]
    for options in (ExplainOptions(), ExplainOptions(normalize=False)):
        doc = explain_record(record, options=options)
        assert [(row.text[:4], row.reason) for row in doc.rows if row.kind == "teaser"] == [
            ("w0 w", "after-credits"),
            ("w0 w", "truncated"),
        ], options
    # no credit_cuts (credits did not run): the full-stop paragraph straight after the body stays
    plain = explain_record({"id": "r", "text": record["text"]})
    assert [row.reason for row in plain.rows if row.kind == "teaser"] == ["truncated"]


def test_conflicting_labels_are_all_kept():
    row = Row(3, "x", 1, (Label("bio", "bio_at_end", "credits"), Label("teaser", "truncated", "teasers")))
    assert row.kind == "bio"
    assert row.to_json()["labels"] == [
        {"kind": "bio", "step": "credits", "reason": "bio_at_end"},
        {"kind": "teaser", "step": "teasers", "reason": "truncated"},
    ]


# ------------------------------------------------------------------------------------------------ renderings


def test_plain_output_on_a_seed_is_exact(cli):
    result = cli(["explain", SEED_000])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == GOLDEN_PLAIN.read_text(encoding="utf-8")
    # one line per non-blank paragraph, six tab-separated fields, greppable by kind
    lines = result.stdout.splitlines()
    assert len(lines) == 20 and all(line.count("\t") == 5 for line in lines)
    assert [line.split("\t")[1] for line in lines if "\tteaser\t" in line] == ["16", "17", "18", "19"]
    assert cli(["explain", "--plain", SEED_000]).stdout == result.stdout


def test_plain_line_keeps_columns_when_the_text_has_tabs():
    doc = explain_text("a\tb", ExplainOptions(normalize=False), doc_id="d")
    assert plain_line(doc, 0) == "d\t0\tbody\t-\t-\ta b"


def test_json_output_is_one_object_per_document(cli):
    result = cli(["explain", "--json", SEEDS])
    docs = parse_jsonl(result.stdout_bytes)
    assert [d["id"] for d in docs] == sorted(p.stem for p in SEEDS.glob("*.txt"))
    first = docs[0]
    assert set(first) == {"id", "source", "normalized", "summary", "paragraphs"}
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
    result = run_shell(f"corpus-tools ingest {SEEDS} | corpus-tools explain --no-normalize | cut -f3 | sort | uniq -c")
    assert result.returncode == 0, result.stderr.decode()
    counts = {line.split()[1]: int(line.split()[0]) for line in result.stdout.decode().splitlines()}
    assert counts == {"bio": 4, "body": 110, "heading": 3, "teaser": 16, "translator": 2}


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
    result = cli(["explain", "--json", "--index", index, "--text-field", "body", records])
    assert result.exit_code == 0, result.stderr
    [doc] = parse_jsonl(result.stdout_bytes)
    assert doc["summary"]["teaser"] == 4 and doc["summary"]["bio"] == 1


# --------------------------------------------------------------------- odd names and ids in every format


def test_a_file_name_that_is_not_utf8_is_spelled_out_in_every_format(tmp_path):
    folder = tmp_path / "t1b"
    folder.mkdir()
    (folder / os.fsdecode(b"b\xffd.txt")).write_bytes(b"Hello.\n")
    quoted = shlex.quote(str(folder))
    as_json = run_shell(f"corpus-tools explain --json {quoted}")
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
    assert cli(["explain"], input=line).stdout == f"{shown}\t0\tbody\t-\t-\tx & y\n"
    [doc] = parse_jsonl(cli(["explain", "--json"], input=line).stdout_bytes)
    assert doc["id"] == ident


def test_a_missing_id_is_null_in_json_and_an_empty_field_in_tsv(cli):
    line = b'{"source": "s", "text": "x &amp; y\\r more"}\n'
    assert cli(["explain", "--no-normalize"], input=line).stdout == "\t0\tbody\t-\t-\tx &amp; y\\r more\n"
    assert parse_jsonl(cli(["explain", "--json"], input=line).stdout_bytes)[0]["id"] is None


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
