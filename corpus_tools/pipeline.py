"""A pipeline is a list of steps; running one is reading items, applying the steps, writing or rejecting.

A step is a :class:`corpus_tools.step.Step`: ``label`` then ``apply`` on a private copy of the record; it raises
:class:`RecordError` for a record it cannot handle (bad input) and returns a :class:`Drop` for one that does not
belong in the output. It never reads files and never drops keys it does not own.
"""

from __future__ import annotations

import base64
import enum
import functools
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from corpus_tools.errors import InputError, RecordError
from corpus_tools.io import Item, RecordWriter, dumps_line, printable
from corpus_tools.records import Record, check_record, metadata_of
from corpus_tools.step import Doc, Drop, OrderedPass, Step, entry_lines


class OnError(str, enum.Enum):
    """What to do with a record that cannot be read or processed."""

    fail = "fail"  # stop at the first one: a one-line error naming file and line, exit code 2
    skip = "skip"  # count it, write it to the rejects stream if there is one, go on


@dataclass(frozen=True, slots=True)
class Dropped:
    """A record a step dropped: which step, its :class:`Drop` (reason and details), and the record as it came in."""

    step: str
    drop: Drop
    record: Any
    #: the record as the steps had made it when it was dropped, with their cuts (what ``explain`` labels)
    work: Any = None


#: The reason of the drop every run makes: a record whose text is empty after a step (nothing left to keep).
EMPTY_AFTER_CLEANING = "empty_after_cleaning"


@dataclass(frozen=True)
class Pipeline:
    """Steps applied in order to records whose text lives under ``text_field``: the one runner of every command.

    For each step: ``label`` then ``apply``; the cuts go to ``metadata.cuts`` (owned here) as
    ``{"step", "rule", "paragraph"}``, the paragraph being the line in the text as it first entered a pipeline
    (the lines earlier runs cut, recorded in ``metadata.cuts``, are counted back in); a drop ends the record.
    ``counts`` (when given) gets ``step.rule`` per line cut (drops are counted where they are handled,
    :meth:`RunStats.drop`).
    """

    steps: tuple[Step, ...] = ()
    text_field: str = "text"

    def process(
        self, record: Any, counts: Counter[str] | None = None, keys: list[Any] | None = None
    ) -> Record | Dropped:
        """The processed copy of ``record``, or what dropped it; raises :class:`RecordError` when it is unusable.

        ``keys`` (when given) gets the key of each step with an :class:`OrderedPass`, computed on the record as it
        reaches that step, for :class:`Verdicts` to decide on in input order.
        """
        check_record(record, self.text_field)
        work = dict(record)
        metadata = work.get("metadata")
        if isinstance(metadata, dict):
            work["metadata"] = dict(metadata)
            if "cuts" in metadata:
                checked_cuts(metadata["cuts"])
        text_field = self.text_field
        for step, name, dry, ordered, rounds, labels_lines in self._plan:
            doc = Doc(work, text_field)
            if keys is not None and ordered:
                keys.append(step.corpus_pass.key(doc, step.options))  # type: ignore[union-attr]
            cuts = None  # a step without labels (dedup: its verdicts are its ordered pass's) leaves the text as it is
            if labels_lines:
                labels = step.label(doc)
                result = step.apply(work, labels)
                if type(result) is Drop:
                    return Dropped(name, result, record, work)
                cuts = labels.cuts
            if cuts:
                _record_cuts(work, name, cuts, len(doc.lines), dry, counts)
                for _ in range(rounds - 1 if not dry else 0):
                    # Again on what it left, while it still cuts; first the earlier steps it names, which read
                    # the lines it removed (a byline is the first line once the menus above it are gone).
                    drop = self._rerun_earlier(name, work, counts, record)
                    if drop is not None:
                        return drop
                    again = self._again(step, work, counts)
                    if type(again) is Drop:
                        return Dropped(name, again, record, work)
                    if again is None:
                        break
                else:
                    # its last round cut lines too: the earlier steps read them once more (a bio that page
                    # furniture kept from the end), so a second run finds nothing left for them
                    if rounds > 1 and not dry:
                        drop = self._rerun_earlier(name, work, counts, record)
                        if drop is not None:
                            return drop
            elif not dry:
                _audit_nothing(work, name)
            text = work[text_field]
            if not text or text.isspace():
                return Dropped(name, Drop(EMPTY_AFTER_CLEANING), record, work)
        return work

    def _rerun_earlier(self, name: str, work: Record, counts: Counter[str] | None, record: Any) -> Dropped | None:
        """The earlier steps that step ``name`` reruns, applied again to ``work``: what dropped it, if one did."""
        for earlier in self._rerun.get(name, ()):
            drop = self._again(earlier, work, counts)
            if type(drop) is Drop:
                return Dropped(earlier.name, drop, record, work)
        return None

    def _again(self, step: Step, work: Record, counts: Counter[str] | None) -> Drop | bool | None:
        """One more application of ``step`` to ``work``: what dropped it, else whether it cut lines (``True``) or
        not (``None``)."""
        doc = Doc(work, self.text_field)
        labels = step.label(doc)
        result = step.apply(work, labels)
        if type(result) is Drop:
            return result
        if not labels.cuts:
            return None
        _record_cuts(work, step.name, labels.cuts, len(doc.lines), False, counts)
        return True

    @functools.cached_property
    def _rerun(self) -> dict[str, tuple[Step, ...]]:
        """For each step with more than one round, the earlier steps of this pipeline it runs again first."""
        return {
            step.name: tuple(s for s in self.steps[:k] if s.name in step.rerun and not s.dry_run)
            for k, step in enumerate(self.steps)
            if step.rounds > 1
        }

    @functools.cached_property
    def _plan(self) -> tuple[tuple[Step, str, bool, bool, int, bool], ...]:
        """Each step with what the runner asks of it for every record: its name, whether it runs dry, whether it
        has an ordered pass, how many rounds it may take, whether it labels lines (worked out once: the steps and
        their frozen options do not change)."""
        return tuple(
            (
                step,
                step.name,
                step.dry_run,
                isinstance(step.corpus_pass, OrderedPass),
                1 if step.rounds_for_rerun and not self._rerun.get(step.name) else step.rounds,
                step.labels_lines,
            )
            for step in self.steps
        )

    def __call__(self, record: Any, counts: Counter[str] | None = None) -> Record | Dropped:
        return self.process(record, counts)

    @property
    def ordered(self) -> tuple[Step, ...]:
        """The steps with an :class:`OrderedPass`: their verdicts are taken in input order, after the steps ran."""
        return tuple(step for step in self.steps if isinstance(step.corpus_pass, OrderedPass))


