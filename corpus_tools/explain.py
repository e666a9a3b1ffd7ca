"""``explain``: every paragraph of a document with the label each step gives it, and why.

This is how a user tunes the tool on their own corpus: it runs the detectors (credits, teasers) in label-only
mode on the text as ``clean`` would see it (normalized first, unless told not to) and reports, per paragraph,
what it is (``body``, ``heading``, ``byline``, ``bio``, ``translator``, ``teaser``), which step said so and the
step's reason. Nothing is cut. Rendering (rich table, plain lines, JSON) is the CLI's job; this module only
builds the rows.

Each detector sees the same text, independently, exactly as it would if it ran first: the two steps are
designed to work alone and in either order, so this is also what they do in a pipeline. A record the credits step
already cut keeps, in ``metadata.credit_cuts``, where its end credits stood; the teaser labels use that position
as the ``teasers`` step does (:func:`corpus_tools.teasers.end_credits_position`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from corpus_tools.credits import CreditsOptions, label_credits
from corpus_tools.labels import BODY, Label, split_paragraphs, word_count
from corpus_tools.records import Record

if TYPE_CHECKING:
    from corpus_tools.tailindex import TailIndex

# Display order of kinds (summaries, legends): the article first, then what a step would cut.
KINDS = (BODY, "heading", "byline", "bio", "translator", "teaser")
# A kind a step cuts; body and heading stay.
CUT_KINDS = frozenset({"byline", "bio", "translator", "teaser"})


@dataclass(frozen=True)
class ExplainOptions:
    """How to label documents for ``explain``.

    ``normalize``: label the text as ``clean`` sees it, after ``normalize`` (when that step is installed).
    ``credits``/``teasers``: run that detector.
    """

    normalize: bool = True
    credits: bool = True
    teasers: bool = True


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

    def counts(self) -> dict[str, int]:
        """Paragraphs by kind, every kind present, in display order (unknown kinds after)."""
        found = Counter(row.kind for row in self.rows)
        out = {kind: found.pop(kind, 0) for kind in KINDS}
        out.update(sorted(found.items()))
        return out

    def summary(self) -> str:
        """``31 paragraphs: 24 body, 1 heading, 1 bio, 1 translator, 4 teaser`` (kinds with zero left out)."""
        parts = [f"{n} {kind}" for kind, n in self.counts().items() if n]
        return f"{len(self.rows)} paragraphs: " + ", ".join(parts) if parts else "0 paragraphs"

    def to_json(self) -> dict[str, Any]:
        from corpus_tools.check import json_value

        return {
            "id": json_value(self.id),  # the id's own JSON value; lone surrogates (file names) spelled \udcff
            "source": json_value(self.source),
            "normalized": self.normalized,
            "summary": self.counts(),
            "paragraphs": [row.to_json() for row in self.rows],
        }


def normalize_function() -> Any:
    """``normalize_text`` when the normalize step is installed, else ``None``."""
    try:
        from corpus_tools.normalize import normalize_text
    except ImportError:  # pragma: no cover - only in a partial install
        return None
    return normalize_text


def explain_text(
    text: str,
    options: ExplainOptions | None = None,
    *,
    doc_id: Any = "",
    source: str = "",
    metadata: dict[str, Any] | None = None,
    credits_options: CreditsOptions | None = None,
    teasers_options: Any = None,
    index: TailIndex | None = None,
) -> Explanation:
    """Label every paragraph of ``text`` with what each step would do, and why. Cuts nothing."""
    options = options or ExplainOptions()
    normalized = False
    counts: dict[str, int] = {}
    received = split_paragraphs(text)
    normalize_text = normalize_function() if options.normalize else None
    if normalize_text is not None:
        text, counts = normalize_text(text)
        normalized = True
    paragraphs = split_paragraphs(text)
    by_index: dict[int, list[Label]] = {}
    if options.credits:
        for i, label in label_credits(paragraphs, credits_options or CreditsOptions()).items():
            by_index.setdefault(i, []).append(label)
    if options.teasers:
        credits_at = _credits_position(metadata or {}, received, paragraphs)
        for i, label in _teaser_labels(paragraphs, teasers_options, index, credits_at).items():
            by_index.setdefault(i, []).append(label)
    rows = tuple(Row(i, p, word_count(p), tuple(by_index.get(i, ()))) for i, p in enumerate(paragraphs) if p.strip())
    return Explanation(doc_id, source, rows, len(paragraphs), normalized, counts)


def explain_record(record: Record, text_field: str = "text", **kwargs: Any) -> Explanation:
    """:func:`explain_text` for one record (``id``/``source`` taken from it when present; the id kept as the JSON
    value it is, ``None`` when missing)."""
    metadata = record.get("metadata") if isinstance(record.get("metadata"), dict) else {}
    return explain_text(
        record[text_field],
        doc_id=record.get("id"),
        source=str(record.get("source", "")),
        metadata=metadata,
        **kwargs,
    )


def _credits_position(metadata: dict[str, Any], received: list[str], paragraphs: list[str]) -> int | None:
    """Where removed end credits stood (:func:`corpus_tools.teasers.end_credits_position`), as an index into
    ``paragraphs`` (the text after normalizing) rather than ``received`` (the record's text).

    Normalizing drops and collapses blank lines, which moves line indices but keeps the non-blank lines in
    order; the position is carried over by counting the non-blank lines above it. When normalizing changed
    how many non-blank lines there are (it split a line), there is no safe mapping and no position.
    """
    from corpus_tools import teasers

    position = teasers.end_credits_position(metadata, len(received))
    if position is None or paragraphs == received:
        return position
    filled = [i for i, p in enumerate(paragraphs) if p.strip()]
    if len(filled) != sum(1 for p in received if p.strip()) or position > len(received):
        return None
    above = sum(1 for p in received[:position] if p.strip())
    # Right below the last non-blank line above it (blank lines between count for nothing either way).
    return filled[above - 1] + 1 if above else 0


def _teaser_labels(paragraphs: list[str], options: Any, index: Any, credits_at: int | None) -> dict[int, Label]:
    # Imported here, like every cross-step import (see INTERFACES.md).
    from corpus_tools import teasers

    return teasers.label_teasers(paragraphs, options or teasers.TeasersOptions(), index, credits_at=credits_at)
