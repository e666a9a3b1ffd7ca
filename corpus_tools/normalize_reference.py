"""What ``normalize`` does, written the plain way: the definition the fast path in :mod:`corpus_tools.normalize`
is tested against (``tests/test_normalize_reference.py``), and what runs with an ftfy release the fast path was
not written from. Slow (ftfy on every line, each substitution over the whole text), never clever.

A round is: ftfy's repair, line by line, exactly as ``ftfy.fix_text(text, ftfy_config(options))``; then the C1
controls ftfy leaves (bytes cp1252 leaves undefined, read as Latin-1) removed; then the whitespace and
punctuation rules. Rounds repeat until one changes nothing (at most ``MAX_ROUNDS``).
"""

from __future__ import annotations

import re

import ftfy

from corpus_tools.normalize import (
    _DOUBLE_PERIOD,  # the doubled-full-stop rule: the pattern is its definition
    MAX_ROUNDS,
    NormalizeOptions,
    ftfy_config,
    step_kind,
    zero_counts,
)

C1_CONTROL = re.compile("[\x80-\x9f]")
ODD_SPACE = re.compile("[\t\x0b\x0c\xa0\u1680\u2000-\u200a\u202f\u205f\u3000]")  # tab, NBSP, thin space ...


def normalize_text(text: str, options: NormalizeOptions = NormalizeOptions()) -> tuple[str, dict[str, int]]:
    """The normalized text and the number of changes by kind (every kind, zeros included)."""
    counts = zero_counts()
    for _ in range(MAX_ROUNDS):
        before = text
        text = repair(text, options, counts)
        text, n = C1_CONTROL.subn("", text)  # the ones ftfy keeps: "\x81", "\x8d", "\x8f", "\x90", "\x9d", ...
        counts["control_chars"] += n
        text = fix_spacing(text, options, counts)
        if text == before:
            break
    return text, counts


def repair(text: str, options: NormalizeOptions, counts: dict[str, int]) -> str:
    """``ftfy.fix_text(text, ftfy_config(options))``: each line (cut every ``max_decode_length``) through
    ``fix_and_explain``; a line it changed counts once for each kind of fix it reports."""
    config = ftfy_config(options)._replace(explain=True)  # the same fixes, and the list of them
    out = []
    pos = 0
    while pos < len(text):
        end = text.find("\n", pos) + 1 or len(text)
        end = min(end, pos + config.max_decode_length)
        segment = text[pos:end]
        fixed, steps = ftfy.fix_and_explain(segment, config)
        if fixed != segment:
            for kind in {step_kind(step) for step in steps or ()}:
                counts[kind] += 1
        out.append(fixed)
        pos = end
    return "".join(out)


def fix_spacing(text: str, options: NormalizeOptions, counts: dict[str, int]) -> str:
    """The whitespace and punctuation rules, each one substitution over the whole text, counted by occurrence."""
    if options.whitespace:
        text, n = ODD_SPACE.subn(" ", text)
        counts["spaces"] += n
        text, n = re.subn("  +", " ", text)
        counts["space_runs"] += n
        text, n = re.subn("^ +| +$", "", text, flags=re.MULTILINE)
        counts["line_spaces"] += n
        # No blank line at either end, no two in a row. A text's final "\n" ends its last line: not a blank line.
        kept = re.sub("\n\n\n+", "\n\n", text.strip("\n"))
        counts["blank_lines"] += _lines(text) - _lines(kept)
        text = kept
    if options.punctuation:
        text, n = _DOUBLE_PERIOD.subn(".", text)  # "Taiwan.." -> "Taiwan.", never "..." or "wait.. what"
        counts["double_periods"] += n
        text, n = re.subn("(?<!–)––(?!–)", "—", text)  # exactly two en dashes -> an em dash
        counts["double_dashes"] += n
    return text


def _lines(text: str) -> int:
    """How many lines ``text`` holds, each ended by a ``\\n`` except perhaps the last."""
    return text.count("\n") + (not text.endswith("\n") if text else 0)
