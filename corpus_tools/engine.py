"""Running a pipeline over a whole corpus: batches of input, worker processes, output in input order.

The unit of work is a *batch*: a block of whole JSON lines cut from one input (by bytes, at a line boundary) or a
group of whole text documents. The main process only cuts batches (no per-line Python work for JSON lines) and
writes the workers' encoded lines in order; workers parse, run the steps and encode. Because a batch is processed
by the very same function whether it runs inline (``jobs=1``), in a local process pool or on a Dask cluster, the
output bytes, the rejects and the errors (file and line) are the same whatever the engine.

At most ``window`` batches are in flight at a time, so memory stays flat however large the corpus is.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import errno
import gc
import io
import itertools
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol

import orjson

from corpus_tools.errors import ConfigError, CorpusError, InputError, RecordError
from corpus_tools.io import (
    READ_ERRORS,
    STDIN,
    Item,
    compressed,
    document_item,
    input_files,
    input_format,
    is_json_lines,
    json_line_items,
    open_binary,
    read_document_bytes,
    unreadable,
    writes_a_file,
)
from corpus_tools.pipeline import Dropped, DroppedStream, OnError, Pipeline, Rejects, RunStats, Verdicts, reject
from corpus_tools.records import suspect
from corpus_tools.step import CorpusPass, Doc, Link, Member, OrderedPass, Ordinal, Step
from corpus_tools.storage import is_parquet, is_url
from corpus_tools.storage import size as size_of

if TYPE_CHECKING:
    import concurrent.futures

#: Bytes of input per batch: big enough that shipping a batch to a worker costs little next to processing it,
#: small enough that a few batches per worker in flight keep memory low.
BATCH_BYTES = 1 << 20
#: Text documents per batch at most (documents are usually small; a batch also closes at ``BATCH_BYTES``).
BATCH_DOCUMENTS = 256


# ------------------------------------------------------------------------------------------------ batches


@dataclass(frozen=True, slots=True)
class LinesBatch:
    """Whole JSON lines of ``source`` starting at 1-based line ``first_line``."""

    source: str
    first_line: int
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True, slots=True)
class DocumentsBatch:
    """Whole raw text documents: ``(path, bytes)`` pairs in input order, and their ids (default: from the names).
    In place of its bytes, a document may have the absolute path its worker reads it from (a cluster's)."""

    documents: tuple[tuple[str, bytes | str], ...]
    ids: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        return sum(len(data) if isinstance(data, bytes) else _located(data)[0] for _path, data in self.documents)


@dataclass(frozen=True, slots=True)
class RangeBatch:
    """Whole lines of a plain (uncompressed) file: its bytes ``start`` to ``end``, read by the worker itself, so the
    main process of a local pool neither reads nor ships them. Their lines are numbered from 1 where they start:
    the main process, which sees results in order, adds the lines before them (:attr:`BatchResult.lines`)."""

    source: str
    start: int
    end: int
    #: where to open it: the absolute path (a worker's working directory need not be this process's)
    at: str = ""

    @property
    def size(self) -> int:
        return self.end - self.start

    def read(self) -> LinesBatch:
        try:
            with open(self.at or self.source, "rb") as stream:
                stream.seek(self.start)
                data = stream.read(self.end - self.start)
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror or exc}", self.source) from None
        return LinesBatch(self.source, 1, data)


@dataclass(frozen=True, slots=True)
class FileBatch:
    """A whole JSON-lines file (compressed, so not cut in byte ranges) that the worker reads itself: a cluster's
    client only lists the inputs. ``size``: its bytes on disk, for the progress display."""

    source: str
    size: int
    at: str = ""  # the absolute path, as for a RangeBatch

    def read(self) -> LinesBatch:
        blocks = _line_blocks(self.at or self.source, BATCH_BYTES, name=self.source)
        return LinesBatch(self.source, 1, b"".join(block.data for block in blocks))


@dataclass(frozen=True, slots=True)
class UnreadableBatch:
    """An input file that cannot be opened, and why (:func:`corpus_tools.io.unreadable`): one reject."""

    source: str
    reason: str

    @property
    def size(self) -> int:
        return 0


Batch = LinesBatch | DocumentsBatch | RangeBatch | FileBatch | UnreadableBatch


@dataclass(frozen=True, slots=True)
class Rejected:
    """An input that could not be read or processed, and why (the same reason the single commands give)."""

    item: Item
    reason: str


@dataclass(frozen=True, slots=True)
class DroppedOut:
    """A record a step dropped, with where it came from (for the dropped-records stream)."""

    source: str
    line: int | None
    dropped: Dropped


@dataclass(frozen=True, slots=True)
class Spilled:
    """A block of encoded lines a local worker left in a file (``size`` bytes at ``offset``) for the main process
    to copy into the output in the kernel, instead of sending it back through a pipe."""

    path: str
    offset: int
    size: int


@dataclass(frozen=True, slots=True)
class WrittenShard:
    """A batch's records, written by its worker as one shard: the shard's manifest entry."""

    entry: dict[str, Any]


@dataclass(slots=True)
class BatchResult:
    """One batch done: encoded output and rejects in input order, plus counts for the summary.

    ``outputs`` holds blocks of whole encoded lines (``bytes``: the consecutive records between two rejects,
    joined, so a worker ships back one object and the writer makes one write instead of one per record) and
    rejects; ``block_records`` says how many records each block holds, in the same order.
    """

    outputs: list[bytes | Spilled | WrittenShard | Rejected | DroppedOut] = field(default_factory=list)
    block_records: list[int] = field(default_factory=list)
    #: With ordered passes (dedup): per block, each record's id and keys, for the in-order verdicts.
    block_keys: list[list[tuple[Any, ...]]] = field(default_factory=list)  # (id, keys, source, line)
    bytes_in: int = 0
    counts: collections.Counter[str] = field(default_factory=collections.Counter)
    #: For a :class:`RangeBatch`: how many lines it held (its rejects' lines count from its start) and whether it
    #: starts its file (the same file given twice is read twice, and counted from 1 each time).
    lines: int | None = None
    starts_file: bool = False

    @property
    def records(self) -> int:
        """The input records this batch covered: written and rejected."""
        return sum(self.block_records) + sum(1 for output in self.outputs if isinstance(output, (Rejected, DroppedOut)))


