"""Teasers: find the truncated previews of other articles that scraped pages end with, and cut them.

A teaser is the first ~100 words of another article, cut at a word boundary, so most end mid-sentence and some
end on a full stop by chance. Pages carry none, one or several, after the credit lines or straight after the
article's last paragraph. No single rule finds them (cutting every line without terminal punctuation, the C4
rule, deletes subheads, lists and credits and keeps full-stop teasers), so :func:`label_teasers` combines:

1. **band**: the paragraph has ``min_words``..``max_words`` words (teasers share one tight length);
2. **truncated**: it does not end a sentence (:func:`corpus_tools.labels.ends_sentence`: closing quotes,
   brackets and CJK punctuation count as endings), and does not end on a colon or a closing quote or bracket
   either, which a body paragraph does ("... three demands:", "... a “new normal”");
3. **position**: only the trailing run of in-band paragraphs is considered (blank lines and subheads step over;
   above a subhead only a truncated paragraph continues the run), and the tail inside it starts at its topmost
   *truncated* paragraph; paragraphs below that one are teasers whatever their ending ("contiguity");
4. **credits**: an in-band paragraph that ends a sentence, above the topmost truncated one, is a teaser when
   the run sits right after the end-credits block (a bio or translator line with body above it). When the
   credits step already removed that block, ``metadata.cuts`` says where it stood
   (:func:`end_credits_position`), and that position counts exactly as the lines would: it ends the run, and a
   run right below it (blank lines and subheads between) gets the same signal;
5. **recurrence** (with a :class:`~corpus_tools.tailindex.TailIndex`): such a paragraph is also a teaser when
   it appears in at least ``min_recurrence`` documents and in more documents than the page's own first
   paragraph (so a duplicated article does not look like a teaser). Recurrence only extends a tail upward
   through the run; it never starts one and never reaches past the run into the body.

When the signals disagree the paragraph stays: losing body text is worse than leaving a teaser in.

Short subheads (up to ``heading_max_words`` words, starting with a capital or a digit, with no punctuation at
the end) are labelled ``heading`` and always kept, including one right before the tail.

Reasons (stable strings, used as ``metadata.cuts[].rule``, stats keys and test assertions):
``truncated``, ``contiguous``, ``after-credits``, ``recurrent``; headings: ``subhead``.
"""

from __future__ import annotations

import operator
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import regex

from corpus_tools.credit_shapes import credit_kind as _credit_kind
from corpus_tools.credit_shapes import end_credit_shaped
from corpus_tools.errors import ConfigError, RecordError, below_bounds
from corpus_tools.labels import (
    Label,
    ends_sentence,
    more_words_than,
    words_between,
)
from corpus_tools.step import BLANK_LINE, BLANK_LINE_REASON, CorpusPass, Doc, Labels, Step, option

if TYPE_CHECKING:
    from corpus_tools.tailindex import TailIndex

STEP = "teasers"

TEASER = "teaser"
HEADING = "heading"

TRUNCATED = "truncated"
CONTIGUOUS = "contiguous"
AFTER_CREDITS = "after-credits"
RECURRENT = "recurrent"
SUBHEAD = "subhead"
REASONS = (TRUNCATED, CONTIGUOUS, AFTER_CREDITS, RECURRENT)

METADATA_KEYS = ("teasers", "cuts")

# Credit kinds that close an article (a leading byline does not: body follows it).
_END_CREDITS = ("bio", "translator")


