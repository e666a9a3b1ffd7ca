"""The record contract: one JSON object per line, ``{"id", "text", "source", "metadata"}``.

Keys a step does not own pass through untouched. The text may live under another key
(``--text-field content``); everything here takes the field name as a parameter.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from corpus_tools.errors import RecordError

Record = dict[str, Any]

TEXT_FIELD = "text"


def make_record(id: str, text: str, source: str, metadata: dict[str, Any] | None = None) -> Record:
    """A new record in the contract's key order."""
    return {"id": id, "text": text, "source": source, "metadata": dict(metadata or {})}


def check_record(record: Any, text_field: str = TEXT_FIELD) -> Record:
    """Return ``record`` if a step can work on it, else raise :class:`RecordError` with the reason."""
    if not isinstance(record, dict):
        raise RecordError(f"expected a JSON object, got {json_type(record)}")
    if text_field not in record:
        raise RecordError(f"missing text field {text_field!r}")
    text = record[text_field]
    if not isinstance(text, str):
        raise RecordError(f"text field {text_field!r} is {json_type(text)}, not a string")
    metadata = record.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise RecordError(f"'metadata' is {json_type(metadata)}, not an object")
    return record


def metadata_of(record: Record) -> dict[str, Any]:
    """The record's metadata object, created (as the last key) when absent."""
    metadata = record.get("metadata")
    if metadata is None:
        metadata = record["metadata"] = {}
    return metadata


def json_type(value: Any) -> str:
    """How a JSON value's type reads in a message: 'a string', 'an array', 'null' ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


# orjson reads an integer outside [-2**63, 2**64 - 1] as a float (and cannot write such an int at all): a 20-digit
# id would come out as 1.2345678901234567e+19, silently. Such a float is at least 2**63 in magnitude.
_FLOAT_FROM_BIG_INT = 2.0**63
_INT_RANGE = range(-(2**63), 2**64)


INEXACT_NUMBER = "integer beyond 64 bits"  # how the reason starts (check reports such a line as a finding)


class RefusedValue(ValueError):
    """Valid JSON that the commands refuse, as it would not come out as it went in (the reason is the message)."""


class InexactNumber(RefusedValue):
    """A JSON line holds an integer that orjson cannot carry exactly (the reason is the message)."""


#: The deepest nesting of arrays and objects a record may have: orjson writes 254 levels (it refuses a 255th, even
#: an empty ``[]``), and a reject wraps the record in one more.
MAX_DEPTH = 253
TOO_DEEP = f"nested deeper than {MAX_DEPTH} levels"
DUPLICATE_KEY = "duplicate key"


class TooDeep(RefusedValue):
    """A JSON line nests arrays and objects deeper than :data:`MAX_DEPTH` (orjson could not write it back)."""


class DuplicateKey(RefusedValue):
    """A JSON object holds the same key twice (orjson keeps the last value, silently)."""


def _scalars(value: Any) -> Iterator[Any]:
    """The values of a parsed JSON value that are neither objects nor arrays, at any depth."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
        else:
            yield item


def holds_big_float(value: Any) -> bool:
    """Whether a parsed JSON value holds a float as large as orjson makes of an integer beyond 64 bits: the cheap
    test (a walk over the record, the text itself a single type check) before :func:`check_exact_numbers`."""
    return any(
        type(item) is float and not -_FLOAT_FROM_BIG_INT < item < _FLOAT_FROM_BIG_INT for item in _scalars(value)
    )


def check_exact_numbers(line: bytes | str) -> None:
    """Raise :class:`InexactNumber` when the JSON ``line`` holds an integer beyond 64 bits (parsed again with the
    standard library, whose integers are exact; a float literal such as ``1e19`` is fine)."""
    import json  # here: only a line with a huge number gets this far

    for item in _scalars(json.loads(line)):
        if type(item) is int and item not in _INT_RANGE:
            shown = str(item) if item.bit_length() < 200 else f"{str(item)[:20]}... ({len(str(abs(item)))} digits)"
            raise InexactNumber(f"{INEXACT_NUMBER} (it would come out as a float, its digits lost): {shown}")


def exact_loads(line: bytes | str) -> Any:
    """``orjson.loads``, refusing (:class:`RefusedValue`) a value nested too deep, an object with a key twice, or
    an integer it would turn into a float."""
    value = orjson.loads(line)
    if suspect(value, line):
        check_refused(line)
    return value


