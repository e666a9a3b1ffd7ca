"""Issue 16 (hardening): each input a user can throw at the commands gets its documented answer (docs/bad-input.md)."""

from __future__ import annotations

import orjson
import pytest

from conftest import parse_jsonl, run_shell
from corpus_tools.records import MAX_DEPTH, DuplicateKey, TooDeep, exact_loads, suspect


def deep_line(levels: int, id: str = "deep") -> str:
    nested = "[" * levels + "]" * levels
    return f'{{"id": "{id}", "text": "x", "metadata": {{"m": {nested}}}}}\n'


GOOD = '{"id": "a", "text": "hello"}\n{"id": "b", "text": "world"}\n'


# ------------------------------------------------------------------ items 1-3: nesting deeper than orjson writes


def test_depth_limit_is_what_orjson_writes_inside_a_reject():
    ok = orjson.loads("[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1))
    exact_loads(orjson.dumps({"m": ok}))  # MAX_DEPTH levels: accepted
    orjson.dumps({"record": {"m": ok}})  # and its reject can be written
    with pytest.raises(TooDeep):
        exact_loads(orjson.dumps({"m": [ok]}))


@pytest.mark.parametrize("levels", [300, 1000])
@pytest.mark.parametrize("command", ["clean --jobs 1", "clean --jobs 2", "normalize", "credits", "teasers", "ingest"])
def test_deep_nesting_is_one_line_exit_2(tmp_path, command, levels):
    path = tmp_path / "deep.jsonl"
    path.write_text(GOOD + deep_line(levels))
    done = run_shell(f"corpus-tools {command} -q {path}")
    assert done.returncode == 2, done.stderr
    assert done.stderr.decode() == f"error: {path}:3: nested deeper than {MAX_DEPTH} levels\n"


@pytest.mark.parametrize("command", ["clean --jobs 1", "clean --jobs 2", "normalize", "teasers"])
def test_deep_nesting_is_a_reject_and_the_other_records_are_kept(tmp_path, command):
    path = tmp_path / "deep.jsonl"
    path.write_text(GOOD + deep_line(300) + deep_line(600) + '{"id": "c", "text": "again"}\n')
    rejects = tmp_path / "rejects.jsonl"
    done = run_shell(f"corpus-tools {command} -q --on-error skip --rejects {rejects} {path}")
    assert done.returncode == 0, done.stderr
    assert [r["id"] for r in parse_jsonl(done.stdout)] == ["a", "b", "c"]
    entries = parse_jsonl(rejects.read_bytes())
    reason = f"nested deeper than {MAX_DEPTH} levels"
    assert [(e["line"], e["reason"]) for e in entries] == [(3, reason), (4, reason)]
    assert [e["raw"] + "\n" for e in entries] == [deep_line(300), deep_line(600)]


@pytest.mark.slow
def test_deep_nesting_on_dask(tmp_path):
    path = tmp_path / "deep.jsonl"
    path.write_text(GOOD + deep_line(600))
    done = run_shell(f"corpus-tools clean -q --engine dask --jobs 2 --on-error skip {path}")
    assert done.returncode == 0, done.stderr
    assert [r["id"] for r in parse_jsonl(done.stdout)] == ["a", "b"]
    assert b"Traceback" not in done.stderr


@pytest.mark.parametrize("line", [deep_line(1000), "[" * 100_000 + "]" * 100_000 + "\n"])
@pytest.mark.parametrize("command", ["check", "stats"])
def test_check_and_stats_on_deep_nesting(tmp_path, command, line):
    path = tmp_path / "deep.jsonl"
    path.write_text(GOOD + line)
    done = run_shell(f"corpus-tools {command} {path}")
    assert done.returncode == 2, done.stderr
    assert b"Traceback" not in done.stderr
    assert done.stderr.startswith(f"error: {path}:3: ".encode())


# ------------------------------------------------------------------------------ item 6: duplicate keys


@pytest.mark.parametrize(
    "line",
    [
        '{"text": "A", "text": "B"}',
        '{"text": "A", "metadata": {"k": 1, "k": 1}}',
        '{"text": "A", "m": [{"a": "x:y", "a": "z"}]}',
        '{"text": "A", "m": "\\u003a", "m": "b"}',  # an escaped colon cannot hide the lost key
        '{"text": "A", "m": "\\u003a\\u003a", "x": 1, "x": 2}',
    ],
)
def test_duplicate_keys_are_refused(line):
    with pytest.raises(DuplicateKey, match="duplicate key"):
        exact_loads(line)
    with pytest.raises(DuplicateKey):
        exact_loads(line.encode())


@pytest.mark.parametrize(
    "line",
    [
        '{"text": "a: b", "source": "https://x", "metadata": {"k:1": ["::", {"z": ":"}]}}',
        '{"text": "x", "a": "\\u003a"}',
        '{"text" : "x" , "b":{}}',
    ],
)
def test_colons_in_strings_are_not_duplicate_keys(line):
    assert exact_loads(line) == orjson.loads(line)


def test_the_cheap_test_passes_ordinary_records():
    line = b'{"id": "x:1", "text": "Time: 10:30", "source": "http://a/b", "metadata": {"n": 1.5, "l": [1, "a"]}}'
    assert not suspect(orjson.loads(line), line)


@pytest.mark.parametrize("command", ["clean --jobs 1", "clean --jobs 2", "normalize"])
def test_duplicate_keys_are_a_reject_with_their_reason(tmp_path, command):
    path = tmp_path / "dup.jsonl"
    path.write_text(GOOD + '{"id": "d", "text": "A", "text": "B"}\n')
    done = run_shell(f"corpus-tools {command} -q {path}")
    assert done.returncode == 2
    assert "duplicate key 'text'" in done.stderr.decode()
    done = run_shell(f"corpus-tools {command} -q --on-error skip --rejects {tmp_path}/r.jsonl {path}")
    assert done.returncode == 0
    assert len(parse_jsonl(done.stdout)) == 2
    [entry] = parse_jsonl((tmp_path / "r.jsonl").read_bytes())
    assert entry["reason"].startswith("duplicate key 'text'")
    assert entry["line"] == 3


# ------------------------------------------------------------------------ item 5: ids relative to the input


@pytest.fixture
def id_tree(tmp_path):
    for site in ("site1", "site2"):
        (tmp_path / "ids" / site).mkdir(parents=True)
        (tmp_path / "ids" / site / "index.txt").write_text(f"The front page of {site}.\n")
    (tmp_path / "ids" / "top.txt.gz").write_bytes(__import__("gzip").compress(b"Top.\n"))
    return tmp_path


@pytest.mark.parametrize("command", ["ingest", "clean --jobs 1", "clean --jobs 2"])
def test_ids_are_relative_to_the_folder_given(id_tree, command):
    done = run_shell(f"corpus-tools {command} -q ids", cwd=id_tree)
    assert done.returncode == 0, done.stderr
    records = parse_jsonl(done.stdout)
    assert [(r["id"], r["source"]) for r in records] == [
        ("top", "ids/top.txt.gz"),
        ("site1/index", "ids/site1/index.txt"),
        ("site2/index", "ids/site2/index.txt"),
    ]
    assert run_shell(f"corpus-tools {command} -q ids | corpus-tools check", cwd=id_tree).returncode == 0


def test_ids_of_files_and_globs(id_tree):
    done = run_shell("corpus-tools ingest ids/site1/index.txt 'ids/site*' ./ids/site2/", cwd=id_tree)
    assert done.returncode == 0, done.stderr
    assert [r["id"] for r in parse_jsonl(done.stdout)] == ["index", "index", "index", "index"]
    assert [r["source"] for r in parse_jsonl(done.stdout)][-1] == "./ids/site2/index.txt"


def test_seed_ids_are_unchanged(cli):
    from conftest import SEEDS

    result = cli(["ingest", SEEDS])
    assert all(r["id"] == __import__("pathlib").Path(r["source"]).stem for r in parse_jsonl(result.stdout))


# ------------------------------------------------------------------------------------- item 9: --jobs


def test_jobs_are_capped_at_the_cores():
    from corpus_tools.engine import LocalEngine, default_jobs

    assert LocalEngine(1000).jobs == default_jobs()
    assert LocalEngine(0).jobs == default_jobs()
    assert LocalEngine(1).jobs == 1


def test_jobs_are_capped_at_the_batches(monkeypatch):
    import concurrent.futures

    from corpus_tools.engine import LocalEngine

    sizes = []
    real = concurrent.futures.ProcessPoolExecutor

    def pool(workers, **kwargs):
        sizes.append(workers)
        return real(workers, **kwargs)

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", pool)
    engine = LocalEngine(1000)
    assert list(engine.map(lambda shared, item: item * shared, 2, [1])) == [2]
    assert sizes == []  # one batch: run inline, no worker started
    if engine.jobs > 1:
        assert list(engine.map(_times, 3, [1, 2])) == [3, 6]
        assert sizes == [2]
    engine.close()


def _times(shared, item):
    return shared * item


@pytest.mark.parametrize("jobs", ["0", "1000"])
def test_jobs_zero_and_many_on_five_files(jobs):
    import time

    started = time.perf_counter()
    done = run_shell(f"corpus-tools clean -q --no-dedup --jobs {jobs} seeds/00[0-4]*")
    assert done.returncode == 0, done.stderr
    assert len(parse_jsonl(done.stdout)) == 5
    assert time.perf_counter() - started < 8


# ----------------------------------------------------------------- item 13: UTF-16/32 with a BOM, .xz and .bz2


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32", "utf-32-be"])
def test_utf16_and_utf32_with_a_bom_are_decoded(tmp_path, cli, encoding):
    import codecs

    bom = {"utf-16": codecs.BOM_UTF16, "utf-16-be": codecs.BOM_UTF16_BE}.get(encoding)
    bom = bom or {"utf-32": codecs.BOM_UTF32, "utf-32-be": codecs.BOM_UTF32_BE}[encoding]
    path = tmp_path / "doc.txt"
    data = "Taipei — “quoted” 台北\n".encode(encoding)
    path.write_bytes(data if data.startswith(bom) else bom + data)
    [record] = parse_jsonl(cli(["ingest", path]).stdout)
    assert record["text"] == "Taipei — “quoted” 台北\n"
    assert record["metadata"] == {"encoding": encoding[:6], "encoding_fallback": False}


def test_a_bom_with_broken_utf16_after_it_is_a_reject(tmp_path):
    path = tmp_path / "doc.txt"
    path.write_bytes(b"\xfe\xff\x00")
    done = run_shell(f"corpus-tools ingest {path}")
    assert done.returncode == 2
    assert done.stderr.decode() == f"error: {path}: not UTF-16 after its byte order mark (truncated data)\n"


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_xz_and_bz2_are_read_like_gzip(tmp_path, jobs):
    import bz2
    import lzma

    (tmp_path / "a.jsonl.xz").write_bytes(lzma.compress(GOOD.encode()))
    (tmp_path / "b.txt.bz2").write_bytes(bz2.compress(b"A text document.\n"))
    (tmp_path / "c.jsonl.bz2").write_bytes(bz2.compress(b""))
    (tmp_path / "d.jsonl").write_bytes(lzma.compress(b'{"id": "misnamed", "text": "x"}\n'))
    done = run_shell(f"corpus-tools clean -q --jobs {jobs} {tmp_path}")
    assert done.returncode == 0, done.stderr
    assert [r["id"] for r in parse_jsonl(done.stdout)] == ["a", "b", "b", "misnamed"]
    assert parse_jsonl(done.stdout)[2]["text"] == "A text document."


@pytest.mark.parametrize("suffix", ["xz", "bz2"])
def test_a_cut_xz_or_bz2_is_an_error(tmp_path, suffix):
    import bz2
    import lzma

    compress = lzma.compress if suffix == "xz" else bz2.compress
    data = compress((GOOD * 50).encode())
    (tmp_path / f"a.jsonl.{suffix}").write_bytes(data[: len(data) - 10])
    done = run_shell(f"corpus-tools normalize {tmp_path}/a.jsonl.{suffix}")
    assert done.returncode == 2
    assert b"cannot read" in done.stderr and b"Traceback" not in done.stderr


def test_a_text_file_that_starts_like_bz2_is_text(tmp_path, cli):
    path = tmp_path / "note.txt"
    path.write_text("BZh9 is how a bzip2 file starts.\n")
    assert parse_jsonl(cli(["ingest", path]).stdout)[0]["text"] == "BZh9 is how a bzip2 file starts.\n"


# ----------------------------------------------- items 4 and 10: JSON lines by content, --input-format, stdin


@pytest.fixture
def formats(tmp_path):
    import zstandard

    records = b'{"id": "1", "text": "a"}\n{"id": "2", "text": "b"}\n'
    for name in ("corpus.jl", "corpus.jsonlines", "noext", "data.dump"):
        (tmp_path / name).write_bytes(records)
    (tmp_path / "corpus.zst").write_bytes(zstandard.ZstdCompressor().compress(records))
    (tmp_path / "notes").write_bytes(b"Just a note: {not json}\n")
    (tmp_path / "page.txt").write_bytes(records)  # .txt is a document whatever it holds
    return tmp_path


@pytest.mark.parametrize("name", ["corpus.jl", "corpus.jsonlines", "noext", "data.dump", "corpus.zst"])
@pytest.mark.parametrize("command", ["check", "normalize", "clean --jobs 2"])
def test_json_lines_without_a_json_suffix(formats, name, command):
    done = run_shell(f"corpus-tools {command} {name}", cwd=formats)
    if command == "check":
        assert b"checked 2 records" in done.stdout, done.stdout
    else:
        assert done.returncode == 0, done.stderr
        assert [r["id"] for r in parse_jsonl(done.stdout)] == ["1", "2"]


def test_text_without_a_suffix_stays_a_document(formats, cli):
    assert [r["id"] for r in parse_jsonl(cli(["ingest", formats / "notes", formats / "page.txt"]).stdout)] == [
        "notes",
        "page",
    ]


@pytest.mark.parametrize("command", ["ingest", "normalize", "clean --jobs 2", "check", "stats"])
def test_input_format_forces_it(formats, command):
    done = run_shell(f"corpus-tools {command} --input-format text corpus.jl", cwd=formats)
    assert done.returncode == 0, done.stderr
    done = run_shell(f"corpus-tools {command} --input-format jsonl page.txt", cwd=formats)
    assert done.returncode in (0, 1), done.stderr
    assert b"checked 2 records" in done.stdout if command == "check" else True
    done = run_shell(f"corpus-tools {command} --input-format jsonl notes", cwd=formats)
    assert done.returncode == 2 and b"notes:1: invalid JSON" in done.stderr


@pytest.mark.parametrize("command", ["clean", "normalize", "credits", "teasers", "check", "stats", "explain"])
def test_raw_text_on_stdin_names_the_flag_and_ingest(command):
    done = run_shell(f"cat seeds/000_*.txt | corpus-tools {command}")
    assert done.returncode == 2
    [line] = done.stderr.decode().splitlines()
    assert line.startswith("error: -:1: invalid JSON")
    assert "--input-format text" in line and "corpus-tools ingest" in line


def test_text_on_stdin_with_the_flag(cli):
    from conftest import SEEDS

    data = next(SEEDS.glob("000_*.txt")).read_bytes()
    [record] = parse_jsonl(cli(["clean", "-q", "--input-format", "text"], input=data).stdout)
    assert record["id"] == "stdin"
    [record] = parse_jsonl(cli(["ingest", "--input-format", "jsonl"], input=b'{"id": "j", "text": "x"}\n').stdout)
    assert record == {"id": "j", "text": "x"}


# ----------------------------------------------------------------- item 12: --rejects needs --on-error skip


@pytest.mark.parametrize("command", ["ingest", "normalize", "credits", "teasers", "clean"])
def test_rejects_without_skip_is_a_usage_error(cli, tmp_path, command):
    path = tmp_path / "in.jsonl"
    path.write_text(GOOD)
    result = cli([command, "-q", path, "--rejects", tmp_path / "r.jsonl"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --rejects needs --on-error skip (")
    assert not (tmp_path / "r.jsonl").exists()
    assert result.stdout == ""


# --------------------------------------------------- item 8: --on-error skip past an unreadable file in a folder


@pytest.fixture
def folder_with_a_broken_link(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.jsonl").write_text(GOOD)
    (corpus / "b.txt").symlink_to("nowhere.txt")
    (corpus / "c.txt").write_text("A document.\n")
    return corpus


@pytest.mark.parametrize("command", ["ingest", "normalize", "clean --jobs 1", "clean --jobs 2"])
def test_skip_goes_past_an_unreadable_file(folder_with_a_broken_link, command):
    corpus = folder_with_a_broken_link
    done = run_shell(f"corpus-tools {command} -q --on-error skip --rejects {corpus.parent}/r.jsonl {corpus}")
    assert done.returncode == 0, done.stderr
    assert [r["id"] for r in parse_jsonl(done.stdout)] == ["a", "b", "c"]
    [entry] = parse_jsonl((corpus.parent / "r.jsonl").read_bytes())
    reason = "cannot open: no such file or directory (a broken symbolic link)"
    assert entry == {"source": f"{corpus}/b.txt", "line": None, "reason": reason, "raw": None}
    assert f"warning: {corpus}/b.txt: {reason}: skipped" in done.stderr.decode()
    done = run_shell(f"corpus-tools {command} -q {corpus}")
    assert done.returncode == 2
    assert done.stderr.decode() == f"error: {corpus}/b.txt: {reason}\n"


@pytest.mark.skipif(__import__("os").geteuid() == 0, reason="root reads a chmod 000 file")
def test_skip_goes_past_a_file_without_read_permission(folder_with_a_broken_link, cli):
    corpus = folder_with_a_broken_link
    (corpus / "b.txt").unlink()
    (corpus / "b.txt").write_text("secret")
    (corpus / "b.txt").chmod(0)
    result = cli(["normalize", "-q", "--on-error", "skip", corpus])
    assert result.exit_code == 0
    assert "cannot open: permission denied" in result.stderr


# ------------------------------------------------------------------------- item 14: check on zero records


@pytest.mark.parametrize("feed", [": > empty.jsonl; corpus-tools check empty.jsonl", "printf '' | corpus-tools check"])
def test_check_on_no_records_is_an_error_finding(tmp_path, feed):
    done = run_shell(feed, cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert b"no-records (error)" in done.stdout and b"not clean" in done.stdout
    done = run_shell(feed.replace("check", "check --warn no-records"), cwd=tmp_path)
    assert done.returncode == 0 and b"no-records (warning)" in done.stdout
    done = run_shell(feed.replace("check", "check --ignore no-records"), cwd=tmp_path)
    assert done.returncode == 0 and b"no-records" not in done.stdout


def test_no_records_severity_from_the_config(tmp_path):
    (tmp_path / "c.toml").write_text('[check]\nwarn = ["no-records"]\n')
    (tmp_path / "empty.jsonl").write_text("\n\n")
    assert run_shell("corpus-tools check --config c.toml empty.jsonl", cwd=tmp_path).returncode == 0


# ------------------------------------------------------------------- item 11: write failures exit 2, name where


@pytest.mark.skipif(not __import__("os").path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize(
    "command",
    ["check seeds/", "stats seeds/", "explain seeds/", "ingest seeds/", "normalize -q seeds/", "clean -q -j 2 seeds/"],
)
def test_a_full_stdout_is_exit_2_naming_stdout(command):
    done = run_shell(f"corpus-tools {command} > /dev/full")
    assert done.returncode == 2
    assert done.stderr.decode() == "error: <stdout>: cannot write: no space left on device\n"


@pytest.mark.skipif(not __import__("os").path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("command", ["normalize -q seeds/", "clean -q --jobs 1 seeds/"])
def test_a_full_output_file_is_exit_2_naming_it(command):
    done = run_shell(f"corpus-tools {command} -o /dev/full")
    assert done.returncode == 2
    assert done.stderr.decode() == "error: /dev/full: cannot write: no space left on device\n"
