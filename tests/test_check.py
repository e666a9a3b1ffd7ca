"""``check``: every rule fires on its ``-fire`` fixture and stays quiet on its ``-quiet`` one (tests/data/check/),
with the exact findings in ``expected.json``; severities, thresholds, the three output formats and exit codes."""

from __future__ import annotations

import io
import json
import os
import shlex
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from conftest import DATA, ROOT, SEEDS, run_shell
from corpus_tools import check
from corpus_tools.check import RULE_NAMES, CheckOptions, Severity, check_items, check_paths
from corpus_tools.errors import ConfigError, InputError
from corpus_tools.io import Item

CASES = DATA / "check"
EXPECTED: dict[str, list[str]] = json.loads((CASES / "expected.json").read_text(encoding="utf-8"))
FIXTURES = sorted(CASES.glob("*.jsonl"))


def lines(report: check.Report, path: Path) -> list[str]:
    """The findings as ``LINE: rule (severity) id: [paragraph N: ]detail``, with the fixture's path shortened."""
    out = []
    for f in report.findings:
        ident = f" {f.id}" if f.id is not None else ""
        para = f"paragraph {f.paragraph}: " if f.paragraph is not None else ""
        out.append(f"{f.line}: {f.rule} ({f.severity.value}){ident}: {para}{f.detail}".replace(str(path), path.name))
    return out


def records(*texts: str, **metadata: object) -> list[Item]:
    return [
        Item("mem.jsonl", n, {"id": f"r{n}", "text": t, "source": "x.txt", "metadata": dict(metadata)})
        for n, t in enumerate(texts, 1)
    ]


# ------------------------------------------------------------------------------------- data-driven rules


def test_every_rule_has_a_firing_and_a_quiet_fixture_with_expectations():
    names = {p.name for p in FIXTURES}
    for rule in RULE_NAMES:
        assert f"{rule}-fire.jsonl" in names, rule
        assert f"{rule}-quiet.jsonl" in names, rule
    assert set(EXPECTED) == names


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_fixture_gives_exactly_the_expected_findings(path: Path):
    rule, _, kind = path.stem.rpartition("-")
    ignore = () if rule == "teaser-tail" else ("teaser-tail",)  # the tail rule is tested on its own fixtures
    skip = (lambda item, reason: None) if rule == "unusable-input" else None  # it fires under --on-error skip
    report = check_paths([str(path)], CheckOptions(ignore=ignore), on_unusable=skip)
    got = lines(report, path)
    assert got == EXPECTED[path.name]
    if kind == "fire":
        assert report.hits_by_rule[rule] > 0  # no-records fires on the whole input, not on a record
        assert any(f" {rule} (" in line for line in got)
    else:
        assert got == []
        assert report.exit_code == 0


