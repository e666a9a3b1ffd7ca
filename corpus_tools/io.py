"""All file and stream I/O lives here: steps only ever see records.

Reading: ``.txt`` (or any non-JSON file) is one document; ``.jsonl``/``.json``/``.ndjson`` are JSON lines;
either may be gzip- or zstd-compressed (detected from the magic bytes, so a misnamed file still reads).
Directories are walked recursively in sorted order, globs are expanded, ``-`` is stdin.
Writing: stdout, or a path written to a temporary file beside it and renamed into place at the end, with
compression chosen from the suffix. JSON goes through ``jsonlines`` with orjson's ``loads``/``dumps``.
"""

from __future__ import annotations

import contextlib
import glob
import gzip
import io
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import orjson
import zstandard

from corpus_tools.errors import InputError, RecordError
from corpus_tools.ingest import document_record
from corpus_tools.records import Record

if TYPE_CHECKING:
    import jsonlines

STDIN = "-"
JSON_SUFFIXES = frozenset({".jsonl", ".json", ".ndjson"})
COMPRESSION_SUFFIXES = frozenset({".gz", ".zst", ".zstd"})
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
GLOB_CHARS = frozenset("*?[")
MANIFEST_NAME = "manifest.json"  # written by ``clean`` beside its output; see corpus_tools/shards.py
_LINE_COLUMN = re.compile(r"line \d+ column (\d+) \(char \d+\)")


@dataclass(frozen=True, slots=True)
class Item:
    """One input record, or the reason it could not be read, with where it came from.

    ``line`` is the 1-based line of a JSON-lines input, ``None`` for a whole-file document.
    ``raw`` keeps the undecodable input line (for the rejects stream) when ``record`` is ``None``.
    """

    source: str
    line: int | None
    record: Any = None
    error: str | None = None
    raw: str | None = None

    @property
    def where(self) -> str:
        return self.source if self.line is None else f"{self.source}:{self.line}"


# --------------------------------------------------------------------------------------------- inputs


def expand_inputs(paths: Sequence[str]) -> list[str]:
    """Resolve the command line's inputs to an ordered list of files (``-`` for stdin).

    Raises :class:`InputError` for a missing path, a glob that matches nothing or a directory with no files.
    """
    if not paths:
        return [STDIN]
    files: list[str] = []
    for path in paths:
        if path == STDIN:
            files.append(STDIN)
        elif os.path.isdir(path):
            found = _walk(path)
            if not found:
                raise InputError("directory holds no input files", path)
            files.extend(found)
        elif os.path.exists(path):
            files.append(path)
        elif GLOB_CHARS.intersection(path):
            matches = sorted(glob.glob(path, recursive=True))
            if not matches:
                raise InputError("no files match this pattern", path)
            for match in matches:
                files.extend(_walk(match) if os.path.isdir(match) else [match])
        else:
            raise InputError("no such file or directory", path)
    return files


def _walk(directory: str) -> list[str]:
    """Every non-hidden data file below ``directory``, in a stable sorted order.

    The manifests ``clean`` writes (``manifest.json``, ``OUT.manifest.json``) describe a corpus rather than hold
    records, so a folder written by ``clean -o DIR/`` reads back as its shards. Named explicitly, they still read.
    """
    found: list[str] = []
    for root, dirs, names in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(os.path.join(root, n) for n in sorted(names) if not n.startswith(".") and not _is_manifest(n))
    return found


def _is_manifest(name: str) -> bool:
    return name == MANIFEST_NAME or name.endswith(f".{MANIFEST_NAME}")


def is_json_lines(path: str) -> bool:
    """Whether ``path`` holds JSON lines (by its suffix, under any compression suffix)."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    while suffixes and suffixes[-1] in COMPRESSION_SUFFIXES:
        suffixes.pop()
    return bool(suffixes) and suffixes[-1] in JSON_SUFFIXES


def document_id(path: str) -> str:
    """A text document's id: its file name without compression suffixes and one more suffix."""
    stem, suffix = os.path.splitext(Path(path).name)
    while suffix.lower() in COMPRESSION_SUFFIXES:
        stem, suffix = os.path.splitext(stem)
    return stem