def batches(
    paths: Sequence[str],
    *,
    batch_bytes: int = BATCH_BYTES,
    batch_documents: int = BATCH_DOCUMENTS,
    ranges: bool = False,
    whole_files: bool = False,
    stdin_is_text: bool = False,
    eager_stdin: bool = False,
) -> Iterator[Batch]:
    """Cut the inputs into batches, in input order (the order :func:`corpus_tools.io.read_items` reads them).

    JSON lines (files or stdin) are cut into blocks of about ``batch_bytes`` at line boundaries, so a single
    huge file still spreads over every worker; text documents are grouped. Nothing is parsed here. With
    ``ranges`` (workers that share this machine's files), a plain JSON-lines file is cut into byte ranges that
    the workers read themselves: this process reads only a few bytes around each cut. With ``whole_files`` too (a
    cluster's workers), a compressed JSON-lines file is one batch its worker reads, and text documents are batches
    of paths: this process reads no input at all. ``stdin_is_text``: as :func:`corpus_tools.io.read_items` takes it.
    ``eager_stdin``: a block of stdin is what has arrived (at least one whole line), not ``batch_bytes``: a slow
    producer's records come out as they come (one core; workers want full batches).
    """
    pending: list[tuple[str, bytes]] = []
    ids: list[str] = []
    pending_bytes = 0
    for path, doc_id in input_files(paths):
        reason = unreadable(path)
        if reason is not None:
            if pending:
                yield DocumentsBatch(tuple(pending), tuple(ids))
                pending, ids, pending_bytes = [], [], 0
            yield UnreadableBatch(path, reason)
            continue
        if is_parquet(path):  # rows as JSON lines, numbered by row (corpus_tools/storage.py)
            if pending:
                yield DocumentsBatch(tuple(pending), tuple(ids))
                pending, ids, pending_bytes = [], [], 0
            yield from _parquet_blocks(path, batch_bytes)
            continue
        if is_json_lines(path) and not (path == STDIN and stdin_is_text and input_format() != "jsonl"):
            if pending:
                yield DocumentsBatch(tuple(pending), tuple(ids))
                pending, ids, pending_bytes = [], [], 0
            if ranges and path != STDIN and _plain_file(path):
                yield from _line_ranges(path, batch_bytes)
            elif whole_files and path != STDIN:
                yield FileBatch(path, *_located(path))
            else:
                yield from _line_blocks(path, batch_bytes, eager=eager_stdin and path == STDIN)
            continue
        if whole_files and path != STDIN:
            size, at = _located(path)
            pending.append((path, at))
            pending_bytes += size
        else:
            data = read_document_bytes(path)
            pending.append((path, data))
            pending_bytes += len(data)
        ids.append(doc_id)
        if pending_bytes >= batch_bytes or len(pending) >= batch_documents:
            yield DocumentsBatch(tuple(pending), tuple(ids))
            pending, ids, pending_bytes = [], [], 0
    if pending:
        yield DocumentsBatch(tuple(pending), tuple(ids))


def _located(path: str) -> tuple[int, str]:
    """An input's size and where a worker opens it: its absolute path (a worker's working directory need not be
    this process's), or the URL itself."""
    if is_url(path):
        return size_of(path) or 0, path
    return os.path.getsize(path), os.path.abspath(path)


def _parquet_blocks(path: str, batch_bytes: int) -> Iterator[LinesBatch]:
    """Blocks of about ``batch_bytes`` of a Parquet file's rows as JSON lines (their line numbers: row numbers)."""
    from corpus_tools.storage import ParquetLines

    parts: list[bytes] = []
    first = size = 0
    for start, block in ParquetLines(path).blocks(rows=64):
        if not parts:
            first = start
        parts.append(block)
        size += len(block)
        if size >= batch_bytes:
            yield LinesBatch(path, first, b"".join(parts))
            parts, size = [], 0
    if parts:
        yield LinesBatch(path, first, b"".join(parts))


def _line_blocks(path: str, batch_bytes: int, name: str | None = None, *, eager: bool = False) -> Iterator[LinesBatch]:
    """Blocks of whole lines of ``path`` (called ``name`` in messages and items, default ``path``); a line longer
    than ``batch_bytes`` makes one block of its own. ``eager``: a block ends with the read that completed a line."""
    try:
        stream = open_binary(path)
    except InputError as exc:
        raise InputError(exc.reason, name or path) from None
    path = name or path
    line = 1
    carry: list[bytes] = []  # the start of a line that did not end in the last chunk read
    try:
        while True:
            chunk, error = _read_chunk(stream, batch_bytes, path, line, carry, eager=eager)
            end = chunk.rfind(b"\n") + 1
            if end:
                block = b"".join([*carry, chunk[:end]]) if carry else chunk[:end]
                carry = [chunk[end:]] if end < len(chunk) else []
                yield LinesBatch(path, line, block)  # the whole lines read before an error go out first
                line += block.count(b"\n")
            elif chunk:
                carry.append(chunk)
            if error is not None:
                raise error
            if not chunk:
                break
        if carry:
            yield LinesBatch(path, line, b"".join(carry))
    finally:
        if path != STDIN:
            stream.close()


def _read_chunk(
    stream: BinaryIO, size: int, path: str, line: int, carry: list[bytes], *, eager: bool = False
) -> tuple[bytes, InputError | None]:
    """``size`` bytes of ``stream`` (fewer only at its end), and the read error that ended it early, if one did: an
    :class:`InputError` naming the line it stopped in, counted from ``line`` (the first line of ``carry``, what came
    before this chunk). The bytes read before the error come with it: their whole lines are records.

    Read with ``read1``, each call handing out what one decompression step gave: ``read(size)`` drops the bytes it
    decoded before the error (a gzip's CRC is checked at its very end), and the error would then name the first
    line of the chunk instead of the line the single commands name.
    """
    parts: list[bytes] = []
    left = size
    try:
        while left > 0:
            part = stream.read1(left)  # type: ignore[attr-defined]
            if not part:
                break
            parts.append(part)
            left -= len(part)
            if eager and b"\n" in part:
                break
    except READ_ERRORS as exc:
        where = line + sum(c.count(b"\n") for c in (*carry, *parts))
        return b"".join(parts), InputError(f"cannot read: {exc}", path, where)
    return parts[0] if len(parts) == 1 else b"".join(parts), None


def _plain_file(path: str) -> bool:
    """A regular file that is not gzip or zstd compressed (so byte offsets are offsets into its lines)."""
    try:
        with open(path, "rb") as stream:
            head = stream.read(10)
        return os.path.isfile(path) and not compressed(head)
    except OSError:
        return False  # the ordinary reader reports it


def _line_ranges(path: str, batch_bytes: int) -> Iterator[RangeBatch]:
    """Byte ranges of whole lines of ``path``, each ending at the first line end at or after ``batch_bytes``."""
    with open(path, "rb") as stream:
        size = os.fstat(stream.fileno()).st_size
        start = 0
        while start < size:
            end = size
            if start + batch_bytes < size:
                stream.seek(start + batch_bytes - 1)
                while True:  # to the end of the line that holds the byte before the cut
                    chunk = stream.read(1 << 16)
                    if not chunk:
                        break
                    at = chunk.find(b"\n")
                    if at >= 0:
                        end = stream.tell() - len(chunk) + at + 1
                        break
            yield RangeBatch(path, start, end, os.path.abspath(path))
            start = end


def batch_items(batch: Batch, text_field: str) -> Iterator[Item]:
    """The items of one batch, exactly as :func:`corpus_tools.io.read_items` yields them from the whole input (for a
    :class:`RangeBatch`, with lines numbered from its start)."""
    if isinstance(batch, (RangeBatch, FileBatch)):
        batch = batch.read()
    if isinstance(batch, UnreadableBatch):
        yield Item(batch.source, None, error=batch.reason)
    elif isinstance(batch, DocumentsBatch):
        for k, (path, data) in enumerate(batch.documents):
            if isinstance(data, str):
                data = read_document_bytes(data, name=path)
            yield document_item(path, data, text_field, batch.ids[k] if batch.ids else None)
    else:
        yield from _json_items(batch)


