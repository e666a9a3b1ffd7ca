"""All file and stream I/O lives here: steps only ever see records.

Reading: ``.txt`` (or any non-JSON file) is one document; ``.jsonl``/``.json``/``.ndjson`` are JSON lines;
either may be gzip- or zstd-compressed (detected from the magic bytes, so a misnamed file still reads); a
compressed file that ends early is an error, never a silently shorter input.
Directories are walked recursively in sorted order (symlinked folders followed, loops skipped), globs are expanded,
``-`` is stdin.
Writing: stdout, or a path written to a temporary file beside it and renamed into place at the end, with
compression chosen from the suffix (see :func:`open_output` for symlinks, devices, FIFOs and file modes).
JSON goes through ``jsonlines`` with orjson's ``loads``/``dumps``.
"""

from __future__ import annotations

import bz2
import contextlib
import contextvars
import errno
import glob
import gzip
import io
import lzma
import os
import re
import secrets
import socket
import stat
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import orjson
import zstandard

from corpus_tools.errors import CorpusError, InputError, OutputError, RecordError
from corpus_tools.ingest import BOM, document_record
from corpus_tools.records import Record, RefusedValue, exact_loads
from corpus_tools.storage import is_parquet, is_url

if TYPE_CHECKING:
    import jsonlines

STDIN = "-"
STDOUT_NAME = "<stdout>"  # how an error names standard output
JSON_SUFFIXES = frozenset({".jsonl", ".json", ".ndjson", ".jl", ".jsonlines"})
TEXT_SUFFIXES = frozenset({".txt", ".text"})
INPUT_FORMATS = ("auto", "jsonl", "text")
#: How inputs are read: ``auto`` (by suffix, else by content; stdin is JSON lines), or every input ``jsonl`` or
#: ``text``. Set for a run with :func:`reading_as` (the commands' ``--input-format``).
_INPUT_FORMAT: contextvars.ContextVar[str] = contextvars.ContextVar("input_format", default="auto")
COMPRESSION_SUFFIXES = frozenset({".gz", ".zst", ".zstd", ".xz", ".bz2"})
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
XZ_MAGIC = b"\xfd7zXZ\x00"
#: bzip2: "BZh", the block size ("1"-"9"), then the magic of a first block or of the end of the stream (empty input).
BZ2_MAGIC = re.compile(rb"BZh[1-9](?:\x31\x41\x59\x26\x53\x59|\x17\x72\x45\x38\x50\x90)")
#: What reading a (compressed) input can raise when the data is cut short or damaged.
READ_ERRORS = (OSError, EOFError, zstandard.ZstdError, lzma.LZMAError)
GLOB_CHARS = frozenset("*?[")
MANIFEST_NAME = "manifest.json"  # written by ``clean`` beside its output; see corpus_tools/shards.py
_LINE_COLUMN = re.compile(r"line \d+ column (\d+) \(char \d+\)")
_COLUMN = re.compile(r"column \d+")


@dataclass(frozen=True, slots=True)
class Item:
    """One input record, or the reason it could not be read, with where it came from.

    ``line`` is the 1-based line of a JSON-lines input, ``None`` for a whole-file document.
    ``raw`` keeps the undecodable input line (for the rejects stream) when ``record`` is ``None``; when the line
    is not valid UTF-8, ``raw`` shows the bad bytes as U+FFFD and ``raw_bytes`` keeps the line's exact bytes.
    """

    source: str
    line: int | None
    record: Any = None
    error: str | None = None
    raw: str | None = None
    raw_bytes: bytes | None = None

    @property
    def where(self) -> str:
        return self.source if self.line is None else f"{self.source}:{self.line}"


# --------------------------------------------------------------------------------------------- inputs


def expand_inputs(paths: Sequence[str]) -> list[str]:
    """Resolve the command line's inputs to an ordered list of files (``-`` for stdin).

    Raises :class:`InputError` for a missing path, a glob that matches nothing or a directory with no files.
    """
    return [path for path, _ in input_files(paths)]


