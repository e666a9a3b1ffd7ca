"""The CLI's shared contract: ingest, bad input (one line, file:line, exit 2, no traceback), rejects, pipes."""

from __future__ import annotations

import base64
import gzip
import inspect
import io
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from conftest import DATA, SEED_IDS, SEEDS, parse_jsonl, run_shell, write_jsonl
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


def test_a_line_cut_short_names_the_column_where_it_ends(cli, tmp_path):
    # orjson is handed the line with its "\n" and reports the end of data on "line 2": the column is the line's end
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"id":"b","text":"ok"\n')
    result = cli(["normalize", path])
    assert result.exit_code == 2
    assert result.stderr == f"error: {path}:1: invalid JSON (unexpected end of data: column 22)\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (lambda p: [p / "missing.txt"], "{p}/missing.txt: no such file or directory"),
        (lambda p: [(p / "empty").mkdir() or p / "empty"], "{p}/empty: directory holds no input files"),
        (lambda p: [DATA / "ingest" / "binary.bin"], f"{DATA}/ingest/binary.bin: binary file (NUL byte at offset 3)"),
        (
            lambda p: ["--stdin-jsonl", "--input-format", "text"],
            "--stdin-jsonl and --input-format text contradict each other: give one of them",
        ),
    ],
)
def test_unusable_inputs_fail_with_one_line(cli, tmp_path, args, message):
    result = cli(["ingest", *args(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr == f"error: {message.format(p=tmp_path)}\n"


def test_text_on_stdin_read_as_json_lines_says_how_to_read_it_as_text(cli):
    for args in (["normalize"], ["ingest", "--stdin-jsonl"]):
        result = cli(args, input=b"Just a line of text.\n")
        assert result.exit_code == 2
        assert result.stderr == (
            "error: -:1: invalid JSON (unexpected character, expected a JSON value: column 1); stdin is read as "
            "JSON lines: raw text needs --input-format text (or corpus-tools ingest, without --stdin-jsonl)\n"
        )


def test_a_run_that_writes_no_records_may_send_its_rejects_to_stdout(tmp_path):
    """`index` writes an index file, not records: its rejects alone on stdout are fine (records and rejects on one
    stdout are what is refused)."""
    write_jsonl(tmp_path / "in.jsonl", ['{"id": "a", "text": "Fine."}', "nope"])
    result = run_shell("corpus-tools index in.jsonl -o i.idx --on-error skip --rejects - -q", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [r["line"] for r in parse_jsonl(result.stdout)] == [2]


def test_an_option_without_its_value_points_at_the_command_s_help(cli):
    result = cli(["index", "seeds/", "-o"])
    assert result.exit_code == 2
    assert result.stderr == "error: Option '-o' requires an argument. (see 'corpus-tools index --help')\n"


def test_a_value_not_among_the_choices_is_one_plain_error_line(cli):
    result = cli(["normalize", "--form", "xyz"])
    assert result.exit_code == 2
    assert result.stderr == (
        "error: Invalid value for '--form': 'xyz' is not one of 'nfc', 'nfkc', 'nfd', 'nfkd', 'none'. "
        "(see 'corpus-tools normalize --help')\n"
    )


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


def test_a_binary_document_on_stdin_keeps_its_bytes_in_the_rejects(tmp_path):
    """stdin cannot be read again: what it held goes to the rejects whole (a file's bytes stay in the file)."""
    result = run_shell("corpus-tools ingest --on-error skip --rejects r.jsonl -q", cwd=tmp_path, input=b"a\0b\xff")
    assert result.returncode == 0 and result.stdout == b""
    [row] = parse_jsonl((tmp_path / "r.jsonl").read_bytes())
    assert row == {
        "source": "-",
        "line": None,
        "reason": "binary file (NUL byte at offset 1)",
        "raw": None,
        "raw_base64": base64.b64encode(b"a\0b\xff").decode("ascii"),
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


@pytest.mark.parametrize("command", ["ingest", "index", "normalize", "credits", "residue", "teasers", "dedup", "clean"])
def test_every_command_that_reads_records_runs_on_the_one_run_loop(monkeypatch, tmp_path, command):
    """One runner: the single commands, index and ingest go through clean's run loop (on one core), not a loop of
    their own; what differs is only the steps it is given."""
    from corpus_tools import engine

    seen: list[list[str]] = []
    run_pipeline = engine.run_pipeline

    def spy(paths, pipeline, sink, **kwargs):
        seen.append([step.name for step in pipeline.steps])
        return run_pipeline(paths, pipeline, sink, **kwargs)

    monkeypatch.setattr(engine, "run_pipeline", spy)
    path = write_jsonl(tmp_path / "in.jsonl", ['{"id": "a", "text": "One paragraph of text."}'])
    args = [command, str(path), "-o", str(tmp_path / ("out.idx" if command == "index" else "out.jsonl")), "-q"]
    assert main(args + (["--jobs", "1"] if command == "clean" else [])) == 0
    steps = {"ingest": [], "index": ["index"], "clean": ["normalize", "credits", "teasers", "dedup"]}
    assert seen == [steps.get(command, [command])]


@pytest.mark.slow
@pytest.mark.parametrize("command", ["normalize", "clean"])
def test_a_slow_producer_s_records_come_out_as_they_come(command):
    """In a pipe, a record read from stdin goes on to the next command before the producer writes the next one
    (not when 1 MB of input or the output buffer fills). Waits at most a minute for it: a liveness check."""
    import selectors

    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # stdout block-buffered, as in a shell
    args = [sys.executable, "-m", "corpus_tools", command, "-q"] + (["--jobs", "1"] if command == "clean" else [])
    with subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env) as process:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(b'{"id": "a", "text": "First record."}\n')
        process.stdin.flush()
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            ready = selector.select(timeout=60)
        first = process.stdout.readline() if ready else b""
        process.stdin.write(b'{"id": "b", "text": "Second record."}\n')
        process.stdin.close()
        rest = process.stdout.read()
    assert process.returncode == 0
    assert [r["id"] for r in parse_jsonl(first)] == ["a"]
    assert [r["id"] for r in parse_jsonl(rest)] == ["b"]


CLOSED_STDIN = "error: -: cannot read: standard input is closed"
CLOSED_STDOUT = "error: <stdout>: cannot write: standard output is closed"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("normalize <&-", CLOSED_STDIN),
        ("ingest <&-", CLOSED_STDIN),
        ("clean -q <&-", CLOSED_STDIN),
        ("stats <&-", CLOSED_STDIN),
        ("normalize in.jsonl >&-", CLOSED_STDOUT),
        ("normalize --help >&-", CLOSED_STDOUT),
        ("steps >&-", CLOSED_STDOUT),
    ],
)
def test_a_closed_standard_stream_is_one_error_line(tmp_path, command, message):
    """Started without stdin or stdout (`<&-`, `>&-`: Python has None there), a command that needs it says so in
    one line, exit 2; one that does not need it runs."""
    write_jsonl(tmp_path / "in.jsonl", ['{"id": "a", "text": "Fine."}'])
    result = run_shell(f"corpus-tools {command} 2>err.txt; echo $? > rc.txt", cwd=tmp_path)
    assert result.returncode == 0
    assert (tmp_path / "err.txt").read_text() == message + "\n"
    assert (tmp_path / "rc.txt").read_text() == "2\n"
    ok = run_shell("corpus-tools normalize in.jsonl -q -o out.jsonl >&- <&-", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert [r["id"] for r in parse_jsonl((tmp_path / "out.jsonl").read_bytes())] == ["a"]


NO_PASS = "here: clean runs the corpus pass"


@pytest.mark.parametrize(
    ("args", "warnings"),
    [
        (["credits", "--min-bio-recurrence", "2"], [f"--min-bio-recurrence has no effect {NO_PASS}"]),
        (
            ["teasers", "--min-recurrence", "2"],
            ["--min-recurrence has no effect without --index (a prebuilt corpus index)"],
        ),
        (
            ["residue", "--residue-min-docs", "2", "--site-field", "host"],
            [f"--residue-min-docs has no effect {NO_PASS}", f"--site-field has no effect {NO_PASS}"],
        ),
        (
            ["clean", "--no-corpus-aware", "--min-recurrence", "2"],
            ["--min-recurrence has no effect with --no-corpus-aware: it sets the teasers step's corpus pass"],
        ),
        (["clean", "--min-recurrence", "2", "--min-bio-recurrence", "2"], []),
        (["credits"], []),
    ],
)
def test_an_option_of_a_corpus_pass_that_does_not_run_is_warned_about(cli, tmp_path, args, warnings):
    path = write_jsonl(tmp_path / "in.jsonl", ['{"id": "a", "text": "One paragraph of text."}'])
    result = cli([*args, str(path), "-q", "-o", str(tmp_path / "out.jsonl")])
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [f"warning: {w}" for w in warnings]


def test_the_options_read_only_by_a_corpus_pass_are_marked():
    from corpus_tools.registry import steps
    from corpus_tools.step import option_specs

    marked = {(step.name, spec.name) for step in steps() for spec in option_specs(step.Options) if spec.corpus_pass}
    assert marked == {
        ("credits", "min_bio_recurrence"),
        ("teasers", "min_recurrence"),
        ("residue", "recurrence_min_docs"),
        ("residue", "recurrence_min_share"),
        ("residue", "site_field"),
    }


# ------------------------------------------------------------------------------------------------ start-up

#: What each command must NOT import to run: every command pays the CLI package's imports at start-up (each stage of
#: a shell pipe does), so a command imports only what it runs. check/stats/explain (and rich, their renderer) load
#: only with their own command; a single step loads only its step (credits looks up where teasers' tail starts) and
#: the runner on one core (no worker pool); clean loads the config loader and its steps too. All parse with orjson:
#: jsonlines only for a bad line.
_ONE_CORE = ("corpus_tools.config", "corpus_tools.shards", "concurrent.futures.process", "multiprocessing", "jsonlines")
NOT_IMPORTED = {
    "ingest": ("corpus_tools.normalize", "corpus_tools.credits", "corpus_tools.teasers", *_ONE_CORE),
    "normalize": ("corpus_tools.credits", "corpus_tools.teasers", "corpus_tools.tailindex", *_ONE_CORE),
    "credits": ("corpus_tools.normalize", "ftfy", *_ONE_CORE),
    "teasers": ("corpus_tools.normalize", "ftfy", *_ONE_CORE),
    "clean": ("corpus_tools.dask_engine", "jsonlines"),
}
NEVER_IMPORTED = ("corpus_tools.check", "corpus_tools.stats", "corpus_tools.explain", "rich")


@pytest.mark.parametrize("command", sorted(NOT_IMPORTED))
def test_a_command_imports_only_what_it_runs(tmp_path, command):
    path = write_jsonl(tmp_path / "in.jsonl", ['{"id": "a", "text": "By Jane Doe\\n\\nOne paragraph."}'])
    args = [command, str(path), "-o", str(tmp_path / "out.jsonl")] + (
        ["--jobs", "1", "-q"] if command == "clean" else []
    )
    # A fresh interpreter: the test process has imported everything already.
    code = (
        "import sys\nfrom corpus_tools.cli import main\n"
        f"code = main({args!r})\n"
        "print(code, *sorted(m for m in sys.modules if m.startswith(('corpus_tools', 'ftfy', 'rich', 'jsonlines', "
        "'concurrent', 'multiprocessing'))))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    exit_code, *modules = result.stdout.split()
    assert exit_code == "0", result.stderr
    assert (tmp_path / "out.jsonl").read_text(encoding="utf-8").count("\n") == 1
    step = {"clean": "corpus_tools.teasers", "ingest": "corpus_tools.ingest"}.get(command, f"corpus_tools.{command}")
    assert step in modules  # the check below looks at the right thing: the command ran its step
    imported = set(modules).intersection(NOT_IMPORTED[command] + NEVER_IMPORTED)
    assert not imported, f"{command} imports {sorted(imported)}: import them in the function that needs them"


def test_every_step_flag_is_generated_from_its_options_field():
    """clean's step flags come from the options dataclasses: each flag's default is its field's default."""
    from corpus_tools.cli import clean as clean_cli
    from corpus_tools.cli.steps import flag_value
    from corpus_tools.registry import step_named

    command = clean_cli.build()
    parameters = inspect.signature(command).parameters
    assert {flag.step for flag in command.step_flags} == {"normalize", "credits", "residue", "teasers", "dedup"}
    for flag in command.step_flags:
        default = flag_value(flag.spec, parameters[flag.param].default)
        assert default == getattr(step_named(flag.step).Options(), flag.spec.name), f"{flag.step} {flag.param}"


COMMAND_NAMES = ("ingest", "normalize", "credits", "teasers", "index", "explain", "clean", "check", "stats")


@pytest.mark.parametrize(
    "args",
    [
        *([name, "--help"] for name in COMMAND_NAMES),
        ["normalize", "--bogus"],
        ["normalize", "--form", "XX", "/dev/null"],
        ["clean", "--jobs", "0"],
        ["teasers", "--min-words", "x"],
        ["index"],
        ["check", "--list-rules"],
        ["ingest", "/definitely/missing"],
    ],
)
def test_main_builds_only_the_command_it_runs_with_the_same_result(args, capsys, monkeypatch):
    app_module = sys.modules["corpus_tools.cli.app"]  # corpus_tools.cli.app is the Typer app, not the module
    [info] = app_module.app_for(args).registered_commands
    assert (info.name or info.callback.__name__) == args[0]
    code = main(args)
    only = capsys.readouterr()
    monkeypatch.setattr(app_module, "app_for", lambda args: app_module.app)
    assert main(args) == code
    assert capsys.readouterr() == only


@pytest.mark.parametrize("args", [[], ["--help"], ["--version"], ["normalise"], ["--version", "normalize"]])
def test_main_builds_the_whole_app_unless_a_command_comes_first(args):
    app_module = sys.modules["corpus_tools.cli.app"]
    assert app_module.app_for(args) is app_module.app


OVERWRITE = "--rejects in.jsonl would overwrite the input in.jsonl"
ONE_STDOUT = "write all but one of them to a file"
TO_STDOUT = f"to stdout: {ONE_STDOUT}"


@pytest.mark.parametrize("command", ["normalize", "clean"])
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["in.jsonl", "-o", "o.jsonl", "--rejects", "o.jsonl"], "--rejects and -o are the same file: o.jsonl"),
        (["in.jsonl", "-o", "o.jsonl", "--rejects", "./o.jsonl"], "--rejects and -o are the same file: ./o.jsonl"),
        (["in.jsonl", "-o", "o.jsonl", "--rejects", "in.jsonl"], OVERWRITE),
        (["in.jsonl", "--rejects", "hard.jsonl"], "--rejects hard.jsonl would overwrite the input in.jsonl"),
        (["in.jsonl", "--rejects", "-"], f"the records and --rejects - would both go {TO_STDOUT}"),
        (["in.jsonl", "--rejects", "/dev/stdout"], f"the records and --rejects /dev/stdout would both go {TO_STDOUT}"),
        (["in.jsonl", "-o", "-", "--dropped", "-"], f"-o - and --dropped - would both go {TO_STDOUT}"),
        (
            ["in.jsonl", "-o", "o.jsonl", "--rejects", "-", "--dropped", "/dev/fd/1"],
            f"--rejects - and --dropped /dev/fd/1 would both go {TO_STDOUT}",
        ),
    ],
)
def test_rejects_never_land_on_the_output_or_an_input(cli, tmp_path, monkeypatch, command, args, message):
    monkeypatch.chdir(tmp_path)
    original = b'{"id": "a", "text": "Fine."}\n{"id": "b"}\n'
    (tmp_path / "in.jsonl").write_bytes(original)
    (tmp_path / "hard.jsonl").hardlink_to(tmp_path / "in.jsonl")
    result = cli([command, "-q", "--on-error", "skip", *args])
    assert result.exit_code == 2
    assert result.stderr == f"error: {message}\n"
    # Refused before any work: nothing written, the input untouched.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hard.jsonl", "in.jsonl"]
    assert (tmp_path / "in.jsonl").read_bytes() == original


def test_rejects_inside_the_shard_folder_are_refused(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.jsonl").write_bytes(b'{"id": "a", "text": "Fine."}\n')
    result = cli(["clean", "-q", "in.jsonl", "-o", "out/", "--on-error", "skip", "--rejects", "out/r.jsonl"])
    assert result.exit_code == 2
    assert result.stderr == "error: --rejects out/r.jsonl is inside the shard folder -o out/\n"


def test_output_may_replace_its_own_input(cli, tmp_path, monkeypatch):
    # Outputs are written atomically once everything is read: an in-place run is safe, and allowed.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data.jsonl").write_bytes(b'{"id": "a", "text": "Two  spaces."}\n')
    result = cli(["normalize", "-q", "data.jsonl", "-o", "data.jsonl"])
    assert result.exit_code == 0, result.stderr
    assert parse_jsonl((tmp_path / "data.jsonl").read_bytes())[0]["text"] == "Two spaces."


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize(
    "command", ["corpus-tools normalize -q", "corpus-tools clean -q --jobs 1", "corpus-tools clean -q --jobs 2"]
)
def test_a_full_disk_is_one_error_line(command):
    result = run_shell(
        f"{command} seeds/ > /dev/full" if "clean" in command else f"corpus-tools ingest seeds/ | {command} > /dev/full"
    )
    assert result.returncode == 2  # issue 16: a write failure is exit 2 (1 is check's findings) and names where
    assert result.stderr.decode() == "error: <stdout>: cannot write: no space left on device\n"


@pytest.mark.parametrize("command", ["corpus-tools --help", "corpus-tools clean --help", "corpus-tools ingest --help"])
def test_help_into_a_pipe_that_head_closes_exits_0(command):
    result = run_shell(f"{command} | head -c 1")  # pipefail: the help's own exit code counts
    assert result.returncode == 0, result.stderr
    assert result.stderr == b""


def test_ingest_reads_json_lines_from_stdin_when_asked(cli):
    lines = b'{"id": "a", "text": "x", "extra": [1]}\n{"id": "b", "text": "y"}\n'
    result = cli(["ingest", "-q", "--stdin-jsonl"], input=lines)
    assert result.exit_code == 0, result.stderr
    assert parse_jsonl(result.stdout_bytes) == [{"id": "a", "text": "x", "extra": [1]}, {"id": "b", "text": "y"}]


def test_straighten_quotes_can_be_switched_off_again(cli, tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("[normalize]\nstraighten_quotes = true\n")
    record = b'{"id": "a", "text": "\\u201cQuoted\\u201d"}\n'
    on = cli(["clean", "-q", "--config", str(config), "--no-corpus-aware"], input=record)
    off = cli(["clean", "-q", "--config", str(config), "--no-corpus-aware", "--no-straighten-quotes"], input=record)
    assert parse_jsonl(on.stdout_bytes)[0]["text"] == '"Quoted"'
    assert parse_jsonl(off.stdout_bytes)[0]["text"] == "\u201cQuoted\u201d"


BIG_INTS = (
    b'{"id": "big", "text": "Hi.", "meta": {"ids": [1, 123456789012345678901234567890]}}\n'
    b'{"id": "ok", "text": "Fine.", "n": 18446744073709551615, "m": -9223372036854775808, "f": 1e19}\n'
)


@pytest.mark.parametrize("command", ["ingest", "normalize", "credits", "teasers", "clean --jobs 1", "clean --jobs 2"])
def test_an_integer_beyond_64_bits_is_refused_not_rounded(tmp_path, command):
    path = tmp_path / "big.jsonl"
    path.write_bytes(BIG_INTS)
    reason = "integer beyond 64 bits (it would come out as a float, its digits lost): 123456789012345678901234567890"
    failed = run_shell(f"corpus-tools {command} -q {path}")
    assert failed.returncode == 2
    assert failed.stderr.decode() == f"error: {path}:1: {reason}\n"
    rejects = tmp_path / "rejects.jsonl"
    skipped = run_shell(f"corpus-tools {command} -q --on-error skip --rejects {rejects} {path}")
    assert skipped.returncode == 0, skipped.stderr
    [kept] = parse_jsonl(skipped.stdout)
    # The integers orjson can carry come out digit for digit (and the float stays a float).
    assert (kept["n"], kept["m"], kept["f"]) == (18446744073709551615, -9223372036854775808, 1e19)
    assert b'"n":18446744073709551615,"m":-9223372036854775808' in skipped.stdout
    [row] = parse_jsonl(rejects.read_bytes())
    assert (row["line"], row["reason"]) == (1, reason)
    assert row["raw"] == BIG_INTS.splitlines()[0].decode()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "afile/x.jsonl"], "error: afile/x.jsonl: not a directory\n"),
        (["--on-error", "skip", "--rejects", "folder"], "error: folder: is a directory\n"),
        (["-o", "missing/x.jsonl"], "error: missing/x.jsonl: folder does not exist\n"),
    ],
)
@pytest.mark.parametrize("command", ["normalize", "clean"])
def test_an_output_that_cannot_be_written_is_refused_before_any_work(
    cli, tmp_path, monkeypatch, command, args, message
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("x")
    (tmp_path / "folder").mkdir()
    # The input does not exist either: the output is checked first, before anything is read.
    result = cli([command, "-q", "no-such-input.jsonl", *args])
    assert result.exit_code == 2
    assert result.stderr == message


def test_clean_into_a_fifo_writes_no_manifest_beside_it(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    result = run_shell(f"corpus-tools clean -q seeds/ --no-corpus-aware -o {fifo}")
    reader.join(timeout=60)
    assert result.returncode == 0, result.stderr
    assert len(parse_jsonl(received[0])) == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]  # no pipe.manifest.json, no temporary


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (["en,de"], ("en", "de")),
        (["en", "de"], ("en", "de")),
        (["en, de", "fr"], ("en", "de", "fr")),
        ([""], ()),
        (None, ()),
    ],
)
def test_a_list_flag_takes_commas_as_well_as_repeats(given, expected):
    from corpus_tools.cli.steps import list_value

    assert list_value(given) == expected