KNOWN_FAILURES = json.loads((CASES / "known-failures.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", KNOWN_FAILURES, ids=lambda c: f"{c['rule']}: {c['text'][:30]}")
@pytest.mark.xfail(strict=True, reason="known limitation, documented in tests/data/check/known-failures.json")
def test_known_failure(case: dict):
    report = check_items(records(case["text"] + " Ends here."), CheckOptions(ignore=("teaser-tail",)))
    assert report.records_by_rule[case["rule"]] == 1, case["why"]


def test_reasons_are_short_stable_and_unique():
    reasons = [r.reason for r in check.RULES]
    assert len(set(reasons)) == len(reasons)
    assert all(0 < len(r) <= 40 and r == r.strip() for r in reasons)
    assert {r.name: r.severity for r in check.RULES}["duplicate-text"] is Severity.warning
    assert {r.name: r.severity for r in check.RULES}["replacement-char"] is Severity.warning
    assert all(
        r.severity is Severity.error for r in check.RULES if r.name not in ("duplicate-text", "replacement-char")
    )


# ------------------------------------------------------------------------------------------ thresholds


def test_min_chars_threshold_makes_a_short_text_empty():
    items = records("Hi.", "Long enough.")
    assert check_items(items, CheckOptions()).records_by_rule["empty-text"] == 0
    report = check_items(items, CheckOptions(min_chars=5))
    assert lines(report, Path("mem.jsonl")) == ["1: empty-text (error) r1: text is only 3 characters"]


def test_mojibake_threshold_counts_paragraphs():
    items = records("Japanâ€™s one.\nFine.", "Japanâ€™s one.\nAnd Taiwanâ€™s two.")
    report = check_items(items, CheckOptions(mojibake_min_paragraphs=2))
    assert report.records_by_rule["mojibake"] == 1
    assert {f.id for f in report.findings} == {"r2"}


def test_entities_threshold_counts_entities_in_the_text():
    items = records("One &amp; only.", "Two &amp; and &lt; here.")
    report = check_items(items, CheckOptions(entities_min=2))
    assert [f.id for f in report.findings] == ["r2"]


def test_credit_threshold_counts_lines():
    path = CASES / "credit-lines-fire.jsonl"
    report = check_paths([str(path)], CheckOptions(credit_min_lines=2, ignore=("teaser-tail",)))
    assert {f.id for f in report.findings} == {"c1"}


def test_max_findings_caps_the_list_but_not_the_counts():
    items = records(*[""] * 7)
    report = check_items(items, CheckOptions(max_findings=3))
    assert len(report.findings) == 3
    assert report.records_by_rule["empty-text"] == 7
    assert report.errors == 7
    assert "(4 more not shown)" in check.render_text(report)


# ------------------------------------------------------------------------------------------ severities


def test_warn_ignore_and_error_change_severity_and_exit_code():
    items = records("", "Same.", "Same.")
    default = check_items(items)
    assert (default.errors, default.warnings, default.exit_code) == (1, 1, 1)
    warned = check_items(items, CheckOptions(warn=("empty-text",)))
    assert (warned.errors, warned.warnings, warned.exit_code) == (0, 2, 0)
    ignored = check_items(items, CheckOptions(ignore=("empty-text", "duplicate-text")))
    assert (ignored.records_by_rule, ignored.exit_code) == ({}, 0)
    strict = check_items(records("A.", "A."), CheckOptions(error=("duplicate-text",)))
    assert strict.exit_code == 1


def test_unknown_or_conflicting_rules_are_config_errors():
    with pytest.raises(ConfigError, match="unknown rule 'emtpy-text'"):
        check.severities(CheckOptions(ignore=("emtpy-text",)))
    with pytest.raises(ConfigError, match="both 'warn' and 'error'"):
        check.severities(CheckOptions(warn=("schema",), error=("schema",)))
    with pytest.raises(ConfigError, match="both --warn and --error"):
        check.with_overrides(CheckOptions(), warn=["schema"], error=["schema"])


def test_command_line_overrides_win_over_the_config():
    config = CheckOptions(ignore=("mojibake",), error=("duplicate-text",))
    options = check.with_overrides(config, warn=["mojibake", "duplicate-text"])
    assert options.ignore == () and options.error == ()
    assert check.severities(options)["mojibake"] is Severity.warning


# ------------------------------------------------------------------------------ unusable input vs findings


def test_a_line_that_is_not_json_is_unusable_input():
    items = [Item("bad.jsonl", 3, error="invalid JSON (unexpected character: column 2)", raw="{oops")]
    with pytest.raises(InputError) as info:
        check_items(items)
    assert str(info.value) == "bad.jsonl:3: invalid JSON (unexpected character: column 2)"


def test_skipped_unusable_input_is_a_finding_so_the_gate_does_not_pass():
    items = [*records("Fine. Ends here."), Item("bad.jsonl", 3, error="invalid JSON (oops)", raw="{oops")]
    skipped: list[str] = []
    report = check_items(items, CheckOptions(ignore=("teaser-tail",)), on_unusable=lambda i, r: skipped.append(r))
    assert skipped == ["invalid JSON (oops)"]
    assert (report.records, report.unusable, report.errors, report.exit_code) == (1, 1, 0, 1)
    assert lines(report, Path("bad.jsonl")) == ["3: unusable-input (error): invalid JSON (oops)"]
    assert check.summary_line(report).endswith(
        "(1 unusable input skipped): 0 records with errors, 0 with warnings: not clean"
    )
    # only an explicit choice lets such a corpus pass
    warned = check_items(items, CheckOptions(warn=("unusable-input",)), on_unusable=lambda i, r: None)
    assert (warned.exit_code, warned.findings[-1].severity) == (0, Severity.warning)
    ignored = check_items(items, CheckOptions(ignore=("unusable-input", "teaser-tail")), on_unusable=lambda i, r: None)
    assert (ignored.exit_code, ignored.findings, ignored.unusable) == (0, [], 1)


def test_an_integer_beyond_64_bits_is_a_schema_finding_not_unusable_input(tmp_path: Path):
    # The other commands refuse such a line (orjson would turn the integer into a float); check reports it.
    path = tmp_path / "big.jsonl"
    path.write_bytes(
        b'{"id": "a", "text": "Fine.", "source": "s", "metadata": {}, "n": 123456789012345678901234567890}\n'
        b'{"id": "b", "text": "Fine too.", "source": "s", "metadata": {}, "n": 18446744073709551615}\n'
    )
    report = check_paths([str(path)])
    assert [(f.rule, f.line, f.id, f.detail) for f in report.findings] == [
        (
            "schema",
            1,
            "a",
            "integer beyond 64 bits (it would come out as a float, its digits lost): 123456789012345678901234567890",
        )
    ]
    assert report.errors == 1


@given(st.lists(st.sampled_from(["a", "b", "c", "d", "e\ud800"]), max_size=30))
def test_duplicate_id_findings_are_the_repeats(ids: list[str]):
    items = [
        Item("p.jsonl", n, {"id": i, "text": f"t{n}", "source": "s", "metadata": {}}) for n, i in enumerate(ids, 1)
    ]
    report = check_items(items, CheckOptions(max_findings=0, ignore=("unicode",)))
    assert report.records_by_rule["duplicate-id"] == len(ids) - len(set(ids))


@given(st.lists(st.sampled_from(["x.", "y.", "x. ", "", "z\n"]), max_size=30))
def test_duplicate_text_findings_are_the_repeats_of_nonempty_texts(texts: list[str]):
    report = check_items(records(*texts), CheckOptions(max_findings=0))
    nonempty = [t for t in texts if t.strip()]
    assert report.records_by_rule["duplicate-text"] == len(nonempty) - len(set(nonempty))
    assert report.records_by_rule["empty-text"] == len(texts) - len(nonempty)


def test_duplicate_state_is_fixed_size_digests_not_texts():
    seen = check._FirstSeen()
    doc = check.Doc({}, "f.jsonl", 1, "text")
    assert seen.add("x" * 100_000, doc) is None
    assert len(seen.seen) == 1
    assert len(seen.seen.entries) == check.DIGEST_SIZE + 8  # the digest and the packed place, nothing else
    assert seen.add("x" * 100_000, check.Doc({}, "g.jsonl", 9, "text")) == "f.jsonl:1"


@given(st.lists(st.binary(min_size=16, max_size=16), max_size=3000), st.integers(0, 2**64 - 1))
def test_digest_table_is_a_map(digests: list[bytes], value: int):
    table = check.DigestTable()
    truth: dict[bytes, int] = {}
    for n, digest in enumerate(digests):
        stored = (value + n) % 2**64
        assert table.setdefault(digest, stored) == truth.get(digest)
        truth.setdefault(digest, stored)
    assert len(table) == len(truth)
    assert all(table.setdefault(d, 0) == v for d, v in truth.items())


# ------------------------------------------------------------------------------ mojibake, fast and exact

LOUD_AND_QUIET = "".join(
    sorted(set().union(*(check.class_chars(f) for f in __import__("ftfy").badness.MOJIBAKE_CATEGORIES.values())))
)


@given(st.text(alphabet=st.sampled_from(LOUD_AND_QUIET + "ÂÃØÙГВРСβΒΓ€œ°µ aZz.,?!\n1台"), max_size=40))
def test_fast_is_bad_agrees_with_ftfy_on_mojibake_alphabets(text: str):
    from ftfy.badness import is_bad

    assert check.is_bad(text) == is_bad(text)


@given(
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60),
    st.sampled_from(["latin-1", "cp1252", "mac_roman", "cp1251", "cp1253", "cp1257"]),
)
def test_fast_is_bad_agrees_with_ftfy_on_real_mojibake(text: str, codec: str):
    from ftfy.badness import is_bad

    garbled = text.encode("utf-8").decode(codec, errors="replace")
    for sample in (text, garbled, "Plain words. " + garbled + " more words"):
        assert check.is_bad(sample) == is_bad(sample)


