"""The local engine: batches, worker processes, input order, the same rejects and errors as the single commands."""

from __future__ import annotations

import contextlib
import errno
import gc
import gzip
import io
import os
import random
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import Future
from pathlib import Path

import orjson
import pytest
import zstandard
from hypothesis import given
from hypothesis import strategies as st

from conftest import SEEDS
from corpus_tools.engine import (
    DocumentsBatch,
    LinesBatch,
    LocalEngine,
    RangeBatch,
    Spilled,
    StreamSink,
    _start_context,
    batch_items,
    batches,
    keep_freed_memory,
    ordered,
    process_batch,
    run_pipeline,
)
from corpus_tools.errors import CorpusError, InputError, RecordError
from corpus_tools.io import RecordWriter, open_binary, open_output, read_items
from corpus_tools.pipeline import OnError, Pipeline, Rejects, run
from corpus_tools.records import Record
from corpus_tools.step import Doc, Labels, Step


class Upper(Step):
    """A test step: upper-cases the text, and refuses texts containing 'REFUSE'."""

    name = "upper"
    Options = type(None)

    def label(self, doc: Doc) -> Labels:
        if "refuse" in doc.text:
            raise RecordError("refused by test step")
        return Labels(doc)

    def apply(self, record: Record, labels: Labels) -> Record:
        text_field = labels.doc.text_field
        record[text_field] = record[text_field].upper()
        record.setdefault("metadata", {})["teasers"] = ["t"] * (len(record[text_field]) % 3)
        return record


PIPELINE = Pipeline((Upper(),))


def write_corpus(root: Path, files: int = 12, per_file: int = 40, seed: int = 7) -> list[str]:
    """A multi-file corpus: JSONL (plain, gzip, zstd), text documents, blank lines; a few hundred records."""
    rng = random.Random(seed)
    words = ["tea", "news", "Taipei", "—", "“quoted”", "é", "中文", "refuse", "..."]
    paths = []
    for f in range(files):
        lines = []
        for i in range(per_file):
            text = "\n".join(" ".join(rng.choice(words) for _ in range(rng.randint(1, 30))) for _ in range(3))
            lines.append(orjson.dumps({"id": f"{f}-{i}", "text": text, "source": "gen", "metadata": {"k": i}}))
            if i % 13 == 0:
                lines.append(b"   ")
        data = b"\n".join(lines) + b"\n"
        kind = f % 4
        if kind == 0:
            path = root / f"part{f:02d}.jsonl"
            path.write_bytes(data)
        elif kind == 1:
            path = root / f"part{f:02d}.jsonl.gz"
            path.write_bytes(gzip.compress(data, mtime=0))
        elif kind == 2:
            path = root / f"part{f:02d}.jsonl.zst"
            path.write_bytes(zstandard.ZstdCompressor().compress(data))
        else:
            path = root / f"doc{f:02d}.txt"
            path.write_bytes(b"Line one\nline two refuse?\n" if f == 3 else ("texte " * (f + 1)).encode())
        paths.append(str(path))
    return paths


def sequential(paths: list[str], pipeline: Pipeline = PIPELINE, on_error: OnError = OnError.skip) -> tuple[bytes, list]:
    """What the single commands' loop (pipeline.run over io.read_items) makes of the same input."""
    buf = io.BytesIO()
    rejects = io.BytesIO()
    stats = run(read_items(paths), pipeline, RecordWriter(buf), on_error=on_error, rejects=Rejects(rejects))
    return buf.getvalue(), [stats.read, stats.written, stats.rejected, rejects.getvalue()]


def engine_run(paths: list[str], jobs: int, batch_bytes: int, on_error: OnError = OnError.skip) -> tuple[bytes, list]:
    buf = io.BytesIO()
    rejects = io.BytesIO()
    engine = LocalEngine(jobs)
    try:
        stats = run_pipeline(
            paths,
            PIPELINE,
            StreamSink(buf),
            engine=engine,
            on_error=on_error,
            rejects=Rejects(rejects),
            batch_bytes=batch_bytes,
        )
    finally:
        engine.close()
    return buf.getvalue(), [stats.read, stats.written, stats.rejected, rejects.getvalue()]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    root = tmp_path_factory.mktemp("corpus")
    return write_corpus(root)