def test_residue_languages_as_its_help_shows_it(cli, tmp_path: Path):
    """`--residue-languages en,de` (the help's own example), the repeated flag and the TOML list agree."""
    data = b'{"id": "a", "text": "Body line one here.\\nSubscribe to our newsletter", "source": "s", "metadata": {}}\n'
    config = tmp_path / "c.toml"
    config.write_text('[residue]\nlanguages = ["en", "de"]\n', encoding="utf-8")
    runs = [
        ["residue", "--residue-languages", "en,de"],
        ["residue", "--residue-languages", "en", "--residue-languages", "de"],
        ["residue", "--config", config],
        ["clean", "-q", "--residue", "--residue-languages", "en,de"],
    ]
    outputs = []
    for args in runs:
        result = cli(args, input=data)
        assert result.exit_code == 0, (args, result.stderr)
        outputs.append(parse_jsonl(result.stdout_bytes))
    assert outputs[0] == outputs[1] == outputs[2]
    bad = cli(["residue", "--residue-languages", "en,xx"], input=data)
    assert bad.exit_code == 2 and "no phrase list for 'xx'" in bad.stderr


def test_help_says_what_stdin_is_and_every_compression_read(cli):
    def words(command: str) -> str:  # the help's words, without the panels' borders
        return " ".join(re.sub("[│╭╮╰╯─]", " ", cli([command, "--help"]).stdout).split())

    ingest, normalize = words("ingest"), words("normalize")
    assert "stdin is one text document" in ingest and "stdin is JSON lines" not in ingest
    assert "stdin is JSON lines" in normalize
    for text in (ingest, normalize):
        assert ".gz/.zst/.xz/.bz2 read transparently" in text
        assert ".gz/.zst/.xz/.bz2 compress" in text