def _entries(batch: Batch, text_field: str) -> Iterator[tuple[int, Any] | Item]:
    """A read batch's records: JSON lines on the fast path (``(line number, value)``, see :func:`_json_entries`),
    documents and unreadable inputs as items."""
    return _json_entries(batch) if isinstance(batch, LinesBatch) else batch_items(batch, text_field)


def _json_items(batch: LinesBatch) -> Iterator[Item]:
    """The items of a block of JSON lines (see :func:`_json_entries`)."""
    source = batch.source
    for entry in _json_entries(batch):
        yield entry if isinstance(entry, Item) else Item(source, entry[0], entry[1])


def _json_entries(batch: LinesBatch) -> Iterator[tuple[int, Any] | Item]:
    """The fast path: orjson straight on each line's bytes, giving ``(line number, value)``. A line it refuses goes
    through the reader the single commands use (:func:`corpus_tools.io.json_line_items`), which gives an
    :class:`Item`, so its reason and line number are theirs exactly."""
    source = batch.source
    line_number = batch.first_line - 1
    loads = orjson.loads
    for line in io.BytesIO(batch.data):
        line_number += 1
        # What jsonlines' skip_empty skips: a blank line. A line that does not start with whitespace is not
        # blank, and this test spares the copy rstrip() makes of every (long) line.
        if line[:1] in _BLANK_STARTS and not line.strip():
            continue
        try:
            value = loads(line)
        except orjson.JSONDecodeError:
            yield from json_line_items(_Lines(line, line_number), source)
            continue
        if suspect(value, line):  # perhaps too deep, a key twice, a big integer: the reader says (and words the reject)
            yield from json_line_items(_Lines(line, line_number), source)
            continue
        yield line_number, value


# The bytes bytes.strip() removes, and b"" (an empty last line): what a blank line can start with.
_BLANK_STARTS = frozenset((b"", b" ", b"\t", b"\n", b"\r", b"\x0b", b"\x0c"))


class _Lines:
    """The lines of a block, counting from ``first_line`` (what ``io._LineCounter`` does for a whole file)."""

    def __init__(self, data: bytes, first_line: int) -> None:
        self.data = data
        self.lineno = first_line - 1

    def __iter__(self) -> Iterator[bytes]:
        for line in io.BytesIO(self.data):
            self.lineno += 1
            yield line


# ----------------------------------------------------------------------------------------- processing


def encode(record: Any) -> bytes:
    """One output line, byte for byte what :class:`corpus_tools.io.RecordWriter` writes for ``record``."""
    try:
        return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)  # the newline without copying the line
    except TypeError as exc:  # orjson: lone surrogates or non-JSON values
        raise RecordError(f"cannot encode as JSON: {exc}") from None


def process_batch(pipeline: Pipeline, batch: Batch) -> BatchResult:
    """Parse, process and encode one batch. Pure: the same batch gives the same result on any engine."""
    result = BatchResult(bytes_in=batch.size)
    if isinstance(batch, RangeBatch):
        result.starts_file = batch.start == 0
        batch = batch.read()
        result.lines = batch.data.count(b"\n")  # every range but a file's last ends with a line end
    elif isinstance(batch, FileBatch):
        batch = batch.read()
    lines = _Block()  # the encoded records since the last reject
    keyed = bool(pipeline.ordered)
    keys: list[tuple[Any, ...]] = []  # with ordered passes: each line's (id, keys, source, line)
    # JSON lines come as (line number, value): an Item is made only for a reject (it costs as much as a step's
    # cheapest work on a document).
    entries = _entries(batch, pipeline.text_field)
    for entry in entries:
        if type(entry) is tuple:
            item, value, reason = None, entry[1], None
        else:
            item, value, reason = entry, entry.record, entry.error
        if reason is None:
            try:
                record_keys: list[Any] | None = [] if keyed else None
                record = pipeline.process(value, result.counts, record_keys)
                if type(record) is Dropped:
                    _close_block(result, lines, keys)
                    if item is None:
                        result.outputs.append(DroppedOut(batch.source, entry[0], record))  # type: ignore[union-attr,index]
                    else:
                        result.outputs.append(DroppedOut(item.source, item.line, record))
                    continue
                lines.add(encode(record))
                if keyed:
                    where = (batch.source, entry[0]) if item is None else (item.source, item.line)  # type: ignore[union-attr,index]
                    keys.append((record.get("id"), record_keys, *where))  # type: ignore[arg-type]
                continue
            except RecordError as exc:
                reason = exc.reason
        if item is None:
            item = Item(batch.source, entry[0], value)  # type: ignore[union-attr,index]
        _close_block(result, lines, keys)
        result.outputs.append(Rejected(item, reason))
    _close_block(result, lines, keys)
    return result


def _process_and_spill(shared: tuple[Pipeline, str], batch: Batch) -> BatchResult:
    """:func:`process_batch`, with the encoded blocks written to a file in the directory ``shared[1]`` (on a RAM
    file system where there is one) and sent back as :class:`Spilled` references: a local worker's output then
    crosses to the main process as one write and one in-kernel copy, not pickled through a pipe."""
    import tempfile

    pipeline, directory = shared
    result = process_batch(pipeline, batch)
    if not result.block_records:
        return result
    fd, path = tempfile.mkstemp(dir=directory, suffix=".jsonl")
    offset = 0
    with os.fdopen(fd, "wb") as stream:
        for k, output in enumerate(result.outputs):
            if isinstance(output, bytes):
                stream.write(output)
                result.outputs[k] = Spilled(path, offset, len(output))
                offset += len(output)
    return result


class _Block:
    """Encoded records, joined every :data:`_JOIN_EVERY` lines: orjson (3.12 on) hands each line out in a buffer of
    4 KB or more, which a list of a batch's lines would hold on to (60 MB for a batch of tiny records). A batch of
    news-length records (~135 a MB) is joined once, as before. (A growing bytearray copied each byte ~8 times as
    it grew: +2% of clean's instructions.)"""

    __slots__ = ("lines", "parts", "records")

    def __init__(self) -> None:
        self.lines: list[bytes] = []
        self.parts: list[bytes] = []
        self.records = 0

    def add(self, line: bytes) -> None:
        self.records += 1
        lines = self.lines
        lines.append(line)
        if len(lines) == _JOIN_EVERY:
            self.parts.append(b"".join(lines))
            lines.clear()

    def take(self) -> bytes:
        """The block's bytes; the block is empty again."""
        if self.lines:
            self.parts.append(b"".join(self.lines))
            self.lines.clear()
        data = self.parts[0] if len(self.parts) == 1 else b"".join(self.parts)
        self.parts.clear()
        self.records = 0
        return data


_JOIN_EVERY = 256


def _close_block(result: BatchResult, lines: _Block, keys: list[tuple[Any, ...]]) -> None:
    if lines.records:
        result.block_records.append(lines.records)
        result.outputs.append(lines.take())
        if keys:
            result.block_keys.append(list(keys))
            keys.clear()


