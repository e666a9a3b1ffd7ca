"""The shapes of credit lines: what a line looks like (a byline, a bio, a translator or contributor credit) and
the names it credits, with the name evidence and the data files behind them. Shape only: position (is a bio-shaped
line at the end of the article?) is the credits step's (:mod:`corpus_tools.credits`).

A module below both the credits and the teasers steps: teasers asks whether a line is an end credit without
importing the credits step, which itself asks teasers where the teaser tail starts.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import regex

from corpus_tools.errors import ConfigError, below_bounds
from corpus_tools.labels import (
    ends_sentence,
    more_words_than,
)
from corpus_tools.step import option

STEP = "credits"
ROLE_PHOTO = "photo"

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
REASON_BIO_BEFORE_FURNITURE = "bio_before_furniture"
REASON_BY_NAME_BEFORE_BODY = "by_name_before_body"
REASON_CREDIT_PHRASE = "credit_phrase_line"
REASON_NAME_AFTER_PHRASE = "name_after_credit_phrase"
REASON_CONTRIBUTED = "contributed_line"
REASON_HAVE_A_TIP = "have_a_tip"
REASON_SIGNATURE = "signature_at_end"
REASON_BIO_UNDER_HEADING = "bio_under_author_heading"
REASON_BIO_OF_PAGE_AUTHOR = "bio_of_page_author"
REASON_BIO_UNDER_NAME = "bio_under_name"
REASON_MACHINE_TRANSLATED = "machine_translated_line"

METADATA_KEYS = ("authors", "bylines", "translators", "contributors")
# The role of an author and a translator in a credit phrase; every other role is a contributor's.
ROLE_AUTHOR = "author"
ROLE_TRANSLATOR = "translator"


@dataclass(frozen=True)
class CreditsOptions:
    """What the credits step looks for and whether it cuts.

    ``bylines``/``bios``/``translators``: detect that kind of credit (default: all three).
    ``max_bio_words``: a longer paragraph is never a bio (bios are one or two sentences). At least 1.
    ``max_bio_lines``: at most this many consecutive bio lines are taken in one bio position. At least 1 (to
    detect no bios, set ``bios`` to false).
    ``max_line_chars``: a longer line is never a credit of any kind; this also bounds the work the patterns do.
    At least 5, the length of ``By 林泉``, the shortest line that can be a credit (a name needs name evidence: a
    Latin one two words at least, a Han one two characters and a known surname; a smaller bound would silently
    find no credits at all).
    ``extra_roles``: words (lower case) that also mark a bio's predicate as a role, e.g. ``("beekeeper",)``. Each
    is one word as the role matcher sees words: letters, and hyphens after the first (``editor-at-large``).
    ``dry_run``: label and fill ``authors``/``translators``, but leave ``text`` untouched (and so ``bylines``
    and the cuts, which describe removed lines, get nothing).

    Every integer is also below 2**63 (the manifest and ``--json`` reports are JSON, written with 64-bit
    integers). A value out of its range is a :class:`ConfigError` naming the option, its range and the value given.
    """

    bylines: bool = option(True, "Detect a leading 'By NAME' line.")
    bios: bool = option(True, "Detect author bios in the bio position.")
    translators: bool = option(True, "Detect 'Translated by NAME' lines.")
    max_bio_words: int = option(80, "A longer paragraph is never a bio.", low=1)
    max_bio_lines: int = option(2, "At most this many consecutive bio lines in one bio position.", low=1)
    max_line_chars: int = option(1000, "A longer line is never a credit (also bounds the patterns' work).", low=5)
    extra_roles: tuple[str, ...] = option(
        (), "An extra word that marks a bio's role (repeatable), e.g. --role beekeeper.", flag="--role"
    )
    dry_run: bool = option(False, "Label only: fill metadata, cut nothing.", flag="--dry-run")
    min_bio_recurrence: int = option(
        3,
        "With the corpus pass: an end-of-article bio line found word for word in this many documents corroborates "
        "its subject as an author.",
        low=2,
        corpus_pass=True,
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "extra_roles", tuple(role.lower() for role in self.extra_roles))
        problems = below_bounds(
            self, (("max_bio_words", 1), ("max_bio_lines", 1), ("max_line_chars", 5), ("min_bio_recurrence", 2))
        )
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


class _OnFirstUse:
    """A pattern compiled the first time a line needs it. Compiling the credit patterns is most of what importing
    this module costs, at every start of a command; the shapes a run may never meet (a contributor, tip or
    signature line, the names after a credit phrase, the corpus pass's subjects) wait until one is asked about."""

    __slots__ = ("_compiled", "pattern")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._compiled: regex.Pattern[str] | None = None

    @property
    def compiled(self) -> regex.Pattern[str]:
        if self._compiled is None:
            self._compiled = regex.compile(self.pattern)
        return self._compiled

    def match(self, *args: Any) -> Any:
        return self.compiled.match(*args)

    def search(self, *args: Any) -> Any:
        return self.compiled.search(*args)

    def finditer(self, *args: Any) -> Any:
        return self.compiled.finditer(*args)

    def findall(self, *args: Any) -> Any:
        return self.compiled.findall(*args)

    def split(self, *args: Any) -> Any:
        return self.compiled.split(*args)


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
# A generational suffix after a name: `Perry Bacon Jr.`, `John Smith III`.
_SUFFIX = r"(?:,?\s(?:Jr\.|Sr\.|Jr|Sr|II|III|IV))"
# A person's name: one to six tokens (bylines and translator credits), with optional particles between them.
_NAME1 = rf"(?:{_TOKEN}(?:\s(?:{_PARTICLE}\s){{0,3}}{_TOKEN}){{0,5}}{_SUFFIX}?{_CJK}?|{_HAN_NAME})"
# Two tokens at least: the bar for a name at the start of a bio, which is a weaker shape than `By NAME`.
_NAME2 = rf"(?:{_TOKEN}(?:\s(?:{_PARTICLE}\s){{0,3}}{_TOKEN}){{1,5}}{_SUFFIX}?{_CJK}?)"
# `and` in the languages the credit phrases cover (see data/credits/credit_phrases.tsv).
_AND = r"(?:,?\s(?:and|&|und|y|et)\s|,\s)"
_NAMES1 = rf"{_NAME1}(?:{_AND}{_NAME1}){{0,5}}"

# What may follow the names of a byline: `By Ann Lee, Staff reporter`, `By Ann Lee / Staff writer`.
_BYLINE_TAIL = r"(?P<desc>\s?[,/|—–-]\s[^.!?,/|—–]{1,60}+)?"
BYLINE_RE = _OnFirstUse(rf"^By\s(?P<names>{_NAMES1}){_BYLINE_TAIL}\s*+$")
# Role words that may stand between `by` and a translator's name: `Translated by Staff Writer Jake Chung`.
_ROLE_BEFORE_NAME = (
    r"(?:(?:[Ss]taff|[Ww]riters?+|[Rr]eporters?+|[Ee]ditors?+|[Cc]orrespondents?+|[Tt]ranslators?+|[Ss]enior|"
    r"[Cc]ontributing|[Ff]reelance|[Oo]ur)\s){0,3}"
)
# The first word of a translator credit: English, German, French, Spanish, Portuguese, Italian, Dutch.
_TRANSLATOR_STARTS = (
    *("Translated", "translated", "Translation", "Übersetzt", "Übersetzung", "Traduit", "Traduction"),
    *("Traducido", "Traducida", "Traducción", "Traduzido", "Traduzida", "Tradução", "Tradotto", "Tradotta"),
    *("Traduzione", "Vertaald", "Vertaling"),
)
# What every one of them holds: one search of a line before any pattern (short records take it on every line).
_TRANSLATOR_CLUES = re.compile("ranslat|bersetz|radu|ertaal")
TRANSLATOR_RE = regex.compile(
    rf"^(?:{'|'.join(_TRANSLATOR_STARTS)})"
    # the language it was translated from: `from the German`, `aus dem Englischen`, `de l'anglais`, `del inglés`,
    # `do inglês`, `dall'inglese`, `uit het Engels`
    r"(?:\sfrom\s(?:the\s)?\p{Lu}\p{L}*+|\saus\sdem\s\p{Lu}\p{L}*+"
    r"|\s(?:de\sl['’]|del\s|do\s|dall['’]|dal\s|uit\shet\s)\p{L}++)?"
    r"(?:\sand\s(?:edited|adapted))?"
    # `by NAME`, `von NAME`, `par NAME`, `por NAME`, `de NAME`, `da NAME`, `di NAME`, `door NAME`, a colon too
    rf"(?:\s(?:by|von|par|por|de|da|di|door):?|\s?:)\s{_ROLE_BEFORE_NAME}(?P<names>{_NAMES1})\.?\s*+$"
)
# A title before the name of a bio's subject; not part of the name recorded.
_HONORIFIC = r"(?:(?:Dr|Prof|Professor|Mr|Mrs|Ms|Rev)\.?\s)?"
# The verbs of a bio. `teaches` and `lectures` say the role themselves.
# `writes` says the role too (`X writes about transport from Taichung`), when the subject has name evidence (a
# site or a product "writes" rarely, but "Tech Xplore covers ..."); `ist`/`war` are German.
_VERB = r"(?:is|was|has\sbeen|serves\sas|works\sas|teaches|lectures|writes|ist|war)"
_PLURAL_VERB = r"(?:are|were|have\sbeen|serve\sas|work\sas|teach|lecture|write|sind|waren)"
_ROLE_VERBS = frozenset({"teaches", "lectures", "teach", "lecture", "writes", "write"})
# German predicates may start with a capitalised noun (`ist Professor für ...`).
_GERMAN_VERBS = frozenset({"ist", "war", "sind", "waren"})
# An age in brackets after the name: `Bianca Praetorius (37) ist ...`.
_AGE = r"(?:\s\(\d{1,3}\))?"
# The start of a bio: NAME, then a verb, an appositive `, a ... ,`, or `and NAME are`.
BIO_HEAD_RE = regex.compile(rf"^{_HONORIFIC}(?P<name>{_NAME2}){_AGE}(?P<after>\s{_VERB}\s|,\s|{_AND})")
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
SPLIT_NAMES_RE = regex.compile(r",?\s(?:and|&|und|y|et)\s|,\s")  # the separators _AND takes


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


_ANONYMOUS_FIFTH = ("a", "w", "c")
# The starts of the shapes _shape tries before the bio shape.
_NOT_BIO_FIRST = ("By", *_TRANSLATOR_STARTS)


# -------------------------------------------------------------------------------------------------- shapes


def credit_kind(paragraph: str, options: CreditsOptions | None = None) -> str | None:
    """What one line looks like: ``"byline"``, ``"bio"``, ``"translator"``, or ``None``. Shape only.

    Position decides whether a bio-shaped line is a bio; that is :func:`label_credits`'s job.
    """
    return _shape(paragraph.strip(), options or DEFAULT_OPTIONS)[0]


def end_credit_shaped(paragraph: str) -> bool:
    """``credit_kind(paragraph) in ("bio", "translator")``: a line shaped like the credits that close an article
    (the teasers step steps over them at the end of a page). Either needs a translator credit's first word or the
    head of a bio (:func:`_bio`, with the line's length bound), so most lines are answered by those two cheap tests
    without the byline and contributor shapes that :func:`_shape` tries first."""
    line = paragraph.strip()
    if not line.startswith(_TRANSLATOR_STARTS) and _bio(line, DEFAULT_OPTIONS) is None:
        return False
    return _shape(line, DEFAULT_OPTIONS)[0] in (BIO, TRANSLATOR)


def _shape(line: str, options: CreditsOptions) -> tuple[str | None, list[str]]:
    """The credit kind of a stripped line and the names it credits."""
    if not line or len(line) > options.max_line_chars:
        return None, []
    if options.bylines:
        names = _byline_names(line, options)
        if names:
            return BYLINE, names
        if line[:1].isalpha() and _is_contributor_line(line):
            return BYLINE, []
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
    """The authors a credit line (a stripped line) names, ``[]`` when it is not one (see :func:`phrase_credit`)."""
    if len(line) > options.max_line_chars or not line[:1].isalpha():
        return []
    credit = phrase_credit(line)
    if credit is None or credit[0] != ROLE_AUTHOR or credit[2]:
        return []
    return credit[1]


def _is_contributor_line(line: str) -> bool:
    if "contributed" in line or ";" in line:
        return contributor_credits(line) is not None
    credit = phrase_credit(line)
    return credit is not None and not credit[2] and credit[0] not in (ROLE_AUTHOR, ROLE_TRANSLATOR)


def _translator_names(line: str, options: CreditsOptions) -> list[str]:
    """The names of a translator credit line (stripped), ``[]`` when it is not one."""
    # The pattern starts with one of _TRANSLATOR_STARTS (then any whitespace: NBSP and tabs too).
    if len(line) > options.max_line_chars or not line.startswith(_TRANSLATOR_STARTS):
        return []
    match = TRANSLATOR_RE.match(line)
    return [_display_name(name) for name in _split_names(match["names"])] if match else []


def bio_names(line: str, options: CreditsOptions | None = None) -> list[str]:
    """The authors a bio-shaped line names; ``[]`` when it does not read like a bio or names no one."""
    return _bio(line, options or DEFAULT_OPTIONS) or []


def _bio(line: str, options: CreditsOptions, *, require_role: bool = True) -> list[str] | None:
    """The names of a bio-shaped line (``[]`` for `The writer is ...`), ``None`` when it is not one.

    ``require_role=False``: the predicate need not name a role (for a bio whose subject the byline names)."""
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
        # `is a`, `is an`, `is professor emeritus`: a bio's predicate starts in lower case; in German a role
        # noun is capitalised (`ist Professor für ...`), so there the first word may be a capitalised role.
        verb = line[:predicate_start].split()[-1]
        if verb not in _GERMAN_VERBS or not _has_role(predicate.split(None, 1)[0], options):
            return None
    if predicate.startswith(("not ", "nicht ", "kein")):
        return None  # `X is not responsible for ...`: says what X is not
    if predicate.startswith(("that ", "in ")) and line[:predicate_start].split()[-1] in _ROLE_VERBS:
        return None  # `X writes that ...`: reported speech, not what X does
    if require_role and not role_verb and not _has_role(predicate, options):
        return None
    if role_verb and not _has_role(predicate, options) and not all(name_evidence(n) for n in names):
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


# The end of a predicate's first sentence: a full stop after a word of three lower-case letters or more, then a
# capital (`goodies. Pick out ...`); `Dr. Ann`, `U.S. Naval` and `Ph.D. student` do not end one.
_SENTENCE_END_RE = regex.compile(r"(?<=\p{Ll}{3})[.!?]\s++(?=[\p{Lu}\"“])")


def _has_role(text: str, options: CreditsOptions) -> bool:
    """Whether the first words of ``text``'s first sentence name a role (`researchers`, `editor-in-chief`,
    `Taipei-based writer`): a role word further on (`... take your tray to the staff`) says nothing of the subject."""
    end = _SENTENCE_END_RE.search(text, 0, 400)
    if end is not None:
        text = text[: end.start()]
    # The first words, found one at a time: no more of a long predicate is read than they need (a cut at a fixed
    # length could make "directorship" a "director").
    words = [match[0].lower() for match in itertools.islice(_ROLE_WORD_RE.finditer(text), _ROLE_WINDOW_WORDS)]
    extra = {r.lower() for r in options.extra_roles}
    for word in words:
        for form in (word, *word.split("-")) if "-" in word else (word,):
            if form in ROLES or form in extra or (form.endswith("s") and form[:-1] in ROLES):
                return True
            if form in _data_roles():
                return True
    # A profession the lists do not name (`epidemiologists`, `historian`, `engineer`) counts when an affiliation
    # follows it (`... at the University of Hong Kong`): the shape of an author's note, not of news about someone.
    return any(word.endswith(_PROFESSION_ENDINGS) for word in words[:6]) and bool(_WORKPLACE_RE.search(text[:200]))


_PROFESSION_ENDINGS = ("ologist", "ologists", "ist", "ists", "ian", "ians", "eer", "eers")
# Where someone works (`at the University of ...`, `bei der ...`): not a place they were (`in Paris`).
_WORKPLACE_RE = regex.compile(r"\s(?:at|bei)\s(?:the\s|der\s|dem\s)?\p{Lu}")


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
    # Every separator holds a comma, "&" or a space: a single name of one word needs no pattern run.
    parts = SPLIT_NAMES_RE.split(names) if "," in names or "&" in names or " " in names else [names]
    return _unique(_latin_name(n) for n in parts if n.strip())


def _unique(names: Any) -> list[str]:
    seen: dict[str, None] = {}
    for name in names:
        seen.setdefault(name, None)
    return list(seen)


# ------------------------------------------------------------------------------------------------ data files
#
# The name lists, extra role words and credit phrases live in corpus_tools/data/credits/, each file with comment
# lines saying where it came from. They are read on first use (a process that never sees a credit line to check
# never reads them), once.


def _data_lines(filename: str) -> list[str]:
    """The non-comment, non-blank lines of a data file (split further by the caller)."""
    from importlib.resources import files

    text = files("corpus_tools").joinpath("data", "credits", filename).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _fold(word: str) -> str:
    """A word for looking up in the name lists: case-folded, Latin accents dropped (`Gàbor`, `Gabor`, `Gábor`)."""
    word = word.casefold()
    if word.isascii():
        return word
    return "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))


@functools.cache
def _first_names() -> frozenset[str]:
    """Given names of every script (folded, see :func:`_fold`): a capitalised phrase that starts with one names a
    person."""
    names: set[str] = set()
    for filename in ("first_names_latin.txt", "first_names_cyrillic.txt"):
        for line in _data_lines(filename):
            names.update(_fold(word) for word in line.split())
    return frozenset(names)


@functools.cache
def _author_box_headings_printed(filename: str = "author_box_headings.txt") -> frozenset[str]:
    """The author-box headings (or those of ``filename``) as a page prints them: as written in the data file, in
    capitals, in lower case, with the first letter only in capitals; each with and without a colon after it."""
    forms = set()
    for line in _data_lines(filename):
        heading = line.strip()
        for form in (heading, heading.upper(), heading.lower(), heading.capitalize()):
            forms.update((form, form + ":", form + " :"))
    return frozenset(forms)


@functools.cache
def _han_surnames() -> frozenset[str]:
    """Han surnames (characters) and their romanisations (case-folded)."""
    return frozenset(word.casefold() for line in _data_lines("surnames_han.txt") for word in line.split())


@functools.cache
def _data_roles() -> frozenset[str]:
    return frozenset(word.casefold() for line in _data_lines("roles.txt") for word in line.split())


@functools.cache
def _credit_phrases() -> tuple[dict[str, list[tuple[str, str]]], frozenset[str]]:
    """The credit phrases by their first word: first word -> [(phrase, role)], longest phrase first; and the
    first words (what a line must start with to be looked at further)."""
    by_first: dict[str, list[tuple[str, str]]] = {}
    for line in _data_lines("credit_phrases.tsv"):
        _lang, phrase, role = line.split("\t")
        by_first.setdefault(phrase.split()[0], []).append((phrase, role))
    for phrases in by_first.values():
        phrases.sort(key=lambda item: -len(item[0]))
    return by_first, frozenset(by_first)


# ------------------------------------------------------------------------------------------- name evidence
#
# A capitalised phrase after `By` is a person only with evidence: its first name is on the first-name list of
# its script, it starts with initials (`J.R. Stone`), it is a romanised Han name (a surname from the list, then a
# hyphenated given name or two more words: `Kao Wen-chi`, `Huynh Tam Sang`), it has a middle initial (`Logan C.
# Ritchie`), a Han name starting with a surname
# character, or it carries its CJK form after the Latin one (`John Lim 林泉忠`). `By Royal Decree` has none.

_INITIALS_RE = regex.compile(r"^\p{Lu}\.(?:-?\p{Lu}\.){0,3}$")
_HAN_ONLY_RE = regex.compile(r"^\p{Han}{2,6}$")
_HONORIFICS = frozenset({"dr", "dr.", "prof", "prof.", "professor", "mr", "mr.", "mrs", "mrs.", "ms", "ms.", "rev."})


# English function words as a title-case headline capitalises them; no name word is spelt so.
_TITLE_CASE_FUNCTION_WORDS = frozenset(
    ("Of", "The", "And", "For", "In", "On", "At", "To", "With", "From", "Into", "Over", "Under")
)


def name_evidence(name: str) -> bool:
    """Whether ``name`` (a name-shaped phrase) reads as a person's name; see the rule above."""
    if _HAN_ONLY_RE.match(name):
        return name[0] in _han_surnames() or name[:2] in _han_surnames()
    if CJK_SUFFIX_RE.search(name):
        return True
    words = [w for w in name.split() if w.casefold() not in _HONORIFICS]
    if len(words) < 2 or any(w in _TITLE_CASE_FUNCTION_WORDS for w in words[1:]):
        return False  # "By Grace Of God", "By The Way": a title-case phrase, not a name
    if _INITIALS_RE.match(words[0]):
        return True
    first_names = _first_names()
    for word in words[:-1]:
        if _fold(word.split("-")[0]) in first_names:
            return True
        if not _INITIALS_RE.match(word):
            break
    # A middle initial between two name words: `Logan C. Ritchie`, `Daniel R. Whitcombe`.
    if len(words) == 3 and _INITIALS_RE.match(words[1]) and len(words[1]) == 2:
        return True
    return words[0].casefold() in _han_surnames() and ("-" in words[1] or len(words) >= 3)


def _display_name(name: str) -> str:
    """A name as recorded: a word printed in capitals (`JAKE SHERMAN`, `Bruno CANEPARO`) in title case.

    The case rule for all-caps bylines: the byline is kept verbatim in ``metadata.bylines``; the author's name is
    recorded in title case (word by word, apostrophes and hyphens kept: `O'BRIEN` -> `O'Brien`). Initials and
    roman numerals (`J.R.`, `III`) stay as printed. A name whose capitals are its usual spelling (`McDONALD`)
    comes out as `Mcdonald`: the document gives no better evidence of the intended case on that line.
    """
    words = name.split()
    if not any(len(w) > 2 and _capitals(w) for w in words):
        return name
    return " ".join(w.title() if len(w) > 1 and _capitals(w) and w not in _ROMAN else w for w in words)


def _capitals(word: str) -> bool:
    """A name word printed in capitals: letters, apostrophes and hyphens (`MARY-JANE`, `O'BRIEN`), no lower case."""
    return word.isupper() and all(c.isalpha() or c in "-'’" for c in word)


_ROMAN = frozenset({"II", "III", "IV"})

# ------------------------------------------------------------------------------------------------ credit lines
#
# A credit line is a credit phrase (data/credits/credit_phrases.tsv: `By`, `Von`, `Posted by`, `Autor:`,
# `Photo:` ...), then names, then an optional tail that says no more than when, where or for whom: a date, an
# outlet, a role, a handle (`By Evan Symon, August 14, 2020 2:30 pm`, `By Nada Tawfik, BBC News, New York`,
# `By John Walk - January 10, 2020`, `Von Jörg Staff am 16.11.2022`). Every name must have name evidence; the
# first that has none ends the list (`By Judah Ari Gross and TOI staff` credits Judah Ari Gross), and a line whose
# first name has none is no credit.

# Where the names end and the tail starts: a separator, a digit, a handle or e-mail, or a word that opens a date,
# an outlet or a role.
_TAIL_START_RE = _OnFirstUse(
    r"\s?(?:[|•·:;(]|//|(?<=\S)/|\s[-–—]\s|@|\d)|\s(?:on|at|am|le|el|for|im|Last|Published|Updated|Veröffentlicht|Erstellt|"
    r"Kategorien|Twitter|Share|Photos?|Photographs?|Fotos?|Fotograf[ií]as?|Illustrations?|Illustrationen|Ilustraci[oó]n"
    r"|Grafiken?|Bilder|Images?|Video|via|von\sPexels|on\sUnsplash|For)\b"
)
_NAME_SPLIT_RE = regex.compile(r",\s*+|\s(?:and|And|AND|und|y|et|&)\s|\s/\s")
_NAME_FULL_RE = _OnFirstUse(rf"^{_HONORIFIC}(?P<name>{_NAME1})\.?$")
# Words a name never ends with but a byline often goes on with (`By Evan Halper Staff Writer`, `Feb 8, 2020`).
_TRAILING_NON_NAME = _words(
    """
    Staff Writer Writers Reporter Reporters Editor Correspondent Columnist Contributor Redaktion Redakteur
    Jan Feb Mar Apr May Jun Jul Aug Sep Sept Oct Nov Dec January February March April June July August September
    October November December Januar Februar März Mai Juni Juli Oktober Dezember Vom On Am Updated
    """
)
_ORG_WORDS = _words(
    """
    staff Agencies Agency News Redaktion Redacción Team TEAM Editors Reports Newsdesk Desk Times Post Journal Herald
    Tribune Daily Magazine Press Online Zeitung Media Radio TV Kitchens Kitchen Studios Network Editorial Foundation
    Institute Group
    """
)


def _credit_names(rest: str) -> list[str]:
    """The persons a credit phrase credits in ``rest`` (what follows the phrase); ``[]`` when none."""
    rest = rest.strip()
    if not rest or len(rest) > 200:
        return []
    tail = _TAIL_START_RE.search(rest)
    head = rest[: tail.start()] if tail else rest
    names: list[str] = []
    if " / " in head and "," in head.split(" / ", 1)[1]:
        head = head.split(" / ", 1)[0]  # `By R.C. Baker / Greg Cohen, Photographs`: what follows the slash is no author
    pieces = _NAME_SPLIT_RE.split(head)
    # `A, B and C`: a list that an `and` closes; a comma alone may as well open the outlet or place after a name.
    listed = any(f" {word} " in head for word in ("and", "And", "AND", "und", "&", "y", "et"))
    for k, piece in enumerate(pieces):
        piece = piece.strip()
        if not piece:
            break
        words = piece.split()
        # Role words before the name (`Staff Writer Jake Chung`, `Rechtsanwalt Sebastian Einbock`) and after it.
        while len(words) > 2 and _has_role(words[0], DEFAULT_OPTIONS) and words[0].casefold() not in _first_names():
            words = words[1:]
        while len(words) > 2 and words[-1].rstrip(".") in _TRAILING_NON_NAME:
            words = words[:-1]
        half = len(words) // 2
        if half >= 2 and len(words) == 2 * half and words[:half] == words[half:]:
            words = words[:half]  # the name printed twice (`Par Olivier Minot Olivier Minot`)
        piece = " ".join(words)
        match = _NAME_FULL_RE.match(piece)
        # The first name needs name evidence; the names after it in the same list only a person's shape.
        if (
            match is None
            or any(w in _ORG_WORDS for w in words)
            or not (name_evidence(match["name"]) if k == 0 or not listed else _list_name(match["name"]))
        ):
            if k == 0:
                return []
            # After a comma: an outlet, a place, a role or a domain (`, BBC News`, `, Staff reporter`,
            # `/ handwerksblatt.de`); not a clause (`By Ann Lee, in Taipei`).
            if piece[:1].islower() and " " in piece and not _has_role(piece, DEFAULT_OPTIONS):
                return []
            break
        name = match["name"]
        if piece.endswith((" Jr.", " Sr.")) and not name.endswith("."):
            name += "."
        names.append(_display_name(_latin_name(name)))
    return _unique(names)


def _list_name(name: str) -> bool:
    """A later name in a list of credited names: two words at least, no place or institution word."""
    return (name_evidence(name) or len(name.split()) >= 2) and _person_like(name)


def _opening_phrase(line: str) -> tuple[str, str, str] | None:
    """``(phrase, role, rest)`` for a stripped line that opens with a credit phrase (the longest that fits),
    ``None`` otherwise. ``rest``: what follows the phrase, unstripped."""
    first = line.split(None, 1)[0] if line else ""
    by_first, _ = _credit_phrases()
    for phrase, role in by_first.get(first) or by_first.get(first.rstrip(":")) or ():
        if not line.startswith(phrase):
            continue
        rest = line[len(phrase) :]
        if rest and not rest[:1].isspace() and not phrase.endswith(":"):
            continue
        return phrase, role, rest
    return None


def phrase_credit(line: str) -> tuple[str, list[str], bool] | None:
    """``(role, names, next_line)`` for a stripped line that opens with a credit phrase, ``None`` otherwise.

    ``next_line``: the line is the phrase alone (`Written by:`, `Article by`), so the names are on the next line.
    """
    opening = _opening_phrase(line)
    if opening is None:
        return None
    phrase, role, rest = opening
    rest = rest.strip()
    if not rest:
        # The phrase alone on its line: a multi-word phrase or one ending with a colon.
        return (role, [], True) if (" " in phrase or phrase.endswith(":")) else None
    names = _credit_names(rest.lstrip(":").strip())
    return (role, names, False) if names else None


# A photo credit's credited parts: `Foto: MDR/Bernd Cramer`, `© dpa | Kay Nietfeld`, `Fotos: PR, Teresa Nanni`.
_PHOTO_PARTS_RE = regex.compile(r"\s*+[/|;,]\s*+|\s++(?:and|und|et|y|e|&|via)\s++")
_COPYRIGHT_FIRST_RE = regex.compile(r"^©\s*+(?!\d)")


def photo_credit(line: str) -> list[str] | None:
    """The persons a photo-credit line names, ``None`` when the line is not one. A photo credit opens with a photo
    phrase of ``credit_phrases.tsv`` (`Foto:`, `Bild:`, `Photo by`, `Image credit:`) or a ``©`` without a year,
    in brackets or not (`(Bild: Dieter Stork)`); what follows may name an agency or a company, a person, or both
    (`Foto: © Antonio Guillem/123RF.com`, `APA/NAME` after the phrase): a person is a name-shaped part with name
    evidence (:func:`name_evidence`), so `© Cover Media` credits nobody. ``[]``: a photo credit that names no
    person."""
    s = line.strip()
    if s[:1] == "(" and s[-1:] == ")":
        s = s[1:-1].strip()
    if not s:
        return None
    copyright_first = _COPYRIGHT_FIRST_RE.match(s)
    if copyright_first:
        rest = s[copyright_first.end() :]
    else:
        opening = _opening_phrase(s)
        if opening is None or opening[1] != ROLE_PHOTO:
            return None
        rest = opening[2]
    return _credited_persons(rest)


def _credited_persons(rest: str) -> list[str]:
    """The persons among a credit's parts (``rest``: what follows its label): name-shaped, with name evidence."""
    names = []
    for part in _PHOTO_PARTS_RE.split(rest.lstrip(":© ").rstrip(" .")):
        words = part.strip(" ©()[]†").split()
        while words and words[-1] in _ORG_WORDS:
            words = words[:-1]
        piece = " ".join(words)
        match = _NAME_FULL_RE.match(piece) if 2 <= len(words) <= 4 else None
        if match and not any(w in _ORG_WORDS for w in words) and name_evidence(match["name"]):
            names.append(_display_name(match["name"]))
    return names


_LABEL_RE = regex.compile(r"^[^:]{1,40}:\s*+|^\S++(?:\s\S++)?\s(?:by|von|de|par|di|por)\s", regex.IGNORECASE)


def credited_persons(line: str) -> list[str]:
    """The persons a credit line of any form names (`Photo: NAME`, `APA/NAME`, `NAME / Shutterstock`, `© NAME`):
    its label, if any, set aside, the name-shaped parts with name evidence. The residue step leaves a photo credit
    that names one, for the credits step."""
    s = " ".join(line.split()).strip("()[] ")
    label = _LABEL_RE.match(s)
    return _credited_persons(s[label.end() :] if label else s)


_BY_WORDS = frozenset({"By", "by", "BY", "Von", "von", "VON", "Por", "por", "POR", "Par", "par", "PAR"})
# `NAME contributed to this report.`, `NAME and NAME contributed reporting.`
CONTRIBUTED_RE = _OnFirstUse(
    rf"^(?P<names>{_NAMES1})\s(?:also\s)?contributed\s(?P<what>to\sthis\s(?:report|story|article)|reporting|"
    rf"additional\sreporting)(?:\s(?:from|in)\s[\p{{L}}\s,]{{1,60}}+)?\.?\s*+$"
)
# `Have a tip? NAME may be reached at ...`
HAVE_A_TIP_RE = _OnFirstUse(rf"^Have\sa\stip\?\s(?P<name>{_NAME1})\s(?:may|can)\sbe\sreached\s(?:at|on|by)\s")
# A signature at the end of a letter or column: `– NAME` alone on its line, or `NAME, Place`.
SIGNATURE_RE = _OnFirstUse(rf"^[—–-]\s?+(?P<name>{_NAME1})\.?$")
SIGNATURE_PLACE_RE = _OnFirstUse(rf"^(?P<name>{_NAME1}),\s\p{{Lu}}[\p{{L}}.’'-]*+(?:\s\p{{Lu}}[\p{{L}}.’'-]*+){{0,2}}$")


def _split_credit_parts(line: str) -> list[str]:
    """`Additional reporting by A; Editing by B and C` -> its parts."""
    return [part.strip() for part in line.split(";") if part.strip()]


def contributor_credits(line: str) -> list[tuple[str, str]] | None:
    """``[(name, role)]`` for a contributor line (`NAME contributed to this report.`, `Reporting by A; Editing by
    B`), ``None`` when the line is not one."""
    if "contributed" in line:
        match = CONTRIBUTED_RE.match(line)
        if match is None:
            return None
        role = "contributor" if match["what"].startswith("to") else "reporting"
        names = [n for n in _split_names(match["names"]) if name_evidence(n)]
        return [(n, role) for n in names] or None
    found: list[tuple[str, str]] = []
    for part in _split_credit_parts(line):
        credit = phrase_credit(part)
        if credit is None or credit[2] or credit[0] in (ROLE_AUTHOR, ROLE_TRANSLATOR):
            return None
        found.extend((name, credit[0]) for name in credit[1])
    return found or None


# ------------------------------------------------------------------------------------------- corroboration
#
# A role bio at the end of an article (`X is a senior fellow at ...`) is a body sentence about a public figure
# as often as it is a bio. It counts only with something more: the byline names the person, a translator credit
# stands next to it, the predicate names
# a writer's role or an affiliation (`at ...`, or `of`/`for`/`bei` and a capitalised name), the subject has an
# academic title (`Dr`, `Prof.`), the verb says the role
# (`teaches`, `writes`, `covers`), or the line stands after a separator or in italics markers.

_WRITER_ROLES = _words(
    """
    journalist journalists writer writers reporter reporters correspondent correspondents columnist columnists editor
    editors author authors contributor contributors freelance blogger podcaster autor autorin journalistin
    redakteur redakteurin korrespondent korrespondentin
    """
)
_AFFILIATION_RE = regex.compile(
    r"\sat\s|\s(?:of|for|with|bei|für|von|an|am|in)\s(?:the\s|der\s|die\s|dem\s|des\s)?[\p{Lu}»\"“«]"
)
# `is the president of France`, `is China's foreign minister`: the one holder of an office, the way news names
# a public figure; an author's note says `is a ...`, or names the institution (`is the director of the ... Center`).
_DEFINITE_PREDICATE_RE = regex.compile(r"\s(?:is|was|ist|war)\s(?:the|der|die|\p{Lu}\p{L}*+['’]s)\s")
_INSTITUTION_RE = regex.compile(
    r"\b(?:Institut\w*+|Universit\w*+|College|School|Schule|Cent(?:er|re)|Zentrum|Foundation|Stiftung|Council"
    r"|Program(?:me)?|Department|Project|Initiative|Forum|Association|Society|Academy|Akademie|Laborator\w*+|Fund"
    r"|Trust|Museum|Library|Hospital|Clinic|Klinik|Observatory|Network|Studies|Research|Think\s?[Tt]ank)\b"
)
# What a sentence about someone else says, never an author's note: `... who was not involved in the study`,
# `... He was taken to hospital with minor injuries.`, `... and voted for the first time.`
_NEWS_CLAUSE_RE = regex.compile(
    r"\bnot\sinvolved\b|\b(?:said|says|told)\b|\bdied\b|\bvoted\b|\bwho\sled\b"
    r"|\b(?:was|were)\s(?:taken\sto\shospital|arrested|killed|injured|wounded|charged|detained|shot|sentenced)\b"
)
_SEPARATORS = frozenset({"—", "–", "-", "--", "---", "***", "* * *", "___", "•", "■"})


def _corroborated(
    paragraphs: list[str],
    i: int,
    line: str,
    names: list[str],
    bylined: frozenset[str] | set[str],
    labels: dict,
    page_authors: frozenset[str] | set[str] = frozenset(),
) -> bool:
    """Whether a bio-shaped line at an end position is an author's note, not the text's last sentence about someone
    (`Emmanuel Macron is the president of France.`). ``page_authors``: the names the page's byline gives."""
    if any(n.casefold() in bylined for n in names):
        return True
    # Next to a translator credit: in the credits block.
    for step in (-1, 1):
        j = i + step
        while 0 <= j < len(paragraphs) and not paragraphs[j].strip():
            j += step
        if j in labels and labels[j].kind == TRANSLATOR:
            return True
    if (line[:1] in "*_" and line[-1:] in "*_") or not names:
        return True  # in italics markers; `The writer is ...` (no name) is a bio by its own words
    if page_authors:
        return False  # the byline names who wrote the page, and not this person: the sentence is about someone else
    predicate = line[len(names[0]) :][:300]
    if _NEWS_CLAUSE_RE.search(predicate):
        return False
    if line.split(None, 1)[0].rstrip(".").casefold() in _HONORIFICS:
        return True  # `Dr Ann Lee is a lecturer in law.`: a title and a role, the way author notes begin
    words = [w.strip(".,;:()").casefold() for w in predicate.split()[:_ROLE_WINDOW_WORDS]]
    if any(w in _WRITER_ROLES for w in words) or (len(words) > 1 and words[0] in _ROLE_VERBS):
        return True
    if _AFFILIATION_RE.search(predicate) and (
        # `the ... of COUNTRY/COMPANY` is news; `the founder ... at FIRM`, `the director of the ... Center` a note
        _DEFINITE_PREDICATE_RE.match(predicate) is None or " at " in predicate or _INSTITUTION_RE.search(predicate)
    ):
        return True
    j = i - 1
    while j >= 0 and not paragraphs[j].strip():
        j -= 1
    return j >= 0 and paragraphs[j].strip() in _SEPARATORS


def _bylined_bio(line: str, options: CreditsOptions, bylined: frozenset[str] | set[str]) -> list[str] | None:
    """The names of a bio without a role word whose subject the byline names: a bio shape without the role
    (`Ann Lee is a pragmatist ...`), or the bylined name and then any verb (`Ann Lee runs a dog rescue charity`)."""
    loose = _bio(line, options, require_role=False)
    if loose and any(n.casefold() in bylined for n in loose):
        return loose
    if more_words_than(line, options.max_bio_words):
        return None
    if not ends_sentence(line):  # a sentence about the author, not a link or a label ("NAME on Twitter")
        return None
    folded = line.casefold()
    for name in bylined:
        if folded.startswith(name + " "):
            rest = line[len(name) + 1 :]
            if rest[:1].islower() and not rest.startswith(_NOT_A_VERB):
                return [line[: len(name)]]
    return None


_SUBJECT_RE = _OnFirstUse(rf"^{_HONORIFIC}(?P<name>{_NAME2})\s(?=\p{{Ll}})")
_REPORTING_VERBS = ("said", "says", "told", "added", "asked")
# Words that follow a name but start no predicate: a name then one of these is a label or a link, not a sentence
# about the person ("NAME on Twitter", "NAME this link opens in a new tab").
_NOT_A_VERB = (
    *(f"{w} " for w in ("on", "in", "at", "via", "for", "from", "to", "with", "by", "this", "the", "a", "an")),
    *_REPORTING_VERBS,
)


def subject_name(line: str) -> str | None:
    """The person a sentence is about when it opens with a name and a verb (`Ann Lee runs a dog rescue ...`),
    a name with evidence (:func:`name_evidence`); ``None`` for a reporting verb (`Ann Lee said ...`)."""
    # The pattern opens as BIO_HEAD_RE does (a title or a name word, then a name word): the same cheap test turns
    # most lines away before the pattern runs (it ran on each of a document's last lines in the corpus pass).
    if not _may_start_with_name(line):
        return None
    match = _SUBJECT_RE.match(line)
    if match is None or line[match.end() :].startswith(_NOT_A_VERB) or not ends_sentence(line):
        return None
    name = match["name"]
    return name if name_evidence(name) else None


def _furniture(line: str) -> bool:
    """Page furniture after an article's last block: a short line that is no sentence, a handle, a link, a
    copyright line ("Share this", "@perrybaconjr", "Tags: transport", "© 2020 ...")."""
    if line.startswith(("@", "#", "http", "©", "(c)")) or "©" in line:
        return True
    return (line.endswith(":") or not ends_sentence(line)) and not more_words_than(line, 12)


def _body_paragraph(line: str) -> bool:
    """A paragraph of running text: a finished sentence of more than 15 words."""
    return ends_sentence(line) and more_words_than(line, 15)
