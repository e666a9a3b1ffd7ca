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


class InexactNumber(ValueError):
    """A JSON line holds an integer that orjson cannot carry exactly (the reason is the message)."""


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
    """``orjson.loads``, refusing (:class:`InexactNumber`) an integer it would turn into a float."""
    value = orjson.loads(line)
    if holds_big_float(value):
        check_exact_numbers(line)
    return value