def suspect(value: Any, line: bytes | str) -> bool:
    """The cheap test (one walk over the parsed ``value``) for what :func:`check_refused` looks at closely: nesting
    deeper than :data:`MAX_DEPTH`, a key twice in an object, a float as large as orjson makes of a big integer.

    Duplicate keys: orjson keeps the last value and says nothing. Every key is followed by a ``:``, and a ``:`` in
    the line is either that or a character of a string. So when the line's colons are the parsed keys plus the
    colons in the parsed strings (keys too), no key was lost; a lost key (and its value's colons) leaves the line
    with more. A colon written ``\\u003a`` counts only in the parsed strings: such a line is looked at closely.

    Before that walk, the cheapest answer of all: a line that is byte for byte what orjson writes for ``value``
    (what corpus-tools itself and many tools write) holds none of these (:func:`written_as_orjson_writes`).
    """
    if type(line) is bytes and written_as_orjson_writes(value, line):
        return False
    level = [value]
    depth = keys = colons = 0
    while level:
        depth += 1
        below: list[Any] = []
        for item in level:
            kind = type(item)
            if kind is dict:
                if depth > MAX_DEPTH:
                    return True
                if item:
                    keys += len(item)
                    colons += ":".join(item).count(":") - len(item) + 1
                    below.extend(item.values())
            elif kind is list:
                if depth > MAX_DEPTH:
                    return True
                below.extend(item)
            elif kind is str:
                colons += item.count(":")
            elif kind is float and not -_FLOAT_FROM_BIG_INT < item < _FLOAT_FROM_BIG_INT:
                return True
        level = below
    if isinstance(line, str):
        return line.count(":") != keys + colons or "\\u003" in line
    return line.count(b":") != keys + colons or b"\\u003" in line


def written_as_orjson_writes(value: Any, line: bytes) -> bool:
    """Whether ``line`` (its line end aside) is exactly ``orjson.dumps(value)``, ``value`` being what orjson read from
    it, and ``value`` nests no deeper than :data:`MAX_DEPTH`: then it needs no closer look (:func:`suspect`).

    Equal bytes are the same JSON text, and the text orjson writes has each key of an object once (so the line lost
    no key to a duplicate) and writes a float as a float (so no integer beyond 64 bits became one: the line would
    hold its digits instead). Depth: orjson writes 254 levels and refuses more, so ``[value]`` is written exactly
    when ``value`` has at most 253. Two scans at memory speed (the write and the compare) in place of the walk over
    the values and the three searches of the line; a line written another way (spaces after the separators,
    escaped non-ASCII) is no less sure, only walked after this."""
    try:
        wrapped = orjson.dumps([value])
    except orjson.JSONEncodeError:
        return False  # deeper than orjson writes (or not writable at all): the closer look says why
    size = len(wrapped) - 2
    extra = len(line) - size
    if extra == 1:
        if line[size] != 10:  # b"\n"
            return False
    elif extra != 0:
        return False
    return line.startswith(wrapped[1:-1])


def check_refused(line: bytes | str) -> None:
    """Raise :class:`TooDeep`, :class:`DuplicateKey` or :class:`InexactNumber` for a JSON ``line`` (valid JSON) the
    commands refuse. The slow, exact look (the standard library's parser) behind :func:`suspect`."""
    import json  # here: only a suspect line gets this far

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        found = dict(items)
        if len(found) < len(items):
            seen: set[str] = set()
            key = next(k for k, _ in items if k in seen or seen.add(k))  # type: ignore[func-returns-value]
            shown = key if len(key) <= 40 else f"{key[:40]}..."
            raise DuplicateKey(f"{DUPLICATE_KEY} {shown!r} in one object (only its last value would be kept)")
        return found

    try:
        value = json.loads(line, object_pairs_hook=pairs)
    except RecursionError:
        raise TooDeep(TOO_DEEP) from None
    if _depth_over(value, MAX_DEPTH):
        raise TooDeep(TOO_DEEP)
    for item in _scalars(value):
        if type(item) is int and item not in _INT_RANGE:
            shown = str(item) if item.bit_length() < 200 else f"{str(item)[:20]}... ({len(str(abs(item)))} digits)"
            raise InexactNumber(f"{INEXACT_NUMBER} (it would come out as a float, its digits lost): {shown}")


def _depth_over(value: Any, limit: int) -> bool:
    """Whether ``value`` nests arrays and objects more than ``limit`` deep."""
    level = [value]
    for _ in range(limit):
        level = [
            v for item in level if type(item) in (dict, list) for v in (item.values() if type(item) is dict else item)
        ]
    return any(type(item) in (dict, list) for item in level)