@dataclass(frozen=True)
class TeasersOptions:
    """What counts as a teaser tail, and whether the step cuts it.

    ``min_words``/``max_words``: the word band teasers share (the seeds' are 100-103 words; sites that cut at a
    fixed number of words or characters give one tight band, so set it to your corpus's). Both at least 1, and
    ``min_words`` <= ``max_words``.
    ``heading_max_words``: a line this short, capitalised and without end punctuation is a subhead (kept). At
    least 1.
    ``use_credits``: use the position right after the end-credits block as a signal (the lines themselves, or
    where ``metadata.cuts`` says the credits step removed them).
    ``min_recurrence``: with an index, the fewest documents a paragraph must appear in to count as recurring.
    At least 2 (a paragraph in one document does not recur).
    ``dry_run``: label only: fill ``metadata.cuts`` with what would be cut, leave ``text`` and
    ``metadata.teasers`` alone.

    Every integer is also below 2**63 (the manifest and ``--json`` reports are JSON, written with 64-bit
    integers). A value out of its range is a :class:`ConfigError` naming the option, its range and the value given.
    """

    min_words: int = option(95, "Shortest teaser, in words (teasers share a tight band).", low=1)
    max_words: int = option(110, "Longest teaser, in words.", low=1)
    heading_max_words: int = option(8, "Longest subhead, in words (subheads are kept).", low=1)
    use_credits: bool = option(
        True, "Use 'right after the credit lines' as a teaser signal.", flag="--credits/--no-credits"
    )
    min_recurrence: int = option(
        3, "With the corpus index: documents a paragraph must recur in.", low=2, corpus_pass=True
    )
    dry_run: bool = option(False, "Label only: fill metadata.cuts with what would be cut; text unchanged.")

    def __post_init__(self) -> None:
        # Every violated option gets its own message, all of them in one error.
        problems = below_bounds(
            self, (("min_words", 1), ("max_words", 1), ("heading_max_words", 1), ("min_recurrence", 2))
        )
        if 1 <= self.max_words < self.min_words:
            problems.append(f"min_words ({self.min_words}) must be <= max_words ({self.max_words})")
        if problems:
            raise ConfigError("teasers: " + "; ".join(problems))


# A body paragraph may stop on a colon (before a list or quote that the scraper lost) or on a closing quote
# or bracket without a full stop; a teaser cut at a word boundary almost never does. Such an ending is not
# evidence of truncation.
_OPEN_ENDING = regex.compile(r"[:：\p{Pe}\p{Pf}\"'»›」』】〉》）\]]\s*$")
# A subhead starts with a capital, a digit or a CJK character, and is not a list item ("1. ", "- ", "• ").
_HEADING_START = regex.compile(r"^[\p{Lu}\p{Lt}\p{N}\p{Lo}]")
_LIST_ITEM = regex.compile(r"^(?:\p{N}{1,3}[.)]\s|[-–—*•·▪●◦]\s?)")
# A heading does not end on a comma, semicolon or colon (CJK forms included): the last character of a stripped line.
_HEADING_END_CHARS = frozenset(",;:、，；：")

# ------------------------------------------------------------------------------------------ paragraph shapes


def is_truncated(paragraph: str) -> bool:
    """Whether a paragraph stops mid-sentence: no sentence ending, and not a colon or a closing quote/bracket, nor
    a link, handle, hashtag or emoji (see :func:`ends_on_a_post_mark`)."""
    text = paragraph.rstrip()
    if not text:
        return False
    last = text[-1]
    if last.isascii() and last.isalnum():
        # a sentence ending and an open ending both need punctuation last: no pattern to run
        return not ends_on_a_post_mark(text)
    return not ends_sentence(text) and _OPEN_ENDING.search(text[-4:]) is None and not ends_on_a_post_mark(text)


_POST_MARK_STARTS = ("http://", "https://", "www.", "@", "#")


def ends_on_a_post_mark(text: str) -> bool:
    """Whether ``text`` (right-stripped) ends on a link, a handle, a hashtag or an emoji or other symbol: the way
    a body paragraph or a post ends without a full stop (`... at https://example.org/report`, `... 🎉`); a preview
    cut at a word boundary ends on a word."""
    last_word = text.rsplit(None, 1)[-1]  # from the right: one word's worth of work
    if last_word.startswith(_POST_MARK_STARTS) or "://" in last_word:
        return True
    return unicodedata.category(text[-1]) in ("So", "Sk") or text[-1] == "\ufe0f"


