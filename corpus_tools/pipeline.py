"""A pipeline is a list of steps; running one is reading items, applying the steps, writing or rejecting.

A *step* is any object with a ``name`` and ``process(record, text_field) -> record``. It may change the
record it is given (the pipeline hands it a private copy) and raises :class:`RecordError` for a record it
cannot handle. It never reads files and never drops keys it does not own.
"""

from __future__ import annotations

import base64
import enum
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Protocol

from corpus_tools.errors import InputError, RecordError
from corpus_tools.io import Item, RecordWriter, dumps_line, printable
from corpus_tools.records import Record, check_record


class Step(Protocol):
    name: str

    def process(self, record: Record, text_field: str) -> Record: ...


class OnError(str, enum.Enum):
    """What to do with a record that cannot be read or processed."""

    fail = "fail"  # stop at the first one: a one-line error naming file and line, exit code 2
    skip = "skip"  # count it, write it to the rejects stream if there is one, go on


@dataclass(frozen=True)
class Pipeline:
    """Steps applied in order to records whose text lives under ``text_field``."""

    steps: tuple[Step, ...] = ()
    text_field: str = "text"

    def process(self, record: Any) -> Record:
        """The processed copy of ``record``; raises :class:`RecordError` when it is unusable."""
        check_record(record, self.text_field)
        work = dict(record)
        if isinstance(work.get("metadata"), dict):
            work["metadata"] = dict(work["metadata"])
        for step in self.steps:
            work = step.process(work, self.text_field)
        return work

    def __call__(self, record: Any) -> Record:
        return self.process(record)


@dataclass
class RunStats:
    """What a run did, for the end-of-run summary and for tests."""

    read: int = 0
    written: int = 0
    rejected: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    first_rejects: list[str] = field(default_factory=list)

    def summary_of_rejects(self) -> str:
        kinds = ", ".join(f"{n} {reason}" for reason, n in self.reasons.most_common())
        return f"skipped {self.rejected} of {self.read} records: {kinds}"


def reason_key(reason: str) -> str:
    """The stable part of a reason (before any parenthesised detail), used to count reasons."""
    return reason.split(" (", 1)[0]


class Rejects:
    """The rejects stream: one JSON line per rejected input with its reason and where it came from.

    ``{"source", "line", "reason", "record" | "raw"}``; a line that is not valid UTF-8 also gets ``raw_base64``,
    its exact bytes (``raw`` shows them as U+FFFD). Text that cannot be written as UTF-8 (a file name with bytes
    that are not UTF-8, a lone surrogate in a record) is written backslash-escaped (``\\xff``, ``\\udc00``)
    rather than lost with the whole entry.
    """

    def __init__(self, stream: BinaryIO | None) -> None:
        self.stream = stream

    def write(self, item: Item, reason: str) -> None:
        if self.stream is None:
            return
        entry: dict[str, Any] = {"source": printable(item.source), "line": item.line, "reason": printable(reason)}
        if item.record is not None:
            entry["record"] = item.record
        else:
            entry["raw"] = item.raw
            if item.raw_bytes is not None:
                entry["raw_base64"] = base64.b64encode(item.raw_bytes).decode("ascii")
        try:
            line = dumps_line(entry)
        except TypeError:  # orjson refuses lone surrogates (a record built from a file name that is not UTF-8)
            line = _writable_line(entry, item)
        self.stream.write(line)


def _writable_line(entry: dict[str, Any], item: Item) -> bytes:
    """The reject ``entry`` made writable: its strings escaped; a record that still cannot be written (nested
    deeper than orjson writes) gives way to the raw line, so the reject itself is never what fails."""
    try:
        return dumps_line(_printable_json(entry))
    except (TypeError, RecursionError):
        entry.pop("record", None)
        entry["raw"] = printable(item.raw) if item.raw is not None else None
        return dumps_line(_printable_json(entry))


def _printable_json(value: Any) -> Any:
    """``value`` with every string (and key) made writable as UTF-8 by :func:`corpus_tools.io.printable`."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {printable(k) if isinstance(k, str) else k: _printable_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_printable_json(v) for v in value]
    return value


def run(
    items: Iterable[Item],
    process: Callable[[Any], Record],
    writer: RecordWriter,
    *,
    on_error: OnError = OnError.fail,
    rejects: Rejects | None = None,
) -> RunStats:
    """Apply ``process`` to every item and write the results in input order.

    With ``on_error=fail`` the first unusable item raises :class:`InputError` (file and line named);
    with ``skip`` it is counted, sent to ``rejects`` with its reason, and the run goes on.
    """
    stats = RunStats()
    rejects = rejects or Rejects(None)
    for item in items:
        stats.read += 1
        reason = item.error
        if reason is None:
            try:
                writer.write(process(item.record))
                stats.written += 1
                continue
            except RecordError as exc:
                reason = exc.reason
        reject(item, reason, stats, on_error, rejects)
    return stats


def reject(item: Item, reason: str, stats: RunStats, on_error: OnError, rejects: Rejects) -> None:
    """Fail on, or record, one unusable item."""
    if on_error is OnError.fail:
        raise InputError(reason, item.source, item.line)
    stats.rejected += 1
    stats.reasons[reason_key(reason)] += 1
    if len(stats.first_rejects) < 10:
        stats.first_rejects.append(f"{item.where}: {reason}")
    rejects.write(item, reason)