def test_fast_is_bad_agrees_with_ftfy_on_the_seeds():
    from ftfy.badness import is_bad

    paragraphs = [p for path in sorted(SEEDS.glob("*.txt")) for p in path.read_text(encoding="utf-8").split("\n")]
    assert [check.is_bad(p) for p in paragraphs] == [is_bad(p) for p in paragraphs]


@pytest.mark.slow
def test_every_badness_match_needs_a_loud_character():
    # Exhaustive over short strings of quiet characters (curly quotes, dashes ...) and ASCII: ftfy never calls
    # them mojibake, which is what lets is_bad search only around loud characters.
    import itertools

    from ftfy.badness import BADNESS_RE

    loud = check._loud_characters()
    quiet = [c for c in LOUD_AND_QUIET if not loud.match(c)]
    assert "’" in quiet and "“" in quiet and "—" in quiet
    alphabet = [*quiet, *"aZ .,?!\n\t19"]
    for n in (1, 2, 3):
        for chars in itertools.product(alphabet, repeat=n):
            assert not BADNESS_RE.search("".join(chars)), chars


@pytest.mark.slow  # over 0.3 s: out of the quick loop (pytest -m 'not slow')
def test_class_chars_matches_the_regex_reading_of_ftfy_categories():
    import re

    from ftfy.badness import MOJIBAKE_CATEGORIES

    for fragment in MOJIBAKE_CATEGORIES.values():
        expected = {chr(c) for c in range(0x80, 0x10000) if re.match("[" + fragment + "]", chr(c))}
        assert check.class_chars(fragment) == expected
        assert all(ord(c) < 0x10000 for c in fragment)


