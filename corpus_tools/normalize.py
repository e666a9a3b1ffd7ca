"""``normalize``: ftfy-exact Unicode repair at many times ftfy's speed, then whitespace and punctuation fixes.

Two stages, applied until the text stops changing (at most :data:`MAX_ROUNDS` rounds):

1. **Unicode repair** (:func:`repair_unicode`): the output is *identical* to ``ftfy.fix_text(text, config)``
   with the configuration :func:`ftfy_config` builds from the options. ``fix_text`` cuts a text into segments
   (each line with its ``\\n``, and any run longer than ``max_decode_length`` cut there) and fixes each segment on
   its own with ``fix_and_explain``. A segment comes out of ``fix_and_explain`` unchanged exactly when no fixer
   changes it in the first pass, and every fixer has a cheap necessary condition:

   - ``unescape_html``: an entity-shaped ``&...;`` (ftfy's own ``HTML_ENTITY_RE``);
   - ``fix_encoding``: the segment is not ASCII *and* ``ftfy.badness.is_bad`` says so. ``is_bad`` is a regex
     whose every alternative needs at least one character of ``SUSPECT_CHARS`` (:mod:`corpus_tools.mojibake`,
     derived from ftfy's ``MOJIBAKE_CATEGORIES``; a test re-checks the claim), so it only runs on segments
     holding one;
   - character fixers (C1 controls, control characters, terminal escapes, odd line breaks, surrogates,
     ligatures, character width, curly quotes when straightening): a character class built from ftfy's tables;
   - normalization: ``unicodedata.is_normalized`` (C speed).

   A whole document is checked first with one class search and one ``is_normalized``; only documents that fail
   are walked segment by segment, and only segments that fail go through ftfy itself. ``is_bad`` is searched
   only around suspect characters (:func:`corpus_tools.mojibake.is_bad`, the search ``check`` uses too), and with
   the ftfy release it was written from, ftfy's encoding step runs without repeating that search
   (:func:`_encoding_step`). The C1 controls ftfy keeps (``\\x81`` and the other bytes cp1252 leaves
   undefined) are then removed (:func:`_fix_counted`).

2. **Whitespace and punctuation** (:func:`fix_spacing`): odd spaces to plain spaces, runs of spaces collapsed,
   spaces at both ends of a line removed, blank lines at both ends of the text removed and runs of blank lines
   collapsed to one; a doubled full stop closing a sentence (``Taiwan..``) to one, a doubled en dash (``––``) to
   an em dash. A real ellipsis (``...``, ``…``) is never touched. One pass over the text's UTF-8 (:func:`_pairs`)
   tells whether the space, line-end, blank-line and full-stop fixes have anything to do; odd spaces and en
   dashes are looked for among the few characters that are not ASCII.

Every change is counted by kind (:data:`KINDS`); every kind is always present in ``metadata.normalize``, and a
run adds its counts to those an earlier run left there (:func:`add_counts`).

The same thing written the plain way, :mod:`corpus_tools.normalize_reference`, is the definition: the differential
tests hold this fast path to it, and it runs instead with an ftfy release other than :data:`_STEP_COPIED_FROM`.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import ftfy
import regex
from ftfy import chardata

from corpus_tools.errors import ConfigError
from corpus_tools.mojibake import SUSPECT_CHARS, char_class, escape, is_bad
from corpus_tools.records import Record, metadata_of
from corpus_tools.step import Doc, Labels, Step, option

# ------------------------------------------------------------------------------------------------ options

FORMS = ("NFC", "NFKC", "NFD", "NFKD", "none")


@dataclass(frozen=True)
class NormalizeOptions:
    """What ``normalize`` repairs. Defaults suit scraped news: fix damage, keep real typography.

    Every option is a switch except ``unicode_form``, which must be one of :data:`FORMS` (anything else is a
    :class:`ConfigError` naming it).

    ftfy options (each maps onto the :class:`ftfy.TextFixerConfig` field of the same meaning; see
    :func:`ftfy_config` for the ones that are fixed on purpose):
    """

    #: Always on or off, never ftfy's "auto", which stops decoding for the rest of a text once it has seen a ``<``.
    unescape_html: bool = option(True, "Decode HTML entities (`&amp;` `&#8217;`).", flag="--entities/--no-entities")
    #: UTF-8 decoded as cp1252/latin-1 and friends, and C1 controls.
    fix_encoding: bool = option(True, "Repair mojibake (â€™ -> ’).", flag="--mojibake/--no-mojibake")
    fix_latin_ligatures: bool = option(True, "Take Latin ligatures apart (ﬁ -> fi).", flag="--ligatures/--no-ligatures")
    fix_character_width: bool = option(
        True,
        "Make fullwidth/halfwidth characters standard width (Ａ -> A; also fullwidth CJK punctuation).",
        flag="--width/--no-width",
    )
    #: Off by default: curly quotes are real typography here (ftfy's own default is on).
    straighten_quotes: bool = option(False, "Turn curly quotes into straight ones (kept by default).")
    unicode_form: Literal["NFC", "NFKC", "NFD", "NFKD", "none"] = option(
        "NFC",
        "Unicode normalization form. NFKC also folds compatibility characters (² -> 2, NBSP -> space).",
        flag="--form",
    )
    whitespace: bool = option(
        True, "Odd spaces to spaces, runs collapsed, line ends trimmed, blank-line runs collapsed."
    )
    punctuation: bool = option(True, "Fix doubled full stops (Taiwan..) and en dashes (––).")
    #: A dry run's blank lines are listed in ``metadata.cuts`` (marked ``dry_run``); its repairs are not counted in
    #: ``metadata.normalize``, which says what was done to the text (a real run afterwards would count them twice).
    dry_run: bool = option(False, "Label only: the text stays as it is, nothing counted.", flag="--dry-run")

    def __post_init__(self) -> None:
        if self.unicode_form not in FORMS:
            raise ConfigError(f"normalize: unicode_form must be one of {', '.join(FORMS)} (got {self.unicode_form!r})")


# ftfy's own default; kept so segments are cut exactly where fix_text cuts them.
MAX_DECODE_LENGTH = 1_000_000

# A second round only runs when the spacing fixes changed something that could make ftfy see more
# (collapsing "Ã  la" into "Ã la" makes it mojibake ftfy recognises); in practice two rounds reach the fixed point.
MAX_ROUNDS = 4


def ftfy_config(options: NormalizeOptions = NormalizeOptions()) -> ftfy.TextFixerConfig:
    """The ftfy configuration ``normalize`` matches exactly, every field set on purpose.

    Fixed on purpose: ``fix_line_breaks`` (one paragraph per line depends on it), ``fix_surrogates`` (lone
    surrogates cannot be written as UTF-8 JSON), ``remove_control_chars`` and ``remove_terminal_escapes`` (never
    content in a text corpus). ``restore_byte_a0``, ``replace_lossy_sequences``, ``decode_inconsistent_utf8`` and
    ``fix_c1_controls`` stay at ftfy's defaults because ``fix_text`` ignores them anyway: with ``explain=False``,
    ``fix_and_explain`` calls ``fix_encoding(text)`` without the config. ``explain=False`` is what ``fix_text``
    uses; ``max_decode_length`` is ftfy's default.
    """
    return ftfy.TextFixerConfig(
        unescape_html=options.unescape_html,
        remove_terminal_escapes=True,
        fix_encoding=options.fix_encoding,
        restore_byte_a0=True,
        replace_lossy_sequences=True,
        decode_inconsistent_utf8=True,
        fix_c1_controls=True,
        fix_latin_ligatures=options.fix_latin_ligatures,
        fix_character_width=options.fix_character_width,
        uncurl_quotes=options.straighten_quotes,
        fix_line_breaks=True,
        fix_surrogates=True,
        remove_control_chars=True,
        normalization=None if options.unicode_form == "none" else options.unicode_form,  # type: ignore[arg-type]
        max_decode_length=MAX_DECODE_LENGTH,
        explain=False,
    )


# -------------------------------------------------------------------------------------------------- kinds

#: Every kind of change, in the order they appear in ``metadata.normalize``.
#: ftfy's repairs count *segments* (lines) repaired, because ftfy reports which fixes it applied to a line,
#: not how many characters each one touched. The spacing and punctuation kinds count occurrences.
KINDS = (
    "entities",  # HTML entities decoded
    "mojibake",  # text re-decoded (UTF-8 read as cp1252, latin-1, ...), including C1 controls ftfy decodes
    "control_chars",  # control characters and terminal escapes removed; C1 controls ftfy keeps (each one counts)
    "line_breaks",  # CRLF (each one counts), CR, U+2028/U+2029, NEL (lines holding them) turned into LF
    "surrogates",  # UTF-16 surrogates joined or replaced with U+FFFD
    "ligatures",  # Latin ligatures taken apart
    "width",  # fullwidth/halfwidth characters made standard width
    "quotes",  # curly quotes straightened (only with straighten_quotes)
    "unicode_form",  # Unicode normalization changed the line
    "spaces",  # odd spaces (NBSP, thin space, tab, ...) made plain spaces
    "space_runs",  # runs of spaces collapsed into one
    "line_spaces",  # spaces removed at the start or end of a line
    "blank_lines",  # blank lines removed (runs collapsed to one, none at either end; a final "\n" is not one)
    "double_periods",  # "Taiwan.." -> "Taiwan."
    "double_dashes",  # "––" -> "—"
)

_ZERO = dict.fromkeys(KINDS, 0)

# What each step of an ftfy explanation is, as a kind.
_APPLIED_KIND = {
    "unescape_html": "entities",
    "decode_inconsistent_utf8": "mojibake",
    "fix_c1_controls": "mojibake",
    "fix_latin_ligatures": "ligatures",
    "fix_character_width": "width",
    "uncurl_quotes": "quotes",
    "fix_line_breaks": "line_breaks",
    "fix_surrogates": "surrogates",
    "remove_terminal_escapes": "control_chars",
    "remove_control_chars": "control_chars",
}


def zero_counts() -> dict[str, int]:
    """A fresh counts object with every kind at 0."""
    return dict(_ZERO)


# ----------------------------------------------------------------------------------- the ftfy fast path


_C1 = range(0x80, 0xA0)
_LINE_BREAKS = (ord("\r"), 0x2028, 0x2029, 0x85)
_SURROGATES = range(0xD800, 0xE000)
_QUOTES = {ord(c) for c in "\u02bc\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f"}


@dataclass(frozen=True)
class _Plan:
    """Compiled checks for one set of options: what can make ftfy change a segment."""

    config: ftfy.TextFixerConfig
    explain_config: ftfy.TextFixerConfig
    form: str | None
    entities: re.Pattern[str] | None
    fixers: re.Pattern[str]  # characters some character fixer always changes
    suspect: re.Pattern[str] | None  # characters without which is_bad is false
    any_trigger: re.Pattern[str]  # union of the two, for the whole-document check
    not_inert: re.Pattern[str] | None  # with NFC: characters that are not NFC-inert (see _not_nfc_inert)


_PLANS: dict[NormalizeOptions, _Plan] = {}


def _plan(options: NormalizeOptions) -> _Plan:
    plan = _PLANS.get(options)
    if plan is not None:
        return plan
    config = ftfy_config(options)
    fixer_chars: set[int] = set(chardata.CONTROL_CHARS) | {0x1B} | set(_C1) | set(_LINE_BREAKS) | set(_SURROGATES)
    if options.fix_latin_ligatures:
        fixer_chars |= set(chardata.LIGATURES)
    if options.fix_character_width:
        fixer_chars |= set(chardata.WIDTH_MAP)
    if options.straighten_quotes:
        fixer_chars |= _QUOTES
    suspect = SUSPECT_CHARS if options.fix_encoding else frozenset()
    trigger = fixer_chars | suspect
    plan = _Plan(
        config=config,
        # The same fixes with an explanation, so each repaired segment can be counted by kind. The output is the
        # same as with explain=False because the four fix_encoding sub-options are at their defaults.
        explain_config=config._replace(explain=True),
        form=config.normalization,
        entities=re.compile(chardata.HTML_ENTITY_RE.pattern) if options.unescape_html else None,
        fixers=re.compile(char_class(fixer_chars)),
        suspect=re.compile(char_class(suspect)) if suspect else None,
        any_trigger=re.compile(char_class(trigger)),
        not_inert=_not_nfc_inert() if config.normalization == "NFC" else None,
    )
    _PLANS[options] = plan
    return plan


def segments(text: str, max_length: int | None = None) -> Iterator[str]:
    """The pieces ``ftfy.fix_text`` fixes one by one: lines with their ``\\n``, long ones cut every ``max_length``."""
    max_length = max_length or MAX_DECODE_LENGTH
    pos = 0
    end = len(text)
    while pos < end:
        cut = text.find("\n", pos) + 1
        if cut == 0:
            cut = end
        if cut - pos > max_length:
            cut = pos + max_length
        yield text[pos:cut]
        pos = cut


def _may_change(segment: str, plan: _Plan) -> bool:
    """False only when ftfy with ``plan.config`` is certain to return ``segment`` unchanged."""
    if plan.fixers.search(segment):
        return True
    if plan.entities is not None and "&" in segment and plan.entities.search(segment):
        return True
    if plan.form is not None and not unicodedata.is_normalized(plan.form, segment):
        return True
    return plan.suspect is not None and is_bad(segment, plan.suspect)


# Blocks common in news text whose characters, where NFC leaves them alone and they are not combining marks, are
# NFC quick-check "yes" with combining class 0 (none is the second half of a composition: a test checks it
# against every decomposition). A text whose non-ASCII characters are all such is NFC, with no need to look.
_NFC_INERT_BLOCKS = (
    (0x00A0, 0x02FF),  # Latin-1 supplement, Latin extended A/B, IPA, spacing modifiers
    (0x0370, 0x052F),  # Greek, Cyrillic
    (0x2010, 0x205E),  # dashes, quotes, ellipsis, bullets, primes
    (0x20A0, 0x20C0),  # currency signs
    (0x3000, 0x30FF),  # CJK punctuation, kana
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xAC00, 0xD7A3),  # Hangul syllables
    (0xFF00, 0xFFEF),  # half- and fullwidth forms
)


@functools.cache
def _not_nfc_inert() -> re.Pattern[str]:
    """A search for any character that is not printable ASCII, "\\n" or NFC-inert (see the blocks above)."""
    # Built once per process, with the first plan: a block whose characters are all inert (the large CJK and Hangul
    # ones) is taken whole, after two checks in C on the whole block, and only the others are walked a character at
    # a time. A string is normalized only if each of its characters is, on its own.
    ranges = [(ord("\n"), ord("\n")), (0x20, 0x7E)]
    for lo, hi in _NFC_INERT_BLOCKS:
        block = "".join(map(chr, range(lo, hi + 1)))
        if not any(map(unicodedata.combining, block)) and unicodedata.is_normalized("NFC", block):
            ranges.append((lo, hi))
            continue
        start = lo
        for char in block:
            if unicodedata.combining(char) or not unicodedata.is_normalized("NFC", char):
                if start < ord(char):
                    ranges.append((start, ord(char) - 1))
                start = ord(char) + 1
        if start <= hi:
            ranges.append((start, hi))
    return re.compile("[^" + "".join(f"{escape(lo)}-{escape(hi)}" for lo, hi in ranges) + "]")


# A "\r" that does not start a "\r\n" (the engine skips ahead to each "\r", rare in any text).
_LONE_CR = re.compile(b"\r(?!\n)").search

# Printable ASCII and "\n": the bytes no ftfy fixer and no spacing fix looks at on their own.
_PLAIN_ASCII = bytes(range(0x20, 0x7F)) + b"\n"


def _unusual(text: str) -> str:
    """The characters of ``text`` other than printable ASCII and ``\\n``, in order: in news text a few percent of
    it, so the character-class searches below scan that instead of the whole text (encode and ``bytes.translate``
    are several times faster than a class search)."""
    return _unusual_of(text.encode("utf-8", "surrogatepass"))


def _unusual_of(data: bytes) -> str:
    """:func:`_unusual` of the text whose UTF-8 (surrogates passed through) is ``data``.

    Deleting the ASCII bytes leaves whole UTF-8 sequences (no byte of a multi-byte sequence is ASCII).
    """
    rest = data.translate(None, _PLAIN_ASCII)
    return rest.decode("utf-8", "surrogatepass") if rest else ""


def _document_is_clean(text: str, unusual: str, plan: _Plan) -> bool:
    """True when no segment of ``text`` can change: one class search and one normalization check."""
    if len(text) > MAX_DECODE_LENGTH:
        return False  # fix_text would cut a long line mid-way: decide per segment
    if plan.entities is not None and "&" in text and plan.entities.search(text):
        return False
    if not unusual:
        return True  # printable ASCII: normalized in every form, never mojibake
    if plan.any_trigger.search(unusual):
        return False
    return _is_normalized(text, unusual, plan)


def _is_normalized(text: str, unusual: str, plan: _Plan) -> bool:
    """``unicodedata.is_normalized(plan.form, text)`` (True for no form), from ``unusual`` when it can tell."""
    if plan.form is None or not unusual:
        return True  # printable ASCII and "\n" are the same in every form
    if plan.not_inert is not None and plan.not_inert.search(unusual) is None:
        return True
    return unicodedata.is_normalized(plan.form, text)


def repair_unicode(text: str, options: NormalizeOptions = NormalizeOptions()) -> tuple[str, dict[str, int]]:
    """``ftfy.fix_text(text, ftfy_config(options))``, fast, and the number of segments repaired by kind."""
    counts = zero_counts()
    return _repair(text, _plan(options), counts)[0], counts


def _repair(
    text: str, plan: _Plan, counts: dict[str, int], strip_c1: bool = False
) -> tuple[str, str | None, bool, bytes | None]:
    """The repaired text; its unusual characters when already known; whether the whole-document check passed;
    its UTF-8 when already known (the spacing fixes check it in one pass). With ``strip_c1``, the C1 controls
    ftfy leaves are removed too (see :func:`_fix_counted`)."""
    data = text.encode("utf-8", "surrogatepass")
    rest = data.translate(None, _PLAIN_ASCII)  # _unusual_of(data), inline: this runs for every document
    unusual = rest.decode("utf-8", "surrogatepass") if rest else ""
    # "\r" in the short `unusual` first: a two-character search of the whole text costs as much as a class scan.
    if "\r" in unusual and len(text) <= MAX_DECODE_LENGTH and not _LONE_CR(data) and not _entity_for_cr(text, plan):
        # Windows line breaks would send every line through ftfy. A "\r" just before the "\n" that ends a
        # segment changes no other fixer's decision (is_bad, the encodings and the entity pattern treat it like
        # the "\n" after it, and it composes with nothing), so fixing them up front gives what fix_text gives;
        # the differential test checks it. Not when a lone "\r" is about ("\r\r\n" is two breaks to ftfy), nor for
        # texts whose lines fix_text would cut mid-way, nor when a numeric entity may decode to one more "\r"
        # (`&#13;\r\n` is "\r\r\n" to ftfy, two breaks). Every "\r" is the start of a "\r\n", so replacing "\r\n"
        # with "\n" is deleting every "\r", which one-character searches do at memory speed ("\r" and "\n" are
        # one byte each in UTF-8, and in no other sequence).
        counts["line_breaks"] += data.count(b"\r")
        text = text.replace("\r", "")
        unusual = unusual.replace("\r", "")
        data = data.replace(b"\r", b"")
    if not text or _document_is_clean(text, unusual, plan):
        return text, unusual, True, data
    out: list[str] = []
    if len(text) <= MAX_DECODE_LENGTH and _is_normalized(text, unusual, plan):
        # Segments are lines here, and only the lines holding a trigger character or an entity can change:
        # visit just those, and copy the text between them as it is.
        done = 0
        for start, end in _trigger_lines(text, unusual, plan):
            out.append(text[done:start])
            out.append(_fix_counted(text[start:end], plan, counts, strip_c1))
            done = end
        out.append(text[done:])
    else:
        out.extend(_fix_counted(segment, plan, counts, strip_c1) for segment in segments(text))
    return "".join(out), None, False, None


def _entity_for_cr(text: str, plan: _Plan) -> bool:
    """Whether an HTML entity that ftfy would decode holds a carriage return (`&#13;`, `&#x0D`): decoded before the
    line breaks are fixed, it can stand next to a "\r\n" and make two breaks of it. (No named entity is a "\r";
    html.unescape decodes at least what ftfy decodes, so a "no" here is certain.)"""
    if plan.entities is None or "&#" not in text:
        return False
    import html

    return any("\r" in html.unescape(match.group()) for match in plan.entities.finditer(text))


def _trigger_lines(text: str, unusual: str, plan: _Plan) -> list[tuple[int, int]]:
    """The (start, end) of every line of ``text`` (``\\n`` included) that holds a trigger character or an entity.

    The distinct trigger characters come from ``unusual`` (short); each is then found with ``str.find``, which
    runs at memory speed, instead of a character-class scan of the whole text.
    """
    positions: list[int] = []
    for char in {m.group() for m in plan.any_trigger.finditer(unusual)}:
        at = text.find(char)
        while at >= 0:
            positions.append(at)
            at = text.find(char, at + 1)
    if plan.entities is not None and "&" in text:
        positions.extend(m.start() for m in plan.entities.finditer(text))
    starts = {text.rfind("\n", 0, at) + 1 for at in positions}
    lines = []
    for start in sorted(starts):
        end = text.find("\n", start) + 1
        lines.append((start, end or len(text)))
    return lines


def _fix_counted(segment: str, plan: _Plan, counts: dict[str, int], strip_c1: bool = False) -> str:
    """What ftfy makes of ``segment``, counted; with ``strip_c1``, without the C1 controls ftfy keeps.

    ftfy turns a C1 control into the cp1252 character of its byte (``\\x93`` -> ``“``) except for the bytes
    cp1252 leaves undefined (``\\x81``, ``\\x8d``, ``\\x8f``, ``\\x90``, ``\\x9d``), which the Latin-1 fallback
    of ``ingest`` gives; those are removed and counted one each as ``control_chars``. A segment holding one
    always gets here (C1 controls are fixer characters), and so does any segment ftfy changes.
    """
    if not _may_change(segment, plan):
        return segment
    fixed, kinds = _fix_segment(segment, plan)
    if fixed != segment:
        for kind in kinds:
            counts[kind] += 1
    if strip_c1 and _C1_CONTROL.search(fixed):
        fixed, n = _C1_CONTROL.subn("", fixed)
        counts["control_chars"] += n
    return fixed


_C1_CONTROL = re.compile("[\x80-\x9f]")


def _fix_segment(segment: str, plan: _Plan) -> tuple[str, set[str]]:
    """What ``ftfy.fix_and_explain`` returns for ``segment``, and the kinds of fixes it made.

    The usual damaged line holds entities or mojibake and nothing else, so first try the first two steps of
    ftfy's first pass (``unescape_html``, then ``fix_encoding``, the very functions ftfy calls). If what comes out
    is something no fixer would change, ftfy's loop would stop right there: that is its result, found without the
    other eight fixers and the second pass. Otherwise run ftfy itself.
    """
    work = segment
    kinds: set[str] = set()
    if plan.entities is not None and "&" in work:
        fixed = ftfy.fixes.unescape_html(work)
        if fixed != work:
            kinds.add("entities")
            work = fixed
    if plan.suspect is not None and plan.suspect.search(work):  # without one, is_bad is false: no-op
        fixed = _fix_encoding(work, plan.suspect)
        if fixed != work:
            kinds.add("mojibake")
            work = fixed
    if not _may_change(work, plan):
        return work, kinds
    work = _order_mark_runs(segment) if plan.form is not None else segment
    fixed, steps = ftfy.fix_and_explain(work, plan.explain_config)
    kinds = {step_kind(step) for step in steps or ()}
    if work != segment:
        kinds.add("unicode_form")  # the marks ordered above, which ftfy's NFC would have done
    return fixed, kinds


# ``ftfy.fix_encoding`` repeats one step until the text stops changing, and each step starts with ``is_bad``: the
# last one scans the repaired line in full only to find nothing. Without a SUSPECT_CHARS character ``is_bad`` is
# false and the step returns the text as it is, so stopping the same loop there gives the same text, without that
# scan (half the cost of fix_encoding on the bench corpus). The step is ftfy's own (private) function; if a future
# ftfy renames it, ``fix_encoding`` itself is used.
_ENCODING_STEP = getattr(ftfy, "_fix_encoding_one_step_and_explain", None)
_ENCODING_CONFIG = ftfy.TextFixerConfig(explain=False)  # what ftfy.fix_encoding(text) uses


# The step starts with ``is_bad(text)``, which scans a damaged line up to its first match at half a microsecond a
# character: half the cost of repairing a mojibake line. With the ftfy release it was copied from, the step below is
# ftfy's own with that check done by the windowed is_bad (the same answer); with any other release, ftfy's step runs
# in repair_unicode, and normalize_text and the step run the reference (corpus_tools.normalize_reference) instead.
_STEP_COPIED_FROM = "6.3.1"
_OWN_STEP = _ENCODING_STEP is not None and ftfy.__version__ == _STEP_COPIED_FROM


def _fix_encoding(text: str, suspect: re.Pattern[str]) -> str:
    """``ftfy.fix_encoding(text)`` for a ``text`` holding a suspect character (``suspect`` is the plan's)."""
    if _ENCODING_STEP is None:
        return ftfy.fix_encoding(text)
    if _OWN_STEP:
        # ftfy's step returns the text as it is unless is_bad(text) (ASCII text holds no suspect character).
        while is_bad(text, suspect):
            fixed = _encoding_step(text)
            if fixed == text:
                break
            text = fixed
        return text
    while True:
        fixed = _ENCODING_STEP(text, _ENCODING_CONFIG)[0]
        if fixed == text or suspect.search(fixed) is None:
            return fixed
        text = fixed


def _encoding_step(text: str) -> str:
    """ftfy 6.3.1's ``_fix_encoding_one_step_and_explain(text, TextFixerConfig(explain=False))[0]`` for a ``text``
    that ``is_bad``: the same statements in the same order, the configuration's (default) switches taken as on,
    the explanation left out, and one needless substitution skipped. A test compares it with ftfy's step."""
    possible_1byte_encodings = []
    for encoding in chardata.CHARMAP_ENCODINGS:
        if chardata.possible_encoding(text, encoding):
            possible_1byte_encodings.append(encoding)
            encoded_bytes = text.encode(encoding)
            try:
                decoding = "utf-8"
                if encoding != "macroman" and chardata.ALTERED_UTF8_RE.search(encoded_bytes):
                    encoded_bytes = ftfy.fixes.restore_byte_a0(encoded_bytes)
                # Every LOSSY_UTF8_RE match holds a byte 1A or "?" (a test checks): without one, the substitution
                # (a slow regex over the whole line) would change nothing.
                if encoding.startswith("sloppy") and (b"\x1a" in encoded_bytes or b"?" in encoded_bytes):
                    encoded_bytes = ftfy.fixes.replace_lossy_sequences(encoded_bytes)
                if 0xED in encoded_bytes or 0xC0 in encoded_bytes:
                    decoding = "utf-8-variants"
                return encoded_bytes.decode(decoding)
            except UnicodeDecodeError:
                pass
    if chardata.UTF8_DETECTOR_RE.search(text):
        fixed = ftfy.fixes.decode_inconsistent_utf8(text)
        if fixed != text:
            return fixed
    if "latin-1" in possible_1byte_encodings:
        if "windows-1252" in possible_1byte_encodings:
            return text
        try:
            fixed = text.encode("latin-1").decode("windows-1252")
            if fixed != text:
                return fixed
        except UnicodeDecodeError:
            pass
    if chardata.C1_CONTROL_RE.search(text):
        return ftfy.fixes.fix_c1_controls(text)
    return text


# Runs of combining marks longer than the 30 of Unicode's stream-safe format (UAX #15) only occur in garbage.
_LONG_MARK_RUN = regex.compile(r"\P{ccc=0}{31,}")


def _order_mark_runs(segment: str) -> str:
    """``segment`` with long runs of combining marks put in canonical order, so normalization stays linear.

    CPython orders combining marks with an insertion sort, quadratic in the length of a run: a text made of 100,000
    marks takes minutes in ``unicodedata.normalize`` and so in ftfy. Every normalization form starts by stably
    sorting each run by combining class, so sorting first (in O(n log n)) changes nothing in the result; and no
    other ftfy fixer reads combining marks (none is in its badness categories, single-byte charsets or UTF-8
    clues; a test checks), so the output stays identical to ftfy's.
    """
    if len(segment) <= 30:
        return segment
    return _LONG_MARK_RUN.sub(_sorted_marks, segment)


def _sorted_marks(match: regex.Match[str]) -> str:
    run = match.group()
    classes = [unicodedata.combining(c) for c in run]
    if 0 in classes:  # `regex` knows a newer Unicode than `unicodedata`: leave the run to ftfy as it is
        return run
    return "".join(c for _, c in sorted(zip(classes, run, strict=True), key=lambda pair: pair[0]))


def step_kind(step: tuple[str, str]) -> str:
    """The kind (:data:`KINDS`) of one step of an ftfy explanation."""
    action, parameter = step
    if action == "apply":
        return _APPLIED_KIND[parameter]
    if action == "normalize":
        return "unicode_form"
    return "mojibake"  # encode / decode / transcode: re-decoding the text


# ------------------------------------------------------------------------------- whitespace, punctuation

# Spaces that are not U+0020: tab, vertical tab, form feed, NBSP, ogham space, en quad ... hair space, narrow NBSP,
# medium mathematical space, ideographic space. Zero-width characters are not spaces (joiners carry meaning).
_ODD_SPACE = re.compile("[\t\x0b\x0c\xa0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_SPACE_RUN = re.compile("  +")
_LINE_SPACES = re.compile("^ +| +$", re.MULTILINE)
_BLANK_RUN = re.compile("\n\n\n+")
# Cheap whole-text check for spaces at line ends and blank-line runs: the engine skips ahead to each "\n".
_LINE_END_CHECK = re.compile(r"\n(?:(?<= \n)|(?<=\n\n\n)| )").search
_EDGE = (" ", "\n")
# The same for spaces alone: a space just before or just after a "\n".
_LINE_SPACE_CHECK = re.compile(r"\n(?:(?<= \n)| )").search
# Two full stops, not part of a longer run, after a word (or closing punctuation) and closing a sentence: at the
# end of the line, or before a space and the start of a new sentence. "wait.. what" is left alone (a two-dot
# ellipsis in informal writing), and so are "1..10", "../", "..." and "…".
# (Both patterns start with their literal so the engines can skip ahead to it; the lookbehinds come after.)
_DOUBLE_PERIOD = regex.compile(
    r"\.\.(?<=[^\s.]\.\.)(?=[\p{Pe}\p{Pf}\"']*(?:$|[ ]+[\p{Lu}\p{Lt}\p{Lo}\p{Pi}\p{Ps}\"'\d]))", regex.MULTILINE
)
_EN_DASH = "\u2013"


def fix_spacing(
    text: str,
    options: NormalizeOptions,
    counts: dict[str, int],
    unusual: str | None = None,
    data: bytes | None = None,
) -> str:
    """The whitespace and punctuation fixes on text with ``\\n`` line breaks; adds what it did to ``counts``.

    ``unusual`` may pass in what :func:`_unusual` gives for ``text``, and ``data`` its UTF-8 (surrogates passed
    through), when they are known already.
    """
    if not (options.whitespace or options.punctuation):
        return text
    # Most texts need no spacing fix at all; one pass over the bytes (see _pairs) says so for all the two-character
    # searches below at once. `pairs` stays valid while `text` is the text `data` encodes.
    if data is None:
        data = text.encode("utf-8", "surrogatepass")
    pairs: tuple[bool, bool] | None = _pairs(data)
    if options.whitespace:
        if unusual is None:
            unusual = _unusual_of(data)
        fixed = _fix_whitespace(text, unusual, counts, pairs)
        if fixed is not text:
            text, pairs = fixed, None
    if options.punctuation:
        if (".." in text) if pairs is None else pairs[1]:
            text, n = _DOUBLE_PERIOD.subn(".", text)
            counts["double_periods"] += n
        # Two en dashes next to each other in the text are next to each other in `unusual` too (it only drops
        # printable ASCII and "\n", and the fixes above never remove everything between two characters), and
        # `unusual` is short: look there first.
        if unusual is None or "\u2013\u2013" in unusual:
            text, n = _double_dashes(text)
            counts["double_dashes"] += n
    return text


def _double_dashes(text: str) -> tuple[str, int]:
    """``text`` with every run of exactly two en dashes (``––``, not ``–––``) made an em dash, and how many.

    A walk from one en dash to the next: finding one character runs at memory speed, and news text holds a few,
    while a two-character search (``"––" in text``, or a regex) crawls through the whole text at regex speed.
    """
    parts: list[str] = []
    done = n = 0
    at = text.find(_EN_DASH)
    while at >= 0:
        end = at + 1
        while text.startswith(_EN_DASH, end):
            end += 1
        if end - at == 2:
            parts += (text[done:at], "\u2014")
            done = end
            n += 1
        at = text.find(_EN_DASH, end)
    if not n:
        return text, 0
    parts.append(text[done:])
    return "".join(parts), n


def _fix_whitespace(text: str, unusual: str, counts: dict[str, int], pairs: tuple[bool, bool] | None) -> str:
    """The whitespace fixes; ``pairs`` is what :func:`_pairs` says of ``text``, if known. Returns ``text`` itself
    (the same object) when nothing changed."""
    if unusual and _ODD_SPACE.search(unusual):
        # The odd spaces present are found in the short `unusual`; str.replace then works at memory speed.
        for space in {m.group() for m in _ODD_SPACE.finditer(unusual)}:
            counts["spaces"] += text.count(space)
            text = text.replace(space, " ")
        pairs = None  # `text` changed
    if pairs is not None and not pairs[0] and text[:1] not in _EDGE and text[-1:] not in _EDGE:
        # No space or "\n" next to another one, none at either end: no run of spaces, no space at a line end, no
        # run of blank lines, no blank line at either end. Every check below would say so, one whole-text pass each.
        return text
    if "  " in text:
        text, n = _SPACE_RUN.subn(" ", text)
        counts["space_runs"] += n
    if text[:1] in _EDGE or text[-1:] in _EDGE or _LINE_END_CHECK(text):
        # Something to do at a line end; the multiline pattern is slow (it tries every position), so run it only
        # when a space really touches a line end, not for the blank lines alone.
        if text[:1] == " " or text[-1:] == " " or _LINE_SPACE_CHECK(text):
            text, n = _LINE_SPACES.subn("", text)
            counts["line_spaces"] += n
        if text[:1] == "\n" or text[-1:] == "\n" or "\n\n\n" in text:
            # Paragraphs are lines, so every "\n" removed here is one blank paragraph gone; but for the "\n" that
            # ends the last line (a text file's final newline), which is removed without being a blank line.
            collapsed = _BLANK_RUN.sub("\n\n", text.strip("\n"))
            counts["blank_lines"] += len(text) - len(collapsed) - (text[-1:] == "\n" and collapsed != "")
            text = collapsed
    return text


# Byte values for _pairs: " " and "\n" set bit 0, "." sets bit 1, every other byte is 0. In UTF-8 these three are
# one byte each and no byte of a multi-byte sequence is ASCII, so bytes next to each other are characters next to
# each other.
_PAIR_BITS = bytes(1 if byte in b" \n" else 2 if byte == ord(".") else 0 for byte in range(256))
_ONES_LENGTH = 1 << 16
_ONES = int.from_bytes(b"\x01" * _ONES_LENGTH, "little")  # bit 0 of each of the first _ONES_LENGTH bytes


def _pairs(data: bytes) -> tuple[bool, bool]:
    """Whether ``data`` holds a space or ``\\n`` next to another (``"  "``, ``" \\n"``, ``"\\n "``, ``"\\n\\n"``);
    whether it holds ``".."``.

    Python's two-byte search crawls when the bytes are frequent (``"  " in text`` goes about as fast as a regex,
    because every space stops it). Here each byte becomes its bits above, all of them one big integer ``x``
    (least significant byte first), and byte ``i`` of ``x & (x >> 8)`` holds the bits bytes ``i`` and ``i + 1``
    share: three linear passes in C answer the five searches at once.
    """
    x = int.from_bytes(data.translate(_PAIR_BITS), "little")
    shared = x & (x >> 8)
    if not shared:
        return False, False
    ones = _ONES if len(data) <= _ONES_LENGTH else int.from_bytes(b"\x01" * len(data), "little")
    spaces = shared & ones
    return spaces != 0, spaces != shared


# ------------------------------------------------------------------------------------------------- the step


def normalize_text(text: str, options: NormalizeOptions = NormalizeOptions()) -> tuple[str, dict[str, int]]:
    """The normalized text and the number of changes by kind (every kind in :data:`KINDS`, zeros included).

    Repairs Unicode exactly as ``ftfy.fix_text`` with :func:`ftfy_config` would, removes the C1 controls it
    leaves, then fixes spacing and punctuation, and repeats while a round still changes something, so the result
    is a fixed point: ``normalize_text(normalize_text(t)[0])[0] == normalize_text(t)[0]``. The definition is
    :func:`corpus_tools.normalize_reference.normalize_text`; it is what runs with an ftfy release other than the
    one this fast path was written from (:data:`_STEP_COPIED_FROM`).
    """
    return _normalize(text, options, _plan(options))


def _normalize(text: str, options: NormalizeOptions, plan: _Plan) -> tuple[str, dict[str, int]]:
    if ftfy.__version__ != _STEP_COPIED_FROM:
        # The fast path's shortcuts (the copied encoding step, the suspect characters, the fixer classes) are
        # proven against that release only: with another one, the plain definition runs.
        from corpus_tools import normalize_reference

        return normalize_reference.normalize_text(text, options)
    counts = _ZERO.copy()
    if text.isascii() and text.isprintable() and _plain_line_is_normal(text):
        return text, counts
    for round_ in range(MAX_ROUNDS):
        before = text
        text, unusual, clean, data = _repair(text, plan, counts, True)
        if round_ and text == before:
            # `before` is what fix_spacing gave last round, and fix_spacing is idempotent (nothing it writes or
            # removes can make a new match for any of its patterns), so it would change nothing now: skip it.
            break
        text = fix_spacing(text, options, counts, unusual, data)
        # The spacing fixes only remove spaces, newlines and full stops and write " " and "—", none of which ftfy
        # looks at: a text with no character ftfy could act on (clean) stays so, and the round is final.
        if clean or text == before:
            break
    return text, counts


def _plain_line_is_normal(text: str) -> bool:
    """For a ``text`` of printable ASCII only (so one line, with no control character, odd space or character
    outside ASCII): whether no fix has anything to do in it. ftfy can then only decode an entity (``&``); the
    spacing fixes only find a run of spaces, a space at either end or a doubled full stop (blank lines need a
    ``\\n``, odd spaces and en dashes are not ASCII). Short records (a headline, a sentence) are often so, and
    this answers for them without the encoding, the byte passes and the rounds of the general path."""
    return "&" not in text and "  " not in text and ".." not in text and text[:1] != " " and text[-1:] != " "


def add_counts(metadata: dict[str, Any], counts: dict[str, int]) -> None:
    """Put a run's ``counts`` into ``metadata["normalize"]``, added to what earlier runs recorded there.

    A run that changed nothing leaves a complete earlier record as it is (same object, same key order), so the
    record stays byte for byte the same. An earlier value that is not an object is replaced; in an object, a
    kind whose value is not an integer is set to this run's count, a missing kind comes after the others, and
    other keys stay.
    """
    previous = metadata.get("normalize")
    if type(previous) is not dict:
        metadata["normalize"] = counts
        return
    if not any(counts.values()) and all(type(previous.get(kind)) is int for kind in counts):
        return
    merged = dict(previous)  # a new object: the one read may be shared with the input record
    for kind, n in counts.items():
        value = previous.get(kind)
        merged[kind] = value + n if type(value) is int else n
    metadata["normalize"] = merged


class Normalize(Step):
    """The ``normalize`` step: rewrites the text and adds its changes, by kind, to ``metadata.normalize`` (the
    audit of every run: a run on normalized text adds zeros, see :func:`add_counts`).

    Blank lines it removes (runs collapsed, blank lines at the ends) are recorded as cuts (rule ``blank_line``),
    so the positions later steps record still count the text's lines as they came in.
    """

    name = "normalize"
    Options = NormalizeOptions
    summary = "Repair mojibake, entities, Unicode form, odd spaces, blank lines and doubled punctuation."
    metadata = {"normalize": "counts"}
    count_keys = KINDS
    reasons = {"blank_line": "a blank line removed by the whitespace fixes (a run collapsed, or at an end)"}
    kinds = {"blank_line": "blank"}
    order = 100

    def __init__(self, options: NormalizeOptions | None = None, state: Any = None) -> None:
        super().__init__(options, state)
        self._plan = _plan(self.options)  # compile the checks once, up front

    def label(self, doc: Doc) -> Labels:
        before = doc.text
        text, counts = _normalize(before, self.options, self._plan)
        labels = Labels(doc, found=(text, counts))
        # Lines are removed only by the blank-line fix, which counts them (a count test is two whole-text passes).
        if counts["blank_lines"] and text.count("\n") != before.count("\n"):
            labels.cuts = dict.fromkeys(removed_blank_lines(doc.lines, text.split("\n")), "blank_line")
        return labels

    def apply(self, record: Record, labels: Labels) -> Record:
        text, counts = labels.found
        if self.dry_run:
            return record
        record[labels.doc.text_field] = text
        add_counts(metadata_of(record), counts)
        return record


def removed_blank_lines(before: list[str], after: list[str]) -> list[int]:
    """The lines of ``before`` that the whitespace fixes removed to give ``after``: blank (or blank once
    trimmed) lines whose removal lines the rest up. A line break the repair added (a lone carriage return made a
    line end) has no line of its own in ``before``: past it, nothing is reported rather than a wrong line."""
    removed: list[int] = []
    j = 0
    for i, line in enumerate(before):
        if j < len(after) and (after[j] == line.strip() or (line.strip() and after[j].strip())):
            j += 1
        elif not line.strip():
            removed.append(i)
        else:
            break
    if removed and removed[-1] == len(before) - 1 and before[-1] == "":
        removed.pop()  # the empty "line" after a final line break is not a line the text had
    return removed
