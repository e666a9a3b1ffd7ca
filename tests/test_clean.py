"""``corpus-tools clean``: exact composition of the single commands, --jobs, shards + manifest, config, stderr."""

from __future__ import annotations

import hashlib
import os
import pty
import re
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import orjson
import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import SEEDS, generated_corpus, parse_jsonl, read_shards, run_shell
from corpus_tools.config import config_hash
from corpus_tools.shards import read_manifest

PIPE = (
    "corpus-tools ingest seeds/ | corpus-tools normalize | corpus-tools credits | corpus-tools teasers"
    " | corpus-tools dedup"
)


def ok(command: str, input: bytes | None = None) -> bytes:
    result = run_shell(command, input=input)
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout


@pytest.mark.slow
def test_composition_is_byte_exact_with_real_pipes() -> None:
    piped = ok(PIPE)
    cleaned = ok("corpus-tools clean seeds/ --no-corpus-aware -q")
    assert len(parse_jsonl(cleaned)) == 4  # 001 is 000 once cleaned: dedup drops it
    assert cleaned == piped


@pytest.mark.slow
def test_composition_is_byte_exact_with_one_index_given_to_both(tmp_path: Path) -> None:
    index = tmp_path / "tails.idx"
    ok(f"corpus-tools index seeds/ -o {index} -q")
    piped = ok(
        "corpus-tools ingest seeds/ | corpus-tools normalize | corpus-tools credits"
        f" | corpus-tools teasers --index {index} | corpus-tools dedup"
    )
    cleaned = ok(f"corpus-tools clean seeds/ --index {index} -q")
    assert cleaned == piped


def chain(cli, *commands: list) -> bytes:
    """In-process equivalent of a pipe of single commands (the real-pipe test above proves they agree)."""
    data = None
    for command in commands:
        result = cli([str(a) for a in command], input=data)
        assert result.exit_code == 0, result.stderr
        data = result.stdout_bytes
    return data


def clean_out(cli, *args: str) -> bytes:
    result = cli(["clean", SEEDS, "--no-corpus-aware", "-q", *args])
    assert result.exit_code == 0, result.stderr
    return result.stdout_bytes


def test_corpus_aware_by_default_is_the_same_as_a_prebuilt_index(tmp_path: Path, cli) -> None:
    index = tmp_path / "tails.idx"
    assert cli(["index", SEEDS, "-o", index, "-q"]).exit_code == 0
    default = cli(["clean", SEEDS, "-q"])
    given = cli(["clean", SEEDS, "--index", index, "-q"])
    assert default.exit_code == given.exit_code == 0
    assert default.stdout_bytes == given.stdout_bytes


@pytest.mark.parametrize("off", ["normalize", "credits", "teasers", "dedup"])
def test_a_step_switched_off_is_the_pipe_without_it(off: str, cli) -> None:
    steps = [[s] for s in ("normalize", "credits", "teasers", "dedup") if s != off]
    assert clean_out(cli, f"--no-{off}") == chain(cli, ["ingest", SEEDS], *steps)


def test_step_flags_are_the_single_commands_flags(cli) -> None:
    piped = chain(
        cli,
        ["ingest", SEEDS],
        ["normalize"],
        ["credits", "--no-bios"],
        ["teasers", "--min-words", "90", "--no-credits"],
        ["dedup"],
    )
    assert clean_out(cli, "--no-bios", "--min-words", "90", "--no-teasers-credits") == piped
    assert piped != clean_out(cli)


def test_stdin_is_json_lines_with_per_document_signals(cli) -> None:
    raw = chain(cli, ["ingest", SEEDS])
    result = cli(["clean", "-q"], input=raw)
    assert result.stdout_bytes == chain(cli, ["ingest", SEEDS], ["normalize"], ["credits"], ["teasers"], ["dedup"])


# ---------------------------------------------------------------------------------------------- --jobs


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated_corpus(tmp_path_factory.mktemp("gen") / "corpus")