# ------------------------------------------------------------------------------------------------ CLI


def test_list_rules(cli):
    result = cli(["check", "--list-rules"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == list(RULE_NAMES)
    assert lines[-1].startswith("duplicate-text    warning  duplicate text: no two records have exactly the same text")


def test_max_findings_flag(cli):
    result = cli(["check", "--format", "json", "--max-findings", "1", CASES / "empty-text-fire.jsonl"])
    report = orjson.loads(result.stdout)
    assert (len(report["findings"]), report["errors"]) == (1, 3)


def test_a_run_that_kept_no_record_checks_as_no_records_whether_a_file_or_a_shard_folder(cli, tmp_path):
    """clean's output of a run that dropped every record: the same finding (naming the input), exit 1, for the
    file and for `-o DIR/` (which holds its manifest alone); stats counts 0 records for both."""
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "a", "text": "  "}\n', encoding="utf-8")
    for output in (f"{tmp_path}/out.jsonl", f"{tmp_path}/shards/"):
        assert cli(["clean", source, "-q", "-o", output]).exit_code == 0
        result = cli(["check", output])
        assert result.exit_code == 1
        assert result.stdout.splitlines()[0] == (
            f"{output}: no-records (error): no records were read: the input is empty (a producer that wrote nothing?)"
        )
        stats = cli(["stats", output, "--format", "json"])
        assert stats.exit_code == 0 and json.loads(stats.stdout)["records"] == 0
    assert sorted(p.name for p in (tmp_path / "shards").iterdir()) == ["manifest.json"]


def test_cli_exit_codes(cli):
    assert cli(["check", CASES / "empty-text-quiet.jsonl"]).exit_code == 0
    assert cli(["check", CASES / "empty-text-fire.jsonl"]).exit_code == 1
    assert cli(["check", CASES / "duplicate-text-fire.jsonl"]).exit_code == 0  # warnings only
    bad = cli(["check"], input=b'{"id": "a", "text": "x.", "source": "s", "metadata": {}}\n{oops\n')
    assert bad.exit_code == 2
    assert bad.stderr.startswith("error: -:2: invalid JSON")
    assert bad.stdout == ""


def test_cli_on_error_skip_fails_the_check_on_the_lines_it_skipped(cli, tmp_path: Path):
    data = b'{"id": "a", "text": "ok", "source": "s", "metadata": {}}\n{bad\n'
    result = cli(
        ["check", "--on-error", "skip", "--ignore", "teaser-tail", "--rejects", tmp_path / "r.jsonl"], input=data
    )
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0].startswith("-:2: unusable-input (error): invalid JSON")
    assert result.stdout.endswith(
        "checked 1 record (1 unusable input skipped): 0 records with errors, 0 with warnings: not clean\n"
    )
    assert "skipped" in result.stderr
    assert (tmp_path / "r.jsonl").read_bytes().count(b"\n") == 1
    assert cli(["check", "-q", "--on-error", "skip"], input=data).exit_code == 1
    github = cli(["check", "--on-error", "skip", "--format", "github", "--ignore", "teaser-tail"], input=data)
    assert github.stdout.startswith("::error title=unusable-input%3A unusable input skipped::invalid JSON")