def group_entries(
    result: BatchResult, batch: int, step: Step, key_index: int, dropped: frozenset[Ordinal]
) -> list[tuple[int, Member]]:
    """An ordered pass's map on a cluster: ``(group, (ordinal, id, key))`` for each record of a processed batch
    (``batch`` its number) that no earlier pass dropped; ``key_index``: the pass's place among the ordered ones."""
    corpus_pass: OrderedPass = step.corpus_pass  # type: ignore[assignment]
    entries: list[tuple[int, Member]] = []
    position = 0
    for keys in result.block_keys:
        for record_id, record_keys, _source, _line in keys:
            ordinal = (batch, position)
            position += 1
            if ordinal in dropped:
                continue
            key = record_keys[key_index]
            for group in corpus_pass.groups(key, step.options):
                entries.append((group, (ordinal, record_id, key)))
    return entries


def group_links(step: Step, group: tuple[int, list[tuple[int, Member]]]) -> list[Link]:
    """An ordered pass's links within one shuffled group (its members in input order)."""
    members = sorted((entry[1] for entry in group[1]), key=lambda member: member[0])
    return list(step.corpus_pass.links(members, step.options))  # type: ignore[union-attr]


def apply_verdicts(result: BatchResult, drops: dict[int, Dropped]) -> BatchResult:
    """A processed batch with the records the cluster's verdicts drop (``{position: Dropped without its record}``)
    moved to the dropped stream, in place, and the keys shed: what the client then writes as any batch."""
    if not result.block_keys:
        return result
    outputs: list[bytes | Spilled | Rejected | DroppedOut] = []
    block_records: list[int] = []
    kept: list[bytes] = []

    def close() -> None:
        if kept:
            outputs.append(b"".join(kept))
            block_records.append(len(kept))
            kept.clear()

    blocks = iter(result.block_keys)
    position = 0
    for output in result.outputs:
        if not isinstance(output, bytes):
            close()
            outputs.append(output)
            continue
        for line, (_id, _keys, source, number) in zip(output.splitlines(keepends=True), next(blocks), strict=True):
            verdict = drops.get(position)
            position += 1
            if verdict is None:
                kept.append(line)
                continue
            close()
            outputs.append(DroppedOut(source, number, Dropped(verdict.step, verdict.drop, orjson.loads(line))))
    close()
    result.outputs, result.block_records, result.block_keys = outputs, block_records, []
    return result


def write_shard(target: Any, index: int, result: BatchResult) -> BatchResult:
    """On the worker: the batch's records written as shard ``index`` of ``target`` (a
    :class:`corpus_tools.shards.ShardTarget`); what goes back is the shard's entry, the rejects and the drops."""
    blocks = [output for output in result.outputs if isinstance(output, bytes)]
    records = sum(result.block_records)
    others = [output for output in result.outputs if not isinstance(output, bytes)]
    if records:
        others.append(WrittenShard(target.write(index, blocks, records)))
        result.block_records = [records]
    else:
        result.block_records = []
    result.outputs = others
    return result


def batch_texts(batch: Batch, text_field: str) -> list[str]:
    """The texts of the usable records of a batch (for the corpus-aware first pass)."""
    texts: list[str] = []
    for item in batch_items(batch, text_field):
        record = item.record
        if item.error is None and isinstance(record, dict) and isinstance(record.get(text_field), str):
            texts.append(record[text_field])
    return texts


# -------------------------------------------------------------------------------------------- engines


class Engine(Protocol):
    """Runs a function over batches and yields the results in the order of the batches.

    An engine whose workers see the inputs may say so with ``reads_files = True``: plain JSON-lines inputs are then
    cut into byte ranges the workers read themselves (:class:`RangeBatch`); with ``reads_whole_files`` too, the
    other inputs are read by the workers as well (:class:`FileBatch`, documents as paths). ``spills``: workers on
    this machine that can leave their output in files for the main process to copy in the kernel.
    An engine may also have ``map_reduce`` (corpus passes' states merged where they were built) and
    ``map_and_decide`` (ordered passes decided on the workers): see :class:`corpus_tools.dask_engine.DaskEngine`.
    """

    def map(self, fn: Callable[[Any, Batch], Any], shared: Any, items: Iterable[Batch]) -> Iterator[Any]: ...

    def close(self) -> None: ...


def ordered(
    submit: Callable[[Batch], concurrent.futures.Future[Any]],
    items: Iterable[Batch],
    window: int,
    settle: Callable[[list[Any]], None] | None = None,
) -> Iterator[Any]:
    """Submit ``items`` with at most ``window`` in flight and yield their results in submission order.

    The bounded window is what keeps memory flat: input is read only as fast as results are written. A run given
    up with work in flight (an error, a stop) cancels it, after ``settle`` (when given) had it end: a task that
    writes output cannot be stopped once it runs, and the clean-up must come after its write.
    """
    in_flight: collections.deque[concurrent.futures.Future[Any]] = collections.deque()
    try:
        for item in items:
            in_flight.append(submit(item))
            if len(in_flight) >= window:
                yield in_flight.popleft().result()
        while in_flight:
            yield in_flight.popleft().result()
    finally:
        if in_flight and settle is not None:
            with contextlib.suppress(Exception):
                settle(list(in_flight))
        for future in in_flight:
            future.cancel()


_SHARED: Any = None  # what the worker processes share (the pipeline), set once per worker


def _set_shared(shared: Any, parent_pid: int | None = None) -> None:
    global _SHARED
    _SHARED = shared
    keep_freed_memory()
    _end_with_parent(parent_pid)


def _end_with_parent(parent_pid: int | None) -> None:
    """A worker ends when the main process does, however that ends.

    A forked worker inherits the main process's handlers: a stop signal sent to the whole group must simply end it
    (the main process does the clean-up). And a main process killed outright (SIGKILL, out of memory) would leave its
    workers waiting for work on a queue whose write end they hold themselves: on Linux the kernel sends them SIGTERM
    when their parent dies (prctl PR_SET_PDEATHSIG; a forkserver's workers have the server as parent, which ends
    with the main process); elsewhere nothing changes.

    ``parent_pid``: the process that forked this worker, when it is the main process. If it died before the request
    took effect, the worker has already been handed to another parent: it ends at once. (Whether the main process
    still exists would not do: until its own parent collects it, a dead process still answers to its pid.)
    """
    for name in ("SIGTERM", "SIGHUP"):
        with contextlib.suppress(AttributeError, ValueError, OSError):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes  # here: only workers need it

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (AttributeError, OSError):
        return
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(1)


_PR_SET_PDEATHSIG = 1  # linux/prctl.h


#: glibc's mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def keep_freed_memory() -> bool:
    """Have glibc's malloc keep the memory a batch frees for the next batch (worker processes call this).

    By default a block of over 128 KB (a batch's input, its encoded output) is mapped for itself and unmapped when
    freed, and freed memory at the top of the heap is given back: each batch then faults all its memory in afresh,
    ~150,000 page faults per 300 MB and about 8% of a worker's CPU. Blocks up to 16 MB now come from the heap, and up
    to 128 MB of free heap is kept (a worker's own peak is a few batches, so its memory stays flat). Returns whether
    the settings took (only with glibc; elsewhere nothing changes).
    """
    try:
        if not (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc"):
            return False
        import ctypes  # here: only workers on glibc need it

        libc = ctypes.CDLL(None)
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, 16 << 20) and libc.mallopt(_M_TRIM_THRESHOLD, 128 << 20))
    except (AttributeError, OSError, ValueError):
        return False


def _call_shared(fn: Callable[[Any, Batch], Any], batch: Batch) -> Any:
    return fn(_SHARED, batch)


