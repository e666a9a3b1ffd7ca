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
from corpus_tools.errors import InputError, OutputError
from corpus_tools.io import MANIFEST_NAME, check_output_path, create_beside, keep_owner_and_mode, previous_shards
from corpus_tools.io import _strerror as _reason

MANIFEST = MANIFEST_NAME  # one name, so directory walks know to skip it (corpus_tools/io.py)
SHARD_PATTERN = "part-{:05d}.jsonl.zst"
MANIFEST_FORMAT = "corpus-tools.shards/1"
#: Records per shard by default: about 50-100 MB of news text before compression, a common shard size.
DEFAULT_SHARD_RECORDS = 10_000
ZSTD_LEVEL = 3
KEY_DEPENDENCIES = ("ftfy", "regex", "orjson", "jsonlines", "zstandard")


def is_directory_target(path: str | None) -> bool:
    """``-o DIR/`` (a trailing slash) or an existing directory means sharded output."""
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


class ShardWriter:
    """Writes encoded JSON lines into zstd shards of at most ``records`` records and ``max_bytes`` bytes.

    ``max_bytes`` counts uncompressed JSON bytes; a shard closes at whichever limit comes first (a single record
    larger than ``max_bytes`` still makes a shard of its own). Use as a context manager: leaving the block with an
    exception removes everything written; :meth:`finish` writes the manifest and moves the corpus into place.
    """

    def __init__(self, directory: str, *, records: int | None = DEFAULT_SHARD_RECORDS, max_bytes: int | None = None):
        if records is not None and records < 1:
            raise InputError("--shard-size must be at least 1")
        if max_bytes is not None and max_bytes < 1:
            raise InputError("--shard-bytes must be at least 1")
        self.path = directory  # as given, for messages
        # A folder target whether or not it was given with its trailing slash.
        check_output_path(directory.rstrip("/" + os.sep) + os.sep, shards_allowed=True)
        self.target = Path(os.path.realpath(directory.rstrip("/" + os.sep) or directory))
        self.max_records = records
        self.max_bytes = max_bytes
        try:
            self.tmp = Path(create_beside(str(self.target), folder=True)[1])
            if self.target.is_dir():
                keep_owner_and_mode(str(self.tmp), os.stat(self.target))
        except OSError as exc:
            if hasattr(self, "tmp"):
                shutil.rmtree(self.tmp, ignore_errors=True)
            raise OutputError(f"cannot create the output: {_reason(exc)}", directory) from None
        self.shards: list[dict[str, Any]] = []
        self.records = 0
        self._file: BinaryIO | None = None
        self._hashing: _Hashing | None = None
        self._stream: Any = None
        self._shard_records = 0
        self._shard_bytes = 0
        self._bytes = 0

    # -- writing

    def write_line(self, line: bytes) -> None:
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
            self._stream is not None
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
        name = SHARD_PATTERN.format(len(self.shards))
        try:
            self._file = open(self.tmp / name, "wb")  # noqa: SIM115 - closed in _close
        except OSError as exc:
            raise OutputError(f"cannot write: {_reason(exc)}", self.path) from None
        self._hashing = _Hashing(self._file)
        self._stream = zstandard.ZstdCompressor(level=ZSTD_LEVEL).stream_writer(self._hashing, closefd=False)
        self.shards.append({"path": name})
        self._shard_records = 0
        self._shard_bytes = 0

    def _close(self) -> None:
        if self._stream is None:
            return
        try:
            self._stream.close()
            assert self._file is not None and self._hashing is not None
            self._file.close()
        except OSError as exc:
            raise OutputError(f"cannot write: {_reason(exc)}", self.path) from None
        self.shards[-1].update(
            records=self._shard_records,
            bytes=self._hashing.size,
            json_bytes=self._shard_bytes,
            sha256=self._hashing.sha256.hexdigest(),
        )
        self._stream = self._file = self._hashing = None

    # -- finishing

    def finish(self, manifest: dict[str, Any]) -> dict[str, Any]:
        """Close the last shard, write ``manifest.json`` (``manifest`` + the shards), move the corpus into place."""
        self._close()
        full = {
            "format": MANIFEST_FORMAT,
            **manifest,
            "records": self.records,
            "shards": self.shards,
        }
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
            if self._stream is not None:
                self._stream.close()
            if self._file is not None:
                self._file.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(self, kind: Any, value: Any, tb: Any) -> None:
        if kind is not None or self.tmp.exists():
            # Left with an exception, or without finish(): nothing may appear under the target name.
            self.abort()


def read_manifest(directory: str) -> dict[str, Any]:
    """The manifest of a sharded output directory."""
    return orjson.loads((Path(directory) / MANIFEST).read_bytes())
