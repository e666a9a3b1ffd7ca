"""``explain``: every line of a document with what ``clean`` does to it, and why.

This is how a user tunes the tool on their own corpus: it runs the very pipeline ``clean`` runs (the same steps,
options and corpus index) on each record and reports, per non-blank line of the text as it came in, what it is:
``body`` (kept), or the kind of what a step cut (``byline``, ``bio``, ``translator``, ``teaser``, ...), which step
and the rule. The rows come from the cuts the run records in ``metadata.cuts``, so what explain shows is what
``clean`` cuts. A record a step drops is shown with the drop's reason. Nothing is written: rendering (rich table,
plain lines, JSON) is the CLI's job; this module only builds the rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from corpus_tools.labels import BODY, Label, split_paragraphs, word_count
from corpus_tools.pipeline import Dropped, Pipeline, Verdicts
from corpus_tools.records import Record
from corpus_tools.step import Step, entry_lines

#: Display order of the kinds the built-in steps cut (others, from plugins, come after): the article first.
KINDS = (BODY, "byline", "bio", "translator", "contributor", "teaser")


def kind_of(step: type[Step] | Step, rule: str) -> str:
    """What a line a step cut by ``rule`` is: the step's own word for it, else the step's name."""
    return step.kinds.get(rule, step.name)


@dataclass(frozen=True)
class Row:
    """One non-blank paragraph: its index in the (normalized) text, its words, its label(s)."""

    index: int
    text: str
    words: int
    labels: tuple[Label, ...] = ()

    @property
    def kind(self) -> str:
        """The paragraph's kind: the first label's (credit labels come before teaser labels), else body."""
        return self.labels[0].kind if self.labels else BODY

    @property
    def step(self) -> str | None:
        return self.labels[0].step if self.labels else None

    @property
    def reason(self) -> str | None:
        return self.labels[0].reason if self.labels else None

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "kind": self.kind,
            "step": self.step,
            "reason": self.reason,
            "words": self.words,
            "labels": [{"kind": lb.kind, "step": lb.step, "reason": lb.reason} for lb in self.labels],
            "text": self.text,
        }


@dataclass(frozen=True)
class Explanation:
    """One document's rows, and what ``normalize`` changed before labelling (empty when it did not run)."""

    id: Any  # the record's id as it is in the JSON (any type; None when missing)
    source: str
    rows: tuple[Row, ...]
    paragraphs: int
    normalized: bool = False
    normalize_counts: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, Any] | None = None  # {"step", "reason", ...details} when a step dropped the record

    def counts(self) -> dict[str, int]:
        """Paragraphs by kind, every kind present, in display order (unknown kinds after)."""
        found = Counter(row.kind for row in self.rows)
        out = {kind: found.pop(kind, 0) for kind in KINDS}
        out.update(sorted(found.items()))
        return out

    def summary(self) -> str:
        """``31 paragraphs: 24 body, 1 bio, 1 translator, 4 teaser`` (kinds with zero left out), and the drop."""
        parts = [f"{n} {kind}" for kind, n in self.counts().items() if n]
        text = f"{len(self.rows)} paragraphs: " + ", ".join(parts) if parts else "0 paragraphs"
        if self.dropped:
            text += f"; dropped by {self.dropped['step']}: {self.dropped['reason']}"
        return text

    def to_json(self) -> dict[str, Any]:
        from corpus_tools.check import json_value

        return {
            "id": json_value(self.id),  # the id's own JSON value; lone surrogates (file names) spelled \udcff
            "source": json_value(self.source),
            "normalized": self.normalized,
            "summary": self.counts(),
            "dropped": self.dropped,
            "paragraphs": [row.to_json() for row in self.rows],
        }


def explain_record(record: Record, pipeline: Pipeline, verdicts: Verdicts | None = None) -> Explanation:
    """Run ``pipeline`` on ``record`` and label each non-blank line of its text, as it came in, with the cut that
    removed it (or body). The record itself is left as it is. ``verdicts``: the in-order decisions of the
    pipeline's ordered passes (dedup) over the records explained so far, when the records come in input order."""
    text_field = pipeline.text_field
    text = record[text_field]
    lines = split_paragraphs(text)
    metadata = record.get("metadata") if isinstance(record.get("metadata"), dict) else {}
    before = metadata.get("cuts") if isinstance(metadata.get("cuts"), list) else []
    keys: list[Any] | None = [] if verdicts is not None else None
    result = pipeline.process(record, None, keys)
    verdict = None
    if verdicts is not None and type(result) is not Dropped:
        # decided after the steps ran: the record's cuts still show, with the verdict beside them
        verdict = verdicts.decide(keys or [], result.get("id"), result)
    steps = {step.name: step for step in pipeline.steps}
    by_line: dict[int, list[Label]] = {}
    dropped = None
    counts: dict[str, int] = {}
    processed = result
    if type(result) is Dropped:
        dropped = {"step": result.step, "reason": result.drop.reason, **result.drop.details}
        processed = result.work  # what the steps had cut before the drop: shown too
    if isinstance(processed, dict):
        after = processed.get("metadata", {})
        counts = after.get("normalize", {}) if "normalize" in steps else {}
        # The lines as they came in, as the cuts count them (earlier runs' cuts are counted back in).
        origin = entry_lines(len(lines), before)
        where = {line: i for i, line in enumerate(origin)}
        for cut in after.get("cuts", [])[len(before) :]:
            i = where.get(cut["paragraph"])
            step = steps.get(cut.get("step", ""))
            if i is None or step is None:
                continue
            # a step may say more than the rule (the residue model: the features that decided)
            detail = getattr(step, "cut_detail", None)
            reason = (detail(cut) if detail is not None else None) or cut["rule"]
            by_line.setdefault(i, []).append(Label(kind_of(step, cut["rule"]), reason, step.name))
        if verdict is not None:
            dropped = {"step": verdict.step, "reason": verdict.drop.reason, **verdict.drop.details}
    rows = tuple(Row(i, p, word_count(p), tuple(by_line.get(i, ()))) for i, p in enumerate(lines) if p.strip())
    return Explanation(
        record.get("id"),
        str(record.get("source", "")),
        rows,
        len(lines),
        "normalize" in steps,
        dict(counts) if isinstance(counts, dict) else {},
        dropped,
    )


def explain_records(records: Sequence[Record], pipeline: Pipeline) -> list[Explanation]:
    return [explain_record(record, pipeline) for record in records]