class LocalEngine:
    """``jobs`` worker processes on this machine; ``jobs=1`` runs inline, with no process or pickling at all.

    ``jobs`` is capped at the cores (``0`` or ``None``: all of them), and each run at its number of batches: more
    workers than either would only cost their start-up.
    """

    def __init__(self, jobs: int | None = None, *, window_per_job: int = 3) -> None:
        self.jobs = max(1, min(jobs or default_jobs(), default_jobs()))
        self.window = self.jobs * window_per_job
        self._pools: list[concurrent.futures.ProcessPoolExecutor] = []

    @property
    def reads_files(self) -> bool:
        """Workers that read their own byte ranges of the inputs: processes on this machine (see RangeBatch)."""
        return self.jobs > 1

    @property
    def spills(self) -> bool:
        return self.jobs > 1

    def map(self, fn: Callable[[Any, Batch], Any], shared: Any, items: Iterable[Batch]) -> Iterator[Any]:
        if self.jobs == 1:
            return (fn(shared, item) for item in items)
        items = iter(items)
        first = list(itertools.islice(items, self.jobs))  # fewer batches than jobs: as many workers as batches
        items = itertools.chain(first, items)
        if len(first) <= 1:
            return (fn(shared, item) for item in items)
        import concurrent.futures  # with workers only: a single command's one core does without (start-up)

        context = _start_context()
        pool = concurrent.futures.ProcessPoolExecutor(
            len(first),
            mp_context=context,
            initializer=_set_shared,
            # Forked workers are this process's children; a forkserver's are the server's.
            initargs=(shared, os.getpid() if context.get_start_method() == "fork" else None),
        )
        self._pools.append(pool)
        return self._until_done(
            pool,
            _worker_deaths(ordered(lambda item: pool.submit(_call_shared, fn, item), items, self.window)),
            frozen=context.get_start_method() == "fork",
        )

    def _until_done(
        self, pool: concurrent.futures.ProcessPoolExecutor, results: Iterator[Any], *, frozen: bool
    ) -> Iterator[Any]:
        """Yield ``results``, then shut ``pool`` down: a pool left running keeps its manager thread alive, and the
        next ``map`` (clean's main pass after the index pass) could then no longer fork (see _start_context).

        ``frozen``: while forked workers start, the objects this process holds are out of the garbage collector's
        sight (gc.freeze), so a worker's collections do not write to, and so copy, the pages it shares with us.
        """
        if frozen:
            gc.freeze()
        try:
            yield from results
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            if pool in self._pools:
                self._pools.remove(pool)
            if frozen:
                gc.unfreeze()

    def close(self) -> None:
        for pool in self._pools:
            pool.shutdown(wait=True, cancel_futures=True)
        self._pools.clear()


def _start_context() -> Any:
    """fork when it is safe: workers start at once and inherit the steps (and a corpus index) without pickling.

    Forking a process that runs other threads (a Dask client, a library's pool) can deadlock the child on a lock
    some thread held, so then the workers start from a clean forkserver and receive the steps pickled.
    (The progress display refreshes from the main loop, not from a thread, for this reason.)
    """
    import multiprocessing
    import threading

    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def _worker_deaths(results: Iterator[Any]) -> Iterator[Any]:
    """A worker killed under us (out of memory, a signal) becomes one error line, not a traceback."""
    from concurrent.futures.process import BrokenProcessPool

    try:
        yield from results
    except BrokenProcessPool:
        raise CorpusError("a worker process died unexpectedly (out of memory?); try fewer --jobs") from None


def default_jobs() -> int:
    """The cores this process may use (the CPU affinity mask when the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


# ------------------------------------------------------------------------------------------------ runs


class Sink(Protocol):
    """Where encoded output lines go (a stream, or the shard writer). A sink may also have
    ``write_lines(block, records)`` to take a block of whole lines at once (run_pipeline uses it when present)."""

    def write_line(self, line: bytes) -> None: ...


# What sendfile() says when it cannot write to a kind of descriptor.
_NO_SENDFILE = frozenset({errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.ENOTSOCK})


class StreamSink:
    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.count = 0

    def write_line(self, line: bytes) -> None:
        self.stream.write(line)
        self.count += 1

    def write_lines(self, block: bytes, records: int) -> None:
        self.stream.write(block)
        self.count += records

    def flush(self) -> None:
        self.stream.flush()

    def takes_spilled(self) -> bool:
        """Whether spilled blocks can be copied into the stream in the kernel: a buffered plain file or pipe (not a
        compressing stream, nor an in-memory one)."""
        # Linux's sendfile() writes to any descriptor; elsewhere (macOS: sockets only) blocks come back in memory.
        if not sys.platform.startswith("linux") or not isinstance(self.stream, io.BufferedWriter):
            return False
        try:
            self.stream.fileno()
        except (OSError, ValueError):
            return False
        return True

    def write_spilled(self, block: Spilled, records: int) -> None:
        """Copy a spilled block into the stream (after what is buffered), in the kernel."""
        self.stream.flush()
        target = self.stream.fileno()
        with open(block.path, "rb") as source:
            offset, left = block.offset, block.size
            while left:
                try:
                    sent = os.sendfile(target, source.fileno(), offset, left)
                except OSError as exc:
                    if exc.errno not in _NO_SENDFILE:
                        raise
                    # This kernel cannot copy into this stream (an append-only file on an old kernel, say):
                    # copy the rest through memory.
                    source.seek(offset)
                    self.stream.write(source.read(left))
                    break
                if sent == 0:
                    raise OSError(f"spilled block {block.path} ended early")
                offset += sent
                left -= sent
        self.count += records


@dataclass
class RunCounts(RunStats):
    """A run's counts (:class:`RunStats`) plus the bytes read and the time taken."""

    bytes_in: int = 0
    seconds: float = 0.0

    def counts_dict(self) -> dict[str, Any]:
        """The counts as the manifest records them."""
        return {**super().counts_dict(), "bytes_in": self.bytes_in}

    def summary(self) -> str:
        size = f"{self.bytes_in / 1e6:.1f} MB" if self.bytes_in >= 1e5 else f"{self.bytes_in / 1e3:.1f} KB"
        return f"{super().summary()}, {size}, {self.seconds:.1f} s"


class Progress(Protocol):
    """A progress display: told when a phase (indexing, cleaning) starts and what each batch covered."""

    def phase(self, description: str) -> None: ...

    def advance(self, documents: int, nbytes: int) -> None: ...