def open_binary(path: str) -> BinaryIO:
    """Open ``path`` (or stdin for ``-``) for reading, decompressing gzip or zstd transparently."""
    if path == STDIN:
        raw: BinaryIO = sys.stdin.buffer
    else:
        try:
            raw = open(path, "rb")  # noqa: SIM115 - returned to the caller, who closes it
        except OSError as exc:
            raise InputError(exc.strerror or str(exc), path) from None
    if not hasattr(raw, "peek"):
        raw = io.BufferedReader(raw)  # type: ignore[arg-type]
    head = raw.peek(4)[:4]  # type: ignore[attr-defined]
    if head.startswith(GZIP_MAGIC):
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    if head.startswith(ZSTD_MAGIC):
        reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True, closefd=True)
        # zstandard's reader is not line-iterable; a buffered wrapper makes it behave like a file.
        return io.BufferedReader(reader)  # type: ignore[arg-type]
    return raw


def read_items(paths: Sequence[str], *, text_field: str = "text", stdin_is_text: bool = False) -> Iterator[Item]:
    """Yield every input record (or the reason it is unreadable) in input order.

    JSON-lines inputs yield one :class:`Item` per non-blank line; other files one per file.
    ``stdin_is_text`` makes ``-`` one raw text document instead of JSON lines (``ingest`` uses it).
    A missing or unreadable file raises :class:`InputError`: nothing in it can be counted as a record.
    """
    for path in expand_inputs(paths):
        if path == STDIN:
            yield from (_read_document(path, text_field) if stdin_is_text else _read_json_lines(path))
        elif is_json_lines(path):
            yield from _read_json_lines(path)
        else:
            yield from _read_document(path, text_field)


def _read_document(path: str, text_field: str) -> Iterator[Item]:
    yield document_item(path, read_document_bytes(path), text_field)


def read_document_bytes(path: str) -> bytes:
    """All the (decompressed) bytes of one raw document, ``-`` for stdin (left open)."""
    stream = open_binary(path)
    try:
        return stream.read()
    except (OSError, EOFError, zstandard.ZstdError) as exc:
        raise InputError(f"cannot read: {exc}", path) from None
    finally:
        if path != STDIN:
            stream.close()


def document_item(path: str, data: bytes, text_field: str = "text") -> Item:
    """The item for one raw text document's bytes (also used by the parallel engine on its batches)."""
    doc_id = "stdin" if path == STDIN else document_id(path)
    try:
        return Item(path, None, document_record(doc_id, path, data, text_field))
    except RecordError as exc:
        return Item(path, None, error=exc.reason)


def _read_json_lines(path: str) -> Iterator[Item]:
    stream = open_binary(path)
    try:
        yield from json_line_items(_LineCounter(stream, path), path)
    finally:
        if path != STDIN:
            stream.close()


def json_line_items(lines: Iterable[bytes], source: str) -> Iterator[Item]:
    """Parse JSON lines into items; ``lines`` counts the lines it hands out in ``.lineno`` (as ``_LineCounter``
    does), so a block cut from the middle of a file (the parallel engine's batches) keeps its true line numbers.
    """
    import jsonlines  # here, not at the top: clean's engine parses with orjson and needs it only for bad lines

    reader = jsonlines.Reader(lines, loads=orjson.loads)
    while True:
        try:
            value = reader.read(skip_empty=True, allow_none=True)
        except EOFError:
            return
        except jsonlines.InvalidLineError as exc:
            raw = exc.line.decode("utf-8", "replace") if isinstance(exc.line, bytes) else exc.line
            reason = "invalid UTF-8" if "utf-8" in str(exc) else "invalid JSON"
            cause = exc.__cause__
            # orjson counts lines within the one line it was given: keep only the column. (The line number
            # comes from ``lines``, not from jsonlines, which counts from 1 wherever the lines started.)
            detail = _LINE_COLUMN.sub(r"column \1", str(cause)) if cause is not None else ""
            detail = f" ({detail})" if detail and reason == "invalid JSON" else ""
            yield Item(source, reader_line(reader), error=f"{reason}{detail}", raw=raw.rstrip("\n"))
            continue
        yield Item(source, reader_line(reader), value)