def is_heading(paragraph: str, options: TeasersOptions = TeasersOptions(), credit_kind: Any = None) -> bool:
    """Whether a line is a short subhead: a few words, capitalised, no end punctuation, not a credit line."""
    text = paragraph.strip()
    if not text:
        return False
    # The cheap checks on the line's ends first: most body lines end a sentence and are rejected before any
    # word is counted (all of these are pure tests, so their order does not change the answer). An ASCII letter or
    # digit at either end answers a pattern without running it.
    last = text[-1]
    if last in _HEADING_END_CHARS:
        return False
    if not (last.isascii() and last.isalnum()) and (ends_sentence(text) or _OPEN_ENDING.search(text[-4:])):
        return False
    first = text[0]
    if "A" <= first <= "Z":
        pass  # a heading's start, and no list item starts with a letter
    elif (first.isascii() and not first.isdigit()) or not _HEADING_START.match(text) or _LIST_ITEM.match(text):
        return False
    if more_words_than(text, options.heading_max_words):
        return False
    kind = (credit_kind or _credit_kind)(text)
    return kind is None


def _in_band(paragraph: str, options: TeasersOptions) -> bool:
    return words_between(paragraph, options.min_words, options.max_words)


# ------------------------------------------------------------------------------------------------- labelling


def label_teasers(
    paragraphs: list[str],
    options: TeasersOptions = TeasersOptions(),
    index: TailIndex | None = None,
    *,
    credits_at: int | None = None,
) -> dict[int, Label]:
    """Label the teaser tail (kind ``teaser``) and the subheads (kind ``heading``) of one document.

    ``paragraphs`` is the text split into lines (:func:`corpus_tools.labels.split_paragraphs`); the result maps
    a line's index to its label, unlabelled lines are body. ``index`` adds the recurrence signal.
    ``credits_at`` is where end credits (bio, translator) that the credits step already cut stood: the index of
    the line that followed them (:func:`end_credits_position`). The position then counts as the lines would.
    """
    credit_kind = _credit_kind
    labels: dict[int, Label] = {}
    for i, reason in _tail(paragraphs, options, index, credits_at, credit_kind):
        labels[i] = Label(TEASER, reason, STEP)
    for i, paragraph in enumerate(paragraphs):
        if i not in labels and is_heading(paragraph, options, credit_kind):
            labels[i] = Label(HEADING, SUBHEAD, STEP)
    return labels


def tail_start(
    paragraphs: list[str],
    options: TeasersOptions = TeasersOptions(),
    index: TailIndex | None = None,
    *,
    text: str | None = None,
) -> int:
    """The index of the first paragraph of the teaser tail; ``len(paragraphs)`` when there is none.

    Works whether or not credit lines are still in the text (the credits step calls it to find the bio).
    ``text``: the string ``paragraphs`` was split from, when the caller has it (see :func:`_tail_of`).
    """
    teasers = _tail_of(text, paragraphs, options, index, None)
    return min((i for i, _ in teasers), default=len(paragraphs))


class _LastTail(NamedTuple):
    """The last tail :func:`_tail_of` found without an index or removed credits, with what the answer rests on:
    the walk up from the end reads only the last lines (down to where it stops), so another list that ends with
    the very same line objects has the same tail, shifted by the difference in length."""

    options: TeasersOptions
    #: the lines read, from the topmost to the last (the whole text when the walk went past its first line)
    lines: tuple[str, ...]
    whole: bool
    #: how many lines the text had, and the line where the walk up from the end stopped (-1: past the first)
    length: int
    stopped: int
    tail: tuple[tuple[int, str], ...]

    def answers(self, paragraphs: list[str], options: TeasersOptions, credits_at: int | None) -> bool:
        """Whether the tail of ``paragraphs`` (with ``credits_at``, no index) is this one."""
        n, m = len(paragraphs), len(self.lines)
        return (
            (n == m if self.whole else n >= m)
            # (another text's last line first: the question about a new text is turned away at once)
            and (m == 0 or paragraphs[-1] is self.lines[-1])
            and (self.options is options or self.options == options)
            # removed credits change the walk only where it checks their place: at or below where it stopped
            and (credits_at is None or credits_at <= max(self.stopped + n - self.length, 0))
            and all(map(operator.is_, paragraphs[n - m :], self.lines))
        )


