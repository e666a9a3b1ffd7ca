"""Reading and writing: inputs of every kind, compression, atomic output, bad input with file and line."""

from __future__ import annotations

import gzip
import io
import os
import stat
from pathlib import Path

import orjson
import pytest
import zstandard
from hypothesis import given
from hypothesis import strategies as st

from conftest import DATA, SEED_IDS, SEEDS, parse_jsonl, run_shell, write_jsonl
from corpus_tools.errors import InputError, OutputError, RecordError
from corpus_tools.io import (
    RecordWriter,
    check_output_path,
    document_id,
    expand_inputs,
    is_json_lines,
    open_output,
    read_items,
    read_records,
    write_records,
    writes_a_file,
)


def test_seed_directory_reads_five_documents_in_order_with_exact_text():
    records = list(read_records([str(SEEDS)]))
    assert [r["id"] for r in records] == SEED_IDS
    for record in records:
        assert list(record) == ["id", "text", "source", "metadata"]
        assert record["source"] == str(SEEDS / f"{record['id']}.txt")
        assert record["text"] == (SEEDS / f"{record['id']}.txt").read_bytes().decode("utf-8")
        assert record["metadata"] == {"encoding": "utf-8", "encoding_fallback": False}


def test_directory_walk_is_recursive_sorted_and_skips_hidden(tmp_path):
    for name in ["b/2.txt", "b/1.txt", "a.txt", ".hidden.txt", ".git/x.txt", "c/.d/y.txt"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(name)
    assert expand_inputs([str(tmp_path)]) == [str(tmp_path / n) for n in ["a.txt", "b/1.txt", "b/2.txt"]]


def test_directory_walk_skips_clean_manifests_but_not_named_ones(tmp_path):
    for name in ["manifest.json", "part-00000.jsonl.zst", "corpus.jsonl", "corpus.jsonl.manifest.json"]:
        (tmp_path / name).write_text("{}")
    assert expand_inputs([str(tmp_path)]) == [str(tmp_path / "corpus.jsonl"), str(tmp_path / "part-00000.jsonl.zst")]
    assert expand_inputs([str(tmp_path / "manifest.json")]) == [str(tmp_path / "manifest.json")]


def test_glob_expands_sorted(tmp_path):
    for name in ["x2.txt", "x1.txt", "y.txt"]:
        (tmp_path / name).write_text(name)
    assert expand_inputs([str(tmp_path / "x*.txt")]) == [str(tmp_path / "x1.txt"), str(tmp_path / "x2.txt")]


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: str(p / "missing.txt"), "no such file or directory"),
        (lambda p: str(p / "nothing-*.jsonl"), "no files match this pattern"),
        (lambda p: (p / "empty").mkdir() or str(p / "empty"), "directory holds no input files"),
    ],
)
def test_unusable_paths_raise_input_error_naming_the_path(tmp_path, make, reason):
    path = make(tmp_path)
    with pytest.raises(InputError) as exc:
        expand_inputs([path])
    assert str(exc.value) == f"{path}: {reason}"


def test_no_inputs_means_stdin():
    assert expand_inputs([]) == ["-"]


@pytest.mark.parametrize(
    ("path", "json_lines", "doc_id"),
    [
        ("a/b.jsonl", True, "b"),
        ("b.json.gz", True, "b"),
        ("b.ndjson.zst", True, "b"),
        ("000_x.txt", False, "000_x"),
        ("notes", False, "notes"),
        ("v1.2.txt.gz", False, "v1.2"),
        ("page.html", False, "page"),
    ],
)
def test_format_and_id_from_file_name(path, json_lines, doc_id):
    assert is_json_lines(path) is json_lines
    assert document_id(path) == doc_id


def test_json_lines_keep_unknown_keys_and_line_numbers(tmp_path):
    path = write_jsonl(
        tmp_path / "in.jsonl",
        ['{"id": "a", "text": "one", "x": {"nested": [1, 2.5, null, true]}}', "", '{"text": "two"}'],
    )
    items = list(read_items([str(path)]))
    assert [(i.line, i.record) for i in items] == [
        (1, {"id": "a", "text": "one", "x": {"nested": [1, 2.5, None, True]}}),
        (3, {"text": "two"}),
    ]