class _LineCounter:
    """Wraps a binary stream as a line iterator and remembers the number of the last line handed out."""

    def __init__(self, stream: BinaryIO, path: str) -> None:
        self.stream = stream
        self.path = path
        self.lineno = 0

    def __iter__(self) -> Iterator[bytes]:
        try:
            for line in self.stream:
                self.lineno += 1
                yield line
        except (OSError, EOFError, zstandard.ZstdError) as exc:
            raise InputError(f"cannot read: {exc}", self.path, self.lineno + 1) from None


def reader_line(reader: jsonlines.Reader) -> int:
    """The line number of the record ``reader`` returned last (jsonlines tracks it for errors only)."""
    return reader._file_or_iterable.lineno  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------------- outputs


def compression_for(path: str) -> str | None:
    suffix = Path(path).suffix.lower()
    if suffix == ".gz":
        return "gzip"
    if suffix in (".zst", ".zstd"):
        return "zstd"
    return None


@contextlib.contextmanager
def open_output(path: str | None) -> Iterator[BinaryIO]:
    """A binary stream to write to: stdout for ``None``/``-``, else an atomic, optionally compressed file.

    The file is written as a hidden temporary beside ``path`` and renamed over it only when the block ends
    without an exception, so an interrupted run never leaves a partial file under the final name.
    """
    if path is None or path == STDIN:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    target = Path(path)
    if target.parent and not target.parent.exists():
        raise InputError("output folder does not exist", str(target.parent))
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    raw = os.fdopen(fd, "wb")
    try:
        kind = compression_for(path)
        if kind == "gzip":
            # mtime=0 keeps the bytes reproducible from run to run.
            with gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as stream:
                yield stream  # type: ignore[misc]
        elif kind == "zstd":
            with zstandard.ZstdCompressor(level=3).stream_writer(raw, closefd=False) as stream:
                yield stream  # type: ignore[misc]
        else:
            yield raw
        raw.close()
        os.replace(tmp_name, target)
    except BaseException:
        raw.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


class RecordWriter:
    """Writes records as JSON lines with orjson through jsonlines."""

    def __init__(self, stream: BinaryIO) -> None:
        import jsonlines

        self._writer = jsonlines.Writer(stream, dumps=orjson.dumps)
        self.count = 0

    def write(self, record: Record) -> None:
        try:
            self._writer.write(record)
        except TypeError as exc:  # orjson: lone surrogates or non-JSON values
            raise RecordError(f"cannot encode as JSON: {exc}") from None
        self.count += 1


def write_records(records: Iterable[Record], path: str | None) -> int:
    """Write ``records`` to ``path`` (see :func:`open_output`); return how many were written."""
    with open_output(path) as stream:
        writer = RecordWriter(stream)
        for record in records:
            writer.write(record)
        return writer.count


def read_records(paths: Sequence[str], *, text_field: str = "text") -> Iterator[Record]:
    """Convenience for library users: the records of ``paths``, raising :class:`InputError` on bad input."""
    for item in read_items(paths, text_field=text_field):
        if item.error is not None:
            raise InputError(item.error, item.source, item.line)
        yield item.record


def dumps_line(value: Any) -> bytes:
    """One JSON line (with its newline), for side streams such as rejects."""
    return orjson.dumps(value) + b"\n"
