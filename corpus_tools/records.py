"""The record contract: one JSON object per line, ``{"id", "text", "source", "metadata"}``.

Keys a step does not own pass through untouched. The text may live under another key
(``--text-field content``); everything here takes the field name as a parameter.
"""

from __future__ import annotations

from typing import Any

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