def test_invalid_json_is_an_item_with_its_line_and_raw_text(tmp_path):
    path = write_jsonl(tmp_path / "in.jsonl", ['{"text": "ok"}', "{not json", '{"text": "after"}'])
    items = list(read_items([str(path)]))
    assert items[1].line == 2
    assert items[1].record is None
    assert items[1].raw == "{not json"
    assert items[1].error.startswith("invalid JSON (")
    assert items[2].record == {"text": "after"}


def test_invalid_utf8_line_is_reported_not_raised(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"text": "ok"}\n{"text": "\xff"}\n')
    items = list(read_items([str(path)]))
    assert (items[1].line, items[1].error) == (2, "invalid UTF-8")


@pytest.mark.parametrize("suffix", [".jsonl.gz", ".jsonl.zst", ".jsonl"])
def test_round_trip_through_compressed_output(tmp_path, suffix):
    records = list(read_records([str(SEEDS)]))
    out = tmp_path / f"x{suffix}"
    assert write_records(records, str(out)) == 5
    assert list(read_records([str(out)])) == records
    raw = out.read_bytes()
    if suffix.endswith(".gz"):
        raw = gzip.decompress(raw)
    elif suffix.endswith(".zst"):
        raw = zstandard.ZstdDecompressor().stream_reader(raw).read()
    assert parse_jsonl(raw) == records


def test_gzip_output_is_byte_reproducible(tmp_path):
    records = list(read_records([str(SEEDS)]))
    write_records(records, str(tmp_path / "a.jsonl.gz"))
    write_records(records, str(tmp_path / "b.jsonl.gz"))
    assert (tmp_path / "a.jsonl.gz").read_bytes() == (tmp_path / "b.jsonl.gz").read_bytes()


def test_compression_is_detected_from_content_not_name(tmp_path):
    misnamed = tmp_path / "really-gzip.jsonl"
    misnamed.write_bytes(gzip.compress(b'{"text": "hi"}\n'))
    assert list(read_records([str(misnamed)])) == [{"text": "hi"}]
    text_gz = tmp_path / "doc.txt.gz"
    text_gz.write_bytes(gzip.compress("Grüße\n".encode()))
    [record] = read_records([str(text_gz)])
    assert (record["id"], record["text"]) == ("doc", "Grüße\n")


def test_interrupted_output_leaves_no_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.jsonl"
    target.write_text("previous\n")
    with pytest.raises(RuntimeError), open_output(str(target)) as stream:
        stream.write(b'{"partial": true}\n')
        raise RuntimeError("killed")
    assert target.read_text() == "previous\n"
    assert os.listdir(tmp_path) == ["out.jsonl"]


def test_output_into_missing_folder_is_output_error(tmp_path):
    path = str(tmp_path / "no/x.jsonl")
    with pytest.raises(OutputError) as exc, open_output(path):
        pass
    assert (str(exc.value), exc.value.exit_code) == (f"{path}: folder does not exist", 2)


def test_writer_rejects_unencodable_text_as_record_error(tmp_path):
    with open_output(str(tmp_path / "x.jsonl")) as stream:
        writer = RecordWriter(stream)
        with pytest.raises(RecordError, match="cannot encode as JSON"):
            writer.write({"text": "lone \ud800 surrogate"})


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    # orjson refuses lone surrogates on both sides, so generated text is valid Unicode
    | st.text(st.characters(exclude_categories=("Cs",))),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=10,
)


@given(extra=st.dictionaries(st.text(max_size=8).filter(lambda k: k != "text"), json_values, max_size=4))
def test_any_extra_keys_round_trip_untouched(tmp_path_factory, extra):
    record = {"text": "body", **extra}
    path = tmp_path_factory.mktemp("rt") / "x.jsonl"
    write_records([record], str(path))
    [back] = read_records([str(path)])
    assert back == record
    assert list(back) == list(record)
    assert orjson.dumps(back) == orjson.dumps(record)


def test_ingest_fixture_files_exist():
    # guards the encoding fixtures below against an accidental clean-up
    assert sorted(p.name for p in (DATA / "ingest").iterdir()) == ["binary.bin", "bom.txt", "cp1252.txt", "latin1.txt"]


# --------------------------------------------------------------------------------- compressed inputs cut short


def _lines(n: int) -> bytes:
    return b"".join(b'{"id":"a%d","text":"hello"}\n' % i for i in range(n))