# The credits step asks where the tail starts (to find the bio above it), then the teasers step asks for the tail of
# what is left: the same lines (split once, the strings shared), or fewer when credits were cut, almost always
# above the few last lines the walk reads. So the last answer is kept, matched by the identity of those lines (kept
# alive by the entry, so no identity is reused), and reused when it is the same question. One entry, swapped whole.
_last_tail: _LastTail | None = None


def _tail_of(
    text: str | None,
    paragraphs: list[str],
    options: TeasersOptions,
    index: TailIndex | None,
    credits_at: int | None,
) -> list[tuple[int, str]]:
    """:func:`_tail` with the credit shapes, the last answer reused when it holds (see :class:`_LastTail`). With an
    index the answer also rests on counts: it is found afresh."""
    global _last_tail
    if text is not None and not may_hold_teaser(text, options):
        return []
    if index is not None:
        return _tail(paragraphs, options, index, credits_at, _credit_kind)
    last = _last_tail
    if last is not None and last.answers(paragraphs, options, credits_at):
        shift = len(paragraphs) - last.length
        return [(j + shift, reason) for j, reason in last.tail]
    tail, stopped, lowest = _walk_tail(paragraphs, options, None, credits_at, _credit_kind)
    if credits_at is None:
        read = tuple(paragraphs[max(lowest, 0) :])
        _last_tail = _LastTail(options, read, lowest < 0, len(paragraphs), stopped, tuple(tail))
    return tail


def may_hold_teaser(text: str, options: TeasersOptions) -> bool:
    """False when ``text`` is too short for any of its lines to be in the teaser band: a line of ``n`` characters
    has at most ``(n + 1) // 2`` words, and :func:`_tail` finds no tail without a line in the band (recurrence
    never starts one). Short records then need no split and no look at their last lines."""
    return (len(text) + 1) // 2 >= options.min_words


def _tail(
    paragraphs: list[str],
    options: TeasersOptions,
    index: TailIndex | None,
    credits_at: int | None,
    credit_kind: Callable[[str], str | None],
) -> list[tuple[int, str]]:
    """The teaser tail as (index, reason) pairs, bottom up."""
    return _walk_tail(paragraphs, options, index, credits_at, credit_kind)[0]


def _walk_tail(
    paragraphs: list[str],
    options: TeasersOptions,
    index: TailIndex | None,
    credits_at: int | None,
    credit_kind: Callable[[str], str | None],
) -> tuple[list[tuple[int, str]], int, int]:
    """:func:`_tail`, and how far up it looked: the line where the walk up from the end stopped, and the topmost line
    the answer rests on (each -1 when it went past the first line: then it rests on every line)."""
    # The trailing run of in-band paragraphs, bottom up. Blank lines are stepped over, and so are short subheads
    # ("Advertisement" after the tail, "More opinion" between teasers); but above a subhead inside the run only
    # a truncated paragraph goes on with it, so a subhead standing before the tail still guards the body above.
    # Full-stop paragraphs above such a subhead are held back (`held`, across further subheads) and join the run
    # only when a truncated one turns up above them (they are then between teasers, like any contiguous one);
    # else the run ends below them and they stay. Without that a second pass would differ from the first: once
    # the tail below the subhead is cut, the subhead is trailing, and [teaser, full stop, subhead] is a tail
    # with a contiguous teaser.
    # End credits the credits step removed still end the run where they stood (right above line `credits_at`),
    # as the lines themselves would: the run stops there and `removed_credits` says it sits right below them.
    # Only a run that reaches that point stops there: credits standing below the whole tail (a bio at the very
    # end of the page) do not hide it.
    run: list[int] = []
    held: list[int] = []
    after_heading = False
    removed_credits = False
    i = len(paragraphs) - 1
    while i >= 0:
        if run and credits_at is not None and i == credits_at - 1:
            removed_credits = not held
            break
        paragraph = paragraphs[i]
        if paragraph.strip():
            if _in_band(paragraph, options):
                if after_heading or held:
                    if not is_truncated(paragraph):
                        held.append(i)
                        i -= 1
                        continue
                    run.extend(held)
                    held = []
                run.append(i)
                after_heading = False
            elif is_heading(paragraph, options, credit_kind):
                after_heading = bool(run)
            elif not run and not held and _end_credit(paragraph, credit_kind):
                # End credits below everything (a bio at the very end of the page): the tail may stand above them,
                # as it does once the credits step has cut them; stepping over them gives that in either order.
                pass
            else:
                break
        i -= 1
    stopped = i
    # the line right above the run (or the removed credits, or the held paragraphs, which stay), or -1
    above = held[0] if held else i
    truncated = [j for j in run if is_truncated(paragraphs[j])]
    if not truncated:
        # No paragraph stops mid-sentence: no tail. Recurrence alone never starts one.
        return [], stopped, stopped
    top = truncated[-1]  # run is bottom up: the last truncated one is the topmost
    tail: list[tuple[int, str]] = []
    for j in run:
        if j > top:
            tail.append((j, TRUNCATED if is_truncated(paragraphs[j]) else CONTIGUOUS))
    tail.append((top, TRUNCATED))

    # Full-stop paragraphs above the topmost truncated one: teasers only with another signal.
    head = [j for j in run if j < top]  # bottom up
    if not head:
        return tail, stopped, stopped
    # The credits above and the first paragraph (the index's baseline) may be anywhere up the text.
    if options.use_credits and _after_credits(paragraphs, above, credit_kind, removed_credits):
        tail.extend((j, AFTER_CREDITS) for j in head)
        return tail, stopped, -1
    baseline = _baseline(paragraphs, index) if index is not None else 0
    for j in head:
        if index is not None and _recurs(paragraphs[j], index, baseline, options):
            tail.append((j, RECURRENT))
        else:
            break  # contiguity broken: everything above stays
    return tail, stopped, -1


