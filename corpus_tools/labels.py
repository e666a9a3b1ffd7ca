"""Tag first, cut later: the paragraph labels that detection steps produce and cutting steps apply.

A document's text is one paragraph per line. A detector (credits, teasers) returns a :class:`Label` for each
paragraph it claims, keyed by the paragraph's index; unlabelled paragraphs are body. Cutting is then a trivial
application of labels, which is what gives ``--dry-run`` and ``explain`` for free.
"""

from __future__ import annotations

from dataclasses import dataclass

import regex

BODY = "body"


@dataclass(frozen=True, slots=True)
class Label:
    """What a step says one paragraph is, and why.

    ``kind`` is what the paragraph is ("teaser", "heading", "byline", "bio", "translator", ...).
    ``reason`` is one short stable string: the stats key, the audit field in the record, the test assertion.
    ``step`` is the step that gave the label.
    """

    kind: str
    reason: str
    step: str


def split_paragraphs(text: str) -> list[str]:
    """The paragraphs of a text, one per line (blank lines kept, so indices match the text's lines)."""
    return text.split("\n")


def join_paragraphs(paragraphs: list[str]) -> str:
    return "\n".join(paragraphs)


def cut(paragraphs: list[str], remove: set[int]) -> list[str]:
    """The paragraphs whose index is not in ``remove``."""
    return [p for i, p in enumerate(paragraphs) if i not in remove]


# A sentence ends on terminal punctuation, possibly followed by closing quotes or brackets:
# `... reality.`  `... region.”`  `... (see below).)`  `... 台灣。」`  `... really?!`
_TERMINAL = regex.compile(r"[.!?…。！？‼⁇⁈⁉](?:[\p{Pf}\p{Pe}\"'»›」』】〉》）\]]*)\s*$")


def ends_sentence(paragraph: str) -> bool:
    """Whether ``paragraph`` ends like a finished sentence (terminal punctuation, then closers)."""
    return _TERMINAL.search(paragraph[-16:]) is not None


def word_count(paragraph: str) -> int:
    return len(paragraph.split())


def more_words_than(text: str, n: int) -> bool:
    """``word_count(text) > n``, without splitting more than ``n`` times: a line has at most (len + 1) // 2
    words, and a split capped at ``n`` gives ``n + 1`` pieces exactly when there are more than ``n`` words."""
    return (len(text) + 1) // 2 > n and len(text.split(None, n)) > n


def words_between(text: str, low: int, high: int) -> bool:
    """``low <= word_count(text) <= high``, counting as little as that needs."""
    # Words are separated by whitespace, so a line has at most (len + 1) // 2 of them: most body lines are too
    # short for a teaser-length band and are rejected without splitting.
    if (len(text) + 1) // 2 < low:
        return False
    # Split at most `high` times: the count is exact up to `high` and `high + 1` beyond it.
    return low <= len(text.split(None, high)) <= high
