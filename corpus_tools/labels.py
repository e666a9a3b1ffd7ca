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


# The last text split and its paragraphs, by identity. Steps run one after another on the same record: the teasers
# step receives the very string the credits step split (or built from a list of lines with `cut_text`), and
# splitting a long text again is one of the costliest things it would do. One entry, matched with `is`: no text is
# ever compared or kept beyond the next split, and a concurrent thread only ever sees a whole (text, lines) pair.
_last_split: tuple[str, tuple[str, ...]] | None = None


def split_paragraphs(text: str) -> list[str]:
    """The paragraphs of a text, one per line (blank lines kept, so indices match the text's lines)."""
    global _last_split
    last = _last_split
    if last is not None and last[0] is text:
        return list(last[1])
    paragraphs = text.split("\n")
    _last_split = (text, tuple(paragraphs))
    return paragraphs


def join_paragraphs(paragraphs: list[str]) -> str:
    return "\n".join(paragraphs)


def lines_containing(text: str, needle: str) -> list[int]:
    """The indices of the lines of ``text`` that hold ``needle`` (which holds no line break), found by searching
    the whole text once instead of each line apart."""
    found: list[int] = []
    line = 0
    counted = 0  # the line breaks before offset `counted` are counted in `line`
    at = text.find(needle)
    while at >= 0:
        line += text.count("\n", counted, at)
        found.append(line)
        end = text.find("\n", at)
        if end < 0:
            break
        line += 1
        counted = end + 1
        at = text.find(needle, counted)
    return found


def cut(paragraphs: list[str], remove: set[int]) -> list[str]:
    """The paragraphs whose index is not in ``remove``."""
    return [p for i, p in enumerate(paragraphs) if i not in remove]


def cut_text(paragraphs: list[str], remove: set[int]) -> str:
    """``join_paragraphs(cut(paragraphs, remove))`` for ``paragraphs`` that :func:`split_paragraphs` returned (so
    none holds a line break): the next split of the text returned gives the kept paragraphs without splitting."""
    global _last_split
    kept = cut(paragraphs, remove)
    text = "\n".join(kept)
    if kept:  # no lines join to "", which splits into one empty line
        _last_split = (text, tuple(kept))
    return text


# A sentence ends on terminal punctuation, possibly followed by closing quotes or brackets:
# `... reality.`  `... region.”`  `... (see below).)`  `... 台灣。」`  `... really?!`
_TERMINAL = regex.compile(r"[.!?…。！？‼⁇⁈⁉](?:[\p{Pf}\p{Pe}\"'»›」』】〉》）\]]*)\s*$")


def ends_sentence(paragraph: str) -> bool:
    """Whether ``paragraph`` ends like a finished sentence (terminal punctuation, then closers)."""
    # Most lines end on a full stop or on a letter: those two answers need no regex call.
    last = paragraph[-1:]
    if last in _PLAIN_TERMINALS:
        return True
    if last.isascii() and last.isalnum():
        return False  # the pattern's tail is closers, spaces and the end, none of them a letter or digit
    tail = paragraph[-16:]
    if _TERMINAL.search(tail) is not None:
        return True
    # Only a tail of closers and spaces can hide a terminal further back ("Done." and 16 closing quotes).
    return (
        len(paragraph) > 16
        and _CLOSERS_AND_SPACES.fullmatch(tail) is not None
        and _TERMINAL.search(paragraph) is not None
    )


_CLOSERS_AND_SPACES = regex.compile(r"[\p{Pf}\p{Pe}\"'»›」』】〉》）\]\s]*")
# Terminal punctuation that the pattern accepts as a paragraph's very last character (`"" in` is true: excluded).
_PLAIN_TERMINALS = frozenset(".!?…。！？‼⁇⁈⁉")


def word_count(paragraph: str) -> int:
    return len(paragraph.split())


def more_words_than(text: str, n: int) -> bool:
    """``word_count(text) > n``, without splitting more than ``n`` times: a line has at most (len + 1) // 2
    words, and a split capped at ``n`` gives ``n + 1`` pieces exactly when there are more than ``n`` words."""
    if (len(text) + 1) // 2 <= n:
        return False
    # A prefix has at most the words of the whole (a word the cut goes through is still one word), so a short
    # prefix with more than n words answers without copying the rest of a long line into the split's last piece.
    head = text[: 8 * (n + 1)]
    if len(head) < len(text) and len(head.split(None, n)) > n:
        return True
    return len(text.split(None, n)) > n


def words_between(text: str, low: int, high: int) -> bool:
    """``low <= word_count(text) <= high``, counting as little as that needs."""
    # Words are separated by whitespace, so a line has at most (len + 1) // 2 of them: most body lines are too
    # short for a teaser-length band and are rejected without splitting.
    if (len(text) + 1) // 2 < low:
        return False
    if text and text.isprintable():
        # " " is then the only whitespace character in it (every other one is unprintable; a test checks this for
        # all of Unicode), so every word but the last is followed by a space: counting spaces bounds the words,
        # and gives them exactly when the spaces are single and inside. Cheaper than splitting ~100 words.
        spaces = text.count(" ")
        if spaces + 1 < low:
            return False
        if text[0] != " " and text[-1] != " " and "  " not in text:
            return low <= spaces + 1 <= high
    # Split at most `high` times: the count is exact up to `high` and `high + 1` beyond it.
    return low <= len(text.split(None, high)) <= high
