"""ftfy's mojibake test (``ftfy.badness.is_bad``), exact, searched only where a match can be.

The one windowed search that both ``normalize`` (deciding whether a line needs ftfy's encoding fix) and ``check``
(the ``mojibake`` rule) use. It lives below both so that ``check`` does not load the normalize step to use it.

``BADNESS_RE`` is a long alternation tried at every position (half a microsecond a character). Every match holds
a character of :data:`SUSPECT_CHARS` and is at most :data:`BADNESS_WIDTH` characters long, so it lies within
``BADNESS_WIDTH - 1`` characters of a suspect: searching those windows gives ``is_bad``'s answer exactly, and
text holding only everyday typography (curly quotes, dashes, ellipsis, NBSP) costs one character-class scan.
``tests/test_normalize.py`` and ``tests/test_check.py`` check both claims against the installed ftfy.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ftfy.badness import BADNESS_RE, MOJIBAKE_CATEGORIES


def char_class(codepoints: Iterable[int]) -> str:
    """A regex character class matching exactly ``codepoints`` (as escaped ranges, surrogates included)."""
    points = sorted(set(codepoints))
    parts: list[str] = []
    i = 0
    while i < len(points):
        j = i
        while j + 1 < len(points) and points[j + 1] == points[j] + 1:
            j += 1
        lo, hi = points[i], points[j]
        parts.append(escape(lo) if lo == hi else f"{escape(lo)}-{escape(hi)}")
        i = j + 1
    return "[" + "".join(parts) + "]"


def escape(codepoint: int) -> str:
    """``codepoint`` as a regex escape (``\\U0001f44d``), valid inside and outside a character class."""
    return f"\\U{codepoint:08x}"


def category_chars(spec: str) -> set[int]:
    """The characters of one ftfy ``MOJIBAKE_CATEGORIES`` entry (a regex class body with ``a-z`` ranges)."""
    chars: set[int] = set()
    i = 0
    while i < len(spec):
        if i + 2 < len(spec) and spec[i + 1] == "-":
            chars.update(range(ord(spec[i]), ord(spec[i + 2]) + 1))
            i += 3
        else:
            chars.add(ord(spec[i]))
            i += 1
    return chars


def _suspect_chars() -> frozenset[int]:
    """Characters at least one of which every match of ftfy's ``BADNESS_RE`` contains.

    Walking ``BADNESS_RE`` alternative by alternative: each one needs a character from the categories below,
    or one of the literal letters listed (``[ØÙ]..[ØÙ]..``, ``‚[âó]…``, ``вЂ``, ``[ВГРС]…[ВГРС]``,
    ``[ΒΓΞΟ]…[ΒΓΞΟ]``). The everyday typography of news text (’ “ ” — – … NBSP, the "common", "start/end
    punctuation" and "kaomoji" categories) and plain Greek and Cyrillic letters (the "upper/lower common"
    categories) are deliberately *not* here, so lines holding only those skip ``is_bad``.
    """
    chars: set[int] = set()
    for name in ("c1", "bad", "upper_accented", "lower_accented", "currency", "numeric", "box", "law"):
        chars |= category_chars(MOJIBAKE_CATEGORIES[name])
    chars |= {ord(c) for c in "ØÙ‚ЂВГРСΒΓΞΟ"}
    return frozenset(chars)


SUSPECT_CHARS = _suspect_chars()
#: A search for any character of :data:`SUSPECT_CHARS`.
SUSPECT = re.compile(char_class(SUSPECT_CHARS))

# The longest match of ftfy's BADNESS_RE, in characters ("ГўВЂВ.x"); a test checks it against the installed ftfy.
BADNESS_WIDTH = 7


def is_bad(text: str, suspect: re.Pattern[str] = SUSPECT) -> bool:
    """``ftfy.badness.is_bad(text)``, searching only near the suspect characters (``suspect`` finds them).

    Every match holds a suspect character and is at most :data:`BADNESS_WIDTH` long, so it lies within
    ``BADNESS_WIDTH - 1`` characters of one: searching those windows (merged when they meet) finds a match
    exactly when the whole text has one. Searching with ``pos``/``endpos`` keeps the pattern's view of the text
    (``^`` still only matches at its real start), and the pattern has no ``$`` or lookaround that ``endpos`` could
    fool: anything found there is a match in the whole text too.
    """
    reach = BADNESS_WIDTH - 1
    search = BADNESS_RE.search
    start = end = -1
    for match in suspect.finditer(text):
        at = match.start()
        if at - reach > end:  # a window apart from the one so far: search that one first
            if end >= 0 and search(text, start, end):
                return True
            start = max(0, at - reach)
        end = at + reach + 1
    return end >= 0 and search(text, start, end) is not None