def _zstd_prefix_lines(compressed: bytes) -> int:
    """The complete lines zstd can decode from ``compressed`` (the reader hands these out before the error)."""
    reader = zstandard.ZstdDecompressor().stream_reader(compressed, read_across_frames=True)
    return reader.read().count(b"\n")


ZSTD_CUT = "cannot read: compressed file ended before the end of its zstd frame"
GZIP_CUT = "cannot read: Compressed file ended before the end-of-stream marker was reached"


@pytest.mark.parametrize("cut", ["header", "middle", "last byte"])
def test_truncated_zstd_json_lines_raise_at_the_first_line_not_read(tmp_path, cut):
    data = _lines(20000)
    compressed = zstandard.ZstdCompressor(level=3).compress(data)
    size = {"header": 20, "middle": len(compressed) // 2, "last byte": len(compressed) - 1}[cut]
    path = tmp_path / "t.jsonl.zst"
    path.write_bytes(compressed[:size])
    complete = _zstd_prefix_lines(compressed[:size])
    read = []
    with pytest.raises(InputError) as exc:
        read.extend(read_items([str(path)]))
    assert str(exc.value) == f"{path}:{complete + 1}: {ZSTD_CUT}"
    assert [item.record["id"] for item in read] == [f"a{i}" for i in range(complete)]
    assert all(item.error is None for item in read)


@pytest.mark.parametrize("suffix", [".gz", ".zst"])
def test_the_run_loop_hands_out_every_whole_line_read_before_a_cut(tmp_path, suffix):
    """The batches of a compressed file cut short hold every record that the reference reader yields before the
    error (the single commands write them before they stop), and the error names the same line."""
    from corpus_tools.engine import _json_entries, batches

    data = _lines(20000)
    whole = gzip.compress(data, mtime=0) if suffix == ".gz" else zstandard.ZstdCompressor(level=3).compress(data)
    path = tmp_path / f"t.jsonl{suffix}"
    path.write_bytes(whole[: len(whole) // 2])
    expected = []
    with pytest.raises(InputError) as reference:
        expected.extend(item.record["id"] for item in read_items([str(path)]))
    got = []
    with pytest.raises(InputError) as exc:
        for batch in batches([str(path)], batch_bytes=1 << 16):
            got.extend(value["id"] for _, value in _json_entries(batch))
    assert str(exc.value) == str(reference.value)
    assert got == expected and len(got) > 1000


def test_truncated_zstd_and_gzip_fail_the_same_way(tmp_path):
    data = _lines(1000)
    (tmp_path / "t.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(data)[:20])
    (tmp_path / "t.jsonl.gz").write_bytes(gzip.compress(data, mtime=0)[:20])
    for name, message in [("t.jsonl.zst", ZSTD_CUT), ("t.jsonl.gz", GZIP_CUT)]:
        with pytest.raises(InputError) as exc:
            list(read_items([str(tmp_path / name)]))
        assert str(exc.value) == f"{tmp_path / name}:1: {message}"


def test_truncated_zstd_text_document_is_an_error_not_cut_off_text(tmp_path):
    path = tmp_path / "doc.txt.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(b"A paragraph of text.\n" * 5000)[:-3])
    with pytest.raises(InputError) as exc:
        list(read_items([str(path)]))
    assert str(exc.value) == f"{path}: {ZSTD_CUT}"


@pytest.mark.parametrize(
    ("suffix", "compress", "message"),
    [
        (".zst", lambda d: zstandard.ZstdCompressor().compress(d), "zstd decompressor error: Unknown frame descriptor"),
        (".gz", lambda d: gzip.compress(d, mtime=0), "Not a gzipped file (b'ju')"),
    ],
)
def test_junk_after_a_complete_frame_names_the_line_after_the_last_record(tmp_path, suffix, compress, message):
    path = tmp_path / f"j.jsonl{suffix}"
    path.write_bytes(compress(_lines(20000)) + b"junkjunkjunk")
    read = []
    with pytest.raises(InputError) as exc:
        read.extend(read_items([str(path)]))
    assert str(exc.value) == f"{path}:20001: cannot read: {message}"
    assert len(read) == 20000


def test_zstd_frames_skippable_frames_and_empty_frames_read_whole(tmp_path):
    compressor = zstandard.ZstdCompressor()
    skippable = b"\x50\x2a\x4d\x18" + (4).to_bytes(4, "little") + b"abcd"
    path = tmp_path / "multi.jsonl.zst"
    path.write_bytes(
        compressor.compress(_lines(3)) + skippable + compressor.compress(b"") + compressor.compress(_lines(2))
    )
    assert [r["id"] for r in read_records([str(path)])] == ["a0", "a1", "a2", "a0", "a1"]


def test_cli_check_of_a_truncated_zstd_file_exits_2_even_when_skipping(tmp_path, cli):
    path = tmp_path / "t.jsonl.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(_lines(1000))[:20])
    for args in (["check", path], ["normalize", path, "--on-error", "skip"]):
        result = cli(args)
        assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"error: {path}:1: {ZSTD_CUT}\n")


def test_zstd_reader_memory_stays_flat_on_a_file_that_expands_30000_times():
    from corpus_tools import io as cio

    buffer = io.BytesIO()
    with zstandard.ZstdCompressor().stream_writer(buffer, closefd=False) as writer:
        for _ in range(256):
            writer.write(bytes(1 << 20))
    largest = 0

    class Probe(cio._ZstdFrames):
        def _decompress(self) -> bool:
            nonlocal largest
            more = super()._decompress()
            largest = max(largest, len(self._output))
            return more

    total = 0
    with io.BufferedReader(Probe(io.BytesIO(buffer.getvalue()))) as stream:
        while chunk := stream.read(1 << 20):
            total += len(chunk)
    assert total == 256 << 20
    # one decompress call yields about _ZSTD_OUTPUT_TARGET (4 MiB); 64 input bytes of the densest blocks at most 2
    assert largest <= 2 * cio._ZSTD_OUTPUT_TARGET


# ------------------------------------------------------------------------------ outputs that are not plain files


def test_output_through_a_symlink_replaces_the_target_and_keeps_the_link(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "out.jsonl"
    target.write_text("old\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    write_records([{"text": "new"}], str(link))
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() == b'{"text":"new"}\n'
    assert sorted(os.listdir(tmp_path)) == ["link.jsonl", "real"]
    assert os.listdir(tmp_path / "real") == ["out.jsonl"]


def test_output_through_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.jsonl"
    link.symlink_to("made.jsonl")
    write_records([{"text": "x"}], str(link))
    assert link.is_symlink()
    assert (tmp_path / "made.jsonl").read_bytes() == b'{"text":"x"}\n'


def test_output_to_a_fifo_is_written_into_the_fifo(tmp_path):
    import threading

    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    write_records([{"text": "a"}, {"text": "b"}], str(fifo))
    reader.join(timeout=30)
    assert received == [b'{"text":"a"}\n{"text":"b"}\n']
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert os.listdir(tmp_path) == ["pipe.jsonl"]


def test_output_to_a_gzip_named_fifo_is_compressed(tmp_path):
    import threading

    fifo = tmp_path / "pipe.jsonl.gz"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    write_records([{"text": "a"}], str(fifo))
    reader.join(timeout=30)
    assert gzip.decompress(received[0]) == b'{"text":"a"}\n'


def test_output_to_a_character_device_writes_to_the_device(tmp_path):
    before = os.stat(os.devnull)
    listing = sorted(os.listdir(os.path.dirname(os.devnull)))
    assert write_records([{"text": "gone"}], os.devnull) == 1
    after = os.lstat(os.devnull)
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)
    assert sorted(os.listdir(os.path.dirname(os.devnull))) == listing


def test_output_to_a_full_device_is_a_one_line_output_error():
    with pytest.raises(OutputError) as exc, open_output("/dev/full") as stream:
        stream.write(b"x\n")
    assert str(exc.value) == "/dev/full: cannot write: no space left on device"
    assert stat.S_ISCHR(os.lstat("/dev/full").st_mode)


def test_output_to_a_unix_socket_is_sent_to_the_listener(tmp_path):
    import socket
    import threading

    path = tmp_path / "s"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)
    received = []

    def serve():
        connection, _ = server.accept()
        with connection:
            chunks = []
            while data := connection.recv(65536):
                chunks.append(data)
            received.append(b"".join(chunks))

    thread = threading.Thread(target=serve)
    thread.start()
    write_records([{"text": "s"}], str(path))
    thread.join(timeout=30)
    server.close()
    assert received == [b'{"text":"s"}\n']
    assert stat.S_ISSOCK(os.lstat(path).st_mode)


def test_output_to_dev_stdout_is_stdout(cli):
    assert os.path.islink("/dev/stdout")
    plain = cli(["ingest", SEEDS])
    result = cli(["ingest", SEEDS, "-o", "/dev/stdout"])
    assert result.exit_code == 0
    assert result.stdout_bytes == plain.stdout_bytes
    assert os.path.islink("/dev/stdout")


def test_output_to_a_link_to_this_process_stdout_is_stdout(tmp_path, capsysbinary):
    link = tmp_path / "out"
    link.symlink_to("/proc/self/fd/1")
    write_records([{"text": "x"}], str(link))
    assert capsysbinary.readouterr().out == b'{"text":"x"}\n'
    assert link.is_symlink() and os.listdir(tmp_path) == ["out"]


def test_dev_stdout_in_a_real_pipe_and_into_a_redirected_file(tmp_path):
    piped = run_shell(
        f"corpus-tools ingest seeds/ -o /dev/stdout | cat > {tmp_path}/a; corpus-tools ingest seeds/ > {tmp_path}/b"
    )
    assert piped.returncode == 0, piped.stderr
    redirected = run_shell(f"corpus-tools ingest seeds/ -o /dev/stdout > {tmp_path}/c")
    assert redirected.returncode == 0, redirected.stderr
    expected = (tmp_path / "b").read_bytes()
    assert len(parse_jsonl(expected)) == 5
    assert (tmp_path / "a").read_bytes() == expected == (tmp_path / "c").read_bytes()
    assert sorted(os.listdir(tmp_path)) == ["a", "b", "c"]


# ------------------------------------------------------------------------------------ unwritable output paths


def _unwritable_cases(tmp: Path) -> list[tuple[str, str, bool]]:
    (tmp / "d").mkdir()
    (tmp / "afile").write_text("x")
    return [
        (str(tmp / "d"), "is a directory", False),
        (str(tmp / "missing" / "x.jsonl"), "folder does not exist", False),
        (str(tmp / "afile" / "x.jsonl"), "not a directory", False),
        (str(tmp / "afile" / "sub" / "x.jsonl"), "not a directory", False),
        (str(tmp / "newdir") + "/", "a folder path (ending in /) is only for clean's shards", False),
        (str(tmp / "afile") + "/", "not a directory", True),
        (str(tmp / "missing" / "shards") + "/", "folder does not exist", True),
    ]


@pytest.mark.parametrize("case", range(7))
def test_check_output_path_names_the_path_and_the_reason(tmp_path, case):
    path, reason, shards = _unwritable_cases(tmp_path)[case]
    listing = sorted(os.listdir(tmp_path))
    with pytest.raises(OutputError) as exc:
        check_output_path(path, shards_allowed=shards)
    assert (str(exc.value), exc.value.exit_code) == (f"{path}: {reason}", 2)
    if not shards:
        with pytest.raises(OutputError) as again, open_output(path):
            pass
        assert str(again.value) == f"{path}: {reason}"
    assert sorted(os.listdir(tmp_path)) == listing  # nothing created


def test_check_output_path_accepts_what_can_be_written(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "old.jsonl").write_text("x")
    for path in [None, "-", "/dev/stdout", os.devnull, str(tmp_path / "new.jsonl"), str(tmp_path / "old.jsonl")]:
        check_output_path(path)
    for path in [str(tmp_path / "d"), str(tmp_path / "d") + "/", str(tmp_path / "new") + "/"]:
        check_output_path(path, shards_allowed=True)


def test_check_output_path_reports_permission_denied(tmp_path, monkeypatch):
    # root may write anywhere, so the refusal is simulated where the check asks the system
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    (tmp_path / "old.jsonl").write_text("x")
    for path in [str(tmp_path / "new.jsonl"), str(tmp_path / "old.jsonl")]:
        with pytest.raises(OutputError) as exc:
            check_output_path(path)
        assert str(exc.value) == f"{path}: permission denied"


def test_output_where_no_file_can_be_created_is_a_one_line_output_error():
    path = "/proc/out.jsonl"
    with pytest.raises(OutputError) as exc, open_output(path):
        pass
    # root passes the permission check, then the kernel refuses to create anything in /proc
    reason = "cannot create the output: no such file or directory" if os.geteuid() == 0 else "permission denied"
    assert str(exc.value) == f"{path}: {reason}"


@pytest.mark.parametrize("command", ["ingest", "normalize", "credits", "index"])
def test_cli_output_into_a_directory_is_one_line_error(tmp_path, cli, command):
    (tmp_path / "d").mkdir()
    result = cli([command, SEEDS if command == "ingest" else DATA / "io" / "two.jsonl", "-o", tmp_path / "d"])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"error: {tmp_path / 'd'}: is a directory\n"
    assert os.listdir(tmp_path / "d") == []


def test_cli_normalize_to_a_folder_path_creates_nothing(tmp_path, cli):
    result = cli(["normalize", DATA / "io" / "two.jsonl", "-o", f"{tmp_path}/newdir/"])
    assert (result.exit_code, result.stderr) == (
        2,
        f"error: {tmp_path}/newdir/: a folder path (ending in /) is only for clean's shards\n",
    )
    assert os.listdir(tmp_path) == []


# -------------------------------------------------------------------------------------------------- file modes


@pytest.fixture
def umask():
    def set_umask(mask: int) -> None:
        os.umask(mask)

    previous = os.umask(0o022)
    os.umask(previous)
    yield set_umask
    os.umask(previous)


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o002])
@pytest.mark.parametrize("name", ["out.jsonl", "out.jsonl.gz", "out.jsonl.zst"])
def test_new_output_file_gets_0666_less_the_umask(tmp_path, umask, mask, name):
    umask(mask)
    write_records([{"text": "x"}], str(tmp_path / name))
    assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o666 & ~mask


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o664, 0o755])
def test_replaced_output_file_keeps_its_mode(tmp_path, umask, mode):
    umask(0o022)
    target = tmp_path / "out.jsonl"
    target.write_text("old\n")
    os.chmod(target, mode)
    write_records([{"text": "x"}], str(target))
    assert stat.S_IMODE(os.stat(target).st_mode) == mode
    assert target.read_bytes() == b'{"text":"x"}\n'