def test_cli_github_annotation_for_input_that_stops_the_check(cli, tmp_path: Path):
    path = tmp_path / "x.jsonl"
    path.write_bytes(b'{"id": "a", "text": "ok", "source": "s", "metadata": {}}\n{bad\n')
    result = cli(["check", "--format", "github", path])
    assert result.exit_code == 2
    assert result.stdout.startswith(f"::error file={path},line=2,title=unusable input (exit 2)::invalid JSON")
    assert result.stdout.count("\n") == 1
    assert result.stderr.startswith(f"error: {path}:2: invalid JSON")
    assert cli(["check", "--format", "human", path]).stdout == ""  # the human format: the error line alone
    as_json = cli(["check", "--format", "json", path])  # json: why there is no report, for its parser
    assert as_json.exit_code == 2 and as_json.stderr.startswith(f"error: {path}:2: invalid JSON")
    assert json.loads(as_json.stdout) == {
        "exit_code": 2,
        "error": {
            "file": str(path),
            "line": 2,
            "reason": "invalid JSON (unexpected character, expected a string key: column 2)",
        },
    }


def test_check_help_names_every_rule(cli):
    text = " ".join(cli(["check", "--help"]).stdout.split())
    for name in RULE_NAMES:
        assert name in text, name


def test_cli_plain_report_when_piped(cli):
    result = cli(["check", "--ignore", "teaser-tail", CASES / "empty-text-fire.jsonl"])
    path = CASES / "empty-text-fire.jsonl"
    assert result.stdout == (
        f"{path}:1: empty-text (error) e1: text is empty\n"
        f"{path}:2: empty-text (error) e2: text is whitespace only\n"
        f"{path}:3: empty-text (error) e3: text is whitespace only\n"
        "\n"
        "empty-text: 3 records: empty text [error]\n"
        "checked 3 records: 3 records with errors, 0 with warnings: not clean\n"
    )


def test_cli_flags_change_severities(cli):
    path = CASES / "empty-text-fire.jsonl"
    assert cli(["check", "--warn", "empty-text", path]).exit_code == 0
    assert cli(["check", "--ignore", "empty-text", path]).exit_code == 0
    assert cli(["check", "--error", "duplicate-text", CASES / "duplicate-text-fire.jsonl"]).exit_code == 1
    unknown = cli(["check", "--ignore", "nope", path])
    assert unknown.exit_code == 2
    assert unknown.stderr.startswith("error: unknown rule 'nope' (rules: schema, types,")


def test_cli_config_table_sets_rules_and_thresholds(cli, tmp_path: Path):
    config = tmp_path / "corpus.toml"
    config.write_text('[check]\nwarn = ["empty-text"]\nmin_chars = 2\n', encoding="utf-8")
    quiet = CASES / "empty-text-quiet.jsonl"  # its first text is "." (1 character)
    result = cli(["check", "--config", config, "--format", "json", quiet])
    report = orjson.loads(result.stdout)
    assert result.exit_code == 0
    assert [(f["id"], f["severity"], f["detail"]) for f in report["findings"]] == [
        ("e1", "warning", "text is only 1 characters")
    ]
    assert cli(["check", "--config", config, "--error", "empty-text", quiet]).exit_code == 1
    config.write_text("[check]\nmin_char = 2\n", encoding="utf-8")
    typo = cli(["check", "--config", config, quiet])
    assert typo.exit_code == 2
    assert "unknown option 'min_char'" in typo.stderr


def test_cli_json_report(cli):
    path = CASES / "duplicate-id-fire.jsonl"
    result = cli(["check", "--format", "json", "--ignore", "teaser-tail", path])
    report = orjson.loads(result.stdout)
    assert result.exit_code == 1
    assert {k: report[k] for k in ("records", "errors", "warnings", "exit_code")} == {
        "records": 3,
        "errors": 1,
        "warnings": 0,
        "exit_code": 1,
    }
    assert report["findings"] == [
        {
            "rule": "duplicate-id",
            "severity": "error",
            "source": str(path),
            "line": 3,
            "id": "d1",
            "paragraph": None,
            "detail": f"id 'd1' first seen at {path}:1",
        }
    ]
    by_rule = {r["rule"]: r for r in report["rules"]}
    assert list(by_rule) == list(RULE_NAMES)
    assert by_rule["duplicate-id"] == {
        "rule": "duplicate-id",
        "severity": "error",
        "reason": "duplicate id",
        "status": "ran",
        "records": 1,
        "hits": 1,
    }
    assert by_rule["teaser-tail"]["status"] == "off"


def test_cli_github_annotations(cli):
    path = CASES / "html-entities-fire.jsonl"
    result = cli(["check", "--format", "github", "--ignore", "teaser-tail", path])
    assert result.exit_code == 1
    out = result.stdout.splitlines()
    assert out[0] == (
        f"::error file={path},line=1,title=html-entities%3A HTML entities left::h1: paragraph 0: HTML entity &rsquo;"
    )
    assert len(out) == 5
    assert (
        out[-1]
        == "::notice title=corpus-tools check::checked 2 records: 2 records with errors, 0 with warnings: not clean"
    )
    warn = cli(["check", "--format", "github", CASES / "duplicate-text-fire.jsonl", "--ignore", "teaser-tail"])
    assert warn.stdout.startswith("::warning file=")


