"""The CLI's shared contract: ingest, bad input (one line, file:line, exit 2, no traceback), rejects, pipes."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest
from test_io import SEED_IDS, write_jsonl

from conftest import DATA, SEEDS, parse_jsonl, run_shell
from corpus_tools.cli import main

BAD_LINES = {
    "invalid JSON": ('{"text": "ok"}', '{"text": broken}'),
    "not an object": ('{"text": "ok"}', '["text", "x"]'),
    "missing text": ('{"text": "ok"}', '{"id": "x"}'),
    "non-string text": ('{"text": "ok"}', '{"id": "x", "text": 42}'),
    "metadata not an object": ('{"text": "ok"}', '{"text": "x", "metadata": [1]}'),
}
EXPECTED_REASON = {
    # orjson's own wording varies between versions; the stable part and the column are ours
    "invalid JSON": r"invalid JSON \(unexpected character.*: column 10\)",
    "not an object": re.escape("expected a JSON object, got an array"),
    "missing text": re.escape("missing text field 'text'"),
    "non-string text": re.escape("text field 'text' is a number, not a string"),
    "metadata not an object": re.escape("'metadata' is an array, not an object"),
}


def test_ingest_seeds_prints_five_records(cli):
    result = cli(["ingest", SEEDS])
    assert result.exit_code == 0, result.stderr
    records = parse_jsonl(result.stdout_bytes)
    assert [r["id"] for r in records] == SEED_IDS
    assert result.stderr == ""


def test_ingest_round_trip_through_gzip_file(cli, tmp_path):
    out = tmp_path / "x.jsonl.gz"
    assert cli(["ingest", SEEDS, "-o", out]).exit_code == 0
    direct = parse_jsonl(cli(["ingest", SEEDS]).stdout_bytes)
    assert parse_jsonl(gzip.decompress(out.read_bytes())) == direct
    # reading the file back through the tools yields the same records
    assert parse_jsonl(cli(["ingest", out]).stdout_bytes) == direct


def test_ingest_reads_stdin_as_one_document(cli):
    result = cli(["ingest"], input=b"Line one.\nLine two.\n")
    [record] = parse_jsonl(result.stdout_bytes)
    assert record == {
        "id": "stdin",
        "text": "Line one.\nLine two.\n",
        "source": "-",
        "metadata": {"encoding": "utf-8", "encoding_fallback": False},
    }


@pytest.mark.parametrize("case", sorted(BAD_LINES))
def test_bad_record_fails_with_one_line_naming_file_and_line(cli, tmp_path, case):
    path = write_jsonl(tmp_path / "in.jsonl", list(BAD_LINES[case]))
    result = cli(["ingest", path])
    assert result.exit_code == 2
    assert re.fullmatch(f"error: {re.escape(str(path))}:2: {EXPECTED_REASON[case]}\n", result.stderr)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (lambda p: [p / "missing.txt"], "{p}/missing.txt: no such file or directory"),
        (lambda p: [(p / "empty").mkdir() or p / "empty"], "{p}/empty: directory holds no input files"),
        (lambda p: [DATA / "ingest" / "binary.bin"], f"{DATA}/ingest/binary.bin: binary file (NUL byte at offset 3)"),
    ],
)
def test_unusable_inputs_fail_with_one_line(cli, tmp_path, args, message):
    result = cli(["ingest", *args(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr == f"error: {message.format(p=tmp_path)}\n"


def test_skip_counts_reports_and_writes_rejects_with_reasons(cli, tmp_path):
    bad = [BAD_LINES[case][1] for case in sorted(BAD_LINES)]
    lines = ['{"id": "a", "text": "ok"}', *bad, '{"id": "z", "text": "end"}']
    path = write_jsonl(tmp_path / "in.jsonl", lines)
    rejects = tmp_path / "rejects.jsonl"
    result = cli(["ingest", path, "--on-error", "skip", "--rejects", rejects])
    assert result.exit_code == 0
    assert [r["id"] for r in parse_jsonl(result.stdout_bytes)] == ["a", "z"]
    rows = parse_jsonl(rejects.read_bytes())
    assert [r["line"] for r in rows] == [2, 3, 4, 5, 6]
    for row, case in zip(rows, sorted(BAD_LINES), strict=True):
        assert re.fullmatch(EXPECTED_REASON[case], row["reason"])
    assert all(r["source"] == str(path) for r in rows)
    assert rows[0]["raw"] == '{"text": broken}'
    assert rows[1]["record"] == {"text": "x", "metadata": [1]}
    last = result.stderr.splitlines()[-1]
    assert last.startswith("corpus-tools: skipped 5 of 7 records: ")
    assert last.endswith(f"(written to {rejects})")
    assert "Traceback" not in result.stderr


def test_skip_without_rejects_still_reports_each_record(cli, tmp_path):
    path = write_jsonl(tmp_path / "in.jsonl", ['{"text": 1}', '{"text": "ok"}'])
    result = cli(["ingest", path, "--on-error", "skip"])
    assert result.stderr.splitlines() == [
        f"warning: {path}:1: text field 'text' is a number, not a string: skipped",
        "corpus-tools: skipped 1 of 2 records: 1 text field 'text' is a number, not a string "
        "(use --rejects PATH to keep them)",
    ]


def test_binary_file_is_rejected_with_skip(cli, tmp_path):
    rejects = tmp_path / "r.jsonl"
    result = cli(["ingest", DATA / "ingest", "--on-error", "skip", "--rejects", rejects])
    assert result.exit_code == 0
    assert len(parse_jsonl(result.stdout_bytes)) == 3
    [row] = parse_jsonl(rejects.read_bytes())
    assert row == {
        "source": str(DATA / "ingest" / "binary.bin"),
        "line": None,
        "reason": "binary file (NUL byte at offset 3)",
        "raw": None,
    }


def test_failure_leaves_no_partial_output_file(cli, tmp_path):
    path = write_jsonl(tmp_path / "in.jsonl", ['{"text": "ok"}', "{bad"])
    out = tmp_path / "out.jsonl"
    assert cli(["ingest", path, "-o", out]).exit_code == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def test_text_field_option_reads_another_key(cli, tmp_path):
    path = write_jsonl(tmp_path / "in.jsonl", ['{"id": "a", "content": "x", "keep": 1}'])
    assert cli(["ingest", path]).exit_code == 2
    result = cli(["ingest", path, "--text-field", "content"])
    assert parse_jsonl(result.stdout_bytes) == [{"id": "a", "content": "x", "keep": 1}]


def test_head_closing_the_pipe_is_a_quiet_exit():
    result = run_shell("corpus-tools ingest seeds/ | head -1")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 1
    assert result.stderr == b""


def test_head_on_a_big_stream_still_exits_quietly(tmp_path):
    big = tmp_path / "big.jsonl"
    big.write_text('{"text": "%s"}\n' % ("x" * 1000) * 20000)
    result = run_shell(f"corpus-tools ingest {big} | head -c 100 > /dev/null; echo ${{PIPESTATUS[0]}}")
    assert result.stdout.decode().strip() == "0"
    assert result.stderr == b""


def test_compressed_stdin_through_a_real_pipe():
    result = run_shell("corpus-tools ingest seeds/ | gzip | corpus-tools ingest - --text-field text | wc -l")
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().strip() == "1"  # stdin for ingest is one raw document: the gzip'd JSONL text


def test_jsonl_on_stdin_for_a_pipeline_step_via_module(tmp_path):
    result = run_shell(f"python -m corpus_tools ingest seeds/ > {tmp_path}/a.jsonl && python -m corpus_tools --version")
    assert result.returncode == 0
    assert result.stdout.decode().startswith("corpus-tools ")
    assert len(parse_jsonl(Path(tmp_path / "a.jsonl").read_bytes())) == 5


def test_main_returns_exit_codes(capsys):
    assert main(["--version"]) == 0
    assert main(["ingest", "/definitely/missing"]) == 2
    assert capsys.readouterr().err == "error: /definitely/missing: no such file or directory\n"
    assert main(["no-such-command"]) == 2
