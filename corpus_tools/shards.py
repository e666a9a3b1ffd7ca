"""Sharded output for datasets: ``part-00000.jsonl.zst`` ... and a ``manifest.json``, written atomically.

Shards are written into a hidden temporary directory beside the target and the directory is renamed into place
only once every shard is closed and the manifest is written, so a reader never sees a half-written corpus: the
target holds either the previous complete output or the new one. A directory that holds something other than a
previous corpus-tools output is never touched. A symlink to a folder is followed (the folder it points to is
replaced, the link stays), and the new folder gets the usual mode (0o777 less the umask; a replaced folder keeps
its mode), as a file written by :func:`corpus_tools.io.open_output` does.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import platform
import shutil
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any, BinaryIO

import orjson
import zstandard

from corpus_tools import __version__
from corpus_tools.errors import CorpusError, InputError, OutputError
from corpus_tools.io import MANIFEST_NAME, check_output_path, create_beside, keep_owner_and_mode, previous_shards
from corpus_tools.io import _strerror as _reason

MANIFEST = MANIFEST_NAME  # one name, so directory walks know to skip it (corpus_tools/io.py)
SHARD_PATTERN = "part-{:05d}.jsonl.zst"
PARQUET_PATTERN = "part-{:05d}.parquet"
SHARD_FORMATS = ("jsonl", "parquet")
MANIFEST_FORMAT = "corpus-tools.shards/1"
#: Records per shard by default: about 50-100 MB of news text before compression, a common shard size.
DEFAULT_SHARD_RECORDS = 10_000
ZSTD_LEVEL = 3
KEY_DEPENDENCIES = ("ftfy", "regex", "orjson", "jsonlines", "zstandard")


def is_directory_target(path: str | None) -> bool:
    """``-o DIR/`` (a trailing slash) or an existing directory means sharded output (a URL: a trailing slash, or a
    prefix that holds objects)."""
    from corpus_tools.storage import is_dir, is_url

    if is_url(path):
        return path.endswith("/") or is_dir(path)  # type: ignore[union-attr]
    return bool(path) and path not in ("-",) and (path.endswith(("/", os.sep)) or os.path.isdir(path))  # type: ignore[union-attr]


def versions() -> dict[str, str]:
    """The versions that made a corpus: corpus-tools, Python and the dependencies that shape the bytes."""
    found = {"corpus-tools": __version__, "python": platform.python_version()}
    for name in KEY_DEPENDENCIES:
        try:
            found[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:  # pragma: no cover - all are hard dependencies
            found[name] = "missing"
    return found


class _Hashing:
    """A write-only file wrapper that hashes and counts the bytes going to disk (the compressed shard)."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        self.size += len(data)
        return self.raw.write(data)

    def flush(self) -> None:
        self.raw.flush()


def _previous_output(directory: Path) -> bool:
    """Whether ``directory`` holds only a previous sharded output (a manifest and shards) and may be replaced."""
    return previous_shards(str(directory))


def full_manifest(
    manifest: dict[str, Any], shard_format: str, records: int, shards: list[dict[str, Any]]
) -> dict[str, Any]:
    """``manifest.json``'s content: the run's ``manifest`` fields, then the shards (whoever wrote them)."""
    return {
        "format": MANIFEST_FORMAT,
        **manifest,
        **({"shard_format": shard_format} if shard_format != "jsonl" else {}),
        "records": records,
        "shards": shards,
    }


def parquet_shard(lines: list[bytes], text_field: str, name: str, output: str) -> bytes:
    """A Parquet shard's bytes; a value that fits no Parquet column is one :class:`OutputError` naming the shard."""
    from corpus_tools.storage import parquet_bytes

    try:
        return parquet_bytes(lines, text_field)
    except CorpusError:
        raise
    except Exception as exc:  # a value that fits no Parquet column (a key of two kinds, say)
        raise OutputError(f"cannot write {name} as Parquet: {exc}", output) from None