def _end_credit(paragraph: str, credit_kind: Callable[[str], str | None]) -> bool:
    """``credit_kind(paragraph) in _END_CREDITS``; with the credit shapes themselves, by their cheaper test."""
    if credit_kind is _credit_kind:
        return end_credit_shaped(paragraph)
    return credit_kind(paragraph) in _END_CREDITS


def _after_credits(
    paragraphs: list[str], above: int, credit_kind: Callable[[str], str | None], removed: bool = False
) -> bool:
    """Whether line ``above`` ends a credits block that closes an article (end credits with body above them).

    ``removed``: end credits the credits step cut stood right below line ``above``; they count as seen.
    """
    i = above
    saw_end_credit = removed
    while i >= 0:
        paragraph = paragraphs[i]
        if paragraph.strip():
            kind = credit_kind(paragraph)
            if kind is None:
                # Body above the credits: the credits close an article.
                return saw_end_credit
            saw_end_credit = saw_end_credit or kind in _END_CREDITS
        i -= 1
    return False  # only credit lines above: a page that starts with its byline


def _baseline(paragraphs: list[str], index: TailIndex) -> int:
    """How many documents share this page's first paragraph: the recurrence a duplicated article has anyway."""
    for paragraph in paragraphs:
        if paragraph.strip():
            return index.count(paragraph)
    return 0


def _recurs(paragraph: str, index: TailIndex, baseline: int, options: TeasersOptions) -> bool:
    n = index.count(paragraph)
    return n >= options.min_recurrence and n > baseline


# -------------------------------------------------------------------------------------------------- the step


#: The credits step's rules for end credits (a bio or a translator line): where the article ends.
END_CREDIT_RULES = frozenset(
    {
        "translated_by_line",
        "bio_before_translator",
        "bio_before_tail",
        "bio_at_end",
        "bio_before_furniture",
        "bio_under_author_heading",
    }
)


def end_credits_position(metadata: Mapping[str, Any], line_count: int) -> int | None:
    """Where the end credits (bio, translator lines) that the credits step cut stood, in the current text of
    ``line_count`` lines: the index of the line that followed them. ``None`` when it cut none (or only labelled).

    ``metadata.cuts`` gives every cut line's place in the text as it entered the pipeline; the current lines are
    mapped back to those places, and the block taken is the last one, the nearest the tail.
    """
    cuts = metadata.get("cuts")
    if not isinstance(cuts, list):
        return None
    ends = [
        c["paragraph"]
        for c in cuts
        if c.get("step") == "credits" and not c.get("dry_run") and c.get("rule") in END_CREDIT_RULES
    ]
    if not ends:
        return None
    last = max(ends)
    # The first current line whose place in the text as it came in (entry_lines) is past `last`: as many lines as
    # there were up to `last` (from 0) less those cut, counted from the cuts alone.
    removed = {c["paragraph"] for c in cuts if not c.get("dry_run")}
    return min(line_count, max(0, last + 1 - sum(1 for line in removed if 0 <= line <= last)))