@pytest.mark.slow  # over 0.3 s: out of the quick loop (pytest -m 'not slow')
@pytest.mark.parametrize(("jobs", "batch_bytes"), [(1, 1 << 20), (1, 300), (2, 1 << 20), (2, 300), (3, 1)])
def test_engine_matches_the_single_command_loop(corpus: list[str], jobs: int, batch_bytes: int) -> None:
    expected = sequential(corpus)
    got = engine_run(corpus, jobs, batch_bytes)
    assert expected[1][0] > 300  # a few hundred records
    assert expected[1][2] > 0  # and some rejects
    assert got == expected


def test_rejects_name_file_and_true_line_across_batches(tmp_path: Path) -> None:
    lines = [orjson.dumps({"id": str(i), "text": "ok"}) for i in range(50)]
    lines[37] = b"{not json"
    lines[41] = b'{"id": "x", "text": 3}'
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    _, (read, written, rejected, rejects) = engine_run([str(path)], 2, 64)
    assert (read, written, rejected) == (50, 48, 2)
    entries = [orjson.loads(line) for line in rejects.splitlines()]
    assert [(e["line"], e["reason"].split(" (")[0]) for e in entries] == [
        (38, "invalid JSON"),
        (42, "text field 'text' is a number, not a string"),
    ]


@pytest.mark.parametrize("jobs", [1, 2])
def test_on_error_fail_names_file_and_line_and_keeps_what_came_before(tmp_path: Path, jobs: int) -> None:
    lines = [orjson.dumps({"id": str(i), "text": "ok"}) for i in range(30)] + [b"[1]"]
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    out = tmp_path / "out.jsonl"
    engine = LocalEngine(jobs)
    with pytest.raises(InputError) as caught, open(out, "wb") as stream:
        run_pipeline([str(path)], PIPELINE, StreamSink(stream), engine=engine, batch_bytes=50)
    engine.close()
    assert str(caught.value) == f"{path}:31: expected a JSON object, got an array"
    assert len(out.read_bytes().splitlines()) == 30


def test_batches_cut_at_line_boundaries_with_true_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"text": "a"}\n\n{"text": "bb"}\n{"text": "ccc"}')  # blank line, no final newline
    cut = list(batches([str(path)], batch_bytes=5))
    assert all(isinstance(b, LinesBatch) for b in cut)
    assert b"".join(b.data for b in cut) == path.read_bytes()
    assert all(b.data.endswith(b"\n") for b in cut[:-1])
    items = [item for b in cut for item in batch_items(b, "text")]
    assert [(i.line, i.record["text"]) for i in items] == [(1, "a"), (3, "bb"), (4, "ccc")]


def test_text_documents_are_grouped_and_read_like_ingest() -> None:
    cut = list(batches([str(SEEDS)], batch_documents=2))
    assert [len(b.documents) for b in cut if isinstance(b, DocumentsBatch)] == [2, 2, 1]
    items = [item for b in cut for item in batch_items(b, "text")]
    assert items == list(read_items([str(SEEDS)]))


#: Lines of every kind a JSONL file holds in the wild: records, null, arrays, blanks, whitespace, a BOM, invalid
#: JSON, invalid UTF-8, CRLF endings, a record-separator prefix.
LINES = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=30).map(lambda t: orjson.dumps({"text": t})),
    st.sampled_from(
        [
            b"null",
            b"[1, 2]",
            b"",
            b"   ",
            b"\t",
            b"\x0c\x0b \r",
            b' {"text": "leading space"}',
            b'\xef\xbb\xbf{"text": "bom"}',
            b"{oops",
            b'{"text": "\xff"}',
            b'{"text": "crlf"}\r',
            b'\x1e{"text": "rs"}',
            b'"just a string"',
            b"{} {}",
        ]
    ),
)


