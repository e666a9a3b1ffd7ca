"""Inputs and outputs on other file systems (``s3://``, ``gs://``, ``file://`` ...) through fsspec, and Parquet.

A plain local path never comes here: :mod:`corpus_tools.io` keeps reading and writing it with the operating
system's calls. A URL (``scheme://...``) is opened with the fsspec file system for its scheme; the packages behind
a scheme are optional extras (``pip install 'corpus-tools[s3]'`` for s3fs, ``[gcs]`` for gcsfs) imported only
when such a URL is used. Credentials and endpoints come the way fsspec takes them: the environment
(``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID`` ..., ``GOOGLE_APPLICATION_CREDENTIALS``) and the storage options set
for a run with :func:`using_options` (the commands' ``--storage-option KEY=VALUE``). Neither is ever printed: an
error names the URL (without any ``user:password@``) and a reason from which every option value and secret in
the environment has been blanked.

Parquet (``*.parquet``, any file system) is read row by row as records: see :func:`parquet_lines`.
"""

from __future__ import annotations

import contextlib
import contextvars
import io
import os
import re
import secrets
from collections.abc import Iterator, Sequence
from typing import Any, BinaryIO

from corpus_tools.errors import ConfigError, CorpusError, InputError, OutputError

_URL = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*)://")
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*://)[^/@]*@")
#: scheme -> (the package fsspec needs for it, the corpus-tools extra that installs it)
EXTRAS = {
    "s3": ("s3fs", "s3"),
    "s3a": ("s3fs", "s3"),
    "gs": ("gcsfs", "gcs"),
    "gcs": ("gcsfs", "gcs"),
}
#: The environment variables whose values an error message must never show.
SECRET_ENVIRONMENT = (
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ACCESS_KEY_ID",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "AZURE_STORAGE_KEY",
    "AZURE_STORAGE_CONNECTION_STRING",
)
PARQUET_SUFFIX = ".parquet"
#: Parquet rows per JSON-lines block read at a time (one batch of the parallel engine holds at least one block).
PARQUET_ROWS = 1024

_OPTIONS: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("storage_options", default={})  # noqa: B039 - never mutated


# ------------------------------------------------------------------------------------------ URLs and options


def is_url(path: str | None) -> bool:
    """Whether ``path`` is a URL (``scheme://...``) rather than a local path (``-`` and ``None`` are not)."""
    return bool(path) and _URL.match(path) is not None  # type: ignore[arg-type]


def scheme(url: str) -> str:
    match = _URL.match(url)
    return match[1].lower() if match else ""


def safe(url: str) -> str:
    """``url`` as messages show it: without a ``user:password@`` part."""
    return _USERINFO.sub(r"\1***@", url)