@pytest.mark.parametrize("where", ["seeds", "generated"])
def test_jobs_do_not_change_a_byte(where: str, corpus: Path, tmp_path: Path) -> None:
    source = SEEDS if where == "seeds" else corpus
    one = run_shell(f"corpus-tools clean {source} --jobs 1 --on-error skip --rejects {tmp_path}/r1.jsonl")
    two = run_shell(f"corpus-tools clean {source} --jobs 2 --on-error skip --rejects {tmp_path}/r2.jsonl")
    assert one.returncode == two.returncode == 0
    assert len(parse_jsonl(one.stdout)) >= (4 if where == "seeds" else 360)
    assert one.stdout == two.stdout
    assert (tmp_path / "r1.jsonl").read_bytes() == (tmp_path / "r2.jsonl").read_bytes()
    # The same summary, but for the seconds.
    assert summary(one.stderr) == summary(two.stderr)
    assert summary(one.stderr).startswith("clean: ")


def summary(stderr: bytes) -> str:
    line = stderr.decode().splitlines()[-1]
    return re.sub(r", [\d.]+ s ", " ", line)


def test_jobs_fail_on_the_same_file_and_line(corpus: Path) -> None:
    one = run_shell(f"corpus-tools clean {corpus} --jobs 1 -q")
    two = run_shell(f"corpus-tools clean {corpus} --jobs 2 -q")
    assert one.returncode == two.returncode == 2
    assert one.stderr == two.stderr
    assert one.stderr.startswith(f"error: {corpus}/part-2.jsonl:8: invalid JSON (".encode())
    assert len(one.stderr.splitlines()) == 1
    assert one.stdout == two.stdout  # what came before the bad line, in order


# ---------------------------------------------------------------------------------------- shards