def input_files(paths: Sequence[str]) -> list[tuple[str, str]]:
    """:func:`expand_inputs` with each file's document id: its path relative to the folder given (``a/doc`` for
    ``ids/a/doc.txt`` under ``ids/``), or its name for a file given itself; without suffixes; ``stdin`` for ``-``.
    So two ``index.txt`` in two folders of one input never share an id."""
    if not paths:
        return [(STDIN, "stdin")]
    files: list[tuple[str, str]] = []
    for path in paths:
        if path == STDIN:
            files.append((STDIN, "stdin"))
        elif is_url(path):  # s3://, gs://, file:// ...: listed through fsspec (corpus_tools/storage.py)
            from corpus_tools.storage import expand

            files.extend(expand(path))
        elif os.path.isdir(path):
            found = _walk(path)
            # a folder `clean -o DIR/` wrote for a run that kept no record holds its manifest alone: no records
            if not found and not os.path.isfile(os.path.join(path, MANIFEST_NAME)):
                raise InputError("directory holds no input files", path)
            files.extend((file, relative_id(file, path)) for file in found)
        elif os.path.exists(path):
            files.append((path, document_id(path)))
        elif GLOB_CHARS.intersection(path):
            matches = sorted(glob.glob(path, recursive=True))
            if not matches:
                raise InputError("no files match this pattern", path)
            for match in matches:
                if os.path.isdir(match):
                    files.extend((file, relative_id(file, match)) for file in _walk(match))
                else:
                    files.append((match, document_id(match)))
        else:
            raise InputError("no such file or directory", path)
    return files


def relative_id(path: str, folder: str) -> str:
    """The id of a document found below ``folder``: its path relative to it, ``/``-separated, without suffixes."""
    parent = os.path.dirname(os.path.relpath(path, folder))
    parts = [*parent.split(os.sep), document_id(path)] if parent else [document_id(path)]
    return "/".join(parts)


def _walk(directory: str) -> list[str]:
    """Every non-hidden data file below ``directory``, in a stable sorted order.

    A folder's files come first (sorted by name), then each subfolder's in name order, as ``os.walk`` lists them.
    Symlinked subfolders are followed like symlinked files; a link back to a folder that contains it (a loop) is
    skipped with a one-line warning on stderr: its files are being read already, so nothing is lost, and
    following it would never end. A folder that cannot be listed is an :class:`InputError`, not a silent gap.

    The manifests ``clean`` writes (``manifest.json``, ``OUT.manifest.json``) describe a corpus rather than hold
    records, so a folder written by ``clean -o DIR/`` reads back as its shards. Named explicitly, they still read.
    """
    found: list[str] = []
    # Depth first with an explicit stack (no recursion limit); each folder carries the (device, inode) of the
    # folders it is in, which is what a loop returns to.
    stack: list[tuple[str, frozenset[tuple[int, int]]]] = [(directory, frozenset({_folder_key(directory)}))]
    while stack:
        folder, ancestors = stack.pop()
        try:
            with os.scandir(folder) as listing:
                entries = sorted((e for e in listing if not e.name.startswith(".")), key=lambda e: e.name)
        except OSError as exc:
            raise InputError(f"cannot read folder: {_os_reason(exc)}", folder) from None
        subfolders: list[tuple[str, frozenset[tuple[int, int]]]] = []
        for entry in entries:
            if not _is_folder(entry):
                if not _is_manifest(entry.name):
                    found.append(entry.path)
                continue
            key = _folder_key(entry.path)
            if key in ancestors:
                if entry.path not in _LOOPS_WARNED:  # once per run, though clean walks the inputs more than once
                    _LOOPS_WARNED.add(entry.path)
                    print(
                        f"warning: {printable(entry.path)}: skipped, a link to a folder it is in (a loop)",
                        file=sys.stderr,
                    )
                continue
            subfolders.append((entry.path, ancestors | {key}))
        stack.extend(reversed(subfolders))
    return found


_LOOPS_WARNED: set[str] = set()