def run_pipeline(
    paths: Sequence[str],
    pipeline: Pipeline,
    sink: Sink,
    *,
    engine: Engine | None = None,
    on_error: OnError = OnError.fail,
    rejects: Rejects | None = None,
    dropped: DroppedStream | None = None,
    progress: Progress | None = None,
    batch_bytes: int | None = None,
    on_batch: Callable[[RunCounts], None] | None = None,
    verdicts: Verdicts | None = None,
    stdin_is_text: bool = False,
) -> RunCounts:
    """Run ``pipeline`` over every input record and write the results to ``sink`` in input order.

    ``on_batch(stats)`` is called after each batch's output has gone to ``sink`` (clean --resume's checkpoints).
    ``stdin_is_text``: ``-`` is one raw text document (``ingest``), as :func:`corpus_tools.io.read_items` takes it.

    Rejects and ``--on-error`` go through :func:`corpus_tools.pipeline.reject`, the very function the single
    commands use, so a bad record is reported the same way (file and line) whatever the engine.
    """
    engine = engine or LocalEngine(1)
    rejects = rejects or Rejects(None)
    dropped = dropped or DroppedStream(None)
    stats = RunCounts(dry_steps=frozenset(step.name for step in pipeline.steps if step.dry_run))
    write_lines = getattr(sink, "write_lines", None) or _line_by_line(sink)
    # Reading stdin on one core, blocks come as the producer writes them (batches(eager_stdin)): each goes out at
    # once, for the next command of a pipe, not when the output buffer fills.
    streams = getattr(engine, "jobs", None) == 1 and (not paths or STDIN in paths)
    flush = getattr(sink, "flush", None) if streams else None
    started = time.perf_counter()
    # Workers on this machine read their own input ranges and, when the output can take it, leave their output in
    # files that are copied in the kernel: neither crosses a pipe.
    if verdicts is None and pipeline.ordered:  # given: a resumed run's, its state carried over
        verdicts = Verdicts(pipeline.ordered)
    # Verdicts taken here in input order split blocks into lines: the in-kernel copy of whole blocks stands aside.
    spill = getattr(engine, "spills", False) and verdicts is None and getattr(sink, "takes_spilled", lambda: False)()
    # An engine that can shuffle (Dask) takes the ordered passes' verdicts on the cluster, before the results come
    # back: they then come with the dropped records already out, like any batch's.
    on_cluster = (
        verdicts is not None
        and hasattr(engine, "map_and_decide")
        and all(step.corpus_pass.on_cluster(step.options) for step in verdicts.steps)  # type: ignore[union-attr]
    )
    with contextlib.ExitStack() as stack:
        fn: Callable[[Any, Batch], BatchResult] = process_batch
        shared: Any = pipeline
        if spill:
            import tempfile

            directory = stack.enter_context(tempfile.TemporaryDirectory(prefix="corpus-tools-", dir=_SPILL_ROOT))
            fn, shared = _process_and_spill, (pipeline, directory)
        items = _batches_for(engine, paths, batch_bytes, stdin_is_text=stdin_is_text)
        # A cluster's workers write their batches as shards themselves when the sink lets them (WorkerShards).
        shard_target = getattr(sink, "shard_target", None)
        after = partial(write_shard, shard_target) if shard_target is not None else None
        if on_cluster:
            assert verdicts is not None
            results = engine.map_and_decide(fn, shared, items, verdicts, after=after)  # type: ignore[attr-defined]
        elif after is not None:
            if verdicts is not None:
                raise ConfigError("workers cannot write the shards while verdicts are taken in input order")
            results = engine.map(fn, shared, items, after=after)  # type: ignore[call-arg]
        else:
            results = engine.map(fn, shared, items)
        lines_before = 0  # the lines of the earlier range batches of the file being read
        # An error here ends the engine's generator now, while its engine is still up to cancel what is in flight
        # (left to garbage collection, that came after a cluster's client had closed, and printed a traceback).
        stack.callback(getattr(results, "close", lambda: None))
        for result in results:
            if result.lines is not None:
                if result.starts_file:
                    lines_before = 0
                if lines_before:
                    _renumber(result, lines_before)
                lines_before += result.lines
            records = iter(result.block_records)
            block_keys = iter(result.block_keys)
            spilled = None
            for output in result.outputs:
                if isinstance(output, Rejected):
                    stats.read += 1
                    reject(output.item, output.reason, stats, on_error, rejects)
                    continue
                if isinstance(output, DroppedOut):
                    stats.read += 1
                    stats.drop(output.dropped)
                    dropped.write(output.source, output.line, output.dropped)
                    continue
                n = next(records)
                if isinstance(output, WrittenShard):
                    sink.add_shard(output.entry)  # type: ignore[attr-defined]
                elif verdicts is not None and not on_cluster:
                    kept, written = _decide(output, next(block_keys), verdicts, stats, dropped)  # type: ignore[arg-type]
                    if written:
                        write_lines(kept, written)
                    stats.read += n - written
                    n = written
                elif isinstance(output, Spilled):
                    sink.write_spilled(output, n)  # type: ignore[attr-defined]
                    spilled = output.path
                else:
                    write_lines(output, n)
                stats.read += n
                stats.written += n
            if spilled is not None:
                os.unlink(spilled)
            stats.bytes_in += result.bytes_in
            stats.counts.update(result.counts)
            if progress is not None:
                progress.advance(result.records, result.bytes_in)
            if on_batch is not None:
                on_batch(stats)
            if flush is not None:
                flush()
    if verdicts is not None:
        verdicts.finish()
    stats.seconds = time.perf_counter() - started
    return stats


def _decide(
    block: bytes, keys: list[tuple[Any, ...]], verdicts: Verdicts, stats: RunCounts, dropped: DroppedStream
) -> tuple[bytes, int]:
    """The lines of ``block`` the in-order verdicts keep, and how many; the others go to the dropped stream,
    counted. A block with no drop (the common case) is kept whole, unsplit."""
    decide = verdicts.decide
    drops = [decide(record_keys, record_id, None) for record_id, record_keys, _source, _line in keys]
    if not any(drops):
        return block, len(keys)
    kept = []
    # An encoded record holds no raw line break: the block splits into its records at each one.
    for line, verdict, (_id, _keys, source, number) in zip(block.splitlines(keepends=True), drops, keys, strict=True):
        if verdict is None:
            kept.append(line)
            continue
        verdict = Dropped(verdict.step, verdict.drop, orjson.loads(line))
        stats.drop(verdict)
        dropped.write(source, number, verdict)
    return b"".join(kept), len(kept)


#: Where workers leave their output for the main process: a RAM file system when the machine has one.
_SPILL_ROOT = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


def _renumber(result: BatchResult, base: int) -> None:
    """Make the line numbers of a range batch's rejects and drops count from the start of its file."""
    for k, output in enumerate(result.outputs):
        if isinstance(output, Rejected) and output.item.line is not None:
            item = dataclasses.replace(output.item, line=output.item.line + base)
            result.outputs[k] = Rejected(item, output.reason)
        elif isinstance(output, DroppedOut) and output.line is not None:
            result.outputs[k] = DroppedOut(output.source, output.line + base, output.dropped)
    for keys in result.block_keys:  # (id, keys, source, line) of each record an ordered pass decides on
        for j, (record_id, record_keys, source, line) in enumerate(keys):
            if line is not None:
                keys[j] = (record_id, record_keys, source, line + base)


def _line_by_line(sink: Sink) -> Callable[[bytes, int], None]:
    """``write_lines`` for a sink that only has ``write_line``."""

    def write_lines(block: bytes, records: int) -> None:
        for line in io.BytesIO(block):
            sink.write_line(line)

    return write_lines