def test_sharded_output_and_its_manifest(tmp_path: Path, cli) -> None:
    out = tmp_path / "corpus"
    result = cli(["clean", SEEDS, "-o", f"{out}/", "--shard-size", "2", "-q", "--no-dedup"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    manifest = read_manifest(str(out))
    assert sorted(p.name for p in out.iterdir()) == [
        "manifest.json",
        "part-00000.jsonl.zst",
        "part-00001.jsonl.zst",
        "part-00002.jsonl.zst",
    ]
    assert [s["records"] for s in manifest["shards"]] == [2, 2, 1]
    for shard in manifest["shards"]:
        data = (out / shard["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == shard["sha256"]
        assert len(data) == shard["bytes"]
        lines = zstandard.ZstdDecompressor().stream_reader(data).read()
        assert len(lines.splitlines()) == shard["records"] and len(lines) == shard["json_bytes"]
    assert read_shards(out) == cli(["clean", SEEDS, "-q", "--no-dedup"]).stdout_bytes
    assert manifest["records"] == manifest["counts"]["written"] == 5
    cuts = manifest["counts"]["cuts_by_rule"]
    assert sum(n for rule, n in cuts.items() if rule.startswith("teasers.")) == 16
    assert sum(n for rule, n in cuts.items() if rule.startswith("credits.")) == 6
    assert manifest["config_hash"] == config_hash(manifest["config"])
    assert manifest["config"]["steps"] == ["normalize", "credits", "teasers"]
    assert {"corpus-tools", "python", "ftfy", "orjson", "zstandard"} <= set(manifest["versions"])
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left behind


def test_shards_close_on_bytes_too(tmp_path: Path, cli) -> None:
    out = tmp_path / "corpus"
    assert cli(["clean", SEEDS, "-o", f"{out}/", "--shard-bytes", "1", "-q"]).exit_code == 0
    assert [s["records"] for s in read_manifest(str(out))["shards"]] == [1] * 4


def test_shards_are_the_same_for_any_jobs(tmp_path: Path, corpus: Path) -> None:
    for jobs in (1, 2):
        ok(f"corpus-tools clean {corpus} -o {tmp_path}/j{jobs}/ --jobs {jobs} --shard-size 100 --on-error skip -q")
    one, two = read_manifest(str(tmp_path / "j1")), read_manifest(str(tmp_path / "j2"))
    assert one["shards"] == two["shards"] and len(one["shards"]) == 4


def test_a_previous_output_is_replaced_and_a_foreign_directory_is_refused(tmp_path: Path, cli) -> None:
    out = tmp_path / "corpus"
    assert cli(["clean", SEEDS, "-o", f"{out}/", "--shard-size", "1", "-q"]).exit_code == 0
    assert cli(["clean", SEEDS, "-o", str(out), "--shard-size", "3", "-q"]).exit_code == 0  # existing dir
    assert [s["records"] for s in read_manifest(str(out))["shards"]] == [3, 1]
    assert len(list(out.iterdir())) == 3
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    result = cli(["clean", SEEDS, "-o", f"{foreign}/", "-q"])
    assert result.exit_code == 2
    assert "not a previous corpus-tools output" in result.stderr
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]


def test_a_failed_run_leaves_no_output_directory(tmp_path: Path, cli) -> None:
    bad = tmp_path / "in.jsonl"
    bad.write_bytes(b'{"text": "fine"}\n{oops\n')
    result = cli(["clean", bad, "-o", f"{tmp_path}/out/", "-q"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {bad}:2: invalid JSON")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


# ---------------------------------------------------------------------------------------- config


def test_config_file_maps_onto_the_steps_and_flags_override_it(tmp_path: Path, cli) -> None:
    config = tmp_path / "clean.toml"
    config.write_text("[credits]\nbios = false\n\n[teasers]\nmin_words = 90\n")
    by_pipe = chain(
        cli, ["ingest", SEEDS], ["normalize"], ["credits", "--no-bios"], ["teasers", "--min-words", "90"], ["dedup"]
    )
    assert clean_out(cli, "--config", str(config)) == by_pipe
    # A flag given on the command line wins over the file.
    assert clean_out(cli, "--config", str(config), "--bios", "--min-words", "95") == clean_out(cli)


def test_config_errors_name_the_file_and_key(tmp_path: Path, cli) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[teasers]\nmin_wrods = 3\n")
    result = cli(["clean", SEEDS, "--config", config])
    assert result.exit_code == 2
    assert str(config) in result.stderr and "min_wrods" in result.stderr
    config.write_text("[teaser]\n")
    result = cli(["clean", SEEDS, "--config", config])
    assert result.exit_code == 2 and "unknown table [teaser]" in result.stderr


def test_a_file_output_gets_a_manifest_sidecar(tmp_path: Path, cli) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[teasers]\nmin_words = 90\n")
    out = tmp_path / "corpus.jsonl.zst"
    assert cli(["clean", SEEDS, "-o", out, "--config", config, "-q"]).exit_code == 0
    sidecar = orjson.loads((tmp_path / "corpus.jsonl.zst.manifest.json").read_bytes())
    assert sidecar["output"] == "corpus.jsonl.zst"
    assert sidecar["config"]["teasers"]["min_words"] == 90
    assert sidecar["config_hash"] == config_hash(sidecar["config"])
    assert sidecar["counts"]["written"] == 4
    assert sidecar["counts"]["dropped_by_reason"] == {"dedup.duplicate_exact": 1}


# ---------------------------------------------------------------------------------- stdout and stderr


def test_stdout_carries_records_only_and_stderr_the_summary() -> None:
    result = run_shell("corpus-tools clean seeds/ --jobs 2")
    assert result.returncode == 0
    records = parse_jsonl(result.stdout)  # every stdout line is a record
    assert len(records) == len(result.stdout.splitlines()) == 4
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        "clean: 5 records in, 4 out, 0 rejected, 1 dropped (1 dedup.duplicate_exact), 26 lines cut (credits 6, "
        "teasers 16, normalize 4), 41.8 KB, "
    )
    assert "(config " in lines[0]
    quiet = run_shell("corpus-tools clean seeds/ -q")
    assert quiet.stderr == b"" and quiet.stdout == result.stdout


def test_a_dry_run_leaves_every_text_as_it_came_and_says_it_cut_nothing() -> None:
    ingested = parse_jsonl(run_shell("corpus-tools ingest seeds/").stdout)
    dry = run_shell("corpus-tools clean seeds/ --dry-run --no-dedup")
    assert dry.returncode == 0, dry.stderr
    records = parse_jsonl(dry.stdout)
    assert [r["text"] for r in records] == [r["text"] for r in ingested]
    assert all("normalize" not in r["metadata"] for r in records)  # what was done to the text: nothing
    cuts = [c for r in records for c in r["metadata"]["cuts"]]
    assert len(cuts) == 26 and all(c["dry_run"] is True for c in cuts)
    assert ", 0 lines cut, 26 labelled in a dry run (credits 6, teasers 16, normalize 4), " in dry.stderr.decode()


@pytest.mark.parametrize("jobs", [1, 2])
def test_the_summary_counts_this_runs_cuts_not_what_the_input_carried(tmp_path: Path, jobs: int) -> None:
    first = run_shell(f"corpus-tools clean seeds/ --no-corpus-aware -o {tmp_path / 'once.jsonl'}")
    assert first.returncode == 0
    counts = re.search(rb"(\d+) lines cut \(credits (\d+), teasers (\d+)", first.stderr)
    assert counts is not None and int(counts[2]) > 0 and int(counts[3]) > 0
    again = run_shell(
        f"corpus-tools clean {tmp_path / 'once.jsonl'} --no-corpus-aware --jobs {jobs} -o {tmp_path / 'twice.jsonl'}"
    )
    assert again.returncode == 0
    # The second run cuts nothing (its output is the same text), whatever the metadata lists it carries.
    assert b", 0 dropped, 0 lines cut, " in again.stderr
    manifest = orjson.loads((tmp_path / "twice.jsonl.manifest.json").read_bytes())
    assert manifest["counts"]["cuts_by_rule"] == {}
    texts = [r["text"] for r in parse_jsonl((tmp_path / "twice.jsonl").read_bytes())]
    assert texts == [r["text"] for r in parse_jsonl((tmp_path / "once.jsonl").read_bytes())]


def test_skipped_records_are_reported_even_when_quiet(corpus: Path) -> None:
    result = run_shell(f"corpus-tools clean {corpus} --on-error skip -q")
    assert result.returncode == 0
    assert "part-2.jsonl:8: invalid JSON" in result.stderr.decode()
    assert "skipped 1 of" in result.stderr.decode()
    assert b"invalid JSON" not in result.stdout


def test_progress_bar_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from corpus_tools.cli import clean as clean_cli

    with clean_cli._progress(False) as bar:  # stderr is not a terminal under pytest
        assert bar is None
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    with clean_cli._progress(True) as bar:
        assert bar is None  # --quiet
    with clean_cli._progress(False) as bar:
        assert bar is not None
        bar.advance(3, 2_000_000)
        bar.shown = 0.0
        bar.advance(2, 1_000_000)
        assert (bar.documents, bar.nbytes) == (5, 3_000_000)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--shard-size", "10"], "error: --shard-size and --shard-bytes need a directory output: -o DIR/\n"),
        (["--scheduler", "tcp://127.0.0.1:1"], "error: --scheduler needs --engine dask\n"),
    ],
)
def test_options_that_make_no_sense_alone_are_errors(args: list[str], message: str, cli) -> None:
    result = cli(["clean", SEEDS, *args])
    assert result.exit_code == 2
    assert result.stderr == message
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "warnings"),
    [
        (
            ["--residue-languages", "en,de", "--no-residue-cta"],
            [
                "warning: --no-residue-cta has no effect without --residue (the residue step does not run)",
                "warning: --residue-languages has no effect without --residue (the residue step does not run)",
            ],
        ),
        (
            ["--no-credits", "--max-bio-words", "30"],
            ["warning: --max-bio-words has no effect with --no-credits (the credits step does not run)"],
        ),
        (["--residue", "--residue-languages", "en"], []),
        (["--no-dedup", "--dry-run"], []),  # --dry-run sets the steps that do run
    ],
)
def test_a_step_option_for_a_step_that_does_not_run_gets_a_warning(args: list[str], warnings: list[str], cli) -> None:
    data = b'{"id": "a", "text": "A body line.", "source": "s", "metadata": {}}\n'
    result = cli(["clean", "-q", *args], input=data)
    assert result.exit_code == 0
    assert sorted(result.stderr.splitlines()) == warnings
    assert len(parse_jsonl(result.stdout)) == 1