def test_github_escaping_keeps_one_annotation_per_line():
    assert check._gh_data("50% a\nb\r") == "50%25 a%0Ab%0D"
    assert check._gh_property("C:\\a,b") == "C%3A\\a%2Cb"


def test_rich_report_renders_every_rule():
    report = check_paths([str(CASES / "mojibake-fire.jsonl")], CheckOptions(ignore=("teaser-tail",)))
    buffer = io.StringIO()
    check.render_rich(report, Console(file=buffer, width=200, color_system=None))
    text = buffer.getvalue()
    assert all(name in text for name in RULE_NAMES)
    assert "mojibake-fire.jsonl:1: mojibake m1: paragraph 0: looks like mojibake" in text
    assert text.rstrip().endswith("checked 1 record: 1 record with errors, 0 with warnings: not clean")


def test_text_field_moves_every_text_rule(cli):
    line = b'{"id": "a", "content": "Q&amp;A", "source": "s", "metadata": {}}\n'
    result = cli(["check", "--text-field", "content", "--format", "json"], input=line)
    assert [(f["rule"], f["detail"]) for f in orjson.loads(result.stdout)["findings"]] == [
        ("html-entities", "HTML entity &amp;")
    ]
    default = cli(["check", "--format", "json"], input=line)
    assert [(f["rule"], f["detail"]) for f in orjson.loads(default.stdout)["findings"]] == [
        ("schema", "missing 'text'")
    ]


def test_lone_surrogates_on_stdin_are_a_unicode_finding(cli):
    line = b'{"id": "u", "text": "Lone \\udc9d here.", "source": "s", "metadata": {}}\n'
    result = cli(["check", "--format", "json", "--ignore", "teaser-tail"], input=line)
    assert result.exit_code == 1
    assert [f["detail"] for f in orjson.loads(result.stdout)["findings"]] == ["lone surrogate U+DC9D in text"]


# ------------------------------------------------------------------------------------------ real pipes


def test_raw_seeds_fail_the_check_and_name_teasers_and_credit_lines():
    result = run_shell("corpus-tools ingest seeds/ | corpus-tools check --format json")
    assert result.returncode == 1, result.stderr
    report = orjson.loads(result.stdout)
    credit = [
        (f["id"][:3], f["paragraph"], f["detail"].split(":")[0])
        for f in report["findings"]
        if f["rule"] == "credit-lines"
    ]
    assert credit == [
        ("000", 14, "bio"),
        ("000", 15, "translator"),
        ("001", 14, "bio"),
        ("001", 15, "translator"),
        ("003", 26, "bio"),
        ("004", 22, "bio"),
    ]
    # 002 ends mid-sentence in its body and has no teaser tail.
    tails = [
        (f["id"][:3], f["paragraph"], f["detail"].split(":")[0])
        for f in report["findings"]
        if f["rule"] == "teaser-tail"
    ]
    assert tails == [
        ("000", 16, "4 teaser paragraphs at the end"),
        ("001", 16, "4 teaser paragraphs at the end"),
        ("003", 27, "4 teaser paragraphs at the end"),
        ("004", 23, "4 teaser paragraphs at the end"),
    ]
    assert report["warnings"] == 0  # 000 and 001 differ in their teaser tails