def parse_option(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` of ``--storage-option``: the value as JSON when it is JSON (``true``, ``3``, ``{"a": 1}``),
    else the string; ``a.b=V`` sets ``b`` inside the table ``a`` (``client_kwargs.region_name=eu-west-1``)."""
    import orjson

    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"--storage-option takes KEY=VALUE, not {text.split('=')[0]!r}...")
    try:
        parsed: Any = orjson.loads(value)
    except orjson.JSONDecodeError:
        parsed = value
    return key, parsed


def options_from(pairs: Sequence[str]) -> dict[str, Any]:
    """The storage options of a list of ``KEY=VALUE`` (later ones win; dotted keys make nested tables)."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, value = parse_option(pair)
        *tables, last = key.split(".")
        table = options
        for name in tables:
            inner = table.get(name)
            if not isinstance(inner, dict):
                inner = table[name] = {}
            table = inner
        table[last] = value
    return options


@contextlib.contextmanager
def using_options(options: dict[str, Any]) -> Iterator[None]:
    """Open every URL of the block with these fsspec storage options (for every scheme)."""
    token = _OPTIONS.set(dict(options))
    try:
        yield
    finally:
        _OPTIONS.reset(token)


def storage_options() -> dict[str, Any]:
    """The storage options in force (see :func:`using_options`): what a Dask worker needs to open the same URLs."""
    return dict(_OPTIONS.get())


def _secrets() -> list[str]:
    found: list[str] = []

    def collect(value: Any) -> None:
        if isinstance(value, dict):
            for inner in value.values():
                collect(inner)
        elif isinstance(value, (list, tuple)):
            for inner in value:
                collect(inner)
        elif value is not None and not isinstance(value, bool):
            text = str(value)
            if len(text) >= 4:
                found.append(text)

    collect(_OPTIONS.get())
    for name in SECRET_ENVIRONMENT:
        value = os.environ.get(name)
        if value and len(value) >= 4:
            found.append(value)
    return sorted(found, key=len, reverse=True)


def reason(exc: BaseException) -> str:
    """One line saying why an operation on a URL failed, with every storage option value and secret blanked."""
    if isinstance(exc, FileNotFoundError):
        return "no such file or directory"
    if isinstance(exc, PermissionError):
        return "permission denied"
    text = " ".join(str(exc).split()) or type(exc).__name__
    for secret in _secrets():
        text = text.replace(secret, "***")
    return text[:1].lower() + text[1:]


# ------------------------------------------------------------------------------------------- file systems


def filesystem(url: str) -> tuple[Any, str]:
    """The fsspec file system for ``url`` (with the storage options in force) and the path within it.

    A scheme whose package is missing is a :class:`ConfigError` naming the extra to install.
    """
    name = scheme(url)
    package, extra = EXTRAS.get(name, (None, None))
    try:
        import fsspec
    except ImportError:  # pragma: no cover - fsspec is a dependency
        raise ConfigError(f"{safe(url)}: URLs need fsspec: pip install fsspec") from None
    try:
        cls = fsspec.get_filesystem_class(name)
    except ImportError:
        hint = f"pip install 'corpus-tools[{extra}]'" if extra else "install the fsspec implementation for it"
        raise ConfigError(f"{name}:// URLs need {package or 'a package'}: {hint}") from None
    except ValueError:
        raise ConfigError(f"{safe(url)}: unknown protocol {name}://") from None
    try:
        fs = cls(**_OPTIONS.get())
    except Exception as exc:  # a bad storage option: the implementation's own words, without values
        raise ConfigError(f"{name}:// storage options: {reason(exc)}") from None
    return fs, cls._strip_protocol(url)


def _url(fs: Any, path: str, like: str) -> str:
    """The URL of ``path`` on ``fs``, in the scheme the user wrote ``like`` with."""
    prefix = f"{scheme(like)}://"
    return prefix + path if not path.startswith(prefix) else path


def is_dir(url: str) -> bool:
    fs, path = filesystem(url)
    try:
        return bool(fs.isdir(path))
    except Exception:
        return False


def _hidden_or_manifest(relative: str) -> bool:
    from corpus_tools.io import MANIFEST_NAME

    parts = relative.split("/")
    return (
        any(p.startswith(".") for p in parts) or parts[-1] == MANIFEST_NAME or parts[-1].endswith(f".{MANIFEST_NAME}")
    )


def _walk_order(relative: str) -> tuple[tuple[int, str], ...]:
    """Sort key giving the order of the local walk (corpus_tools.io._walk): a folder's files by name, then each
    subfolder's, in name order."""
    parts = relative.split("/")
    return (*((1, p) for p in parts[:-1]), (0, parts[-1]))


def _walk(fs: Any, root: str, url: str) -> list[tuple[str, str]]:
    from corpus_tools.io import document_id

    root = root.rstrip("/")
    try:
        found = fs.find(root, withdirs=False, detail=False)
    except Exception as exc:
        raise InputError(f"cannot read folder: {reason(exc)}", safe(url)) from None
    files = []
    for path in found:
        relative = path[len(root) :].lstrip("/")
        if not relative or relative.endswith("/") or _hidden_or_manifest(relative):
            continue
        files.append(relative)
    files.sort(key=_walk_order)
    base = url.rstrip("/")
    out = []
    for relative in files:
        parent, _, name = relative.rpartition("/")
        doc_id = f"{parent}/{document_id(name)}" if parent else document_id(name)
        out.append((f"{base}/{relative}", doc_id))
    return out


def expand(url: str) -> list[tuple[str, str]]:
    """The input files of one URL, as :func:`corpus_tools.io.input_files` gives a local path's: a file, every file
    below a folder (prefix) in the local walk's order, or a glob's matches (sorted); each with its document id."""
    from corpus_tools.io import GLOB_CHARS, document_id

    fs, path = filesystem(url)
    shown = safe(url)
    try:
        if GLOB_CHARS.intersection(path):
            matches = sorted(fs.glob(path))
            if not matches:
                raise InputError("no files match this pattern", shown)
            files: list[tuple[str, str]] = []
            for match in matches:
                match_url = _url(fs, match, url)
                if fs.isdir(match):
                    files.extend(_walk(fs, match, match_url))
                else:
                    files.append((match_url, document_id(match)))
            return files
        if fs.isdir(path):
            files = _walk(fs, path, url)
            if not files:
                raise InputError("directory holds no input files", shown)
            return files
        if fs.exists(path):
            return [(url, document_id(path))]
    except CorpusError:
        raise
    except Exception as exc:
        raise InputError(f"cannot read: {reason(exc)}", shown) from None
    raise InputError("no such file or directory", shown)


def open_read(url: str) -> BinaryIO:
    """``url`` opened for reading (raw bytes: :func:`corpus_tools.io.open_binary` decompresses)."""
    fs, path = filesystem(url)
    try:
        return fs.open(path, "rb")  # type: ignore[no-any-return]
    except Exception as exc:
        raise InputError(f"cannot open: {reason(exc)}", safe(url)) from None


def size(url: str) -> int | None:
    fs, path = filesystem(url)
    try:
        return int(fs.size(path))
    except Exception:
        return None


def check_output(url: str) -> None:
    """What can be checked of an output URL before any work: that its file system can be had."""
    filesystem(url)


def temporary_name(path: str) -> str:
    """A hidden name beside ``path`` (``dir/.name.1a2b3c4d.tmp``), skipped by every directory walk."""
    parent, _, name = path.rpartition("/")
    hidden = f".{name}.{secrets.token_hex(4)}.tmp"
    return f"{parent}/{hidden}" if parent else hidden


@contextlib.contextmanager
def open_output(url: str) -> Iterator[BinaryIO]:
    """A file at ``url`` written under a hidden temporary name, moved into place when the block ends without an
    exception (so a reader never sees part of it), compressed by its suffix as local outputs are."""
    from corpus_tools.io import _finishing

    fs, path = filesystem(url)
    tmp = temporary_name(path)
    try:
        raw = fs.open(tmp, "wb")
    except Exception as exc:
        raise OutputError(f"cannot create the output: {reason(exc)}", safe(url)) from None
    try:
        with _finishing(safe(url), raw) as stream:
            yield stream
        try:
            fs.mv(tmp, path)
        except Exception as exc:
            raise OutputError(f"cannot move the output into place: {reason(exc)}", safe(url)) from None
    except BaseException:
        with contextlib.suppress(Exception):
            fs.rm(tmp)
        raise


# ------------------------------------------------------------------------------------------------- Parquet


def is_parquet(path: str) -> bool:
    """Whether an input is a Parquet file (by its suffix, ``.parquet``, whatever ``--input-format`` says)."""
    return path.lower().endswith(PARQUET_SUFFIX)


def _pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise ConfigError("Parquet needs pyarrow: pip install 'corpus-tools[parquet]'") from None
    return pyarrow


def _plain(value: Any, kind: Any) -> Any:
    """A Parquet value as a record holds it: a null field of a struct is an absent key, a map is an object."""
    import pyarrow as pa

    if value is None:
        return None
    if pa.types.is_struct(kind):
        out = {}
        for f in kind:
            inner = value.get(f.name)
            if inner is not None:
                out[f.name] = _plain(inner, f.type)
        return out
    if pa.types.is_map(kind):
        return {k: _plain(v, kind.item_type) for k, v in value}
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        return [_plain(v, kind.value_type) for v in value]
    return value


class ParquetLines:
    """The rows of a Parquet file as JSON lines (one record per row), counting them in ``lineno`` as
    :func:`corpus_tools.io.json_line_items` expects, so an error names ``FILE:ROW`` (1-based).

    Columns become keys in the file's column order; a null (a missing value: Parquet has no absent key) is left
    out, at the top level and inside structs; maps become objects; timestamps and dates become ISO 8601 strings.
    A value JSON cannot hold (binary, decimal) is an :class:`InputError` at its row.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.lineno = 0

    def blocks(self, rows: int = PARQUET_ROWS) -> Iterator[tuple[int, bytes]]:
        """``(first row, JSON lines)`` blocks of about ``rows`` rows."""
        import orjson

        pa = _pyarrow()
        import pyarrow.parquet as pq

        shown = safe(self.path) if is_url(self.path) else self.path
        try:
            source: Any = open_read(self.path) if is_url(self.path) else open(self.path, "rb")  # noqa: SIM115
        except OSError as exc:
            raise InputError(f"cannot open: {exc.strerror or exc}", shown) from None
        with source:
            try:
                parquet = pq.ParquetFile(source)
                schema = parquet.schema_arrow
                kind = pa.struct(list(schema))
                for batch in parquet.iter_batches(batch_size=rows):
                    lines = []
                    for row in batch.to_pylist():
                        self.lineno += 1
                        record = _plain(row, kind)
                        try:
                            lines.append(orjson.dumps(record) + b"\n")
                        except TypeError as exc:
                            raise InputError(f"a value JSON cannot hold: {exc}", shown, self.lineno) from None
                    yield self.lineno - len(lines) + 1, b"".join(lines)
            except CorpusError:
                raise
            except (OSError, pa.ArrowException) as exc:
                raise InputError(f"cannot read Parquet: {reason(exc)}", shown, self.lineno + 1 or None) from None

    def __iter__(self) -> Iterator[bytes]:
        for first, block in self.blocks():
            self.lineno = first - 1
            for line in io.BytesIO(block):
                self.lineno += 1
                yield line


def records_table(records: list[dict[str, Any]], text_field: str = "text") -> Any:
    """The records as an Arrow table with :func:`corpus_tools.check.arrow_schema`'s types for the keys it names
    (every column it names is there, null where a record lacks it), and the inferred types of every other key,
    at any depth: no key of a record is left out. Raises ``pyarrow.ArrowException`` for values that do not fit."""
    pa = _pyarrow()
    from corpus_tools.check import arrow_schema

    declared = arrow_schema(text_field)
    inferred = pa.Table.from_pylist(records).schema if records else pa.schema([])
    schema = pa.schema(_merge_fields(list(declared), list(inferred)))
    return pa.Table.from_pylist(records, schema=schema)


def _merge_fields(declared: list[Any], inferred: list[Any]) -> list[Any]:
    import pyarrow as pa

    known = {f.name: f for f in inferred}
    out = [pa.field(f.name, _merge_type(f.type, known[f.name].type if f.name in known else None)) for f in declared]
    names = {f.name for f in declared}
    out += [f for f in inferred if f.name not in names]
    return out


def _merge_type(declared: Any, inferred: Any) -> Any:
    import pyarrow as pa

    if inferred is None or pa.types.is_null(inferred):
        return declared
    if pa.types.is_struct(declared) and pa.types.is_struct(inferred):
        return pa.struct(_merge_fields(list(declared), list(inferred)))
    if pa.types.is_list(declared) and pa.types.is_list(inferred):
        return pa.list_(_merge_type(declared.value_type, inferred.value_type))
    if pa.types.is_map(declared) and pa.types.is_struct(inferred):
        return declared  # counts by any key: a map, whatever keys this shard's records hold
    return declared


def parquet_bytes(lines: list[bytes], text_field: str = "text") -> bytes:
    """A Parquet file (zstd-compressed columns) of encoded JSON lines."""
    import orjson

    _pyarrow()
    import pyarrow.parquet as pq

    table = records_table([orjson.loads(line) for line in lines], text_field)
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    return buffer.getvalue()