@pytest.mark.slow
@given(st.lists(LINES, max_size=25), st.integers(1, 64), st.booleans())
def test_any_cut_of_json_lines_reads_the_same(lines: list[bytes], batch_bytes: int, final_newline: bool) -> None:
    data = b"\n".join(lines) + (b"\n" if final_newline else b"")
    with tempfile.NamedTemporaryFile(suffix=".jsonl") as tmp:
        tmp.write(data)
        tmp.flush()
        cut = list(batches([tmp.name], batch_bytes=batch_bytes))
        got = [item for b in cut for item in batch_items(b, "text")]
        assert got == list(read_items([tmp.name]))


def test_process_batch_encodes_like_the_record_writer() -> None:
    batch = next(batches([str(SEEDS)]))
    result = process_batch(PIPELINE, batch)
    buf = io.BytesIO()
    writer = RecordWriter(buf)
    for item in batch_items(batch, "text"):
        writer.write(PIPELINE(item.record))
    assert b"".join(result.outputs) == buf.getvalue()  # type: ignore[arg-type]
    assert result.block_records == [buf.getvalue().count(b"\n")]  # no rejects: one block
    assert result.bytes_in == sum(len(d) for _, d in batch.documents)


def test_memory_is_bounded_by_the_window(tmp_path: Path) -> None:
    """Input is read only as fast as results are consumed: never more than the window of batches ahead."""
    consumed = []

    def tracked():
        for i in range(100):
            consumed.append(i)
            yield LinesBatch("x", 1, b"")

    from concurrent.futures import Future

    def submit(batch):
        future: Future = Future()
        future.set_result(len(consumed))
        return future

    results = ordered(submit, tracked(), window=4)
    for n, _ in enumerate(results):
        assert len(consumed) <= n + 4


def test_work_in_flight_is_settled_then_cancelled_when_a_run_is_given_up() -> None:
    """A run given up (its consumer stopped) lets ``settle`` see the futures still in flight before cancelling them:
    a cluster's engine waits there for the shards being written."""
    submitted: list[Future] = []

    def submit(item: int) -> Future:
        submitted.append(Future())
        return submitted[-1]

    settled: list[list[Future]] = []

    def settle(futures: list[Future]) -> None:
        settled.append(futures)
        assert not any(f.cancelled() for f in futures)  # still wanted while they settle
        for future in futures:
            future.set_result("written")

    results = ordered(submit, range(10), window=3, settle=settle)
    threading.Timer(0.01, lambda: submitted[0].set_result("first")).start()
    assert next(results) == "first"
    results.close()  # given up with items 1 and 2 in flight
    assert settled == [submitted[1:3]]
    assert all(f.result() == "written" for f in submitted[1:3])
    # a run that ends normally has nothing in flight: no settling
    done = ordered(lambda item: _done(item), range(4), window=2, settle=settle)
    assert list(done) == [0, 1, 2, 3]
    assert len(settled) == 1


def _done(value: int) -> Future:
    future: Future = Future()
    future.set_result(value)
    return future


def test_a_missing_input_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"), open_output(None) as stream:
        run_pipeline([str(tmp_path / "missing.jsonl")], PIPELINE, StreamSink(stream))


class Die(Step):
    """A test step that kills the worker process running it, as the OOM killer would."""

    name = "die"
    Options = type(None)

    def label(self, doc: Doc) -> Labels:
        os._exit(9)


def test_a_dead_worker_is_one_error_line(corpus: list[str]) -> None:
    engine = LocalEngine(2)
    with pytest.raises(CorpusError, match="a worker process died unexpectedly"), open_output(os.devnull) as stream:
        run_pipeline(corpus, Pipeline((Die(),)), StreamSink(stream), engine=engine)
    engine.close()