def test_cleaned_seeds_pass_the_check():
    result = run_shell("corpus-tools clean seeds/ --no-dedup | corpus-tools check --format json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = orjson.loads(result.stdout)
    assert (report["records"], report["errors"], report["warnings"]) == (5, 0, 1)
    # Seeds 000 and 001 are one article: once their different teaser tails are cut, the texts are the same.
    assert [(f["rule"], f["severity"], f["id"], f["detail"]) for f in report["findings"]] == [
        ("duplicate-text", "warning", "001_f74657ecf586bcea", "same text as the record at -:1")
    ]
    # clean's last step drops that duplicate: what it writes passes without a warning
    deduplicated = orjson.loads(run_shell("corpus-tools clean seeds/ | corpus-tools check --format json").stdout)
    assert (deduplicated["records"], deduplicated["errors"], deduplicated["warnings"]) == (4, 0, 0)
    assert all(r["status"] == "ran" for r in report["rules"])


def test_piped_steps_pass_the_check_in_plain_text():
    result = run_shell(
        "corpus-tools ingest seeds/ | corpus-tools normalize | corpus-tools credits | corpus-tools teasers"
        " | corpus-tools check"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.decode().endswith("checked 5 records: 0 records with errors, 1 with warnings: clean\n")


def test_docs_document_every_rule():
    page = (ROOT / "docs" / "commands" / "check.md").read_text(encoding="utf-8")
    section = page.split("## Rules", 1)[1].split("\n## ", 1)[0]
    for rule in check.RULES:
        assert f"`{rule.name}`" in section, rule.name


# ------------------------------------------------------------------------------------ option bounds


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"min_chars": -5}, "check: min_chars must be >= 1 (got -5)"),
        ({"min_chars": 0}, "check: min_chars must be >= 1 (got 0)"),
        ({"mojibake_min_paragraphs": 0}, "check: mojibake_min_paragraphs must be >= 1 (got 0)"),
        ({"entities_min": 0}, "check: entities_min must be >= 1 (got 0)"),
        ({"credit_min_lines": 0}, "check: credit_min_lines must be >= 1 (got 0)"),
        ({"teaser_min_paragraphs": -1}, "check: teaser_min_paragraphs must be >= 1 (got -1)"),
        ({"max_findings": -1}, "check: max_findings must be >= 0 (got -1)"),
        ({"entities_min": 2**63}, "check: entities_min must be a 64-bit integer (got 9223372036854775808)"),
        (
            {"min_chars": 0, "max_findings": -1},
            "check: min_chars must be >= 1 (got 0); max_findings must be >= 0 (got -1)",
        ),
        (
            {"ignore": ("emtpy-text",)},
            f"check: unknown rule 'emtpy-text' in ignore (rules: {', '.join(RULE_NAMES)})",
        ),
        ({"warn": ("schema",), "error": ("schema",)}, "check: rule 'schema' is in both 'warn' and 'error'"),
    ],
)
def test_options_out_of_range_are_config_errors_naming_each_option(fields, message):
    with pytest.raises(ConfigError) as exc:
        CheckOptions(**fields)
    assert str(exc.value) == message


def test_the_bounds_themselves_are_valid_options():
    bounds = CheckOptions(
        min_chars=1, mojibake_min_paragraphs=1, entities_min=1, credit_min_lines=1, teaser_min_paragraphs=1
    )
    assert bounds == CheckOptions() and CheckOptions(max_findings=0, ignore=("schema", "schema")).max_findings == 0


# --------------------------------------------------------------------- odd names and ids in every format


def test_a_file_name_that_is_not_utf8_is_spelled_out_in_every_format(tmp_path: Path):
    folder = tmp_path / "t1"
    folder.mkdir()
    (folder / os.fsdecode(b"bad\xff.jsonl")).write_bytes(b'{"id":"a","source":"s","text":"x &amp; y","metadata":{}}\n')
    shown = f"{folder}/bad\\udcff.jsonl"  # as details spell lone surrogates
    finding = "a: paragraph 0: HTML entity &amp;"
    human = run_shell(f"corpus-tools check {shlex.quote(str(folder))}")
    assert human.returncode == 1, human.stderr
    assert human.stdout.decode("utf-8").splitlines()[0] == f"{shown}:1: html-entities (error) {finding}"
    github = run_shell(f"corpus-tools check --format github {shlex.quote(str(folder))}")
    assert github.returncode == 1, github.stderr
    assert github.stdout.decode("utf-8").splitlines()[0] == (
        f"::error file={check._gh_property(shown)},line=1,title=html-entities%3A HTML entities left::{finding}"
    )
    as_json = run_shell(f"corpus-tools check --format json {shlex.quote(str(folder))}")
    assert (as_json.returncode, as_json.stderr) == (1, b"")
    assert orjson.loads(as_json.stdout)["findings"][0]["source"] == shown
    buffer = io.StringIO()
    check.render_rich(check_paths([str(folder)]), Console(file=buffer, width=300, color_system=None))
    assert buffer.getvalue().encode("utf-8").splitlines()[0].decode() == f"{shown}:1: html-entities {finding}"


ODD_IDS = [
    ("a\r\nb", "a\\r\\nb"),
    ("a\tb", "a\\tb"),
    ("a\x1b\u2028b", "a\\x1b\\u2028b"),
    ({"x": 1}, '{"x":1}'),
    (5, "5"),
    (["é", None], '["é",null]'),
]