def test_text_field_is_honoured(tmp_path: Path, cli) -> None:
    records = parse_jsonl(clean_out(cli, "--no-teasers", "--no-credits", "--no-normalize"))
    renamed = tmp_path / "content.jsonl"
    renamed.write_bytes(
        b"".join(orjson.dumps({"content" if k == "text" else k: v for k, v in r.items()}) + b"\n" for r in records)
    )
    result = cli(["clean", renamed, "--text-field", "content", "-q"])
    assert result.exit_code == 0, result.stderr
    got = parse_jsonl(result.stdout_bytes)
    assert [r["content"] for r in got] == [r["text"] for r in parse_jsonl(clean_out(cli))]


def test_on_a_terminal_the_progress_goes_to_stderr_and_stdout_stays_records(corpus: Path) -> None:
    """stderr a real terminal (a pty), stdout a pipe: the bar shows on the terminal, stdout holds only records."""
    master, slave = pty.openpty()
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    env = dict(os.environ, COLUMNS="120", TERM="xterm")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    result = subprocess.run(
        ["corpus-tools", "clean", str(corpus), "--jobs", "2", "--on-error", "skip"],
        stdout=subprocess.PIPE,
        stderr=slave,
        env=env,
        timeout=300,
    )
    os.close(slave)
    reader.join(timeout=10)
    os.close(master)
    assert result.returncode == 0
    assert len(parse_jsonl(result.stdout)) == len(result.stdout.splitlines()) >= 360
    terminal = b"".join(chunks).decode("utf-8", "replace")
    assert "cleaning" in terminal and "documents" in terminal and "MB/s" in terminal
    assert "clean: " in terminal and " records in, " in terminal