@pytest.mark.slow
def test_workers_start_from_a_forkserver_when_threads_run(corpus: list[str]) -> None:
    """Forking beside other threads can deadlock: then the steps are pickled to fresh workers, same output."""
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert _start_context().get_start_method() != "fork"
        assert engine_run(corpus, 2, 4096) == sequential(corpus)
    finally:
        stop.set()
        thread.join()


def test_fork_is_used_when_no_other_thread_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    assert _start_context().get_start_method() == "fork"
    monkeypatch.setattr(threading, "active_count", lambda: 3)
    assert _start_context().get_start_method() == "forkserver"


def test_a_finished_map_releases_its_pool_so_the_next_pass_forks_again(corpus: list[str]) -> None:
    """clean runs two passes (the corpus index, then the steps) on one engine: the first pass's pool must not leave
    a manager thread behind, or the second would fall back to forkserver, which re-imports ``__main__`` (a script
    without a main guard, a notebook, stdin would break)."""
    engine = LocalEngine(2)
    before = set(threading.enumerate())  # other tests may have left threads of their own
    try:
        first = list(engine.map(process_batch, Pipeline(()), batches(corpus, batch_bytes=4096)))
        assert first
        assert set(threading.enumerate()) <= before  # the pool's manager and queue threads are gone
        assert engine._pools == []
        assert engine_run(corpus, 2, 4096) == sequential(corpus)
    finally:
        engine.close()


def test_a_sink_with_only_write_line_gets_every_line_in_order(tmp_path: Path) -> None:
    # Blocks of lines go to write_lines when a sink has it; a sink written against the one-line protocol still
    # receives each line, in order, with rejects in between skipped.
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"text": "a"}\n{"text": "refuse"}\n{"text": "bb"}\n' * 3)

    class Lines:
        def __init__(self) -> None:
            self.lines: list[bytes] = []

        def write_line(self, line: bytes) -> None:
            self.lines.append(line)

    one_by_one, stream = Lines(), io.BytesIO()
    pipeline = Pipeline((Upper(),))
    run_pipeline([str(path)], pipeline, one_by_one, on_error=OnError.skip)
    stats = run_pipeline([str(path)], pipeline, StreamSink(stream), on_error=OnError.skip)
    assert (
        one_by_one.lines
        == [
            b'{"text":"A","metadata":{"teasers":["t"],"cuts":[]}}\n',
            b'{"text":"BB","metadata":{"teasers":["t","t"],"cuts":[]}}\n',
        ]
        * 3
    )
    assert b"".join(one_by_one.lines) == stream.getvalue()
    assert (stats.read, stats.written, stats.rejected) == (9, 6, 3)


class InlineRanges:
    """Runs batches inline but, like a local pool, has workers read their own byte ranges of the inputs."""

    reads_files = True

    def map(self, fn, shared, items):
        return (fn(shared, item) for item in items)

    def close(self) -> None:
        pass


@given(st.lists(LINES, max_size=25), st.integers(1, 64), st.booleans())
def test_range_batches_give_the_same_records_rejects_and_lines(lines, batch_bytes, final_newline) -> None:
    data = b"\n".join(lines) + (b"\n" if final_newline else b"")
    with tempfile.NamedTemporaryFile(suffix=".jsonl") as tmp:
        tmp.write(data)
        tmp.flush()
        cut = list(batches([tmp.name], batch_bytes=batch_bytes, ranges=True))
        assert all(isinstance(b, RangeBatch) for b in cut) and sum(b.size for b in cut) == len(data)
        results = []
        for engine in (LocalEngine(1), InlineRanges()):
            out, rejected = io.BytesIO(), io.BytesIO()
            stats = run_pipeline(
                [tmp.name, tmp.name],  # twice: the second reading is numbered from line 1 again
                PIPELINE,
                StreamSink(out),
                engine=engine,
                on_error=OnError.skip,
                rejects=Rejects(rejected),
                batch_bytes=batch_bytes,
            )
            results.append((out.getvalue(), rejected.getvalue(), stats.read, stats.written, stats.first_rejects))
        assert results[0] == results[1]