@pytest.mark.parametrize(("ident", "shown"), ODD_IDS, ids=lambda v: repr(v))
def test_an_odd_id_is_one_line_in_text_reports_and_its_json_value_in_json(cli, ident: object, shown: str):
    line = orjson.dumps({"id": ident, "source": "s", "text": "x &amp; y", "metadata": {}}) + b"\n"
    args = ["check", "--ignore", "schema", "--ignore", "types"]
    human = cli(args, input=line)
    assert human.exit_code == 1
    assert human.stdout == (
        f"-:1: html-entities (error) {shown}: paragraph 0: HTML entity &amp;\n"
        "\n"
        "html-entities: 1 record: HTML entities left [error]\n"
        "checked 1 record: 1 record with errors, 0 with warnings: not clean\n"
    )
    github = cli([*args, "--format", "github"], input=line)
    assert github.stdout.splitlines() == [
        f"::error title=html-entities%3A HTML entities left::{shown}: paragraph 0: HTML entity &amp;",
        "::notice title=corpus-tools check::checked 1 record: 1 record with errors, 0 with warnings: not clean",
    ]
    assert orjson.loads(cli([*args, "--format", "json"], input=line).stdout)["findings"][0]["id"] == ident


def test_a_missing_or_null_id_is_left_out_of_text_reports_and_null_in_json(cli):
    for line in (b'{"source": "s", "text": "x &amp; y", "metadata": {}}\n', b'{"id": null, "text": "x &amp; y"}\n'):
        human = cli(["check", "--ignore", "schema"], input=line)
        assert human.stdout.splitlines()[0] == "-:1: html-entities (error): paragraph 0: HTML entity &amp;"
        report = orjson.loads(cli(["check", "--ignore", "schema", "--format", "json"], input=line).stdout)
        assert report["findings"][0]["id"] is None


def test_an_id_orjson_cannot_write_does_not_break_the_json_report(cli):
    line = b'{"id": 123456789012345678901234567890, "text": "Fine text.", "source": "s", "metadata": {}}\n'
    result = cli(["check", "--format", "json"], input=line)
    assert result.exit_code == 1
    findings = orjson.loads(result.stdout)["findings"]
    assert [(f["rule"], f["id"], f["detail"][:22]) for f in findings] == [
        ("schema", "123456789012345678901234567890", "integer beyond 64 bits"),
        ("schema", "123456789012345678901234567890", "'id' is a number, not "),
    ]


def test_one_line_spells_every_line_breaking_character():
    assert check.one_line("a\tb\nc\rd\x00e\x85f\u2029g\udcffh\\n") == "a\\tb\\nc\\rd\\x00e\\x85f\\u2029g\\udcffh\\n"
    assert check.id_text(None) is None
    assert check.id_text({"k": "a\nb"}) == '{"k":"a\\nb"}'


# ------------------------------------------------------------------------------- teaser-tail counting


TEASER = " ".join(["word"] * 99) + " end"  # 100 words, no full stop: a truncated preview
TEASER_SNIPPET = "'" + " ".join(["word"] * 12) + "…'"


def test_teaser_tail_counts_teasers_not_the_blank_lines_after_them(cli, tmp_path: Path):
    text = f"Body one.\n{TEASER}\n\n\n"
    report = check_items(records(text))
    assert lines(report, Path("mem.jsonl")) == [
        f"1: teaser-tail (error) r1: paragraph 1: 1 teaser paragraph at the end: {TEASER_SNIPPET}"
    ]
    assert check_items(records(text), CheckOptions(teaser_min_paragraphs=2)).exit_code == 0
    config = tmp_path / "tp.toml"
    config.write_text("[check]\nteaser_min_paragraphs = 2\n", encoding="utf-8")
    line = orjson.dumps({"id": "a", "source": "s", "text": text, "metadata": {}}) + b"\n"
    result = cli(["check", "--config", config], input=line)
    assert (result.exit_code, result.stdout) == (0, "checked 1 record: 0 records with errors, 0 with warnings: clean\n")


def test_teaser_tail_counts_teasers_not_blank_lines_between_them():
    other = " ".join(["other"] * 99) + " end"
    report = check_items(records(f"Body one.\n\n{TEASER}\n\n\n{other}\n\n"), CheckOptions(teaser_min_paragraphs=3))
    assert report.exit_code == 0
    report = check_items(records(f"Body one.\n\n{TEASER}\n\n\n{other}\n\n"), CheckOptions(teaser_min_paragraphs=2))
    assert lines(report, Path("mem.jsonl")) == [
        f"1: teaser-tail (error) r1: paragraph 2: 2 teaser paragraphs at the end: {TEASER_SNIPPET}"
    ]