@given(
    st.lists(st.lists(st.binary(max_size=12).map(lambda b: b.replace(b"\n", b"") + b"\n"), max_size=6), max_size=6),
    st.one_of(st.none(), st.integers(1, 5)),
    st.one_of(st.none(), st.integers(1, 40)),
)
@settings(max_examples=40, deadline=None)
def test_shards_are_the_same_written_in_blocks_or_line_by_line(blocks, records, max_bytes) -> None:
    # The engine hands the shard writer blocks of lines; the shards must be the ones writing each line makes.
    from corpus_tools.shards import ShardWriter

    def shards(by_block: bool) -> list[tuple[int, bytes]]:
        with tempfile.TemporaryDirectory() as tmp:
            writer = ShardWriter(os.path.join(tmp, "out"), records=records, max_bytes=max_bytes)
            for block in blocks:
                if by_block and block:
                    writer.write_lines(b"".join(block), len(block))
                else:
                    for line in block:
                        writer.write_line(line)
            manifest = writer.finish({})
            return [
                (
                    shard["records"],
                    zstandard.ZstdDecompressor()
                    .decompressobj()
                    .decompress(Path(tmp, "out", shard["path"]).read_bytes()),
                )
                for shard in manifest["shards"]
            ]

    assert shards(by_block=True) == shards(by_block=False)