class _Lines:
    """Collects a Parquet shard's encoded lines until it closes (a Parquet file is written whole)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(data)
        return len(data)

    def lines(self) -> list[bytes]:
        return b"".join(self.parts).splitlines(keepends=True)  # an encoded record holds no raw line break


class ShardWriter:
    """Writes encoded JSON lines into zstd shards of at most ``records`` records and ``max_bytes`` bytes.

    ``max_bytes`` counts uncompressed JSON bytes; a shard closes at whichever limit comes first (a single record
    larger than ``max_bytes`` still makes a shard of its own). Use as a context manager: leaving the block with an
    exception removes everything written; :meth:`finish` writes the manifest and moves the corpus into place.

    ``shard_format="parquet"`` writes ``part-NNNNN.parquet`` (:func:`corpus_tools.storage.records_table`).
    A URL target (``s3://bucket/out/``), or a ``checkpoint`` (``clean --resume``), writes each shard into the
    target itself, under a hidden temporary name moved into place once the shard is closed, and the manifest last
    (:class:`corpus_tools.resume.DirectTarget`); a local target without a checkpoint is swapped in whole.
    """

    def __init__(
        self,
        directory: str,
        *,
        records: int | None = DEFAULT_SHARD_RECORDS,
        max_bytes: int | None = None,
        shard_format: str = "jsonl",
        text_field: str = "text",
        checkpoint: Any = None,
    ):
        if records is not None and records < 1:
            raise InputError("--shard-size must be at least 1")
        if max_bytes is not None and max_bytes < 1:
            raise InputError("--shard-bytes must be at least 1")
        if shard_format not in SHARD_FORMATS:
            raise InputError(f"--shard-format must be one of {', '.join(SHARD_FORMATS)}, not {shard_format!r}")
        self.path = directory  # as given, for messages
        self.shard_format = shard_format
        self.text_field = text_field
        self.pattern = PARQUET_PATTERN if shard_format == "parquet" else SHARD_PATTERN
        self.checkpoint = checkpoint
        self.shards: list[dict[str, Any]] = []
        self.records = 0
        self._file: BinaryIO | None = None
        self._hashing: _Hashing | None = None
        self._stream: Any = None
        self._shard_records = 0
        self._shard_bytes = 0
        self._bytes = 0
        self._skip = 0  # records already in complete shards (a resumed run starts inside a batch)
        self.max_records = records
        self.max_bytes = max_bytes
        from corpus_tools.storage import is_url

        self.direct: Any = None
        if is_url(directory) or checkpoint is not None:
            from corpus_tools.resume import DirectTarget

            self.direct = checkpoint.target if checkpoint is not None else DirectTarget(directory)
            if checkpoint is None:
                self.direct.prepare()
            else:
                self.shards, self._skip = checkpoint.restored()
                self.records = sum(s["records"] for s in self.shards)
            return
        # A folder target whether or not it was given with its trailing slash.
        check_output_path(directory.rstrip("/" + os.sep) + os.sep, shards_allowed=True)
        self.target = Path(os.path.realpath(directory.rstrip("/" + os.sep) or directory))
        try:
            self.tmp = Path(create_beside(str(self.target), folder=True)[1])
            if self.target.is_dir():
                keep_owner_and_mode(str(self.tmp), os.stat(self.target))
        except OSError as exc:
            if hasattr(self, "tmp"):
                shutil.rmtree(self.tmp, ignore_errors=True)
            raise OutputError(f"cannot create the output: {_reason(exc)}", directory) from None

    # -- writing

    def write_line(self, line: bytes) -> None:
        if self._skip:
            self._skip -= 1
            return
        if self._stream is None:
            self._open()
        elif (self.max_records is not None and self._shard_records >= self.max_records) or (
            self.max_bytes is not None and self._shard_bytes + len(line) > self.max_bytes
        ):
            self._close()
            self._open()
        self._stream.write(line)
        self._shard_records += 1
        self._shard_bytes += len(line)
        self.records += 1

    def write_lines(self, block: bytes, records: int) -> None:
        """``records`` whole lines; split only when they would not all go into the current shard."""
        fits = (
            not self._skip
            and self._stream is not None
            and (self.max_records is None or self._shard_records + records <= self.max_records)
            and (self.max_bytes is None or self._shard_bytes + len(block) <= self.max_bytes)
        )
        if not fits:
            for line in io.BytesIO(block):
                self.write_line(line)
            return
        self._stream.write(block)
        self._shard_records += records
        self._shard_bytes += len(block)
        self.records += records

    def _open(self) -> None:
        name = self.pattern.format(len(self.shards))
        if self.direct is not None:
            self._file = self.direct.open_shard(name)
        else:
            try:
                self._file = open(self.tmp / name, "wb")  # noqa: SIM115 - closed in _close
            except OSError as exc:
                raise OutputError(f"cannot write: {_reason(exc)}", self.path) from None
        self._hashing = _Hashing(self._file)  # type: ignore[arg-type]
        if self.shard_format == "parquet":
            self._stream = _Lines()
        else:
            self._stream = zstandard.ZstdCompressor(level=ZSTD_LEVEL).stream_writer(self._hashing, closefd=False)
        self.shards.append({"path": name})
        self._shard_records = 0
        self._shard_bytes = 0

    def _close(self) -> None:
        if self._stream is None:
            return
        try:
            assert self._file is not None and self._hashing is not None
            if isinstance(self._stream, _Lines):
                self._hashing.write(self._parquet(self._stream.lines()))
            else:
                self._stream.close()
            self._file.close()
        except OSError as exc:
            raise OutputError(f"cannot write: {_reason(exc)}", self.path) from None
        except Exception as exc:
            if self.direct is None:
                raise
            from corpus_tools.storage import reason

            raise OutputError(f"cannot write: {reason(exc)}", self.direct.shown) from None
        self.shards[-1].update(
            records=self._shard_records,
            bytes=self._hashing.size,
            json_bytes=self._shard_bytes,
            sha256=self._hashing.sha256.hexdigest(),
        )
        self._stream = self._file = self._hashing = None
        if self.direct is not None:
            self.direct.commit_shard(self.shards[-1]["path"])
        if self.checkpoint is not None:
            self.checkpoint.shard_done(self)

    def _parquet(self, lines: list[bytes]) -> bytes:
        return parquet_shard(lines, self.text_field, self.shards[-1]["path"], self.path)

    # -- finishing

    def finish(self, manifest: dict[str, Any]) -> dict[str, Any]:
        """Close the last shard, write ``manifest.json`` (``manifest`` + the shards), move the corpus into place."""
        self._close()
        full = full_manifest(manifest, self.shard_format, self.records, self.shards)
        if self.direct is not None:
            self.direct.finish(orjson.dumps(full, option=orjson.OPT_INDENT_2) + b"\n", [s["path"] for s in self.shards])
            if self.checkpoint is not None:
                self.checkpoint.finished()
            return full
        try:
            (self.tmp / MANIFEST).write_bytes(orjson.dumps(full, option=orjson.OPT_INDENT_2) + b"\n")
            self._move_into_place()
        except OSError as exc:
            raise OutputError(f"cannot write: {_reason(exc)}", self.path) from None
        return full

    def _move_into_place(self) -> None:
        old: Path | None = None
        if self.target.exists():
            if any(self.target.iterdir()):
                # A previous output: move it aside first, so the swap is two renames and never a partial state.
                old = Path(create_beside(str(self.target), folder=True)[1])
                os.rmdir(old)
                os.rename(self.target, old)
            else:
                os.rmdir(self.target)
        os.rename(self.tmp, self.target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            if self._stream is not None and not isinstance(self._stream, _Lines):
                self._stream.close()
            if self._file is not None:
                self._file.close()
        if self.direct is not None:
            self.direct.abort()  # the shard being written; the complete ones stay for --resume
            return
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(self, kind: Any, value: Any, tb: Any) -> None:
        if self.direct is not None:
            if kind is not None or self._file is not None:
                self.abort()
            return
        if kind is not None or self.tmp.exists():
            # Left with an exception, or without finish(): nothing may appear under the target name.
            self.abort()


def read_manifest(directory: str) -> dict[str, Any]:
    """The manifest of a sharded output directory (or URL)."""
    from corpus_tools.storage import filesystem, is_url

    if is_url(directory):
        fs, path = filesystem(directory)
        return orjson.loads(fs.cat_file(f"{path.rstrip('/')}/{MANIFEST}"))
    return orjson.loads((Path(directory) / MANIFEST).read_bytes())


# ------------------------------------------------------------------------------------ shards written by workers


class ShardTarget:
    """Where a cluster's workers write their shards, picklable: each batch's records become one shard, named after
    the batch's place in the input (``part-00007`` is the eighth batch; a batch with no record writes none),
    written under a hidden temporary name and moved into place when complete (so a retried task never leaves a
    partial shard visible)."""

    def __init__(self, directory: str, shard_format: str = "jsonl", text_field: str = "text") -> None:
        if shard_format not in SHARD_FORMATS:
            raise InputError(f"--shard-format must be one of {', '.join(SHARD_FORMATS)}, not {shard_format!r}")
        self.directory = directory
        self.shard_format = shard_format
        self.text_field = text_field

    def write(self, index: int, blocks: list[bytes], records: int) -> dict[str, Any]:
        """Write the shard of batch ``index`` (``blocks`` of encoded lines, ``records`` in all): its manifest entry."""
        from corpus_tools.resume import DirectTarget

        name = (PARQUET_PATTERN if self.shard_format == "parquet" else SHARD_PATTERN).format(index)
        target = DirectTarget(self.directory)
        try:
            hashing = _Hashing(target.open_shard(name))
            if self.shard_format == "parquet":
                lines = b"".join(blocks).splitlines(keepends=True)
                hashing.write(parquet_shard(lines, self.text_field, name, self.directory))
            else:
                with zstandard.ZstdCompressor(level=ZSTD_LEVEL).stream_writer(hashing, closefd=False) as stream:
                    for block in blocks:
                        stream.write(block)
            hashing.raw.close()
            target.commit_shard(name)
        except OSError as exc:
            target.abort()
            raise OutputError(f"cannot write {name}: {_reason(exc)}", self.directory) from None
        except BaseException:
            target.abort()
            raise
        return {
            "path": name,
            "records": records,
            "bytes": hashing.size,
            "json_bytes": sum(map(len, blocks)),
            "sha256": hashing.sha256.hexdigest(),
        }


class WorkerShards:
    """The client's side of shards written by a cluster's workers: it prepares the folder (or URL prefix), takes
    the workers' manifest entries in input order, and writes ``manifest.json`` last, so a reader that sees the
    manifest sees every shard it lists."""

    def __init__(self, directory: str, shard_format: str = "jsonl", text_field: str = "text") -> None:
        from corpus_tools.resume import DirectTarget

        self.shard_target = ShardTarget(directory, shard_format, text_field)  # what the workers write with
        self.direct = DirectTarget(directory)
        self.created = not self.direct.names() and not self.direct.fs.exists(self.direct.root)
        self.direct.prepare()
        self.shards: list[dict[str, Any]] = []
        self.records = 0

    def add_shard(self, entry: dict[str, Any]) -> None:
        self.shards.append(entry)
        self.records += entry["records"]

    def write_lines(self, block: bytes, records: int) -> None:
        raise AssertionError("the workers write the records of a sharded output")

    def finish(self, manifest: dict[str, Any]) -> dict[str, Any]:
        full = full_manifest(manifest, self.shard_target.shard_format, self.records, self.shards)
        self.direct.finish(orjson.dumps(full, option=orjson.OPT_INDENT_2) + b"\n", [s["path"] for s in self.shards])
        return full

    def __enter__(self) -> WorkerShards:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is not None:
            self.abort()

    def abort(self) -> None:
        """A failed run: take away what the workers wrote (and the folder, when this run made it). The previous output
        there is gone already: its manifest went first, and its shards' names are the new ones'."""
        from corpus_tools.resume import _ours

        with contextlib.suppress(Exception):
            for name in self.direct.names():
                if _ours(name):
                    self.direct.remove(name)
            if self.created:
                self.direct.fs.rmdir(self.direct.root)