def _pass_batch(shared: tuple[Pipeline, tuple[Step, ...]], batch: Batch) -> tuple[list[Any], int]:
    """The partial states of one batch for the corpus passes of ``shared``'s steps (which all read the records as
    they come out of ``shared``'s prefix pipeline), and the batch's size in bytes. Unusable and dropped records are
    left out (the main pass reports them)."""
    prefix, steps = shared
    passes = [step.corpus_pass for step in steps]
    states = [corpus_pass.start(step.options) for corpus_pass, step in zip(passes, steps, strict=True)]  # type: ignore[union-attr]
    size = batch.size  # as the input has it (a file batch's compressed size), before it is read
    if isinstance(batch, (RangeBatch, FileBatch)):
        batch = batch.read()
    for entry in _entries(batch, prefix.text_field):
        if type(entry) is tuple:
            value = entry[1]
        elif entry.error is None:
            value = entry.record
        else:
            continue
        try:
            record = prefix.process(value)
        except RecordError:
            continue
        if type(record) is Dropped:
            continue
        doc = Doc(record, prefix.text_field)
        for corpus_pass, state in zip(passes, states, strict=True):
            corpus_pass.add(state, doc)  # type: ignore[union-attr]
    return states, size


def _merge_parts(
    passes: Sequence[CorpusPass], left: tuple[list[Any], int], right: tuple[list[Any], int]
) -> tuple[list[Any], int]:
    """Two batches' partial states (``left`` comes first in input order) merged, and their bytes added."""
    states = [p.merge(s, part) for p, s, part in zip(passes, left[0], right[0], strict=True)]
    return states, left[1] + right[1]


def _batches_for(
    engine: Engine, paths: Sequence[str], batch_bytes: int | None, *, stdin_is_text: bool = False
) -> Iterator[Batch]:
    """The batches of ``paths`` as ``engine``'s workers read them (see :class:`Engine`), of ``batch_bytes`` or the
    size the engine likes (a cluster's tasks are larger: each costs its client a few milliseconds)."""
    batch_bytes = batch_bytes or getattr(engine, "batch_bytes", BATCH_BYTES)
    ranges = getattr(engine, "reads_files", False)
    return batches(
        paths,
        batch_bytes=batch_bytes,
        ranges=ranges,
        whole_files=getattr(engine, "reads_whole_files", False),
        stdin_is_text=stdin_is_text,
        eager_stdin=getattr(engine, "jobs", None) == 1,
    )


def run_corpus_passes(
    paths: Sequence[str],
    prefix: Pipeline,
    steps: Sequence[Step],
    *,
    engine: Engine | None = None,
    batch_bytes: int | None = None,
    progress: Progress | None = None,
) -> list[Any]:
    """What ``steps``' corpus passes compute over ``paths``, in one read: the records as they come out of
    ``prefix``, partial states of batches built in parallel, merged in input order, finished."""
    engine = engine or LocalEngine(1)
    passes = [step.corpus_pass for step in steps]
    states: list[Any] | None = None
    shared = (prefix, tuple(steps))
    items = _batches_for(engine, paths, batch_bytes)
    map_reduce = getattr(engine, "map_reduce", None)
    if map_reduce is not None:  # merged where the parts were built, in a tree: one state comes back
        merged = map_reduce(_pass_batch, shared, items, partial(_merge_parts, tuple(passes)))
        if merged is not None:
            states, nbytes = merged
            if progress is not None:
                progress.advance(0, nbytes)
    else:
        for parts, nbytes in engine.map(_pass_batch, shared, items):
            states = parts if states is None else _merge_parts(passes, (states, 0), (parts, 0))[0]
            if progress is not None:
                progress.advance(0, nbytes)
    if states is None:
        states = [p.start(step.options) for p, step in zip(passes, steps, strict=True)]  # type: ignore[union-attr]
    return [p.finish(s, step.options) for p, s, step in zip(passes, states, steps, strict=True)]  # type: ignore[union-attr]


# ----------------------------------------------------------------------------------------- clean's plan


@dataclass(frozen=True)
class CleanPlan:
    """What ``clean`` runs: each registered step's options (``None`` = switched off), in pipeline order, and where
    the corpus passes' results come from.

    ``corpus_aware`` runs each step's corpus pass over the inputs first (files only: stdin cannot be read twice);
    ``index`` loads a prebuilt teasers index instead of its pass.
    """

    steps: tuple[tuple[str, Any], ...] = ()
    text_field: str = "text"
    corpus_aware: bool = True
    index: str | None = None

    def enabled(self) -> tuple[str, ...]:
        return tuple(name for name, options in self.steps if options is not None)

    def config(self) -> dict[str, Any]:
        """The resolved configuration, as plain data: recorded in manifests and hashed."""
        from corpus_tools.config import options_dict

        return {
            "steps": list(self.enabled()),
            "text_field": self.text_field,
            "corpus_aware": self.corpus_aware and self.index is None,
            "index": self.index,
            **{name: options_dict(options) for name, options in self.steps if options is not None},
        }

    def built(self, states: dict[str, Any] | None = None) -> list[Step]:
        """The enabled steps, each given its corpus pass's result from ``states`` (by step name) if there is one."""
        from corpus_tools.registry import step_named

        states = states or {}
        return [step_named(name)(options, states.get(name)) for name, options in self.steps if options is not None]

    def pipeline(self, states: dict[str, Any] | None = None) -> Pipeline:
        return Pipeline(tuple(self.built(states)), self.text_field)

    def can_pass(self, paths: Sequence[str]) -> bool:
        """Corpus passes need inputs that can be read twice."""
        inputs = list(paths) or [STDIN]
        return self.corpus_aware and STDIN not in inputs