class TailRecurrence(CorpusPass):
    """The teasers' corpus pass: how many documents each teaser-length paragraph appears in, counted on the
    normalized text, the text the step looks paragraphs up in. (The steps between normalize and teasers cut lines
    far shorter than the band it counts, or leave them: it reads after normalize alone.)"""

    after = ("normalize",)

    def start(self, options: TeasersOptions) -> TailIndex:
        from corpus_tools.tailindex import TailIndex, covering_band

        return TailIndex(*covering_band(options.min_words, options.max_words))

    def add(self, state: TailIndex, doc: Doc) -> None:
        state.add_text(doc.text)

    def merge(self, state: TailIndex, other: TailIndex) -> TailIndex:
        state.merge(other)
        return state

    def load(self, path: str, options: TeasersOptions) -> tuple[TailIndex, str | None]:
        from corpus_tools.tailindex import TailIndex, band_warning

        index = TailIndex.load(path)
        return index, band_warning(index, options.min_words, options.max_words, path)


class Teasers(Step):
    """The ``teasers`` step: cut the teaser tail, keep every cut paragraph in ``metadata.teasers``.

    ``metadata.teasers``: the cut paragraphs, verbatim, in text order (a dry run adds none). Its state is the
    corpus index (:class:`TailRecurrence`), when there is one: recurrence across pages is then a signal too.
    """

    name = STEP
    Options = TeasersOptions
    summary = "Cut the teaser tail (truncated previews of other articles) that scraped pages end with."
    metadata = {"teasers": "list[string]"}
    reasons = {
        TRUNCATED: "a teaser-length paragraph that stops mid-sentence, at the end",
        CONTIGUOUS: "a teaser-length paragraph in a run of truncated ones",
        AFTER_CREDITS: "a teaser-length paragraph right after the end credits",
        RECURRENT: "a teaser-length paragraph that recurs across the corpus",
        BLANK_LINE: BLANK_LINE_REASON,
    }
    kinds = dict.fromkeys((TRUNCATED, CONTIGUOUS, AFTER_CREDITS, RECURRENT), "teaser")
    corpus_pass = TailRecurrence()
    order = 300
    # once the tail is gone, residue (when it runs, before this step) sees the previews that stood above it as the
    # page's trailing run: it looks again, so that a second run of the pipeline cuts nothing more
    rounds = 2
    rerun = ("residue",)
    rounds_for_rerun = True  # without residue, once: its labels are its own fixed point

    @property
    def index(self) -> TailIndex | None:
        return self.state

    def label(self, doc: Doc) -> Labels:
        if not may_hold_teaser(doc.text, self.options):
            return Labels(doc)
        lines = doc.lines
        credits_at = end_credits_position(doc.metadata, len(lines))
        # Only the teaser tail is cut: the subhead labels that label_teasers adds for the whole text (for
        # `explain`) would cost a check of every line and change nothing here.
        reasons = dict(_tail_of(doc.text, lines, self.options, self.state, credits_at))
        return Labels(doc, cuts=reasons)

    def record_found(self, metadata: dict[str, Any], labels: Labels) -> None:
        teasers = _list_of(metadata, "teasers", str)
        if not self.dry_run:
            teasers += [labels.doc.lines[i] for i in sorted(labels.cuts)]
        metadata["teasers"] = teasers


def _list_of(metadata: dict[str, Any], key: str, kind: type) -> list[Any]:
    value = metadata.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(x, kind) for x in value):
        raise RecordError(f"metadata.{key} is not a list of {'strings' if kind is str else 'objects'}")
    return list(value)