class Verdicts:
    """The in-order decisions of a pipeline's ordered passes (dedup): fed each written record's keys (as
    :meth:`Pipeline.process` collected them) in input order; says which record goes, and why."""

    def __init__(self, steps: Sequence[Step]) -> None:
        self.steps = tuple(steps)
        self.states = [step.corpus_pass.start(step.options) for step in self.steps]  # type: ignore[union-attr]

    def decide(self, keys: Sequence[Any], record_id: Any, record: Any) -> Dropped | None:
        for step, state, key in zip(self.steps, self.states, keys, strict=True):
            drop = step.corpus_pass.decide(state, key, record_id)  # type: ignore[union-attr]
            if drop is not None:
                return Dropped(step.name, drop, record)
        return None

    def finish(self) -> None:
        for step, state in zip(self.steps, self.states, strict=True):
            step.corpus_pass.finish(state, step.options)  # type: ignore[union-attr]


def _record_cuts(
    work: Record, step: str, cuts: dict[int, str], line_count: int, dry: bool, counts: Counter[str] | None
) -> None:
    """A step's cuts in ``metadata.cuts`` (:func:`_audit`) and in the run's counters (``step.rule``)."""
    _audit(work, step, cuts, line_count, dry)
    if counts is not None:
        for i in cuts:
            counts[f"{step}.{cuts[i]}"] += 1


def _audit_nothing(work: Record, step: str) -> None:
    """:func:`_audit` for a step that cut nothing (and did not run dry), without building anything: the record
    keeps the very ``metadata.cuts`` list it came with, made the last key, unless an earlier dry run of ``step``
    left entries there to replace."""
    metadata = work.get("metadata")
    if type(metadata) is dict:
        previous = metadata.get("cuts")
        if previous is None:
            if "cuts" not in metadata:
                metadata["cuts"] = []  # a new key is the last one
                return
        elif not previous or not any(c.get("dry_run") and c.get("step") == step for c in previous):
            if next(reversed(metadata)) != "cuts":  # the audit stays the last key, whatever the steps added
                metadata["cuts"] = metadata.pop("cuts")
            return
    _audit(work, step, {}, 0, False)


def _audit(work: Record, step: str, cuts: dict[int, str], line_count: int, dry: bool) -> None:
    """Append ``step``'s cuts to ``metadata.cuts``, each at the line it was when the text entered the pipeline.

    A run of a step replaces the entries an earlier dry run of it left (what it labelled, this run decides).
    """
    metadata = work.get("metadata")
    previous = metadata.get("cuts") if isinstance(metadata, dict) else None
    if previous is not None and not cuts and not any(c.get("dry_run") and c.get("step") == step for c in previous):
        if next(reversed(metadata)) != "cuts":  # the audit stays the last key, whatever the steps added
            metadata["cuts"] = metadata.pop("cuts")
        return  # nothing to add or replace: the list stays the very one the record came with
    previous = list(previous or ())
    previous = [c for c in previous if not (c.get("dry_run") and c.get("step") == step)]
    if cuts:
        origin = entry_lines(line_count, previous)
        for i in sorted(cuts):
            entry: dict[str, Any] = {"step": step, "rule": cuts[i], "paragraph": origin[i]}
            if dry:
                entry["dry_run"] = True
            previous.append(entry)
    metadata = metadata_of(work)
    metadata.pop("cuts", None)
    metadata["cuts"] = previous  # the last key: the audit of every step before