def _is_folder(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()  # follows symlinks: a linked folder is walked too
    except OSError:
        return False  # a dangling or unreadable link is listed as a file, and reading it reports the problem


def _folder_key(path: str) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_dev, st.st_ino


def _is_manifest(name: str) -> bool:
    return name == MANIFEST_NAME or name.endswith(f".{MANIFEST_NAME}")


@contextlib.contextmanager
def reading_as(input_format: str) -> Iterator[None]:
    """Read every input of the block as ``input_format`` (see :data:`INPUT_FORMATS`)."""
    if input_format not in INPUT_FORMATS:
        raise ValueError(f"input format must be one of {', '.join(INPUT_FORMATS)}, not {input_format!r}")
    token = _INPUT_FORMAT.set(input_format)
    try:
        yield
    finally:
        _INPUT_FORMAT.reset(token)


def input_format() -> str:
    """The input format set by :func:`reading_as` (``auto`` outside one)."""
    return _INPUT_FORMAT.get()


def is_json_lines(path: str) -> bool:
    """Whether ``path`` holds JSON lines: as :func:`reading_as` says, else by its suffix (under any compression
    suffix): ``.jsonl``, ``.json``, ``.ndjson``, ``.jl``, ``.jsonlines`` are, ``.txt`` is not; else by its content
    (:func:`looks_like_json_lines`). Stdin is JSON lines unless the format is ``text``."""
    forced = _INPUT_FORMAT.get()
    if forced != "auto":
        return forced == "jsonl"
    if path == STDIN:
        return True
    suffixes = [s.lower() for s in Path(path).suffixes]
    while suffixes and suffixes[-1] in COMPRESSION_SUFFIXES:
        suffixes.pop()
    if suffixes and suffixes[-1] in JSON_SUFFIXES:
        return True
    if suffixes and suffixes[-1] in TEXT_SUFFIXES:
        return False
    # a FIFO (<(...)), a device: read once, so not sniffed; JSON lines, like stdin (a URL is sniffed)
    if not is_url(path) and not os.path.isfile(path):
        return os.path.exists(path)
    return looks_like_json_lines(path)


_SNIFF_BYTES = 1 << 16
#: Said when stdin's first line is not JSON: raw text is read with a flag, or by ingest.
STDIN_HINT = (
    "stdin is read as JSON lines: raw text needs --input-format text (or corpus-tools ingest, without --stdin-jsonl)"
)


def looks_like_json_lines(path: str) -> bool:
    """Whether the file ``path`` (decompressed) starts, after blank lines and a UTF-8 BOM, with a line that is a JSON
    object: ``{`` ... ``}`` (a first line longer than 64 KiB: ``{``). A file that cannot be read is not (its reader
    reports why)."""
    try:
        stream = open_binary(path)
        try:
            head = stream.read(_SNIFF_BYTES)
        finally:
            stream.close()
    except (CorpusError, *READ_ERRORS):
        return False
    head = head.removeprefix(BOM).lstrip(b" \t\r\n")
    end = head.find(b"\n")
    if end < 0 and len(head) < _SNIFF_BYTES:
        end = len(head)
    first = head[:end].rstrip() if end >= 0 else head
    return first.startswith(b"{") and (end < 0 or first.endswith(b"}"))


def document_id(path: str) -> str:
    """A text document's id: its file name without compression suffixes and one more suffix."""
    stem, suffix = os.path.splitext(Path(path).name)
    while suffix.lower() in COMPRESSION_SUFFIXES:
        stem, suffix = os.path.splitext(stem)
    return stem


def compressed(head: bytes) -> bool:
    """Whether a file starting with ``head`` (its first 10 bytes) is compressed in a way :func:`open_binary` reads."""
    return head.startswith((GZIP_MAGIC, ZSTD_MAGIC, XZ_MAGIC)) or BZ2_MAGIC.match(head) is not None


#: Called once, before the first read of stdin when stdin is a terminal (the CLI prints a one-line hint: a command
#: given no input would otherwise wait there in silence). ``None``: nothing.
on_terminal_stdin: Callable[[], None] | None = None


def _reading_a_terminal() -> None:
    global on_terminal_stdin
    hook, on_terminal_stdin = on_terminal_stdin, None  # once per process
    if hook is not None:
        try:
            tty = sys.stdin.isatty()
        except (AttributeError, ValueError):  # no stdin, or a closed one
            tty = False
        if tty:
            hook()


class ClosedStream:
    """Stands in for a standard stream the process was started without (``<&-``, ``>&-``; Python then has ``None``
    there): it is no terminal, and reading or writing it is one error line (exit 2), not a traceback."""

    def __init__(self, error: CorpusError) -> None:
        self._error = error

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        raise OSError(errno.EBADF, "the stream is closed")

    @property
    def buffer(self) -> BinaryIO:
        raise self._error

    def read(self, *args: Any) -> Any:
        raise self._error

    def write(self, data: Any) -> int:
        raise self._error

    def flush(self) -> None:
        pass  # nothing was written: the interpreter's last flush has nothing to do


def stand_in_for_closed_streams() -> None:
    """Put a :class:`ClosedStream` where stdin or stdout is missing, and discard what goes to a missing stderr."""
    if sys.stdin is None:
        sys.stdin = ClosedStream(InputError("cannot read: standard input is closed", STDIN))  # type: ignore[assignment]
    if sys.stdout is None:
        sys.stdout = ClosedStream(OutputError("cannot write: standard output is closed", STDOUT_NAME))  # type: ignore[assignment]
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process


def before_reading(paths: Sequence[str]) -> None:
    """Call :data:`on_terminal_stdin` now if ``paths`` will read a terminal's stdin (none given, or ``-``): for a
    command that draws a progress bar before it reads, so the hint is not drawn into the bar."""
    if not paths or STDIN in paths:
        _reading_a_terminal()


def open_binary(path: str) -> BinaryIO:
    """Open ``path`` (or stdin for ``-``) for reading, decompressing gzip, zstd, xz or bz2 transparently.

    A compressed stream that ends before its end marker raises ``EOFError`` once the data before the cut has been
    read (gzip does that itself; zstd through :class:`_ZstdFrames`), so a truncated download is never taken for a
    shorter, complete input.
    """
    if path == STDIN:
        _reading_a_terminal()
        raw: BinaryIO = sys.stdin.buffer
    elif is_url(path):
        from corpus_tools.storage import open_read

        raw = open_read(path)
    else:
        try:
            raw = open(path, "rb")  # noqa: SIM115 - returned to the caller, who closes it
        except OSError as exc:
            raise InputError(_strerror(exc), path) from None
    if not hasattr(raw, "peek"):
        raw = io.BufferedReader(raw)  # type: ignore[arg-type]
    head = raw.peek(10)[:10]  # type: ignore[attr-defined]
    if head.startswith(XZ_MAGIC):  # lzma and bz2 raise EOFError at a cut, as gzip does
        return lzma.LZMAFile(raw, "rb")  # type: ignore[return-value]
    if BZ2_MAGIC.match(head):
        return bz2.BZ2File(raw, "rb")  # type: ignore[return-value]
    if head.startswith(GZIP_MAGIC):
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    if head.startswith(ZSTD_MAGIC):
        # A buffered wrapper makes the decompressed stream line-iterable, like a file.
        return io.BufferedReader(_ZstdFrames(raw), _ZSTD_BUFFER)  # type: ignore[return-value]
    return raw


_ZSTD_READ_SIZE = 1 << 17  # compressed bytes read from the file at a time (zstd's recommended input size)
_ZSTD_OUTPUT_TARGET = 1 << 22  # about this many decompressed bytes per call, so memory stays flat
_ZSTD_BUFFER = 1 << 16


class _ZstdFrames(io.RawIOBase):
    """The decompressed bytes of the zstd frames in ``source``, raising ``EOFError`` if the last one is cut short.

    zstandard's ``stream_reader`` returns end-of-file where a truncated frame stops, without an error: it does not
    tell whether a frame was complete. Its ``decompressobj()`` (one frame per object, ``read_across_frames=False``)
    does: ``eof`` is true once the frame is complete, and ``unused_data`` holds the bytes after it (the next frame,
    or junk, which the next object rejects with ``ZstdError``). Input at the end of the file while a frame is open is
    a truncated file. Data decoded before an error is handed out first, so the error names the right line.

    ``decompressobj`` returns everything one input chunk decodes to; the chunk fed is sized from the last ratio
    seen so that a call yields about ``_ZSTD_OUTPUT_TARGET`` bytes, even for a file that decompresses 30000:1.
    """

    def __init__(self, source: BinaryIO) -> None:
        self._source = source
        self._dctx = zstandard.ZstdDecompressor()
        self._frame: Any = None  # the decompressobj of the frame being read, None between frames
        self._input = b""
        self._output = memoryview(b"")
        self._feed = 128  # small until the first output shows the ratio

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._output:
            if not self._decompress():
                return 0
        n = min(len(buffer), len(self._output))
        buffer[:n] = self._output[:n]
        self._output = self._output[n:]
        return n

    def _decompress(self) -> bool:
        """Decode the next chunk of input into ``_output``; ``False`` at the end of the last complete frame."""
        if not self._input:
            self._input = self._source.read(_ZSTD_READ_SIZE)
            if not self._input:
                if self._frame is not None:
                    raise EOFError("compressed file ended before the end of its zstd frame")
                return False
        if self._frame is None:
            self._frame = self._dctx.decompressobj()
        chunk, self._input = self._input[: self._feed], self._input[self._feed :]
        out = self._frame.decompress(chunk)
        if self._frame.eof:
            self._input = self._frame.unused_data + self._input
            self._frame = None
        if out:
            self._feed = max(64, min(_ZSTD_READ_SIZE, len(chunk) * _ZSTD_OUTPUT_TARGET // len(out)))
        else:
            self._feed = min(_ZSTD_READ_SIZE, self._feed * 2)
        self._output = memoryview(out)
        return True

    def close(self) -> None:
        if not self.closed:
            self._source.close()
        super().close()


def read_items(paths: Sequence[str], *, text_field: str = "text", stdin_is_text: bool = False) -> Iterator[Item]:
    """Yield every input record (or the reason it is unreadable) in input order.

    JSON-lines inputs yield one :class:`Item` per non-blank line; other files one per file.
    ``stdin_is_text`` makes ``-`` one raw text document instead of JSON lines (``ingest`` uses it), unless
    :func:`reading_as` says ``jsonl``. Which files are JSON lines: :func:`is_json_lines`.
    A missing or unreadable file raises :class:`InputError`: nothing in it can be counted as a record.
    """
    for path, doc_id in input_files(paths):
        reason = unreadable(path)
        if reason is not None:
            yield Item(path, None, error=reason)
        elif is_parquet(path):
            from corpus_tools.storage import ParquetLines

            yield from json_line_items(ParquetLines(path), path)
        elif path == STDIN and stdin_is_text and _INPUT_FORMAT.get() != "jsonl":
            yield from _read_document(path, text_field)
        elif is_json_lines(path):
            yield from _read_json_lines(path)
        else:
            yield from _read_document(path, text_field, doc_id)


def unreadable(path: str) -> str | None:
    """Why the input file ``path`` cannot be opened (a broken symlink in a folder, no permission), else ``None``: a
    reject under ``--on-error skip``, like a binary file, so one such file does not stop a run over a folder.
    A URL is not looked at here: opening it reports what is wrong."""
    if path == STDIN or is_url(path):
        return None
    try:  # a look, not an open: opening a FIFO would wait for its writer, or cut it off when closed again
        st = os.stat(path)
    except OSError as exc:
        broken = " (a broken symbolic link)" if exc.errno == errno.ENOENT and os.path.islink(path) else ""
        return f"cannot open: {_strerror(exc)}{broken}"
    if stat.S_ISREG(st.st_mode) and not os.access(path, os.R_OK):
        return "cannot open: permission denied"
    return None


def _read_document(path: str, text_field: str, doc_id: str | None = None) -> Iterator[Item]:
    yield document_item(path, read_document_bytes(path), text_field, doc_id)


def read_document_bytes(path: str, name: str | None = None) -> bytes:
    """All the (decompressed) bytes of one raw document, ``-`` for stdin (left open); ``name``: what messages call
    it (default ``path``)."""
    try:
        stream = open_binary(path)
    except InputError as exc:
        raise InputError(exc.reason, name or path) from None
    try:
        return stream.read()
    except READ_ERRORS as exc:
        raise InputError(f"cannot read: {exc}", name or path) from None
    finally:
        if path != STDIN:
            stream.close()


def document_item(path: str, data: bytes, text_field: str = "text", doc_id: str | None = None) -> Item:
    """The item for one raw text document's bytes (also used by the parallel engine on its batches); ``doc_id``
    from :func:`input_files` (default: the file's name without suffixes)."""
    doc_id = doc_id or ("stdin" if path == STDIN else document_id(path))
    try:
        return Item(path, None, document_record(doc_id, path, data, text_field))
    except RecordError as exc:
        # stdin cannot be read again: its bytes go to the rejects (a file's stay in the file)
        return Item(path, None, error=exc.reason, raw_bytes=data if path == STDIN else None)


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

    reader = jsonlines.Reader(lines, loads=exact_loads)
    while True:
        try:
            value = reader.read(skip_empty=True, allow_none=True)
        except EOFError:
            return
        except jsonlines.InvalidLineError as exc:
            raw = exc.line.decode("utf-8", "replace") if isinstance(exc.line, bytes) else exc.line
            cause = exc.__cause__
            if isinstance(cause, RefusedValue):  # valid JSON, but it would not come out as it went in
                yield Item(source, reader_line(reader), error=str(cause), raw=raw.rstrip("\n"))
                continue
            reason = "invalid UTF-8" if "utf-8" in str(exc) else "invalid JSON"
            # U+FFFD hides what the bad bytes were: keep them, so the rejects stream can give the line back. The
            # decode error holds the line as read (jsonlines strips trailing whitespace from ``exc.line``).
            exact = _strip_newline(bytes(cause.object)) if isinstance(cause, UnicodeDecodeError) else None
            # orjson counts lines within the one line it was given: keep only the column. (The line number
            # comes from ``lines``, not from jsonlines, which counts from 1 wherever the lines started.)
            detail = _LINE_COLUMN.sub(r"column \1", str(cause)) if cause is not None else ""
            if getattr(cause, "lineno", 1) > 1:  # past the line's end (orjson was given its "\n" too): the end
                detail = _COLUMN.sub(f"column {len(raw.rstrip(chr(10)).rstrip(chr(13))) + 1}", detail)
            detail = f" ({detail})" if detail and reason == "invalid JSON" else ""
            if source == STDIN and reader_line(reader) == 1 and not raw.lstrip().startswith(("{", "[")):
                detail += f"; {STDIN_HINT}"
            yield Item(source, reader_line(reader), error=f"{reason}{detail}", raw=raw.rstrip("\n"), raw_bytes=exact)
            continue
        yield Item(source, reader_line(reader), value)


def _strip_newline(line: bytes) -> bytes:
    return line[:-1] if line.endswith(b"\n") else line


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
        except READ_ERRORS as exc:
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
    if suffix in (".xz", ".bz2"):
        return suffix[1:]
    return None


# What an error number means for an output path, in the words of the one-line error.
_OS_REASONS = {
    errno.EISDIR: "is a directory",
    errno.ENOENT: "folder does not exist",
    errno.ENOTDIR: "not a directory",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "read-only file system",
    errno.ENOSPC: "no space left on device",
}
# The names of this process's own descriptors: writing to them is writing to that descriptor (never a rename).
_DESCRIPTOR_PATH = re.compile(r"/(?:dev|proc/(?:self|thread-self|(\d+))(?:/task/\d+)?)/fd/(\d+)")
_STANDARD_STREAMS = {"/dev/stdout": 1, "/dev/stderr": 2}


def _os_reason(exc: OSError) -> str:
    """Why ``path`` cannot be used, from the error of a look at it (``stat``)."""
    return _OS_REASONS.get(exc.errno or 0) or _strerror(exc)


def _strerror(exc: OSError) -> str:
    """The system's words, lower-cased like the rest of the message (creating in /proc gives ENOENT, for one)."""
    reason = exc.strerror or str(exc)
    return reason[:1].lower() + reason[1:]


def printable(text: str) -> str:
    """``text`` that can be written as UTF-8: bytes a file name smuggles in (``surrogateescape``) as ``\\xff``,
    other lone surrogates as ``\\udc00``; valid text is returned unchanged."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _descriptor(path: str) -> int | None:
    """The descriptor ``path`` names when it is one of this process's own (``/dev/stdout``, ``/dev/fd/3``,
    ``/proc/self/fd/1``, or a symlink to one of them), else ``None``."""
    current = os.path.abspath(path)
    for _ in range(40):  # the kernel's own limit on a chain of symlinks
        if current in _STANDARD_STREAMS:
            return _STANDARD_STREAMS[current]
        match = _DESCRIPTOR_PATH.fullmatch(current)
        if match:
            return int(match[2]) if match[1] in (None, str(os.getpid())) else None
        try:
            target = os.readlink(current)
        except OSError:
            return None  # not a symlink (or not there): an ordinary path
        current = os.path.normpath(os.path.join(os.path.dirname(current), target))
    return None


def writes_to_stdout(path: str | None) -> bool:
    """Whether :func:`open_output` of ``path`` writes to stdout (``None``, ``-``, ``/dev/stdout``, ``/dev/fd/1``)."""
    return path is None or path == STDIN or _descriptor(path) == 1


def check_output_path(path: str | None, *, shards_allowed: bool = False) -> None:
    """Raise :class:`OutputError` (``PATH: reason``, one line) if ``path`` cannot be written, before any work.

    ``None`` and ``-`` (stdout) always can. A trailing ``/`` is a folder of shards, which only ``clean`` writes
    (``shards_allowed``); with it an existing directory is a shards target too, which must be empty or hold a
    previous sharded output. Symlinks are followed: the file (or folder) they point to is what gets replaced.
    :func:`open_output` and the shard writer call this too, so the library is safe without the CLI's early call.
    """
    if path is None or path == STDIN or _descriptor(path) is not None:
        return
    if is_url(path):
        from corpus_tools.storage import check_output

        check_output(path)
        return
    if path.endswith(("/", os.sep)):
        if not shards_allowed:
            raise OutputError("a folder path (ending in /) is only for clean's shards", path)
        _check_shards_target(path)
        return
    target = os.path.realpath(path)
    st = _stat_output(target, path)
    if st is not None and stat.S_ISDIR(st.st_mode):
        if shards_allowed:
            _check_shards_target(path)
            return
        raise OutputError("is a directory", path)
    if st is not None and not os.access(target, os.W_OK):
        raise OutputError("permission denied", path)
    if st is None or stat.S_ISREG(st.st_mode):
        _check_folder(path, os.path.dirname(target))  # the new file is created there and renamed over the old


def _check_folder(path: str, folder: str) -> None:
    try:
        st = os.stat(folder or ".")
    except FileNotFoundError:
        raise OutputError("folder does not exist", path) from None
    except OSError as exc:
        raise OutputError(_os_reason(exc), path) from None
    if not stat.S_ISDIR(st.st_mode):
        raise OutputError("not a directory", path)
    if not os.access(folder or ".", os.W_OK | os.X_OK):
        raise OutputError("permission denied", path)


def _stat_output(target: str, path: str) -> os.stat_result | None:
    """What is at an output's resolved ``target`` (``None``: nothing yet). A file where a folder should be, a loop
    of symlinks or no permission to look is an :class:`OutputError` naming ``path`` as the user gave it."""
    try:
        return os.stat(target)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise OutputError(_os_reason(exc), path) from None


def _check_shards_target(path: str) -> None:
    target = os.path.realpath(path.rstrip("/" + os.sep) or path)
    st = _stat_output(target, path)
    if st is not None:
        if not stat.S_ISDIR(st.st_mode):
            raise OutputError("not a directory", path)
        if os.listdir(target) and not previous_shards(target):
            raise OutputError(
                "output directory is not empty and is not a previous corpus-tools output; "
                "choose a new or empty directory",
                path,
            )
    _check_folder(path, os.path.dirname(target))  # shards are written in a new folder beside it, then renamed


def previous_shards(directory: str) -> bool:
    """Whether ``directory`` holds only a previous sharded output (a manifest and shards, or the part of one that a
    stopped or failed run left: shards, progress files) and may be replaced."""
    from corpus_tools.resume import _ours

    names = os.listdir(directory)
    return bool(names) and all(_ours(n) for n in names)


def create_beside(target: str, *, folder: bool = False) -> tuple[int | None, str]:
    """A new hidden file (open for writing: its descriptor) or folder (descriptor ``None``) beside ``target``.

    It is created with mode 0o666 (0o777 for a folder) and the kernel applies the umask, as for any new file:
    ``mkstemp``/``mkdtemp`` would make it 0600/0700 and the output would keep that after the rename. The umask is
    never read: reading it means setting it, which would race with other threads creating files.
    """
    directory, name = os.path.split(target)
    for _ in range(100):
        candidate = os.path.join(directory, f".{name}.{secrets.token_hex(4)}.tmp")
        try:
            if folder:
                os.mkdir(candidate, 0o777)
                return None, candidate
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
            return os.open(candidate, flags, 0o666), candidate
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", target)


def keep_owner_and_mode(fd_or_path: int | str, previous: os.stat_result) -> None:
    """Give a replacement the owner, group and permissions of what it replaces (owner only where allowed)."""
    if (previous.st_uid, previous.st_gid) != (os.geteuid(), os.getegid()):
        with contextlib.suppress(OSError):  # only root may give a file away; the mode still carries over
            os.chown(fd_or_path, previous.st_uid, previous.st_gid)
    os.chmod(fd_or_path, stat.S_IMODE(previous.st_mode))  # after chown, which clears set-id bits


def _encoder(raw: BinaryIO, path: str) -> Any:
    """The compressing stream for ``path``'s suffix over ``raw``, or ``None`` for plain output."""
    kind = compression_for(path)
    if kind == "gzip":
        # mtime=0 keeps the bytes reproducible from run to run.
        return gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0)
    if kind == "zstd":
        return zstandard.ZstdCompressor(level=3).stream_writer(raw, closefd=False)
    if kind == "xz":
        return lzma.LZMAFile(raw, "wb")
    if kind == "bz2":
        return bz2.BZ2File(raw, "wb")
    return None


def writes_a_file(path: str | None) -> bool:
    """Whether :func:`open_output` writes ``path`` as a regular file (so a sidecar such as ``PATH.manifest.json``
    belongs beside it): not stdout, not ``/dev/stdout`` or another descriptor, not a FIFO, device or socket."""
    if path is None or path == STDIN or _descriptor(path) is not None:
        return False
    if is_url(path):
        return True
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return True  # not there yet: it will be a new file


@contextlib.contextmanager
def open_output(path: str | None) -> Iterator[BinaryIO]:
    """A binary stream to write to: stdout for ``None``/``-``, else an atomic, optionally compressed file.

    A regular file (new or existing) is written as a hidden temporary beside it and renamed over it only when the
    block ends without an exception, so an interrupted run never leaves a partial file under the final name. A new
    file gets the usual mode (0o666 less the umask); a replaced file keeps its mode (and owner, where allowed).
    A symlink is followed: the file it points to is replaced, the link stays. Something that is not a regular
    file (a FIFO, a device such as ``/dev/null``, a Unix socket) is written to directly: there is nothing to
    replace. ``/dev/stdout`` (``/dev/fd/N``, ``/proc/self/fd/N``) is that descriptor, so it behaves like stdout.
    An output that cannot be created or finished raises :class:`OutputError` (``PATH: reason``).
    """
    if path is None or path == STDIN:
        try:
            yield sys.stdout.buffer
            sys.stdout.buffer.flush()
        except BrokenPipeError:
            raise  # the reader went away: the CLI stops quietly
        except OSError as exc:
            if exc.filename is not None:
                raise
            raise OutputError(f"cannot write: {_strerror(exc)}", STDOUT_NAME) from None
        return
    if is_url(path):
        from corpus_tools import storage

        with storage.open_output(path) as stream:
            yield stream
        return
    descriptor = _descriptor(path)
    if descriptor is not None:
        with _descriptor_output(path, descriptor) as stream:
            yield stream
        return
    check_output_path(path)
    target = os.path.realpath(path)
    st = _stat_output(target, path)
    if st is not None and not stat.S_ISREG(st.st_mode):
        with _direct_output(path, target, st) as stream:
            yield stream
    else:
        with _atomic_output(path, target, st) as stream:
            yield stream


@contextlib.contextmanager
def _descriptor_output(path: str, descriptor: int) -> Iterator[BinaryIO]:
    standard = {1: sys.stdout, 2: sys.stderr}.get(descriptor)
    if standard is not None:
        yield standard.buffer
        standard.buffer.flush()
        return
    try:
        raw = open(os.dup(descriptor), "wb")  # noqa: SIM115 - closed below; a copy, so the descriptor stays open
    except OSError as exc:
        raise OutputError(_os_reason(exc), path) from None
    with _finishing(path, raw) as stream:
        yield stream


@contextlib.contextmanager
def _direct_output(path: str, target: str, st: os.stat_result) -> Iterator[BinaryIO]:
    try:
        if stat.S_ISSOCK(st.st_mode):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.connect(target)
                fd = sock.detach()
        else:
            # No O_TRUNC or O_CREAT: a FIFO or a device is opened as it is (a FIFO waits here for its reader).
            fd = os.open(target, os.O_WRONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0))
        raw = open(fd, "wb")  # noqa: SIM115 - closed in _finishing
    except OSError as exc:
        raise OutputError(_os_reason(exc), path) from None
    with _finishing(path, raw) as stream:
        yield stream