# ------------------------------------------------------------------------------------- symlinked input folders


def test_symlinked_subfolders_are_walked_in_sorted_order(tmp_path):
    corpus, outside = tmp_path / "corpus", tmp_path / "outside"
    for name in ["corpus/a.txt", "corpus/b/1.txt", "corpus/d.txt", "outside/x.txt", "outside/y/z.txt"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(name)
    (corpus / "c").symlink_to(outside)
    (corpus / "e.txt").symlink_to(outside / "x.txt")
    expected = ["a.txt", "d.txt", "e.txt", "b/1.txt", "c/x.txt", "c/y/z.txt"]
    assert expand_inputs([str(corpus)]) == [str(corpus / n) for n in expected]
    # the same order os.walk gives when it follows links (there is no loop here)
    walked = []
    for root, dirs, names in os.walk(corpus, followlinks=True):
        dirs.sort()
        walked.extend(os.path.join(root, n) for n in sorted(names))
    assert expand_inputs([str(corpus)]) == walked


def test_a_link_back_to_a_containing_folder_is_skipped_with_one_warning(tmp_path, capsys):
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "a.txt").write_text("a")
    (corpus / "sub" / "b.txt").write_text("b")
    (corpus / "sub" / "up").symlink_to("..")
    (corpus / "self").symlink_to(".")
    (corpus / "twin").symlink_to("sub")  # not a loop: read again, like a second link to a file
    assert expand_inputs([str(corpus)]) == [
        str(corpus / "a.txt"),
        str(corpus / "sub" / "b.txt"),
        str(corpus / "twin" / "b.txt"),
    ]
    assert capsys.readouterr().err == (
        f"warning: {corpus / 'self'}: skipped, a link to a folder it is in (a loop)\n"
        f"warning: {corpus / 'sub' / 'up'}: skipped, a link to a folder it is in (a loop)\n"
        f"warning: {corpus / 'twin' / 'up'}: skipped, a link to a folder it is in (a loop)\n"
    )
    assert len(expand_inputs([str(corpus)])) == 3
    assert capsys.readouterr().err == ""  # warned once per run, however often the inputs are walked


def test_writes_a_file_only_for_regular_files(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "old.jsonl").write_text("x")
    (tmp_path / "link").symlink_to("old.jsonl")
    files = [str(tmp_path / "old.jsonl"), str(tmp_path / "new.jsonl"), str(tmp_path / "link")]
    others = [None, "-", "/dev/stdout", "/dev/fd/1", os.devnull, str(tmp_path / "fifo")]
    assert [writes_a_file(p) for p in files + others] == [True] * 3 + [False] * 6