def checked_cuts(value: Any) -> list[dict[str, Any]]:
    """``metadata.cuts`` as a list of ``{"step", "rule", "paragraph"}`` objects, or :class:`RecordError`."""
    if not isinstance(value, list) or not all(
        isinstance(c, dict)
        and isinstance(c.get("rule"), str)
        and isinstance(c.get("paragraph"), int)
        and not isinstance(c.get("paragraph"), bool)
        for c in value
    ):
        raise RecordError('metadata.cuts is not a list of {"step", "rule", "paragraph"} objects')
    return value


@dataclass
class RunStats:
    """What a run did, for the end-of-run summary and for tests."""

    read: int = 0
    written: int = 0
    rejected: int = 0
    dropped: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    first_rejects: list[str] = field(default_factory=list)
    #: ``step.rule`` -> lines cut by it.
    counts: Counter[str] = field(default_factory=Counter)

    #: ``step.reason`` -> records dropped for it.
    dropped_reasons: Counter[str] = field(default_factory=Counter)
    #: The steps that ran dry: their ``counts`` are lines labelled, not cut.
    dry_steps: frozenset[str] = frozenset()

    def drop(self, dropped: Dropped) -> None:
        self.dropped += 1
        self.dropped_reasons[f"{dropped.step}.{dropped.drop.reason}"] += 1

    def lines_cut(self) -> dict[str, int]:
        """Lines cut per step."""
        per_step: Counter[str] = Counter()
        for key, n in self.counts.items():
            per_step[key.split(".", 1)[0]] += n
        return dict(per_step)

    def counts_dict(self) -> dict[str, Any]:
        """The counts as the manifest records them."""
        return {
            "read": self.read,
            "written": self.written,
            "rejected": self.rejected,
            "dropped": self.dropped,
            "rejected_by_reason": dict(self.reasons.most_common()),
            "dropped_by_reason": dict(sorted(self.dropped_reasons.items())),
            "cuts_by_rule": dict(sorted(self.counts.items())),
        }

    def summary(self) -> str:
        """One line: records in, out, rejected, dropped (by reason) and lines cut (by step)."""
        dropped = f"{self.dropped} dropped"
        if self.dropped_reasons:
            dropped += " (" + ", ".join(f"{n} {k}" for k, n in sorted(self.dropped_reasons.items())) + ")"
        per_step = self.lines_cut()
        cut = {step: n for step, n in per_step.items() if step not in self.dry_steps}
        lines = f"{sum(cut.values())} lines cut"
        if cut:
            lines += " (" + ", ".join(f"{step} {n}" for step, n in cut.items()) + ")"
        labelled = {step: n for step, n in per_step.items() if step in self.dry_steps}
        if labelled:
            lines += f", {sum(labelled.values())} labelled in a dry run ("
            lines += ", ".join(f"{step} {n}" for step, n in labelled.items()) + ")"
        return f"{self.read} records in, {self.written} out, {self.rejected} rejected, {dropped}, {lines}"

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


class DroppedStream:
    """The dropped-records stream (``--dropped PATH``): one JSON line per record a step dropped, with why.

    ``{"reason", "step", "source", "line", ...details, "record"}``: the record as it entered the run, whole.
    """

    def __init__(self, stream: BinaryIO | None) -> None:
        self.stream = stream

    def write(self, source: str, line: int | None, dropped: Dropped) -> None:
        if self.stream is None:
            return
        entry: dict[str, Any] = {"reason": dropped.drop.reason, "step": dropped.step}
        entry["source"] = printable(source)
        entry["line"] = line
        entry.update(dropped.drop.details)
        entry["record"] = dropped.record
        try:
            line_bytes = dumps_line(entry)
        except TypeError:
            line_bytes = dumps_line(_printable_json(entry))
        self.stream.write(line_bytes)


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
    pipeline: Pipeline,
    writer: RecordWriter,
    *,
    on_error: OnError = OnError.fail,
    rejects: Rejects | None = None,
    dropped: DroppedStream | None = None,
) -> RunStats:
    """Run ``pipeline`` on every item and write the results in input order (its ordered passes decide in it).

    The reference runner: one item at a time, the readable definition that every command's runner,
    :func:`corpus_tools.engine.run_pipeline` (batches, workers, clusters), is tested against; no command uses it.

    With ``on_error=fail`` the first unusable item raises :class:`InputError` (file and line named);
    with ``skip`` it is counted, sent to ``rejects`` with its reason, and the run goes on.
    """
    stats = RunStats()
    rejects = rejects or Rejects(None)
    verdicts = Verdicts(pipeline.ordered) if pipeline.ordered else None
    for item in items:
        stats.read += 1
        reason = item.error
        if reason is None:
            try:
                keys: list[Any] | None = [] if verdicts is not None else None
                result = pipeline.process(item.record, stats.counts, keys)
                if verdicts is not None and type(result) is not Dropped:
                    result = verdicts.decide(keys or [], result.get("id"), result) or result
                if type(result) is Dropped:
                    stats.drop(result)
                    (dropped or DroppedStream(None)).write(item.source, item.line, result)
                    continue
                writer.write(result)
                stats.written += 1
                continue
            except RecordError as exc:
                reason = exc.reason
        reject(item, reason, stats, on_error, rejects)
    if verdicts is not None:
        verdicts.finish()
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
