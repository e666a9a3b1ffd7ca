"""Credits: leading bylines, author bios and translator credits, out of the body and into metadata.

Tag first, cut later. :func:`credit_kind` says what one line *looks like* (shape only);
:func:`label_credits` decides what a document's lines *are*, from shape and position together:

- a **byline** is the first non-blank line (or the second, under a title line), and the whole line is
  ``By NAME`` (``By John Lim 林泉忠``, ``By Ann Lee and Bo Chen``, ``By Ann Lee, Staff reporter``);
- a **translator** credit is a whole line ``Translated by NAME``, ``Translated by NAME and NAME``,
  ``Translated and edited by NAME`` or ``Translated from the Chinese by NAME``; a sentence that mentions
  "translated by" in passing is not a credit;
- a **bio** (``NAME is a ...``, ``NAME, a ... at ..., is a ...``, ``NAME is ... and NAME is ...``,
  ``NAME and NAME are ...``, ``The writer is ...``) whose predicate names a role counts only in the bio
  position: the last body-like lines right before a translator credit, before the teaser tail
  (:func:`corpus_tools.teasers.tail_start`) or at the end of the text. ``Lai is a pragmatist who ...`` in the
  middle of an article is body, whatever its shape.

The :class:`Credits` step removes the labelled lines and records them in ``metadata.authors``,
``metadata.bylines`` (the removed lines, verbatim, in text order), ``metadata.translators`` and
``metadata.credit_cuts`` (where each removed line stood, with its kind and reason: the audit trail the teasers
step reads to know where the end credits stood once they are gone).

Every pattern is anchored and built from possessive quantifiers on character classes, with only bounded
repetition of groups, so no input makes them backtrack; and no line longer than
:attr:`CreditsOptions.max_line_chars` is ever matched against them.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import regex

from corpus_tools.errors import ConfigError, RecordError, below_bounds
from corpus_tools.labels import (
    Label,
    ends_sentence,
    lines_containing,
    more_words_than,
    word_count,
)
from corpus_tools.step import Doc, Labels, Step, option

STEP = "credits"

BYLINE = "byline"
BIO = "bio"
TRANSLATOR = "translator"
KINDS = (BYLINE, BIO, TRANSLATOR)

# Reasons are data: stable strings used as stats keys, audit fields and test assertions.
REASON_BY_NAME = "by_name_first_line"
REASON_BY_NAME_UNDER_TITLE = "by_name_under_title"
REASON_TRANSLATED_BY = "translated_by_line"
REASON_BIO_BEFORE_TRANSLATOR = "bio_before_translator"
REASON_BIO_BEFORE_TAIL = "bio_before_tail"
REASON_BIO_AT_END = "bio_at_end"

METADATA_KEYS = ("authors", "bylines", "translators")


@dataclass(frozen=True)
class CreditsOptions:
    """What the credits step looks for and whether it cuts.

    ``bylines``/``bios``/``translators``: detect that kind of credit (default: all three).
    ``max_bio_words``: a longer paragraph is never a bio (bios are one or two sentences). At least 1.
    ``max_bio_lines``: at most this many consecutive bio lines are taken in one bio position. At least 1 (to
    detect no bios, set ``bios`` to false).
    ``max_line_chars``: a longer line is never a credit of any kind; this also bounds the work the patterns do.
    At least 4, the length of ``By L``, the shortest line any credit pattern matches (a smaller bound would
    silently find no credits at all).
    ``extra_roles``: words (lower case) that also mark a bio's predicate as a role, e.g. ``("beekeeper",)``. Each
    is one word as the role matcher sees words: letters, and hyphens after the first (``editor-at-large``).
    ``dry_run``: label and fill ``authors``/``translators``, but leave ``text`` untouched (and so ``bylines``
    and ``credit_cuts``, which describe removed lines, get nothing).

    Every integer is also below 2**63 (the manifest and ``--json`` reports are JSON, written with 64-bit
    integers). A value out of its range is a :class:`ConfigError` naming the option, its range and the value given.
    """

    bylines: bool = option(True, "Detect a leading 'By NAME' line.")
    bios: bool = option(True, "Detect author bios in the bio position.")
    translators: bool = option(True, "Detect 'Translated by NAME' lines.")
    max_bio_words: int = option(80, "A longer paragraph is never a bio.", low=1)
    max_bio_lines: int = option(2, "At most this many consecutive bio lines in one bio position.", low=1)
    max_line_chars: int = option(1000, "A longer line is never a credit (also bounds the patterns' work).", low=4)
    extra_roles: tuple[str, ...] = option(
        (), "An extra word that marks a bio's role (repeatable), e.g. --role beekeeper.", flag="--role"
    )
    dry_run: bool = option(False, "Label only: fill metadata, cut nothing.", flag="--dry-run")

    def __post_init__(self) -> None:
        object.__setattr__(self, "extra_roles", tuple(role.lower() for role in self.extra_roles))
        problems = below_bounds(self, (("max_bio_words", 1), ("max_bio_lines", 1), ("max_line_chars", 4)))
        # A role that is not one word as _has_role reads words could never match: an error, not a silent no-op.
        # (_ROLE_WORD_RE is defined below; only a non-empty extra_roles looks it up, never at import time.)
        if bad := [role for role in self.extra_roles if not _ROLE_WORD_RE.fullmatch(role)]:
            problems.append(
                f"extra_roles must be single words of letters and hyphens (got {', '.join(map(repr, bad))})"
            )
        if problems:
            raise ConfigError("credits: " + "; ".join(problems))


# One shared instance: building a frozen dataclass per call would cost more than matching most lines.
DEFAULT_OPTIONS = CreditsOptions()

# ------------------------------------------------------------------------------------------------ patterns
#
# Building blocks. Rule kept by every piece (and asserted by tests/test_credits.py): `*` and `+` only ever
# follow a character class and are possessive (`*+`, `++`); a group is only repeated a bounded number of times.

# A name word: capitalised, with letters, marks and apostrophes (O'Brien, Ng’ang’a), optionally hyphenated
# parts (Chung-yuan, Jean-Pierre), or a form like al-Hassan. A possessive (Taiwan’s) is not a name word.
_WORD = r"(?:(?:al|el|d[’'])-?\p{Lu}|\p{Lu})[\p{L}\p{M}’']*+(?:-[\p{L}\p{M}’']++){0,3}(?<![’']s)"
# An initial: J. or J.R. (with or without the second period).
_INITIAL = r"\p{Lu}\.(?:\p{Lu}\.?)?"
# Lower-case name particles that may stand between name words.
_PARTICLE = r"(?:van|von|der|den|de|del|della|di|da|dos|das|du|la|le|bin|binti|binte|ibn|ter|ten|zu|y)"
_TOKEN = rf"(?:{_INITIAL}|{_WORD})"
# The name in CJK characters, after the Latin one: `John Lim 林泉忠`, `Wu Chih-chung (吳志中)`.
_CJK = r"(?:\s?[(（]\p{Han}{2,6}[)）]|\s\p{Han}{2,6})"
_HAN_NAME = r"\p{Han}{2,6}"
# A person's name: one to six tokens (bylines and translator credits), with optional particles between them.
_NAME1 = rf"(?:{_TOKEN}(?:\s(?:{_PARTICLE}\s){{0,3}}{_TOKEN}){{0,5}}{_CJK}?|{_HAN_NAME})"
# Two tokens at least: the bar for a name at the start of a bio, which is a weaker shape than `By NAME`.
_NAME2 = rf"(?:{_TOKEN}(?:\s(?:{_PARTICLE}\s){{0,3}}{_TOKEN}){{1,5}}{_CJK}?)"
_AND = r"(?:,?\s(?:and|&)\s|,\s)"
_NAMES1 = rf"{_NAME1}(?:{_AND}{_NAME1}){{0,5}}"

# What may follow the names of a byline: `By Ann Lee, Staff reporter`, `By Ann Lee / Staff writer`.
_BYLINE_TAIL = r"(?P<desc>\s?[,/|—–-]\s[^.!?,/|—–]{1,60}+)?"
BYLINE_RE = regex.compile(rf"^By\s(?P<names>{_NAMES1}){_BYLINE_TAIL}\s*+$")
TRANSLATOR_RE = regex.compile(
    rf"^(?:[Tt]ranslated|Translation)(?:\sfrom\s(?:the\s)?\p{{Lu}}\p{{L}}*+)?(?:\sand\s(?:edited|adapted))?"
    rf"\sby\s(?P<names>{_NAMES1})\.?\s*+$"
)
# A title before the name of a bio's subject; not part of the name recorded.
_HONORIFIC = r"(?:(?:Dr|Prof|Professor|Mr|Mrs|Ms|Rev)\.?\s)?"
# The verbs of a bio. `teaches` and `lectures` say the role themselves.
_VERB = r"(?:is|was|has\sbeen|serves\sas|works\sas|teaches|lectures)"
_PLURAL_VERB = r"(?:are|were|have\sbeen|serve\sas|work\sas|teach|lecture)"
_ROLE_VERBS = frozenset({"teaches", "lectures", "teach", "lecture"})
# The start of a bio: NAME, then a verb, an appositive `, a ... ,`, or `and NAME are`.
BIO_HEAD_RE = regex.compile(rf"^{_HONORIFIC}(?P<name>{_NAME2})(?P<after>\s{_VERB}\s|,\s|{_AND})")
# A bio that names no one: `The writer is a research fellow at ...`.
ANONYMOUS_BIO_RE = regex.compile(r"^The\s(?:author|writer|columnist)s?+\s(?:is|are|was|were)\s")
# The verb of an appositive bio, after the appositive: `..., is a junior researcher at ...`.
APPOSITIVE_VERB_RE = regex.compile(r",\s(?:is|was|serves\sas)\s")
# More authors in a list at the start: `NAME, NAME and NAME are ...`.
NAME_LIST_RE = regex.compile(rf"\G(?:{_AND}){_HONORIFIC}(?P<name>{_NAME2})")
PLURAL_VERB_RE = regex.compile(rf"\G\s{_PLURAL_VERB}\s")
# A second author later in the line: `NAME is ... and NAME is ...`.
SECOND_AUTHOR_RE = regex.compile(rf"(?:,\s|\s)and\s{_HONORIFIC}(?P<name>{_NAME2})\s{_VERB}\s")
CJK_SUFFIX_RE = regex.compile(rf"{_CJK}$")
SPLIT_NAMES_RE = regex.compile(r",?\s(?:and|&)\s|,\s")


def _words(text: str) -> frozenset[str]:
    """A word list written as one block of text (easier to read and extend than a list of quoted strings)."""
    return frozenset(text.split())


# Words a bio's predicate uses to say what the person does. A bio-shaped sentence without one
# ("South Korea is a close partner") is not a bio.
ROLES = _words(
    """
    professor lecturer researcher research fellow analyst director chair chairman chairwoman chairperson president
    vice-president founder co-founder cofounder editor writer journalist reporter correspondent columnist
    commentator contributor author scholar student candidate graduate alumnus alumna associate assistant adviser
    advisor consultant member lawyer attorney legislator lawmaker councilor councillor representative ambassador
    diplomat minister officer official secretary secretary-general executive ceo cfo manager specialist
    expert economist historian scientist engineer physician doctor teacher principal dean head coordinator
    activist volunteer intern retired former emeritus deputy senior visiting adjunct postdoctoral doctoral phd
    strategist practitioner entrepreneur investor photographer translator novelist poet artist filmmaker pastor
    priest blogger podcaster host producer campaigner organizer organiser founder-director curator librarian
    architect psychologist sociologist anthropologist political resident-fellow nonresident non-resident
    """
)
_ROLE_WORD_RE = regex.compile(r"[\p{L}][\p{L}-]*+")
# The longest title line above a byline.
_TITLE_WORDS = 20
# The longest section label over the teasers that the search for the bio steps over.
_SECTION_LABEL_WORDS = 4
# A bio says what its subject does within its first words; beyond that a match is a coincidence.
_ROLE_WINDOW_WORDS = 25
# Determiners and pronouns never start a person's name ("The US and Japan are ...", "This Is Taiwan ...").
_NOT_NAME_START = _words(
    """
    The This That These Those It Its He She They We I Our His Her Their A An In On At But And Yet So If When While
    Such Both Every Each Some Many Most All There Here What Why How Who Whose Which Mr Mrs Ms Dr President
    Premier Minister Former Although However After Before Since Because Despite During Like Unlike With Without
    For From To As Under Over Through Meanwhile Still Then Now Today Yesterday Last Next Even Only Also Not No
    Where One Two Three Several Few Under Among Between Against Across Unless Until Once Whether
    """
)
# Words that make a capitalised phrase a place or an institution, not a person ("South Korea and Japan are ...").
_NOT_NAME_WORDS = _words(
    """
    North South East West Central Northern Southern Eastern Western United States Kingdom Republic Union Nations
    Party Government Ministry Council Strait Sea Island Islands Korea China Taiwan Japan America Europe Asia
    Africa Association Institute University College Foundation Agency Department Committee Army Navy Court House
    Congress Parliament Democratic Communist Liberation Forces Bank Company Corporation Group Times News
    """
)


# -------------------------------------------------------------------------------------------------- shapes


def credit_kind(paragraph: str, options: CreditsOptions | None = None) -> str | None:
    """What one line looks like: ``"byline"``, ``"bio"``, ``"translator"``, or ``None``. Shape only.

    Position decides whether a bio-shaped line is a bio; that is :func:`label_credits`'s job.
    """
    return _shape(paragraph.strip(), options or DEFAULT_OPTIONS)[0]


def _shape(line: str, options: CreditsOptions) -> tuple[str | None, list[str]]:
    """The credit kind of a stripped line and the names it credits."""
    if not line or len(line) > options.max_line_chars:
        return None, []
    if options.bylines:
        names = _byline_names(line, options)
        if names:
            return BYLINE, names
    if options.translators:
        names = _translator_names(line, options)
        if names:
            return TRANSLATOR, names
    if options.bios:
        names = _bio(line, options)
        if names is not None:
            return BIO, names
    return None, []


def _byline_names(line: str, options: CreditsOptions) -> list[str]:
    """The names of a byline (a stripped line), ``[]`` when it is not one."""
    if not line.startswith("By") or len(line) > options.max_line_chars:
        return []
    match = BYLINE_RE.match(line)
    # A trailing descriptor must say what the author is (`Staff reporter`); else it is no byline.
    if match is None or (match["desc"] is not None and not _has_role(match["desc"], options)):
        return []
    return _split_names(match["names"])


def _translator_names(line: str, options: CreditsOptions) -> list[str]:
    """The names of a translator credit line (stripped), ``[]`` when it is not one."""
    # The pattern starts `[Tt]ranslated` or `Translation` (then any whitespace: NBSP and tabs too).
    if len(line) > options.max_line_chars or not line.startswith(_TRANSLATOR_STARTS):
        return []
    match = TRANSLATOR_RE.match(line)
    return _split_names(match["names"]) if match else []


def bio_names(line: str, options: CreditsOptions | None = None) -> list[str]:
    """The authors a bio-shaped line names; ``[]`` when it does not read like a bio or names no one."""
    return _bio(line, options or DEFAULT_OPTIONS) or []


def _bio(line: str, options: CreditsOptions) -> list[str] | None:
    """The names of a bio-shaped line (``[]`` for `The writer is ...`), ``None`` when it is not one."""
    if len(line) > options.max_line_chars:
        return None
    # `The`, one whitespace character, then `author`, `writer` or `columnist`: two character tests first.
    anonymous = ANONYMOUS_BIO_RE.match(line) if line.startswith("The") and line[4:5] in _ANONYMOUS_FIFTH else None
    head = None if anonymous or not _may_start_with_name(line) else BIO_HEAD_RE.match(line)
    # The cheap anchored matches first: most lines fail there, before any word is counted.
    if (anonymous is None and head is None) or more_words_than(line, options.max_bio_words):
        return None
    if anonymous is not None:
        return [] if _has_role(line[anonymous.end() :], options) else None
    assert head is not None
    if not _person_like(head["name"]):
        return None
    names = [_latin_name(head["name"])]
    after = head["after"]
    predicate_start: int | None = None
    role_verb = False
    if not after.startswith(",") and after.split()[0] not in ("and", "&"):
        predicate_start = head.end()
        role_verb = after.strip() in _ROLE_VERBS
    else:
        # Either a list of authors (`NAME and NAME are`, `NAME, NAME and NAME are`) or an appositive.
        pos = head.start("after")
        more: list[str] = []
        while len(more) < 5:
            match = NAME_LIST_RE.match(line, pos)
            if match is None or not _person_like(match["name"]):
                break
            more.append(_latin_name(match["name"]))
            pos = match.end()
        plural = PLURAL_VERB_RE.match(line, pos) if more else None
        if plural is not None:
            names.extend(more)
            predicate_start = plural.end()
            role_verb = plural.group().strip() in _ROLE_VERBS
        elif after.startswith(","):
            appositive = line[head.end() :]
            # An appositive describes the person: `Huynh Tam Sang, an international relations lecturer ..., is`.
            verb = APPOSITIVE_VERB_RE.search(appositive)
            if verb is None or not _has_role(appositive[: verb.start()], options):
                return None
            predicate_start = head.end() + verb.end()
    if predicate_start is None:
        return None
    predicate = line[predicate_start:]
    if not predicate[:1].islower() and not predicate[:1].isdigit():
        # `is a`, `is an`, `is professor emeritus`: a bio's predicate starts in lower case.
        return None
    if not role_verb and not _has_role(predicate, options):
        return None
    for match in SECOND_AUTHOR_RE.finditer(predicate):
        if _person_like(match["name"]):
            names.append(_latin_name(match["name"]))
    return _unique(names)


# The lower-case words that may stand between name words (see _PARTICLE), and the prefixes of a name word that
# does not start with a capital (`al-Hassan`, `elBaradei`, `d’Estaing`; see _WORD).
_PARTICLES = frozenset(_PARTICLE[3:-1].split("|"))
_NAME_PREFIXES = ("al", "el", "d’", "d'")


def _may_start_with_name(line: str) -> bool:
    r"""False only when BIO_HEAD_RE cannot match ``line``: a cheap test that turns most body lines away.

    A match starts with two name words, or a title and a name word, separated by whitespace (its ``\s`` is a subset
    of what str.split splits on, and no name word holds whitespace); so the second piece of ``line.split()`` is a
    particle or starts like a name word: a capital, or ``al``/``el``/``d’`` and a capital. Only ASCII characters are
    judged here (a capital outside ASCII is left to the pattern, whose Unicode tables may be newer than Python's).
    """
    words = line[:64].split(None, 2)
    if len(words) < 3:  # the slice may have cut the second word: look at the whole line
        words = line.split(None, 2)
        if len(words) < 2:
            return False
    second = words[1]
    if second in _PARTICLES:
        return True
    if second.startswith(_NAME_PREFIXES):
        second = second[2:].removeprefix("-")
    first = second[:1]
    return not first.isascii() or "A" <= first <= "Z"


def _has_role(text: str, options: CreditsOptions) -> bool:
    """Whether the first words of ``text`` name a role (`researchers`, `editor-in-chief`, `Taipei-based writer`)."""
    # The first words, found one at a time: no more of a long predicate is read than they need (a cut at a fixed
    # length could make "directorship" a "director").
    words = [match[0].lower() for match in itertools.islice(_ROLE_WORD_RE.finditer(text), _ROLE_WINDOW_WORDS)]
    extra = {r.lower() for r in options.extra_roles}
    for word in words:
        for form in (word, *word.split("-")) if "-" in word else (word,):
            if form in ROLES or form in extra or (form.endswith("s") and form[:-1] in ROLES):
                return True
    return False


def _person_like(name: str) -> bool:
    words = name.split()
    return words[0].rstrip(".") not in _NOT_NAME_START and not any(w in _NOT_NAME_WORDS for w in words)


def _latin_name(name: str) -> str:
    """The name as printed, without the CJK form after it (that stays in the verbatim byline)."""
    if name.isascii():  # no CJK characters: the pattern has nothing to remove
        return name.strip()
    stripped = CJK_SUFFIX_RE.sub("", name).strip()
    return stripped or name.strip()


def _split_names(names: str) -> list[str]:
    # Every separator holds a comma, "and" or "&": a single name needs no pattern run.
    parts = SPLIT_NAMES_RE.split(names) if "," in names or "and" in names or "&" in names else [names]
    return _unique(_latin_name(n) for n in parts if n.strip())


def _unique(names: Any) -> list[str]:
    seen: dict[str, None] = {}
    for name in names:
        seen.setdefault(name, None)
    return list(seen)


# ------------------------------------------------------------------------------------------------ position


def _tail_start(paragraphs: list[str], text: str | None) -> int:
    """Where the teaser tail starts (``len(paragraphs)`` when there is none), from the teasers step."""
    return _tail_start_function()(paragraphs, text=text)


@functools.cache
def _tail_start_function() -> Callable[..., int]:
    # Imported here, not at module top: teasers imports credits too (see INTERFACES.md). Looked up once: the import
    # statement costs more per document than most of the work here.
    try:
        from corpus_tools.teasers import tail_start
    except ImportError:  # pragma: no cover - only while the teasers module does not exist yet
        return _provisional_tail_start
    return tail_start


def _provisional_tail_start(paragraphs: list[str], text: str | None = None) -> int:  # pragma: no cover
    """A stand-in until the teasers step lands: the trailing run of unfinished or ~100-word paragraphs."""
    start = len(paragraphs)
    i = len(paragraphs) - 1
    while i >= 0:
        line = paragraphs[i].strip()
        if line and ends_sentence(line) and not 90 <= word_count(line) <= 110:
            break
        if line:
            start = i
        i -= 1
    return start


def label_credits(
    paragraphs: list[str], options: CreditsOptions | None = None, *, text: str | None = None
) -> dict[int, Label]:
    """Label the credit lines of one document (index -> :class:`Label`); unlabelled lines are body.

    Works whether or not the teaser tail is still there, and whether or not it was cut already.
    Only a few lines are ever looked at closely: the first two non-blank ones (byline), the lines that mention
    "translat", and the few lines above each bio position. ``text``, the paragraphs joined with line breaks
    when the caller has it, lets one search of it find those lines.
    """
    return _label_credits(paragraphs, options or DEFAULT_OPTIONS, text, {})


def _label_credits(
    paragraphs: list[str], options: CreditsOptions, text: str | None, names: dict[int, list[str]]
) -> dict[int, Label]:
    """:func:`label_credits`, filling ``names`` with the names each labelled line gives."""
    labels: dict[int, Label] = {}
    first = _next_filled(paragraphs, 0)
    if first is None:
        return labels

    if options.bylines:
        found = _byline_names(paragraphs[first].strip(), options)
        if found:
            labels[first] = Label(BYLINE, REASON_BY_NAME, STEP)
            names[first] = found
        else:
            second = _next_filled(paragraphs, first + 1)
            found = [] if second is None else _byline_names(paragraphs[second].strip(), options)
            # (The byline shape first: it turns nearly every line away at its first two characters.)
            if found and _title_like(paragraphs[first]):
                # The page starts with the article's title, then the byline.
                labels[second] = Label(BYLINE, REASON_BY_NAME_UNDER_TITLE, STEP)
                names[second] = found

    translator_lines = []
    if options.translators:
        # A translator credit starts with `Translated`, `translated` or `Translation` (TRANSLATOR_RE), so only
        # lines holding "ranslat" can be one.
        if text is None:
            candidates = [i for i, p in enumerate(paragraphs) if _TRANSLATOR_CLUE in p]
        else:
            candidates = lines_containing(text, _TRANSLATOR_CLUE)
        for i in candidates:
            found = [] if i in labels else _translator_names(paragraphs[i].strip(), options)
            if found:
                labels[i] = Label(TRANSLATOR, REASON_TRANSLATED_BY, STEP)
                names[i] = found
                translator_lines.append(i)

    if options.bios:
        tail = _tail_start(paragraphs, text)
        # Bio positions: right before a translator credit, right before the tail, at the end.
        anchors: dict[int, str] = {}
        for i in translator_lines:
            anchors.setdefault(i, REASON_BIO_BEFORE_TRANSLATOR)
        if tail < len(paragraphs):
            anchors.setdefault(tail, REASON_BIO_BEFORE_TAIL)
        anchors.setdefault(len(paragraphs), REASON_BIO_AT_END)
        for anchor, reason in sorted(anchors.items()):
            _label_bios_before(paragraphs, anchor, reason, labels, names, options)
    return labels


_ANONYMOUS_FIFTH = ("a", "w", "c")
# What a (stripped) line that TRANSLATOR_RE matches starts with, and what all three hold.
_TRANSLATOR_STARTS = ("Translated", "translated", "Translation")
_TRANSLATOR_CLUE = "ranslat"
# The starts of the shapes _shape tries before the bio shape.
_NOT_BIO_FIRST = ("By", *_TRANSLATOR_STARTS)


def _next_filled(paragraphs: list[str], start: int) -> int | None:
    """The index of the first non-blank line at or after ``start``."""
    for i in range(start, len(paragraphs)):
        line = paragraphs[i]
        # `line and not line.isspace()` is `line.strip() != ""` without building the stripped copy.
        if line and not line.isspace():
            return i
    return None


def _translator_shaped(line: str) -> bool:
    line = line.strip()
    # The pattern is anchored on `[Tt]ranslat...`: any other start fails it without a match call.
    return line.startswith(_TRANSLATOR_STARTS) and len(line) <= 200 and TRANSLATOR_RE.match(line) is not None


def _title_like(line: str) -> bool:
    """An article title: a short line that does not end like a sentence (a question mark may end a title)."""
    text = line.strip()
    return not more_words_than(text, _TITLE_WORDS) and (not ends_sentence(text) or text.endswith("?"))


def _section_label(line: str) -> bool:
    """A short label over the teasers ("More opinion", "Related stories"): a few words, no end punctuation."""
    text = line.strip()
    # The same three pure tests, the cheapest first (a body line ends a sentence, answered from its last character).
    return text[:1].isupper() and not ends_sentence(text) and not more_words_than(text, _SECTION_LABEL_WORDS)


def _label_bios_before(
    paragraphs: list[str],
    anchor: int,
    reason: str,
    labels: dict[int, Label],
    names: dict[int, list[str]],
    options: CreditsOptions,
) -> None:
    """Label the bio lines that end right before ``anchor``, stepping over blank lines and other credits, and
    over one section label between the credits and the tail ("More opinion", "Related")."""
    taken = 0
    headings = 0
    i = anchor - 1
    while i >= 0 and taken < options.max_bio_lines:
        line = paragraphs[i].strip()
        label = labels.get(i)
        # Blank lines and translator credits (labelled, or shaped like one when that kind is switched off) are
        # not body: the bio may sit above them.
        if (
            not line
            or (label is not None and label.kind == TRANSLATOR)
            or (line.startswith(_TRANSLATOR_STARTS) and _translator_shaped(line))
        ):
            i -= 1
            continue
        if label is not None:
            if label.kind == BIO:
                # Already taken from a later anchor: the block goes on above it.
                taken += 1
                i -= 1
                continue
            break
        if taken == 0 and headings == 0 and _section_label(line):
            headings += 1
            i -= 1
            continue
        found = _bio(line, options)
        if found is None:
            break
        labels[i] = Label(BIO, reason, STEP)
        # What _shape says of the line: a byline or translator shape comes before the bio shape there.
        names[i] = _shape(line, options)[1] if line.startswith(_NOT_BIO_FIRST) else found
        taken += 1
        i -= 1


# ------------------------------------------------------------------------------------------------ the step


@dataclass(frozen=True)
class CreditsFound:
    """What :func:`find_credits` found in one text."""

    labels: dict[int, Label]
    authors: list[str]
    bylines: list[str]
    translators: list[str]


def find_credits(
    paragraphs: list[str], options: CreditsOptions | None = None, *, text: str | None = None
) -> CreditsFound:
    """Label the credits and collect the names they give, in text order, each name once (``text``: see
    :func:`label_credits`)."""
    options = options or DEFAULT_OPTIONS
    names: dict[int, list[str]] = {}
    labels = _label_credits(paragraphs, options, text, names)
    authors: list[str] = []
    translators: list[str] = []
    bylines: list[str] = []
    for i in sorted(labels):
        bylines.append(paragraphs[i])
        (translators if labels[i].kind == TRANSLATOR else authors).extend(names[i])
    return CreditsFound(labels, _unique(authors), bylines, _unique(translators))


class Credits(Step):
    """The ``credits`` step: cut credit lines from the text and record them in metadata."""

    name = STEP
    Options = CreditsOptions
    summary = "Move bylines, author bios and translator credits out of the text into metadata."
    metadata = {"authors": "list[string]", "bylines": "list[string]", "translators": "list[string]"}
    reasons = {
        REASON_BY_NAME: "a 'By NAME' line at the top",
        REASON_BY_NAME_UNDER_TITLE: "a 'By NAME' line under the title",
        REASON_TRANSLATED_BY: "a 'Translated by NAME' line",
        REASON_BIO_BEFORE_TRANSLATOR: "an author bio right above a translator credit",
        REASON_BIO_BEFORE_TAIL: "an author bio right above the teaser tail",
        REASON_BIO_AT_END: "an author bio at the end of the text",
    }
    kinds = {
        REASON_BY_NAME: BYLINE,
        REASON_BY_NAME_UNDER_TITLE: BYLINE,
        REASON_TRANSLATED_BY: TRANSLATOR,
        REASON_BIO_BEFORE_TRANSLATOR: BIO,
        REASON_BIO_BEFORE_TAIL: BIO,
        REASON_BIO_AT_END: BIO,
    }
    order = 200

    def label(self, doc: Doc) -> Labels:
        found = find_credits(doc.lines, self.options, text=doc.text)
        return Labels(doc, cuts={i: label.reason for i, label in found.labels.items()}, found=found)

    def record_found(self, metadata: dict[str, Any], labels: Labels) -> None:
        found: CreditsFound = labels.found
        # A second run (or a dry run then a real one) adds to what is there instead of wiping it.
        metadata["authors"] = _merge(metadata, "authors", found.authors)
        # `bylines` lists the lines removed from the text: a dry run removes none.
        metadata["bylines"] = _merge(metadata, "bylines", [] if self.dry_run else found.bylines)
        metadata["translators"] = _merge(metadata, "translators", found.translators)


def _merge(metadata: dict[str, Any], key: str, new: list[str]) -> list[str]:
    old = metadata.get(key)
    if old is None:
        return new
    if not isinstance(old, list) or not all(isinstance(x, str) for x in old):
        raise RecordError(f"metadata.{key} is not a list of strings")
    return _unique([*old, *new])