@contextlib.contextmanager
def _atomic_output(path: str, target: str, previous: os.stat_result | None) -> Iterator[BinaryIO]:
    try:
        fd, tmp_name = create_beside(target)
        assert fd is not None
    except OSError as exc:
        raise OutputError(f"cannot create the output: {_strerror(exc)}", path) from None
    try:
        if previous is not None:
            keep_owner_and_mode(fd, previous)
        raw = open(fd, "wb")  # noqa: SIM115 - closed in _finishing
    except BaseException as exc:
        os.close(fd)
        os.unlink(tmp_name)
        if isinstance(exc, OSError):
            raise OutputError(f"cannot create the output: {_strerror(exc)}", path) from None
        raise
    try:
        with _finishing(path, raw) as stream:
            yield stream
        try:
            os.replace(tmp_name, target)
        except OSError as exc:
            raise OutputError(f"cannot rename the output into place: {_strerror(exc)}", path) from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


@contextlib.contextmanager
def _finishing(path: str, raw: BinaryIO) -> Iterator[BinaryIO]:
    """Yield ``raw`` (compressed by ``path``'s suffix); close both at the end, an error there an OutputError."""
    encoder = _encoder(raw, path)
    try:
        yield encoder or raw
    except BaseException as exc:
        with contextlib.suppress(Exception):
            if encoder is not None:
                encoder.close()
        with contextlib.suppress(Exception):
            raw.close()
        if isinstance(exc, OSError) and not isinstance(exc, BrokenPipeError) and exc.filename is None:
            raise OutputError(f"cannot write: {_strerror(exc)}", path) from None  # a full disk while writing
        raise
    try:
        if encoder is not None:
            encoder.close()
        raw.close()
    except BrokenPipeError:
        raise  # the reader went away: the CLI stops quietly, as for stdout
    except OSError as exc:
        with contextlib.suppress(Exception):
            raw.close()
        raise OutputError(f"cannot write: {_strerror(exc)}", path) from None


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