class _TerminalStdin(io.TextIOWrapper):
    """Stdin that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("args", [["stats", "--format", "json"], ["clean", "-q", "-"], ["normalize"]])
def test_reading_a_terminal_stdin_says_so_once_on_stderr(args, monkeypatch, capsys):
    """With no input on a terminal a command used to wait without a word."""
    import corpus_tools.io as inputs

    data = b'{"id": "a", "text": "A line.", "source": "s", "metadata": {}}\n'
    monkeypatch.setattr(sys, "stdin", _TerminalStdin(io.BytesIO(data), encoding="utf-8"))
    monkeypatch.setattr(inputs, "on_terminal_stdin", None)
    assert main(args) == 0
    err = capsys.readouterr().err
    name = f"corpus-tools {args[0]}"
    hint = f"{name}: reading stdin, a terminal: pipe the input in or name files (see '{name} --help'); Ctrl-D ends"
    assert err.count(hint + " the input\n") == 1


def test_no_hint_when_stdin_is_not_a_terminal(monkeypatch, capsys):
    import corpus_tools.io as inputs

    monkeypatch.setattr(inputs, "on_terminal_stdin", None)
    data = b'{"id": "a", "text": "A line.", "source": "s", "metadata": {}}\n'
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    assert main(["normalize"]) == 0
    assert "reading stdin" not in capsys.readouterr().err