def test_jobs_2_into_a_closed_pipe_exits_quietly_and_leaves_no_spill(tmp_path: Path) -> None:
    # Workers leave their output in spill files that the main process copies into stdout; when the reader goes
    # away (head), the run stops with exit 0, no traceback, and the spill directory removed.
    big = tmp_path / "big.jsonl"
    big.write_text('{"text": "%s"}\n' % ("word " * 200) * 20000, encoding="utf-8")
    spill = tmp_path / "spill"
    spill.mkdir()
    code = (
        "import sys, corpus_tools.engine as engine\n"
        f"engine._SPILL_ROOT = {str(spill)!r}\n"
        "from corpus_tools.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    script = tmp_path / "run.py"
    script.write_text(code, encoding="utf-8")
    result = run_shell(
        f"{sys.executable} {script} clean {big} --jobs 2 --no-corpus-aware -q | head -c 100 > /dev/null; "
        "echo ${PIPESTATUS[0]}"
    )
    assert result.stdout.decode().strip() == "0", result.stderr
    assert result.stderr == b""
    assert not any(spill.iterdir())


def test_the_config_and_the_flags_are_checked_together(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[teasers]\nmin_words = 120\n")
    alone = run_shell(f"corpus-tools clean -q seeds/ --no-corpus-aware --config {config}")
    assert alone.returncode == 2
    assert alone.stderr.decode() == f"error: {config}: [teasers]: min_words (120) must be <= max_words (110)\n"
    # The flag completes what the file started: valid together, and what the same options in one file give.
    together = run_shell(f"corpus-tools clean -q seeds/ --no-corpus-aware --config {config} --max-words 130")
    assert together.returncode == 0, together.stderr
    both = tmp_path / "both.toml"
    both.write_text("[teasers]\nmin_words = 120\nmax_words = 130\n")
    assert together.stdout == ok(f"corpus-tools clean -q seeds/ --no-corpus-aware --config {both}")


# ----------------------------------------------------------------- the corpus index covers the teasers band


def _words(stem: str, n: int, end: str) -> str:
    return " ".join(f"{stem}{i}" for i in range(n)) + end


#: 50 words, a full stop: above the truncated teaser, a teaser only when it recurs across pages.
RECURRING = _words("shared", 50, ".")


def short_teaser_corpus(root: Path) -> Path:
    """Four pages, each: a lead, a body paragraph (20 words), the recurring 50-word paragraph, a truncated 50-word
    teaser of its own. With teasers of 40..60 words, only the recurrence signal cuts the recurring one."""
    root.mkdir()
    for page in range(4):
        lead = f"Page {page} opens with its own first paragraph."
        body = _words(f"body{page}x", 20, ".")
        teaser = _words(f"tail{page}x", 50, "")
        (root / f"p{page}.txt").write_text("\n".join([lead, body, RECURRING, teaser]) + "\n", encoding="utf-8")
    return root


def test_the_first_pass_counts_the_teasers_band_so_a_short_recurring_teaser_is_cut(tmp_path: Path, cli) -> None:
    corpus = short_teaser_corpus(tmp_path / "pages")
    result = cli(["clean", corpus, "-q", "--min-words", "40", "--max-words", "60"])
    assert (result.exit_code, result.stderr) == (0, "")
    records = parse_jsonl(result.stdout_bytes)
    assert [r["metadata"]["cuts"] for r in records] == [
        [
            {"step": "teasers", "rule": "recurrent", "paragraph": 2},
            {"step": "teasers", "rule": "truncated", "paragraph": 3},
        ]
    ] * 4
    assert [r["text"] for r in records] == [
        f"Page {page} opens with its own first paragraph.\n{_words(f'body{page}x', 20, '.')}" for page in range(4)
    ]
    # The same as an index built for that band and given to clean.
    index = tmp_path / "band.idx"
    assert cli(["index", corpus, "-q", "-o", index, "--min-words", "40", "--max-words", "140"]).exit_code == 0
    given = cli(["clean", corpus, "-q", "--min-words", "40", "--max-words", "60", "--index", index])
    assert (given.exit_code, given.stderr, given.stdout_bytes) == (0, "", result.stdout_bytes)


def test_a_prebuilt_index_that_misses_the_teasers_band_gets_the_teasers_warning(tmp_path: Path, cli) -> None:
    corpus = short_teaser_corpus(tmp_path / "pages")
    index = tmp_path / "default.idx"
    assert cli(["index", corpus, "-q", "-o", index]).exit_code == 0
    warning = (
        f"warning: {index} counts paragraphs of 80..140 words; "
        "teasers of 40..60 words outside that band get no recurrence signal\n"
    )
    band = ["--min-words", "40", "--max-words", "60", "--index", index]
    cleaned = cli(["clean", corpus, "-q", *band])
    assert (cleaned.exit_code, cleaned.stderr) == (0, warning)
    # Only the truncated teaser goes: the recurring paragraph was never counted.
    assert [r["metadata"]["cuts"] for r in parse_jsonl(cleaned.stdout_bytes)] == [
        [{"step": "teasers", "rule": "truncated", "paragraph": 3}]
    ] * 4
    records = cli(["ingest", corpus]).stdout_bytes
    single = cli(["teasers", "-", *band], input=records)
    assert (single.exit_code, single.stderr) == (0, warning)
    # An index that covers the band: no warning from either.
    assert cli(["clean", corpus, "-q", "--index", index]).stderr == ""