def corpus_states(
    plan: CleanPlan,
    paths: Sequence[str],
    engine: Engine,
    progress: Progress | None = None,
    warn: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """The results of the enabled steps' corpus passes, in stages: each pass reads the records as they reach its
    step, through the steps before it (given the passes' results before it).

    A prebuilt teasers index (``plan.index``) stands in for the teasers' pass; one whose band leaves some teaser
    lengths out gives the warning ``teasers --index`` gives, through ``warn`` (default: a line on stderr).
    """
    states: dict[str, Any] = {}
    steps = plan.built()
    pending: list[tuple[tuple[str, ...], Step]] = []  # (the steps its pass reads after, the step), in order
    for k, step in enumerate(steps):
        corpus_pass = step.corpus_pass
        if not isinstance(corpus_pass, CorpusPass):  # none, or an ordered pass (decided during the main pass)
            continue
        if step.name == "teasers" and plan.index is not None:
            states[step.name], warning = corpus_pass.load(plan.index, step.options)
            if warning:
                (warn or _print_warning)(warning)
            continue
        if plan.can_pass(paths):
            reads = tuple(s.name for s in steps[:k] if corpus_pass.after is None or s.name in corpus_pass.after)
            pending.append((reads, step))
    # Passes that read the records after the same steps, none of which waits for a pass, share one read.
    while pending:
        reads, _ = pending[0]
        waiting = {step.name for _, step in pending}
        stage = [step for r, step in pending if r == reads and not waiting.intersection(r)]
        if not stage:  # the first reads after a step whose own pass is still to run: that one first
            stage = [pending[0][1]]
        if progress is not None:
            progress.phase(" + ".join(step.name for step in stage) + " pass")
        built = {step.name: step for step in plan.built(states)}
        prefix = Pipeline(tuple(built[name] for name in reads), plan.text_field)
        for step, state in zip(
            stage, run_corpus_passes(paths, prefix, stage, engine=engine, progress=progress), strict=True
        ):
            states[step.name] = state
        pending = [(r, step) for r, step in pending if step not in stage]
    return states


def _print_warning(line: str) -> None:
    print(line, file=sys.stderr)


def _checkpoint(
    plan: CleanPlan,
    paths: Sequence[str],
    output: str | None,
    engine: Engine,
    rejects: str | None,
    dropped: str | None,
    shard_records: int | None,
    shard_bytes: int | None,
    shard_format: str,
) -> Any:
    """clean --resume's checkpoint for ``output``, or a one-line error saying why this run cannot be resumed."""
    from corpus_tools.config import config_hash
    from corpus_tools.resume import Checkpoint, fingerprint
    from corpus_tools.shards import is_directory_target

    if not is_directory_target(output):
        raise ConfigError("--resume needs a directory output: -o DIR/")
    if rejects or dropped:
        raise ConfigError("--resume cannot be used with --rejects or --dropped (they would hold the resumed part only)")
    # An ordered pass's state is carried over through its journal (OrderedPass.journal): a pass without one is not.
    unjournaled = [
        step.name
        for step in plan.built()
        if isinstance(step.corpus_pass, OrderedPass) and type(step.corpus_pass).journal is OrderedPass.journal
    ]
    if unjournaled:
        raise ConfigError(
            f"--resume cannot carry the in-order verdicts of {', '.join(unjournaled)} over to a second run: "
            f"add --no-{unjournaled[0]}, or run without --resume"
        )
    config = plan.config()
    material = {
        "config_hash": config_hash(config),
        "shard_records": shard_records,
        "shard_bytes": shard_bytes,
        "shard_format": shard_format,
        "batch_bytes": BATCH_BYTES,
    }
    return Checkpoint(output, fingerprint(paths, material))  # type: ignore[arg-type]


def _workers_write(engine: Engine, pipeline: Pipeline, shard_records: int | None, checkpoint: Any) -> bool:
    """Whether the engine's workers write the shards: a cluster's, unless ``--shard-size`` asks for a record count
    per shard (which only the process that sees every record can keep), ``--resume`` is on, or an ordered pass must
    decide in input order on the client (``--save-index``)."""
    return (
        getattr(engine, "writes_shards", False)
        and shard_records is None
        and checkpoint is None
        and all(step.corpus_pass.on_cluster(step.options) for step in pipeline.ordered)  # type: ignore[union-attr]
    )


def clean_corpus(
    plan: CleanPlan,
    paths: Sequence[str],
    output: str | None = None,
    *,
    engine: Engine | None = None,
    on_error: OnError = OnError.fail,
    rejects: str | None = None,
    dropped: str | None = None,
    shard_records: int | None = None,
    shard_bytes: int | None = None,
    progress: Progress | None = None,
    warn: Callable[[str], None] | None = None,
    shard_format: str = "jsonl",
    resume: bool = False,
) -> tuple[RunCounts, dict[str, Any]]:
    """Run ``plan`` over ``paths`` and write ``output``: stdout (``None``/``-``), a file, or shards (``DIR/``).

    Returns the run's counts and its manifest (inputs, counts, resolved config and its hash, versions). The
    manifest goes into ``DIR/manifest.json`` for sharded output and into ``FILE.manifest.json`` beside a file:
    the records themselves are never changed, so ``clean`` stays byte-identical to the pipe of single commands.
    ``warn`` gets each warning line (a prebuilt index that does not cover the teasers band); default: stderr.
    ``shard_format``: ``jsonl`` or ``parquet`` shards. ``resume``: shards go into place one by one with a progress
    file, and a run that stopped part-way is picked up where it stopped (see :mod:`corpus_tools.resume`).
    """
    from corpus_tools.config import config_hash
    from corpus_tools.io import open_output
    from corpus_tools.shards import (
        DEFAULT_SHARD_RECORDS,
        ShardWriter,
        WorkerShards,
        is_directory_target,
        versions,
    )

    sharded = is_directory_target(output)
    if not sharded and (shard_records is not None or shard_bytes is not None):
        raise ConfigError("--shard-size and --shard-bytes need a directory output: -o DIR/")
    if not sharded and shard_format != "jsonl":
        raise ConfigError("--shard-format needs a directory output: -o DIR/")
    engine = engine or LocalEngine(1)
    config = plan.config()
    started = time.perf_counter()
    # The ordered passes' states first (dedup loads --against, checks near mode's packages): a run that cannot
    # start says so before the output is touched.
    ordered_steps = Pipeline(tuple(plan.built()), plan.text_field).ordered
    verdicts = Verdicts(ordered_steps) if ordered_steps else None
    checkpoint = (
        _checkpoint(plan, paths, output, engine, rejects, dropped, shard_records, shard_bytes, shard_format)
        if resume
        else None
    )
    with contextlib.ExitStack() as stack:
        states = checkpoint.states() if checkpoint is not None else None
        if states is None:
            states = corpus_states(plan, paths, engine, progress, warn)
            if checkpoint is not None:
                checkpoint.save_states(states)
        if progress is not None:
            progress.phase("cleaning")
        reject_stream = Rejects(stack.enter_context(open_output(rejects)) if rejects else None)
        dropped_stream = DroppedStream(stack.enter_context(open_output(dropped)) if dropped else None)
        pipeline = plan.pipeline(states)
        batch_bytes = None
        if sharded and _workers_write(engine, pipeline, shard_records, checkpoint):
            # The workers write one shard per part of the input; the client writes the manifest, last.
            sink: Any = stack.enter_context(WorkerShards(output, shard_format, plan.text_field))  # type: ignore[arg-type]
            batch_bytes = shard_bytes
        elif sharded:
            records = shard_records or DEFAULT_SHARD_RECORDS
            sink = stack.enter_context(
                ShardWriter(
                    output,  # type: ignore[arg-type]
                    records=records,
                    max_bytes=shard_bytes,
                    shard_format=shard_format,
                    text_field=plan.text_field,
                    checkpoint=checkpoint,
                )
            )
        else:
            sink = StreamSink(stack.enter_context(open_output(output)))
        if checkpoint is not None and verdicts is not None:
            checkpoint.attach(verdicts)  # dedup's kept records of the stopped run, replayed
        stats = run_pipeline(
            paths,
            pipeline,
            sink,
            verdicts=verdicts,
            batch_bytes=batch_bytes,
            engine=checkpoint.engine(engine) if checkpoint is not None else engine,
            on_error=on_error,
            rejects=reject_stream,
            dropped=dropped_stream,
            progress=progress,
            on_batch=(lambda counts: checkpoint.batch_done(counts, sink.records)) if checkpoint is not None else None,
        )
        if checkpoint is not None:
            from corpus_tools.resume import added

            stats = added(checkpoint.base, stats)
        stats.seconds = time.perf_counter() - started
        manifest = {
            "inputs": list(paths) or [STDIN],
            "counts": stats.counts_dict(),
            "config": config,
            "config_hash": config_hash(config),
            "versions": versions(),
        }
        if sharded:
            sink.finish(manifest)
    if output and not sharded and writes_a_file(output):  # no /dev/stdout.manifest.json, nor one beside a FIFO
        with open_output(f"{output}.manifest.json") as stream:
            stream.write(orjson.dumps({"output": os.path.basename(output), **manifest}, option=orjson.OPT_INDENT_2))
            stream.write(b"\n")
    return stats, manifest