@given(st.lists(st.sampled_from([b'{"text": "a"}', b'{"text": " "}', b'{"text": "a"}', b"{oops"]), max_size=25))
def test_range_batches_number_drops_and_ordered_verdicts_from_the_start_of_the_file(lines) -> None:
    # Drops (an empty text; a duplicate, decided in input order) name the same file line however the file is cut.
    from corpus_tools.dedup import Dedup
    from corpus_tools.normalize import Normalize
    from corpus_tools.pipeline import DroppedStream

    data = b"\n".join(lines) + b"\n"
    pipeline = Pipeline((Normalize(), Dedup()))
    with tempfile.NamedTemporaryFile(suffix=".jsonl") as tmp:
        tmp.write(data)
        tmp.flush()
        results = []
        for batch_bytes in (1, 7, 1 << 20):
            out, dropped = io.BytesIO(), io.BytesIO()
            run_pipeline(
                [tmp.name],
                pipeline,
                StreamSink(out),
                engine=InlineRanges(),
                on_error=OnError.skip,
                dropped=DroppedStream(dropped),
                batch_bytes=batch_bytes,
            )
            places = [(d["line"], d["reason"]) for d in map(orjson.loads, dropped.getvalue().splitlines())]
            results.append((out.getvalue(), places))
        assert results[0] == results[1] == results[2]
        expected = []
        seen = False
        for number, line in enumerate(lines, 1):
            if line == b'{"text": " "}':
                expected.append((number, "empty_after_cleaning"))
            elif line == b'{"text": "a"}':
                if seen:
                    expected.append((number, "duplicate_exact"))
                seen = True
        assert results[0][1] == expected


def test_compressed_and_piped_inputs_are_not_cut_into_ranges(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    packed = tmp_path / "in.jsonl.gz"
    with gzip.open(packed, "wb") as stream:
        stream.write(b'{"text": "a"}\n' * 10)
    assert all(isinstance(b, LinesBatch) for b in batches([str(packed)], batch_bytes=16, ranges=True))
    # "-" is stdin, even with a file called "-" in the working directory.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "-").write_bytes(b'{"text": "file"}\n')
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b'{"text": "stdin"}\n')))
    (batch,) = batches(["-"], ranges=True)
    assert isinstance(batch, LinesBatch) and batch.data == b'{"text": "stdin"}\n'


def test_a_forking_pool_freezes_the_collector_while_it_runs_and_thaws_after(tmp_path: Path) -> None:
    # Workers forked from a frozen heap do not copy the pages they share with us when they collect garbage; a pool
    # that does not fork (other threads running) has nothing to freeze for.
    forks = _start_context().get_start_method() == "fork"
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"text": "a"}\n' * 50)
    engine = LocalEngine(2)
    seen = [gc.get_freeze_count() for _ in engine.map(process_batch, PIPELINE, batches([str(path)], batch_bytes=64))]
    assert len(seen) > 1 and all((n > 0) == forks for n in seen)
    assert gc.get_freeze_count() == 0


@pytest.mark.parametrize("fail", [False, True])
def test_spilled_output_is_the_same_and_leaves_nothing_behind(
    corpus: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail: bool
) -> None:
    # Local workers writing to a plain file leave their blocks in files the main process copies in the kernel;
    # the output, rejects and counts are those of the single-command loop, and the spill directory goes away, also
    # when the run stops at a bad record.
    spill_root = tmp_path / "spill"
    spill_root.mkdir()
    monkeypatch.setattr("corpus_tools.engine._SPILL_ROOT", str(spill_root))
    out_path, rejects = tmp_path / "out.jsonl", io.BytesIO()
    spilled: list[bool] = []
    original = StreamSink.write_spilled
    monkeypatch.setattr(StreamSink, "write_spilled", lambda self, *a: spilled.append(True) or original(self, *a))
    engine = LocalEngine(2)
    on_error = OnError.fail if fail else OnError.skip
    with open(out_path, "wb") as stream, contextlib.suppress(InputError):
        sink = StreamSink(stream)
        assert sink.takes_spilled()
        stats = run_pipeline(
            corpus, PIPELINE, sink, engine=engine, on_error=on_error, rejects=Rejects(rejects), batch_bytes=300
        )
        assert not fail, "the corpus has bad records: on_error=fail must stop"
    engine.close()
    assert spilled and not any(spill_root.iterdir())
    expected_out, (read, written, rejected, expected_rejects) = sequential(corpus)
    if fail:
        assert expected_out.startswith(out_path.read_bytes())
    else:
        assert out_path.read_bytes() == expected_out and rejects.getvalue() == expected_rejects
        assert (stats.read, stats.written, stats.rejected) == (read, written, rejected)


def test_only_plain_buffered_streams_take_spilled_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert not StreamSink(io.BytesIO()).takes_spilled()
    with open(tmp_path / "y.jsonl", "wb") as plain:
        monkeypatch.setattr(sys, "platform", "darwin")  # sendfile() there writes to sockets only
        assert not StreamSink(plain).takes_spilled()
        monkeypatch.undo()
    with gzip.open(tmp_path / "x.gz", "wb") as packed:
        assert not StreamSink(packed).takes_spilled()
    with open(tmp_path / "x.jsonl", "wb") as plain:
        assert StreamSink(plain).takes_spilled()


def test_workers_keep_freed_memory_for_the_next_batch() -> None:
    # glibc maps a large block afresh and gives it back when freed, so every batch faulted its memory in again; a
    # worker's malloc is told to keep it. Counted in a fresh interpreter (the setting is per process), starting from
    # glibc's static default (blocks over 128 KB mapped on their own), which its dynamic threshold may or may not
    # have left behind by then, so both runs start alike.
    code = (
        "import ctypes, resource, sys\nfrom corpus_tools.engine import keep_freed_memory\n"
        "ctypes.CDLL(None).mallopt(-3, 128 * 1024)\n"
        "tuned = sys.argv[1] == '1' and keep_freed_memory()\n"
        "def faults(): return resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
        "before = faults()\n"
        # a batch's worth of blocks of a little over 1 MB each (input, output...), made and freed 100 times
        "for _ in range(100):\n    blocks = [b'x' * ((1 << 20) + 4096 * k) for k in range(4)]\n    del blocks\n"
        "print(int(tuned), faults() - before)\n"
    )
    if not (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc"):
        assert not keep_freed_memory()  # another C library: nothing is changed
        return
    runs = {}
    for tune in ("0", "1"):
        out = subprocess.run([sys.executable, "-c", code, tune], capture_output=True, text=True, check=True).stdout
        runs[tune] = tuple(map(int, out.split()))
    one_batch = 4 * ((1 << 20) + 4096 * 3) // 4096  # the pages of one round of blocks
    assert runs["1"][0] == 1 and runs["1"][1] < 3 * one_batch  # faulted in once, then reused
    assert runs["0"][1] > 30 * one_batch  # faulted in again and again


def test_a_stream_sendfile_cannot_write_to_gets_the_spilled_bytes_through_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spill = tmp_path / "spill.jsonl"
    spill.write_bytes(b"head\n" + b'{"a":1}\n{"b":2}\n' + b"tail\n")

    def refuse(*args: object) -> int:
        raise OSError(errno.EINVAL, "Invalid argument")

    monkeypatch.setattr(os, "sendfile", refuse)
    out = tmp_path / "out.jsonl"
    with open(out, "wb") as stream:
        sink = StreamSink(stream)
        sink.write_lines(b'{"x":0}\n', 1)
        sink.write_spilled(Spilled(str(spill), 5, 16), 2)
        sink.write_lines(b'{"y":3}\n', 1)
    assert out.read_bytes() == b'{"x":0}\n{"a":1}\n{"b":2}\n{"y":3}\n' and sink.count == 4


# --------------------------------------------------------------- a compressed input that fails: the same line


def _broken_compressed(tmp_path: Path) -> list[tuple[Path, int]]:
    """Compressed JSON lines that fail part-way, and the line each single command names: a gzip whose CRC does
    not match (found after its last line), a gzip and a zstd file cut in the middle."""
    data = b"".join(orjson.dumps({"id": f"r{i}", "text": f"Record {i} text."}) + b"\n" for i in range(20_000))
    out = []
    crc = bytearray(gzip.compress(data, mtime=0))
    crc[-8] ^= 0x01
    for name, content in [
        ("crc.jsonl.gz", bytes(crc)),
        ("cut.jsonl.gz", gzip.compress(data, mtime=0)[: len(crc) // 2]),
        ("cut.jsonl.zst", zstandard.ZstdCompressor().compress(data)[:20_000]),
    ]:
        path = tmp_path / name
        path.write_bytes(content)
        out.append(path)
    crc_path, cut_gzip, cut_zstd = out
    return [(crc_path, 20_001), (cut_gzip, _first_unread(cut_gzip)), (cut_zstd, _first_unread(cut_zstd))]


def _first_unread(path: Path) -> int:
    """1 + the whole lines a compressed file gives before its error (what the single commands count)."""
    stream = open_binary(str(path))
    lines = 0
    with contextlib.suppress(EOFError):
        for _ in stream:
            lines += 1
    return lines + 1


@pytest.mark.parametrize("args", [["-j", "1"], ["-j", "2"], ["-j", "2", "--no-corpus-aware"]])
def test_clean_names_the_line_a_compressed_input_fails_at_like_the_single_commands(tmp_path: Path, cli, args) -> None:
    for path, line in _broken_compressed(tmp_path):
        assert 1 < line <= 20_001
        single = cli(["normalize", path])
        cleaned = cli(["clean", path, *args])
        assert single.exit_code == cleaned.exit_code == 2
        assert single.stderr.startswith(f"error: {path}:{line}: cannot read: ")
        assert single.stderr.count("\n") == 1
        assert cleaned.stderr == single.stderr


@pytest.mark.parametrize("batch_bytes", [4096, 1 << 20])
def test_batches_of_a_failing_compressed_input_name_the_line_it_fails_at(tmp_path: Path, batch_bytes: int) -> None:
    for path, line in _broken_compressed(tmp_path):
        with pytest.raises(InputError) as info:
            list(batches([str(path)], batch_bytes=batch_bytes))
        assert (info.value.path, info.value.line) == (str(path), line)


def test_a_clusters_batches_name_inputs_as_given_and_open_them_by_absolute_path(tmp_path, monkeypatch) -> None:
    import gzip

    from corpus_tools.engine import DocumentsBatch, FileBatch, RangeBatch, batches

    (tmp_path / "a.jsonl").write_bytes(b'{"text": "x"}\n')
    (tmp_path / "b.jsonl.gz").write_bytes(gzip.compress(b'{"text": "y"}\n'))
    (tmp_path / "c.txt").write_bytes(b"z\n")
    monkeypatch.chdir(tmp_path)
    found = list(batches(["a.jsonl", "b.jsonl.gz", "c.txt"], ranges=True, whole_files=True))
    assert found == [
        RangeBatch("a.jsonl", 0, 14, str(tmp_path / "a.jsonl")),
        FileBatch("b.jsonl.gz", (tmp_path / "b.jsonl.gz").stat().st_size, str(tmp_path / "b.jsonl.gz")),
        DocumentsBatch((("c.txt", str(tmp_path / "c.txt")),), ("c",)),
    ]
    monkeypatch.chdir("/")  # a worker elsewhere reads the same bytes and names them as given
    assert found[1].read().source == "b.jsonl.gz" and found[1].read().data == b'{"text": "y"}\n'
    assert found[0].read().data == b'{"text": "x"}\n'
