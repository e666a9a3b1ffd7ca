"""Residue: label the lines of a page that are not the article (previews, link blocks, calls to action, furniture).

A pure library (no I/O): :func:`label_residue` takes a document's lines and a :class:`ResidueOptions` and returns
:class:`ResidueLabels`: the lines to cut, each with a stable rule name, and whether the whole document is a
listing page to drop. The pipeline step that applies it (and records ``metadata.cuts``) lives elsewhere.

What is cut, by kind (each kind switchable off in :class:`ResidueOptions`):

* **previews** (``preview_marked``, ``preview_headline``, ``preview_byline``): the trailing run of paragraphs
  (footer lines already cut step over) that end with a truncation mark: ``…``, ``...``, ``[…]``, ``(more)``,
  ``Read more``, ``Continue reading``, ``FULL STORY`` glued or not, ``»`` (phrases: data files, ``[more]``), with
  the headline and ``By NAME`` lines between them. One paragraph ending in a bare ellipsis is not a run (body
  paragraphs end so too); a strong mark (a phrase, ``[…]``) makes a single one a preview. And anywhere on a page
  that has two or more, each unit of a headline, a teaser and a "Read more" link alone on its line.
* **listing pages** (``drop == "listing_page"``): at least ``listing_min_previews`` units of a headline (and
  maybe a byline) over a marked preview, holding at least ``listing_share`` of the words left after the other
  cuts, with at most a quarter as many words of other prose: an index page, never a body.
* **link blocks** (``related_link``, ``link_heading``, ``link_block``, ``link_arrow``, ``nav_run``): a lead-in
  and a headline on one line ("Read also: ...", "Lea también: ..."); a known heading ("Most popular", "Weitere
  Artikel", or a short line opening with a heading word, "More from ...", over three headline-shaped lines) and
  the headline-shaped lines under it; a prev/next link ("« headline", "headline »", "Previous
  article headline"); a run of ``nav_run_min`` or more menu-shaped lines (one to four words, no sentence
  punctuation, no ", ") away from the body.
* **calls to action** (``cta``, ``share``, ``comments``): short lines holding a stock phrase, a paragraph of up to
  :data:`CTA_PARAGRAPH_MAX_WORDS` words holding two (a newsletter or follow box); comment counts
  ("12 Kommentare", "3 responses to ...", "Kommentare (34)") and a comment form's field labels ("Name *").
* **furniture** (``nav``, ``cookie``, ``advertisement``, ``copyright``, ``reading_time``, ``tags_line``,
  ``meta_line``, ``page_title``, ``site_recurring``, ``footer_run``): menu items as whole lines, breadcrumb
  trails ("Startseite » Film » Geschichte"), the page's ``<title>`` as its first line and the short lines between
  it and the headline printed again below, when that headline comes before the main body (``above_headline``: a
  whole page's menus), stock phrases, an affiliate or advertiser disclosure (``advertisement``, in a line of up to
  :data:`DISCLOSURE_MAX_WORDS` words), (given a
  :class:`LineRecurrence`) short lines that recur across a site's documents, and below the main body (the
  cluster of prose lines with the most words), from the first line a phrase rule cut as furniture on, the short
  lines (up to ``footer_max_words`` words) that end no sentence (not a subhead over two paragraphs).
* **captions** (``caption``, ``photo_credit``): "Image caption ...", a description ending in a photo credit
  ("(Foto: X)", "| © X"); a photo credit alone (:func:`is_photo_credit`: "Foto: dpa", "(Credit: X / Y)") that
  the credits step, which runs first, left in the text: an agency or a name it could not tell for a person's.
* **dates** (``lone_date``): a line that is only a date or a timestamp; a date with two or three short labels
  around it, split at ``|``, ``·`` or ``•`` (a post's or a listing entry's meta line) is ``meta_line``.
* **contacts** (``lone_url``, ``email``, ``phone``, ``handle``): a lone URL or domain, a short line holding an
  e-mail address, a phone or fax line ("Tel.: (030) 78 95 47 78"), a line of @handles / #hashtags.

Precision first: the first ``guard_lines`` lines of the body (the first line of 15 words or more that ends a
sentence, and those after it) are never cut, except by an unmistakable rule (``lone_url``, ``cookie``, ...), a
link block, or, on a line that is not prose, a stock phrase (a paywall's "Wählen Sie Ihren Zugang" under the
first paragraph); a caption there is the lead picture's and stays.

Phrases live in ``corpus_tools/data/residue/<lang>.txt`` (see the README there), loaded once, on first use.

**How, and what it measures.** Rules with data files, then a small line model (:mod:`corpus_tools.residue_model`,
rule ``model``) over the short lines no rule cut (inside the main body only its short lines that are not prose;
never the page's first line, the sentence lines right below the body, or a subhead over a paragraph; a lower bar,
``model_threshold_busy``, on a busy page), trained on the realworld set's tune part (ids ending in an even digit)
by ``scripts/residue_train.py``. ``score.py``, ``clean --residue --no-dedup``, report part (odd ids, never tuned
on), rules alone -> rules and model: extracted keep 0.9942 -> 0.9928, cut 0.2734 -> 0.2950; plain keep 0.9917 ->
0.9883, cut 0.5265 -> 0.6630. Targets (extracted keep >= 0.995, cut >= 0.70; plain keep >= 0.98, cut >= 0.80) are
not all met; the figures per part and kind, and the speed, are in ``docs/commands/residue.md``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from itertools import compress, repeat
from operator import is_not, itemgetter
from typing import Any
from urllib.parse import urlsplit

from corpus_tools.credit_shapes import credited_persons
from corpus_tools.errors import ConfigError
from corpus_tools.residue_model import MAX_BODY_WORDS, MAX_WORDS, doc_features, line_shape, load_model
from corpus_tools.step import BLANK_LINE, BLANK_LINE_REASON, CorpusPass, Doc, Drop, Labels, Step, entry_lines

STEP = "residue"
LISTING_PAGE = "listing_page"

# kind -> the rules it switches
KINDS: dict[str, tuple[str, ...]] = {
    "previews": ("preview_marked", "preview_headline", "preview_byline"),
    "link_blocks": ("related_link", "link_heading", "link_block", "link_arrow", "nav_run"),
    "cta": ("cta", "share", "comments"),
    "furniture": (
        "nav",
        "cookie",
        "advertisement",
        "copyright",
        "reading_time",
        "tags_line",
        "meta_line",
        "page_title",
        "above_headline",
        "site_recurring",
        "footer_run",
    ),
    "captions": ("caption", "photo_credit"),
    "dates": ("lone_date",),
    "contacts": ("lone_url", "email", "phone", "handle"),
    "model": ("model",),
}
RULES = tuple(rule for rules in KINDS.values() for rule in rules)
UNMISTAKABLE = frozenset({"lone_url", "cookie", "related_link", "copyright", "advertisement", "share"})
_LINK_BLOCK = frozenset({"link_heading", "link_block"})

SECTIONS = (
    "leadin",
    "heading",
    "nav",
    "cta",
    "share",
    "comments",
    "cookie",
    "ad",
    "copyright",
    "reading_time",
    "tags",
    "meta",
    "more",
    "caption",
    "credit",
    "agency",
    "date",
    "duration",
    "count",
    "prevnext",
    "posted",
    "heading_word",
    "disclosure",
    "phone",
    "field",
    "required",
)


def _opt(default: Any, help: str, flag: str, low: int | None = None, corpus_pass: bool = False) -> Any:
    return field(default=default, metadata={"help": help, "flag": flag, "low": low, "corpus_pass": corpus_pass})


@dataclass(frozen=True)
class ResidueOptions:
    """What the residue step cuts. Each kind has a switch; ``languages`` picks the phrase lists."""

    previews: bool = _opt(
        True,
        "Cut trailing runs of truncated previews (with their headlines and bylines).",
        "--residue-previews/--no-residue-previews",
    )
    link_blocks: bool = _opt(
        True,
        "Cut related-link lead-ins, link-block headings with their headlines, menus.",
        "--residue-link-blocks/--no-residue-link-blocks",
    )
    cta: bool = _opt(
        True,
        "Cut calls to action: subscribe, newsletter, follow, share, comment prompts.",
        "--residue-cta/--no-residue-cta",
    )
    furniture: bool = _opt(
        True,
        "Cut page furniture: menu items, cookie, ads, copyright, reading time, tags.",
        "--residue-furniture/--no-residue-furniture",
    )
    captions: bool = _opt(
        True,
        "Cut image captions, and the photo credits the credits step left (an agency, a name it did not take).",
        "--residue-captions/--no-residue-captions",
    )
    dates: bool = _opt(True, "Cut lines that are only a date or a timestamp.", "--residue-dates/--no-residue-dates")
    contacts: bool = _opt(
        True, "Cut lone URLs, short e-mail lines and lines of @handles.", "--residue-contacts/--no-residue-contacts"
    )
    model: bool = _opt(
        True,
        "Cut the short lines the shipped line model scores as residue (rule model).",
        "--residue-model/--no-residue-model",
    )
    model_threshold: float = _opt(
        0.8,
        "Residue probability from which the model cuts a line (higher: fewer cuts, less body at risk).",
        "--residue-model-threshold",
    )
    model_threshold_busy: float = _opt(
        0.7,
        "The same, instead, on a busy page (80 lines or more, the main body under half its words: menus, footers...).",
        "--residue-model-threshold-busy",
    )
    listing_pages: bool = _opt(
        True,
        "Drop documents that are mostly previews (listing or index pages).",
        "--residue-listing-pages/--no-residue-listing-pages",
    )
    languages: tuple[str, ...] = _opt(
        (), "Phrase lists to use (e.g. en,de); empty: every list, every document.", "--residue-languages"
    )
    min_preview_words: int = _opt(5, "Fewest words a marked preview has.", "--residue-min-preview-words", low=1)
    max_headline_words: int = _opt(16, "Most words a headline-shaped line has.", "--residue-max-headline-words", low=1)
    max_short_words: int = _opt(
        20,
        "Most words a line has for the short-line phrase rules (cta, tags, ...).",
        "--residue-max-short-words",
        low=1,
    )
    footer_max_words: int = _opt(
        8,
        "Most words a short line below the body's footer signal has to be cut as footer.",
        "--residue-footer-max-words",
        low=1,
    )
    nav_run_min: int = _opt(5, "Fewest consecutive menu-shaped lines cut as a menu.", "--residue-nav-run-min", low=2)
    guard_lines: int = _opt(
        2,
        "Body lines at the start of the article never cut (but by unmistakable rules).",
        "--residue-guard-lines",
        low=0,
    )
    listing_min_previews: int = _opt(
        3, "Fewest marked previews on a listing page.", "--residue-listing-min-previews", low=1
    )
    listing_share: float = _opt(
        0.5, "Share of the remaining words in previews that makes a listing page.", "--residue-listing-share"
    )
    recurrence_min_docs: int = _opt(
        5, "Fewest documents of a site a recurring furniture line is in.", "--residue-min-docs", low=1, corpus_pass=True
    )
    recurrence_min_share: float = _opt(
        0.2, "Smallest share of a site's documents a recurring line is in.", "--residue-min-share", corpus_pass=True
    )
    site_field: str | None = _opt(
        None,
        "The record key naming a record's site, for the recurrence pass (default: the host of a URL source).",
        "--site-field",
        corpus_pass=True,
    )
    dry_run: bool = _opt(False, "Label only: fill metadata.cuts with what would be cut; text unchanged.", "--dry-run")

    def __post_init__(self) -> None:
        problems = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.type in ("bool", bool) and not isinstance(value, bool):
                problems.append(f"{f.name} must be true or false (got {value!r})")
        langs = self.languages
        if isinstance(langs, str) or not isinstance(langs, (tuple, list)):
            problems.append(f"languages must be a tuple of language codes (got {langs!r})")
        else:
            if isinstance(langs, list):
                object.__setattr__(self, "languages", tuple(langs))
            known = available_languages()
            for lang in self.languages:
                if lang not in known:
                    problems.append(f"languages: no phrase list for {lang!r} (have {', '.join(known)})")
        for name, low in (
            ("min_preview_words", 1),
            ("max_headline_words", 1),
            ("max_short_words", 1),
            ("nav_run_min", 2),
            ("footer_max_words", 1),
            ("guard_lines", 0),
            ("listing_min_previews", 1),
            ("recurrence_min_docs", 1),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                problems.append(f"{name} must be an integer (got {value!r})")
            elif not low <= value < 2**63:
                problems.append(f"{name} must be >= {low} (got {value!r})")
        for name in ("listing_share", "recurrence_min_share", "model_threshold", "model_threshold_busy"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
                problems.append(f"{name} must be a number in (0, 1] (got {value!r})")
        if problems:
            raise ConfigError("residue options: " + "; ".join(problems))

    def enabled(self, rule: str) -> bool:
        return getattr(self, _KIND_OF[rule])


_KIND_OF = {rule: kind for kind, rules in KINDS.items() for rule in rules}


@dataclass(frozen=True)
class ResidueLabels:
    """``cuts``: (line index, rule) in line order; ``drop``: ``"listing_page"`` or ``None``."""

    cuts: list[tuple[int, str]]
    drop: str | None = None
    #: the features of each line the model cut (for ``explain``: :meth:`Residue.cut_detail`)
    model_features: dict[int, list[float]] = field(default_factory=dict)


# --- phrase data --------------------------------------------------------------------------------------------------

_SECTION = re.compile(r"^\[([a-z_]+)\]\s*$")
_WS = re.compile(r"\s+")


@cache
def available_languages() -> tuple[str, ...]:
    root = resources.files("corpus_tools") / "data" / "residue"
    return tuple(sorted(p.name[:-4] for p in root.iterdir() if p.name.endswith(".txt")))


@cache
def _read_language(lang: str) -> dict[str, tuple[str, ...]]:
    text = (resources.files("corpus_tools") / "data" / "residue" / f"{lang}.txt").read_text(encoding="utf-8")
    out: dict[str, list[str]] = {}
    section = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = _SECTION.match(line)
        if m:
            section = m.group(1)
            if section not in SECTIONS:
                raise ValueError(f"residue data {lang}.txt: unknown section [{section}]")
            continue
        if section is None:
            raise ValueError(f"residue data {lang}.txt: phrase before any section: {line!r}")
        out.setdefault(section, []).append(_fold(line))
    return {k: tuple(v) for k, v in out.items()}


def _fold(s: str) -> str:
    return " ".join(s.split()).casefold()


def _alt(phrases: Iterable[str]) -> str:
    """One alternation, longest first, a word boundary on each side that is a letter or digit."""
    parts = []
    for p in sorted(set(phrases), key=len, reverse=True):
        e = re.escape(p)
        if p[0].isalnum() and not _is_cjk(p[0]):
            e = r"(?<!\w)" + e
        if p[-1].isalnum() and not _is_cjk(p[-1]):
            e = e + r"(?!\w)"
        parts.append(e)
    return "|".join(parts) if parts else r"(?!x)x"


def _is_cjk(ch: str) -> bool:
    return "\u2e80" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" or "\u3000" <= ch <= "\u303f"


_WORD = re.compile(r"\w+")


def _is_word(ch: str) -> bool:
    """What the regex class ``\\w`` matches (on str): a letter, a digit or ``_``."""
    return ch.isalnum() or ch == "_"


def _occurs(folded: str, phrase: str, left: bool, right: bool) -> bool:
    """Whether ``phrase`` occurs in ``folded`` with a word boundary before it (``left``) and after it (``right``)."""
    at = folded.find(phrase)
    while at >= 0:
        end = at + len(phrase)
        if (not left or at == 0 or not _is_word(folded[at - 1])) and (
            not right or end == len(folded) or not _is_word(folded[end])
        ):
            return True
        at = folded.find(phrase, at + 1)
    return False


class _Contains:
    """Phrases matched anywhere in a folded line. Each latin phrase is filed under its longest word; only the
    phrases filed under one of the line's words are tried (a substring test, then the boundary check), so most
    lines cost one set intersection. CJK phrases (no word boundaries) are tried only on lines holding CJK."""

    __slots__ = ("cjk", "keys")

    def __init__(self, phrases: Iterable[str]) -> None:
        # per phrase: whether it needs a word boundary before it and after it (the ends that are a letter or a
        # digit, as in _alt): checked by hand, so no regex is compiled per phrase
        self.keys: dict[str, list[tuple[str, bool, bool]]] = {}
        cjk = []
        for p in sorted(set(phrases)):
            if _CJK_CHARS.search(p):
                cjk.append(p)
                continue
            key = max(_WORD.findall(p) or [p], key=len)
            left = p[0].isalnum() and not _is_cjk(p[0])
            right = p[-1].isalnum() and not _is_cjk(p[-1])
            self.keys.setdefault(key, []).append((p, left, right))
        self.cjk = re.compile(_alt(cjk)) if cjk else None

    def found(self, folded: str, tokens: Iterable[str]) -> set[str]:
        """The latin phrases in ``folded`` (``tokens``: its words), at word boundaries."""
        return {
            phrase
            for key in self.keys.keys() & set(tokens)
            for phrase, left, right in self.keys[key]
            if _occurs(folded, phrase, left, right)
        }

    def search(self, folded: str, tokens: set[str] | None = None, cjk: bool | None = None) -> bool:
        if tokens is None:
            tokens = set(_WORD.findall(folded))
        for key in self.keys.keys() & tokens:
            for phrase, left, right in self.keys[key]:
                if _occurs(folded, phrase, left, right):
                    return True
        if self.cjk is None:
            return False
        if cjk is None:
            cjk = _CJK_CHARS.search(folded) is not None
        return cjk and self.cjk.search(folded) is not None


class _Prefix:
    """A regex anchored at a line's start over a phrase list, tried only when the line's first word is the first
    word of one of the phrases (a set look-up)."""

    __slots__ = ("firsts", "pattern", "rx")

    def __init__(self, phrases: Iterable[str], pattern: str) -> None:
        self.firsts = frozenset(w[0] if w else p for p in phrases for w in [_WORD.findall(p)])
        self.pattern = pattern
        self.rx: re.Pattern[str] | None = None  # compiled on first use (a run that never needs it never pays)

    def match(self, folded: str, first: str | None = None) -> re.Match[str] | None:
        if first is None:
            m = _WORD.search(folded, 0, 40)
            first = m.group(0) if m else ""
        if first not in self.firsts:
            return None
        if self.rx is None:
            self.rx = re.compile(self.pattern)
        return self.rx.match(folded)


class _Phrases:
    """The compiled lists of the chosen languages."""

    def __init__(self, langs: tuple[str, ...]) -> None:
        merged: dict[str, set[str]] = {s: set() for s in SECTIONS}
        for lang in langs:
            for sec, phrases in _read_language(lang).items():
                merged[sec].update(phrases)
        sep = r"\s*(?::|»|>+|\||–|—|-\s|\.\.\.|…)"
        self.leadin = _Prefix(
            merged["leadin"], r"^[\W_]{0,3}(?:" + _alt(merged["leadin"]) + r")" + sep + r"\s*(?P<rest>.*)$"
        )
        self.whole_heading = frozenset(merged["heading"] | merged["leadin"])
        self.heading_words = frozenset(merged["heading_word"])
        self.nav = frozenset(merged["nav"])
        self.cta = _Contains(merged["cta"])
        self.share = _Contains(merged["share"])
        self.comments = _Contains(merged["comments"])
        self.cookie = _Contains(merged["cookie"])
        self.ad_whole = frozenset(merged["ad"])
        self.ad_prefix = _Prefix(merged["ad"], r"^[*\W]{0,2}(?:" + _alt(merged["ad"]) + r")\s*[:.]")
        self.copyright = _Contains(merged["copyright"])
        self.reading_time = _Contains(merged["reading_time"])
        self.tags = _Prefix(merged["tags"], r"^[\W_]{0,2}(?:" + _alt(merged["tags"]) + r")\s*:")
        self.meta = _Prefix(merged["meta"], r"^[\W_]{0,2}(?:" + _alt(merged["meta"]) + r")\s*(?::|\d|$)")
        self.leadin_colon = _Prefix(
            merged["leadin"], r"^[\W_]{0,3}(?:" + _alt(merged["leadin"]) + r")\b[^.!?]{0,60}:\s*$"
        )
        more = merged["more"]
        self.more_strong = re.compile(r"(?:" + _alt_end(more) + r")[\s»›>→…\.\)\]]*$")
        self.more_last = frozenset(w[-1] for w in map(_WORD.findall, more) if w)
        self.more_whole = frozenset(more)  # a "Read more" link alone on its line
        self.phone_words = frozenset(merged["phone"])
        # a form field's label alone with its required mark: "name *", "e-mail (erforderlich)"
        self.form_field = re.compile(
            r"^(?:" + _alt(merged["field"]) + r")\s*(?:\*|\((?:" + _alt(merged["required"]) + r")\))$"
        )
        self.caption = _Prefix(merged["caption"], r"^[\W_]{0,2}(?:" + _alt(merged["caption"]) + r")\b")
        self.credit = _Prefix(
            merged["credit"], r"^[\W_]{0,2}(?:" + _alt(merged["credit"]) + r")\s*(?::|by\b|von\b|de\b|©)"
        )
        self.agency = frozenset(merged["agency"])
        self.date_words = frozenset(merged["date"])
        self.duration_words = frozenset(merged["duration"])
        # "12 Kommentare", "11 responses to “Headline”": a number, then a comment-count word, at the line's start;
        # "... | 0 COMMENTS", "... - 91 Ergänzungen": the same as a part of its own, between separators or at the end
        count = _alt(merged["count"])
        self.count = re.compile(
            r"^[\W_]{0,2}\d{1,5}\s+(?:" + count + r")(?!\w)"
            r"|\s[|•·–—-]\s*\d{1,5}\s+(?:" + count + r")\s*(?:$|[|•·–—-])"
            r"|^[\W_]{0,2}(?:" + count + r")\s*\(\d{1,5}\)\W*$"  # "Kommentare (34)"
        )
        # "Filed under Politics", "Abgelegt unter Allgemein": a tags phrase of two words or more needs no colon
        self.tags_bare = _Prefix(
            [p for p in merged["tags"] if " " in p],
            r"^[\W_]{0,2}(?:" + _alt(p for p in merged["tags"] if " " in p) + r")\s+\S",
        )
        # "Previous article Headline", "Article suivant : Headline": the separator may be missing
        self.prevnext = _Prefix(
            merged["prevnext"],
            r"^[\W_]{0,3}(?:" + _alt(merged["prevnext"]) + r")\s*(?:[:»>|–—+-]+\s*)?(?P<rest>\S.*)?$",
        )
        # "Posted by NAME at 12:11 PM", "Eingestellt von NAME um 21:11": a blog platform's post line
        self.posted = _Prefix(
            merged["posted"],
            r"^[\W_]{0,2}(?:" + _alt(merged["posted"]) + r")\s+\S.{0,60}\s\d{1,2}[:.]\d{2}"
            r"(?:\s*(?:[ap]\.?m\.?|uhr|h))?\W*$",
        )
        prefixes = (
            self.leadin,
            self.prevnext,
            self.posted,
            self.ad_prefix,
            self.tags,
            self.meta,
            self.leadin_colon,
            self.caption,
            self.tags_bare,
        )
        self.prefix_firsts = frozenset().union(*(p.firsts for p in prefixes))
        # an affiliate or advertiser disclosure ("We may earn a commission ..."): rule advertisement, up to 80 words
        self.disclosure = _Contains(merged["disclosure"])
        contains = (
            self.cta,
            self.share,
            self.comments,
            self.cookie,
            self.copyright,
            self.reading_time,
            self.disclosure,
        )
        self.contains_keys = frozenset(k for c in contains for k in c.keys)


def _alt_end(phrases: Iterable[str]) -> str:
    """Truncation marks at a line's end: a phrase may be glued to the word before it ("spreadFULL STORY") when it
    is two words or more or written in capitals; a one-word mark ("more", "mehr") needs a boundary."""
    parts = []
    for p in sorted(set(phrases), key=len, reverse=True):
        e = re.escape(p)
        if p[0].isalnum() and not _is_cjk(p[0]) and " " not in p:
            e = r"(?<!\w)" + e
        parts.append(e)
    return "|".join(parts)


@cache
def _phrases(langs: tuple[str, ...]) -> _Phrases:
    return _Phrases(langs or available_languages())


# --- line shapes ----------------------------------------------------------------------------------------------------

_CJK_CHARS = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")
_CLOSERS = "\"'”’»)]"
_SENTENCE_MARKS = frozenset(".!?。！？…")
_PROSE_MARKS = frozenset(".!?。！？:;" + _CLOSERS)


def _ends_sentence(line: str) -> bool:
    """Ends with . ! ? … (or a CJK stop), closing quotes and brackets stepped over."""
    s = line.rstrip().rstrip(_CLOSERS)
    return bool(s) and s[-1] in _SENTENCE_MARKS


def _ends_prose(line: str) -> bool:
    s = line.rstrip()
    return bool(s) and s[-1] in _PROSE_MARKS


_URL = re.compile(r"^\s*(?:<)?(?:https?://|www\.)\S+?(?:>)?\s*$", re.I)
_DOMAIN = re.compile(
    r"^\s*[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|de|at|ch|fr|es|it|pt|nl|be|uk|us|info|io|eu|"
    r"co|gov|edu|br|mx|ar|cl|pl|cn|tw|hk|jp|ru|ca|au|in)/?\s*$",
    re.I,
)
_CRUMB = re.compile(r"\s[>»›]\s")


def _breadcrumb(line: str) -> bool:
    """A breadcrumb trail: three parts or more split at ``>``, ``»`` or ``›`` ("Startseite » Film » Geschichte",
    "Home > Ratgeber > iPhone & iPad"), the parts before the last short labels. Not a line with ``«`` (a quote)."""
    if "«" in line or "‹" in line:
        return False
    parts = _CRUMB.split(line.strip())
    if len(parts) < 3:
        return False
    *trail, last = parts
    return all(0 < len(p.split()) <= 5 and not _ends_sentence(p) for p in trail) and len(last.split()) <= 15


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# a contact's phone or fax line: the label (the [phone] lists), then only the number
# a label, the number (its groups split by spaces, dots, slashes, dashes), and perhaps office hours in brackets
_PHONE = re.compile(r"^\W{0,2}\w+\.?\s*[:.]?\s*[+(]?\d[\d\s()/.–-]{5,}\d(?:\s*\([^()]{1,60}\))?\s*$")
_HANDLE_TOKEN = re.compile(r"^[@#][\w.]+[,;]?$")
# Python's decorators, which a line of code on a programming page holds alone: not a social-media handle
_DECORATORS = frozenset(
    [
        "@classmethod",
        "@staticmethod",
        "@property",
        "@abstractmethod",
        "@dataclass",
        "@override",
        "@cache",
        "@cached_property",
        "@lru_cache",
        "@contextmanager",
        "@functools.cache",
        "@functools.wraps",
        "@pytest.fixture",
    ]
)
_DATE_TOKEN = re.compile(r"\d+|[^\W\d_]+\.?", re.UNICODE)
_DATE_JUNK = re.compile(r"[^\s.,:/\-|()–—]")
# a long line that opens as a copyright footer does: "© 2020 - ...", "Copyright © 2019 Salon.com, LLC. ...",
# "© OpenJS Foundation ... All rights reserved.", "Some rights reserved 2017-2023 by ..."
_COPYRIGHT_START = re.compile(
    r"^\W{0,2}(?:(?:©|\(c\)|copyright)\s*(?:©\s*)?(?:(?:19|20)\d\d|[^.!?]{0,80}?\b(?:all|some) rights reserved)"
    r"|(?:all|some) rights reserved\b)",
    re.I,
)
# d.m / d/m, y-m-d or d-m-y (a bare "1-4" is a range), a time, a year
_DATE_SHAPE = re.compile(r"\d{1,4}[./]\d{1,2}|\d{1,4}-\d{1,2}-\d{1,4}|\d{1,2}[:h]\d{2}|^(?:19|20)\d\d$")
_TIME = re.compile(r"\d{1,2}[:.h]\d{2}")
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
_CREDIT_TAIL = re.compile(
    r"(?:\((?:foto|photo|image|imagen|bild|picture|credit|crédit|credito|crédito|fotografía|foto de|photo by)"
    r"\s*:?[^()]{2,80}\)|[|/]\s*©\s*[^|]{2,60}|\(©[^()]{2,60}\)|©\s*[\w .&/-]{2,60})\s*$",
    re.I,
)
_BYLINE = re.compile(r"^\s*(?:by|von|par|por|di|door|da)\s+\S", re.I)
_BULLET = re.compile(r"^\s*(?:[-–—•·*▪►▸→>]|\d{1,2}[.)])\s+\S")
_ARROW_START = re.compile(r"^\s*(?:«|‹|←|<{1,2}|<-)\s*\S")
_ARROW_END = re.compile(r"\S\s*(?:»|›|→|>{1,2}|->)\s*$")
_TRUNC_BRACKET = re.compile(r"[\[(]\s*(?:…|\.\.\.)\s*[\])]\s*$")
_DEDENT = re.compile(r"^[\s|]+|[\s|]+$")


def _nwords(line: str) -> int:
    n = len(line.split())
    if n <= 3 and len(line) > 12:
        cjk = len(_CJK_CHARS.findall(line))
        if cjk:
            return n - 1 + (cjk + 1) // 2
    return n


def _is_prose(line: str, words: int) -> bool:
    return words >= 15 and _ends_prose(line)


def _headline_shaped(line: str, words: int, max_words: int) -> bool:
    """Short, no final full stop, a capital, a digit, a quote or a bullet first."""
    if not 1 <= words <= max_words or len(line) > 160:
        return False
    s = line.rstrip()
    if s.endswith((".", ";", ",", "。")) and not s.endswith(("...", "…")):
        return False
    ch = line.lstrip()[:1]
    return ch.isupper() or ch.isdigit() or ch in "\"'“‘„«¿¡-–—•·*▪►" or _is_cjk(ch)


def _menu_shaped(line: str, words: int) -> bool:
    if not 1 <= words <= 4 or len(line) > 40:
        return False
    ch = line.lstrip()[:1]
    if ch.isdigit() or ch in "+-–•*·(":
        return False
    s = line.rstrip()
    if ", " in s:  # "Platzwechsel, langsam erklärt": a title or a phrase, not a menu item
        return False
    return not s.endswith((".", "!", "?", ";", ",", ":", "。")) or s.endswith("...")


def is_photo_credit(line: str, folded: str | None = None) -> bool:
    """A line that is only a photo credit ("Photo: NAME/AGENCY", "Foto: X", "(Credit: X)", "Crédits photos :
    X", "© NAME" without a year): the credits step's, never residue. ``folded``: ``_fold(line)``, when known."""
    s = line.strip()
    if not s or len(s) > 120:
        return False
    words = len(s.split())
    if words > 12:
        return False
    folded = (_fold(s) if folded is None else folded).lstrip("([")
    ph = _phrases(())
    if ph.credit.match(folded):
        return True
    if words <= 6 and _is_agency_credit(folded, ph):
        return True
    return folded.startswith("©") and not _YEAR.search(folded) and words <= 6


_CREDIT_PARTS = re.compile(r"\s*[/|;]\s*")


def _is_agency_credit(folded: str, ph: _Phrases) -> bool:
    """A photo agency alone ("Getty Images", "(AFP)") or a part of a credit split at ``/``, ``|``, ``;``
    ("APA/NAME", "NAME / Shutterstock"): the ``agency`` lists."""
    s = folded.strip(" ()[]©").rstrip()
    if not s or s[-1] in ".!?:,":
        return False
    if s in ph.agency:
        return True
    if "/" not in s and "|" not in s and ";" not in s:
        return False  # one part: not an agency's
    parts = [part.strip(" ()©") for part in _CREDIT_PARTS.split(s)]
    # each part a name or an agency ("NAME / AGENCY"), not a headline ("Reuters/Ipsos poll shows ...")
    return len(parts) > 1 and any(p in ph.agency for p in parts) and all(len(p.split()) <= 3 for p in parts)


# --- recurrence -----------------------------------------------------------------------------------------------------

MAX_COUNTED_CHARS = 200


def line_hash(line: str) -> int:
    """64-bit hash of the whitespace-folded line (stable across processes: mergeable states)."""
    folded = " ".join(line.split())
    return int.from_bytes(hashlib.blake2b(folded.encode("utf-8"), digest_size=8).digest(), "big")


def _counted(line: str) -> bool:
    s = line.strip()
    return bool(s) and len(s) <= MAX_COUNTED_CHARS


def site_of(record: Mapping[str, Any], site_field: str | None = None) -> str | None:
    """The site of a record: the host of ``source`` when it is an http(s) URL (lowercased, without ``www.``), else
    the value of ``site_field`` when named and a non-empty string; ``None``: no recurrence cut for it."""
    source = record.get("source")
    if isinstance(source, str) and "://" in source:
        try:
            parts = urlsplit(source.strip())
        except ValueError:
            parts = None
        if parts is not None and parts.scheme in ("http", "https") and parts.hostname:
            host = parts.hostname.lower()
            return host[4:] if host.startswith("www.") else host
    if site_field:
        value = record.get(site_field)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


class LineRecurrence:
    """Per site: how many documents were added, and in how many of them each short line (by hash) occurs.

    Mergeable (``merge``), so a corpus pass can count in parallel and combine. ``to_dict``/``from_dict`` give a
    JSON-able form."""

    __slots__ = ("docs", "lines")

    def __init__(self) -> None:
        self.docs: dict[str, int] = {}
        self.lines: dict[str, dict[int, int]] = {}

    def add(self, site: str | None, lines: Iterable[str]) -> None:
        if site is None:
            return
        self.docs[site] = self.docs.get(site, 0) + 1
        counts = self.lines.setdefault(site, {})
        for h in {line_hash(line) for line in lines if _counted(line)}:
            counts[h] = counts.get(h, 0) + 1

    def merge(self, other: LineRecurrence) -> LineRecurrence:
        for site, n in other.docs.items():
            self.docs[site] = self.docs.get(site, 0) + n
        for site, theirs in other.lines.items():
            mine = self.lines.setdefault(site, {})
            for h, n in theirs.items():
                mine[h] = mine.get(h, 0) + n
        return self

    def count(self, site: str | None, line: str) -> int:
        if site is None or not _counted(line):
            return 0
        return self.lines.get(site, {}).get(line_hash(line), 0)

    def is_furniture(self, site: str | None, line: str, min_docs: int, min_share: float) -> bool:
        if site is None or not _counted(line):
            return False
        total = self.docs.get(site, 0)
        n = self.count(site, line)
        return total > 0 and n >= min_docs and n / total >= min_share

    def to_dict(self) -> dict[str, Any]:
        return {"docs": dict(self.docs), "lines": {s: {str(h): n for h, n in c.items()} for s, c in self.lines.items()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LineRecurrence:
        state = cls()
        state.docs = {str(s): int(n) for s, n in data.get("docs", {}).items()}
        state.lines = {str(s): {int(h): int(n) for h, n in c.items()} for s, c in data.get("lines", {}).items()}
        return state

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LineRecurrence) and self.docs == other.docs and self.lines == other.lines

    __hash__ = None  # type: ignore[assignment]


# --- labelling ------------------------------------------------------------------------------------------------------


def _strip_heading(folded: str) -> str:
    return folded.strip(" \t|:：…»›>→.*-–—[]()•·?¿!¡").strip()


def _line_rule(line: str, folded: str, words: int, ph: _Phrases, o: ResidueOptions) -> str | None:
    """The per-line rules (no context) for a line of at most 40 words. Cheap checks first."""
    if words > o.max_short_words:
        return _long_line_rule(line, folded, ph, words)
    head = _strip_heading(folded)
    if not head:
        return None
    tokens = _WORD.findall(folded)
    first_word = tokens[0] if tokens else ""
    toks = ph.contains_keys.intersection(tokens)  # the phrase-list key words in the line: usually none
    cjk = not folded.isascii() and _CJK_CHARS.search(folded) is not None
    hit = bool(toks) or cjk  # any phrase list can match at all
    # whole-line lists
    if words <= 6:
        if head in ph.nav:
            return "nav"
        if head in ph.whole_heading:
            # a comment-form or share heading opens no link block
            if hit and ph.comments.search(folded, toks, cjk):
                return "comments"
            if hit and ph.share.search(folded, toks, cjk):
                return "share"
            if hit and ph.cta.search(folded, toks, cjk):
                return "cta"
            return "link_heading"
        if head in ph.ad_whole:
            return "advertisement"
    first = folded.lstrip(" \t|([")[:1]
    # a photo credit the credits step (run before) left: an agency, a company, a name without a person's evidence
    if (
        words <= 12
        and (words <= 5 or not _ends_sentence(line))
        # past six words only a credit phrase first makes one (an ASCII line's words are its split's)
        and (words <= 6 or first_word in ph.credit.firsts or not line.isascii())
        and is_photo_credit(line, folded)
        # one naming a person (name evidence) is the credits step's: it records what it can read, the rest stays
        and not credited_persons(line)
    ):
        return "photo_credit"
    if words <= 3:
        if _URL.match(line) or _DOMAIN.match(line):
            return "lone_url"
        if all(_HANDLE_TOKEN.match(t) for t in line.split()) and line.split()[0] not in _DECORATORS:
            return "handle"
    if (
        words <= 12
        and first
        and (first.isdigit() or head.split()[0].rstrip(".,:") in ph.date_words)
        and _lone_date(head, ph)
    ):
        return "lone_date"
    if words <= o.max_short_words and (len(line) <= 16 or not cjk):
        if hit and ph.cookie.search(folded, toks, cjk):
            return "cookie"
        if "@" in line and 2 <= words <= 10 and _EMAIL.search(line) and not _ends_sentence(line):
            return "email"
        if words <= 16 and first_word in ph.phone_words and _PHONE.match(line):
            return "phone"
        if (">" in line or "»" in line or "›" in line) and _breadcrumb(line):
            return "nav"
        if words <= 5 and ph.form_field.match(folded):
            return "comments"
        # the line-start lists, tried only when the first word opens a phrase of one of them (a set look-up)
        pre = first_word in ph.prefix_firsts
        if pre:
            m = ph.leadin.match(folded, first_word)
            if m and (m.group("rest") or words <= 6):
                return "related_link" if m.group("rest") else "link_heading"
            if words <= o.max_headline_words + 4:
                m = ph.prevnext.match(folded, first_word)
                if m and not _ends_sentence(line) and _headline_start(line, folded, m.group("rest")):
                    return "link_arrow"
        if (
            words <= 16
            and (
                first.isdigit()
                or "|" in line
                or "(" in line
                or "- " in line
                or "–" in line
                or "—" in line
                or "•" in line
            )
            and ph.count.search(folded)
            # a sentence end is the quoted title's ("11 Antworten zu “... noch da!”"), not a body sentence's
            and (not _ends_sentence(line) or line.rstrip()[-1:] in '”"»“')
        ):
            return "comments"
        if pre:
            if words <= 14 and ph.posted.match(folded, first_word):
                return "meta_line"
            if words <= 12 and ph.ad_prefix.match(folded, first_word):
                return "advertisement"
            if ph.tags.match(folded, first_word):
                return "tags_line"
            if words <= 12 and ph.tags_bare.match(folded, first_word) and not _ends_sentence(line):
                return "tags_line"
            if words <= 10 and ph.meta.match(folded, first_word):
                return "meta_line"
            if words <= 8 and ph.leadin_colon.match(folded, first_word):
                return "link_heading"
        if hit and ph.disclosure.search(folded, toks, cjk):
            return "advertisement"
        if hit and ph.share.search(folded, toks, cjk):
            return "share"
        if hit and ph.comments.search(folded, toks, cjk):
            return "comments"
        if hit and ph.cta.search(folded, toks, cjk):
            return "cta"
        if words <= 8 and (hit and ph.reading_time.search(folded, toks, cjk)) and any(ch.isdigit() for ch in folded):
            return "reading_time"
        if pre and ph.caption.match(folded, first_word):
            return "caption"
    elif hit and ph.cookie.search(folded, toks, cjk):
        return "cookie"
    if words <= 16 and ("|" in line or "·" in line or "•" in line) and _dated_meta(line, ph):
        return "meta_line"
    if words <= 40:
        if hit and ph.copyright.search(folded, toks, cjk):
            return "copyright"
        if (
            ("©" in folded or "copyright" in folded or "(c)" in folded)
            and _YEAR.search(folded)
            and not is_photo_credit(line, folded)
        ):
            return "copyright"
    if (
        words >= 3
        and (line.rstrip()[-1:] == ")" or "©" in line)
        and _CREDIT_TAIL.search(line)
        and not is_photo_credit(line, folded)
    ):
        return "caption"
    return None


def _headline_start(line: str, folded: str, rest: str | None) -> bool:
    """Whether ``rest`` (the end of the folded line) starts, in ``line``, as a headline does: a capital, a digit,
    a quote (or there is no rest)."""
    if not rest:
        return True
    plain = " ".join(line.split())
    if len(plain) != len(folded):  # case folding changed the length: no way back to the letter's case
        return True
    ch = plain[len(plain) - len(rest)]
    return ch.isupper() or ch.isdigit() or ch in "\"'“„«‘¿¡" or _is_cjk(ch)


#: a paragraph of calls to action ("Subscribe to our newsletter and follow us on ..."): at most this many words
CTA_PARAGRAPH_MAX_WORDS = 60


def _cta_paragraph(folded: str, tokens: Iterable[str], ph: _Phrases) -> bool:
    """A line too long for the short-line rules that holds two calls to action or more (share prompts count),
    neither part of the other ("sign up for our newsletter ... follow us on"): a newsletter or follow box."""
    found = ph.cta.found(folded, tokens) | ph.share.found(folded, tokens)
    if len(found) < 2:
        return False
    distinct = [p for p in found if not any(p != q and p in q for q in found)]
    return len(distinct) >= 2


#: an affiliate or advertiser disclosure is a short paragraph: a longer line holding such a phrase is the article's
DISCLOSURE_MAX_WORDS = 80


def _long_line_rule(line: str, folded: str, ph: _Phrases, words: int) -> str | None:
    """A line longer than the short-line rules look at (but at most 40 words): a cookie notice, a copyright line,
    a disclosure, a paragraph of calls to action, a caption."""
    r = _phrase_paragraph(line, folded, ph, words)
    if r is not None:
        return r
    if ("©" in folded or "copyright" in folded or "(c)" in folded) and _YEAR.search(folded):
        return "copyright"
    if (line.rstrip()[-1:] == ")" or "©" in line) and _CREDIT_TAIL.search(line) and not is_photo_credit(line, folded):
        return "caption"
    return None


def _phrase_paragraph(line: str, folded: str, ph: _Phrases, words: int, copyright: bool = True) -> str | None:
    """The phrase rules a paragraph-long line can meet: a cookie notice, a copyright line (``copyright``), a
    disclosure (up to :data:`DISCLOSURE_MAX_WORDS` words), two calls to action (up to
    :data:`CTA_PARAGRAPH_MAX_WORDS`). The line's words are split out once; a line holding none of the lists' key
    words (and no CJK, whose phrases have none) meets none."""
    tokens = set(_WORD.findall(folded))
    cjk = not folded.isascii() and _CJK_CHARS.search(folded) is not None
    if not cjk and ph.contains_keys.isdisjoint(tokens):
        return None
    if "ookie" in line and ph.cookie.search(folded, tokens, cjk):
        return "cookie"
    if copyright and ph.copyright.search(folded, tokens, cjk):
        return "copyright"
    if words <= DISCLOSURE_MAX_WORDS and ph.disclosure.search(folded, tokens, cjk):
        return "advertisement"
    if words <= CTA_PARAGRAPH_MAX_WORDS and _cta_paragraph(folded, tokens, ph):
        return "cta"
    return None


_META_PARTS = re.compile(r"\s+[|·•]\s+|\s+[|]|[|]\s+")


def _dated_meta(line: str, ph: _Phrases) -> bool:
    """A post's or a listing entry's meta line: two to four parts split at ``|``, ``·`` or ``•``, one of them a
    lone date or timestamp, the others short labels that end no sentence ("24. April 2020 | Pressemitteilungen",
    "Paddy · April 19, 2019 · 7 comments"). Not a table row (a line that starts or ends with ``|``)."""
    s = line.strip()
    if s[:1] == "|" or s[-1:] == "|" or not any(ch.isdigit() for ch in s):
        return False
    parts = [p for p in _META_PARTS.split(s) if p.strip()]
    if not 2 <= len(parts) <= 4:
        return False
    dated = False
    for p in parts:
        folded = _fold(p)
        if not dated and _lone_date(_strip_heading(folded) or folded, ph):
            dated = True
        elif len(p.split()) > 6 or _ends_sentence(p):
            return False
    return dated


def _lone_date(head: str, ph: _Phrases) -> bool:
    if len(head) > 60 or _DATE_JUNK.search(_DATE_TOKEN.sub("", head)):
        return False
    has_digit = has_word = False
    durations = True  # every word a unit of time: `120 Minuten` is how long something takes, not when
    for tok in _DATE_TOKEN.findall(head):
        if tok[0].isdigit():
            has_digit = True
            if len(tok) > 4:
                return False
        elif tok.rstrip(".") not in ph.date_words:
            return False
        else:
            has_word = True
            durations = durations and tok.rstrip(".") in ph.duration_words
    if _DATE_SHAPE.search(head) is not None:
        return has_digit
    return has_digit and has_word and not durations


def _marked(line: str, ph: _Phrases) -> int:
    """0: no truncation mark; 1: a bare ellipsis at the end; 2: a strong mark (phrase, […], », glued mark)."""
    s = line.rstrip()
    if not s:
        return 0
    last = s[-1]
    if last in "….":
        if not s.endswith(("…", "...", ". . .")):
            return 0  # a full stop
        return 2 if _TRUNC_BRACKET.search(s) or ph.more_strong.search(s[-40:].casefold()) else 1
    if last in "»›→>" and not _ARROW_START.match(s) and _arrow_not_quote(s):
        return 2
    if last.isalpha() or last in ")]" or _is_cjk(last):
        tail = " ".join(s[-40:].split()).casefold()
        toks = _WORD.findall(tail)
        if toks and (toks[-1] in ph.more_last or _is_cjk(toks[-1][-1])) and ph.more_strong.search(tail):
            return 2
    return 0


def _arrow_not_quote(s: str) -> bool:
    """A final » or › is a link arrow, not the close of a «quote» or ‹quote›; a final > neither, after a < (a tag or
    code: `<br>`, `in <module>`)."""
    last = s.rstrip()[-1]
    if last == "»":
        return s.count("«") < s.count("»")
    if last == "›":
        return s.count("‹") < s.count("›")
    return last != ">" or "<" not in s


#: a blank line's entry (never cached, never written to)
_BLANK: list[Any] = [0, False, None, 0, None, False, False, False, False, False, False]
# the fields of a line's cache entry (_LineCache.add)
_WORDS, _PROSE, _RULE, _MARK, _MENU, _ENDS, _HEADING, _ARROW, _SHORT, _MORE = map(
    itemgetter, (0, 1, 2, 3, 5, 6, 7, 8, 9, 10)
)
#: the per-line cache is emptied when it holds this many lines (about 350 bytes each with the model's features,
#: the text aside) or this many characters of line text
CACHE_LINES = 200_000
CACHE_CHARS = 16_000_000


class _LineCache:
    """What a line's own text decides, per distinct line text, for one set of options: its words, whether it is
    prose, the per-line rule (:func:`_line_rule`), its truncation mark and the model's per-line features (both
    filled in when first needed). Page furniture recurs across a site's pages and a corpus repeats itself, so most
    lines of a large input are looked up, not worked out again. Bounded: emptied past :data:`CACHE_LINES` lines
    or :data:`CACHE_CHARS` characters."""

    __slots__ = ("chars", "info", "o", "ph")

    def __init__(self, o: ResidueOptions) -> None:
        self.o = o
        self.ph = _phrases(o.languages)
        self.info: dict[str, list[Any]] = {}
        self.chars = 0

    def add(self, line: str) -> list[Any]:
        """Work out ``line``'s entry: [words, prose, rule, truncation mark, model shape (None: not yet), menu-shaped,
        ends a sentence, may head a link block, a prev/next link, short and not prose, a "Read more" link]."""
        if not line or line.isspace():
            return _BLANK
        w = _nwords(line)
        if w > 40:  # body-like: a cookie notice, a copyright footer, a disclosure, a box of calls to action
            r = None
            if "ookie" in line or w <= DISCLOSURE_MAX_WORDS:
                # a copyright phrase inside a line this long is the article's: only a line that starts as a
                # copyright footer is one
                r = _phrase_paragraph(line, _fold(line), self.ph, w, copyright=False)
            if r in (None, "advertisement", "cta") and _COPYRIGHT_START.match(line):
                r = "copyright"
        else:
            r = _line_rule(line, _fold(line), w, self.ph, self.o)
        ends = _ends_sentence(line)
        o = self.o
        e = [
            w,
            _is_prose(line, w),
            r,
            _marked(line, self.ph) if w >= o.min_preview_words else 0,
            None,
            w <= 4 and _menu_shaped(line, w),
            ends,
            # may open a link block's heading (_word_headings), may be a prev/next link (a link_arrow)
            2 <= w <= 7 and not ends and _heading_word(line) in self.ph.heading_words,
            2 <= w <= o.max_headline_words and _arrow_line(line, w, o.max_headline_words),
            w <= MAX_BODY_WORDS,  # short, so not prose: the model may score it inside the main body
            w <= 4 and _fold(line).strip(" .:»›>…()[]") in self.ph.more_whole,  # a "Read more" link alone
        ]
        if self.chars > CACHE_CHARS or len(self.info) >= CACHE_LINES:
            self.info.clear()
            self.chars = 0
        self.info[line] = e
        self.chars += len(line)
        return e


@cache
def _line_cache(o: ResidueOptions) -> _LineCache:
    return _LineCache(o)


def label_residue(
    lines: list[str],
    options: ResidueOptions | None = None,
    *,
    recurrence: LineRecurrence | None = None,
    site: str | None = None,
    model_inputs: list[tuple[int, list[float]]] | None = None,
) -> ResidueLabels:
    """Label the residue lines of one document (see the module doc). ``recurrence`` and ``site``: a corpus pass's
    counts and this document's site (:func:`site_of`), for the ``site_recurring`` rule. ``model_inputs``: when
    given, the model does not run; the (line, features) it would score are appended to it (for training)."""
    o = options or _DEFAULT
    cache = _line_cache(o)
    n = len(lines)
    # each line's cache entry, then the per-line facts as lists, and the lines a later rule looks at (the rules
    # visit those, not every line again): whole-list operations, not a Python loop over the lines
    entries: list[list[Any]] = list(map(cache.info.get, lines))
    if None in entries:
        add = cache.add
        entries = [e if e is not None else add(line) for e, line in zip(entries, lines, strict=True)]
    words: list[int] = list(map(_WORDS, entries))
    rule: list[str | None] = list(map(_RULE, entries))
    prose_at = list(compress(range(n), map(_PROSE, entries)))
    marked_at = list(compress(range(n), map(_MARK, entries)))
    heading_at = list(compress(range(n), map(_HEADING, entries)))
    arrow_at = list(compress(range(n), map(_ARROW, entries)))
    menus = sum(map(_MENU, entries))
    short_at = list(compress(range(n), map(_SHORT, entries)))
    more_at = list(compress(range(n), map(_MORE, entries)))
    body_start, body_end = (prose_at[0], prose_at[-1]) if prose_at else (-1, -1)
    if recurrence is not None:
        for i, line in enumerate(lines):
            if (
                rule[i] is None
                and 0 < words[i] <= 40
                and recurrence.is_furniture(site, line, o.recurrence_min_docs, o.recurrence_min_share)
            ):
                rule[i] = "site_recurring"

    headline = _page_title(lines, words, rule) if o.furniture and body_start >= 0 else None

    # link blocks: a heading, then headline-shaped lines
    if o.link_blocks:
        if heading_at:
            _word_headings(lines, words, rule, entries, o, heading_at)
        if "link_heading" in rule:
            _link_block_lines(lines, words, rule, entries, o)
        for i in arrow_at:
            if rule[i] is None:
                rule[i] = "link_arrow"
        # a run needs nav_run_min menu-shaped or cut lines
        if menus + n - rule.count(None) >= o.nav_run_min:
            _nav_runs(lines, words, rule, list(map(_MENU, entries)), o, body_start, body_end)
        _trailing_bullets(lines, words, rule, o)
        if heading_at:
            _trailing_heading(words, rule, entries)

    if o.previews and len(more_at) >= 2:
        _teasers_over_more_links(lines, words, rule, more_at, o)

    body = _main_body(lines, words, prose_at=prose_at)
    if o.furniture and not _FOOTER_SIGNALS.isdisjoint(rule):
        _footer_run(lines, words, rule, o, body)

    # truncation marks (of the lines no rule cut)
    marks = [0] * n
    min_words = o.min_preview_words
    for i in marked_at:
        if rule[i] is None and words[i] >= min_words:
            marks[i] = entries[i][3]

    # listing page: repeated units of a headline (a byline may follow it) over a marked preview
    drop = None
    if o.listing_pages and n - marks.count(0) >= o.listing_min_previews:
        drop = _listing_page(lines, words, rule, marks, o)

    # previews: the trailing run
    if o.previews:
        _trailing_previews(lines, words, rule, marks, o)

    subheads = [] if _PLACED.isdisjoint(rule) else _subheads(words, rule)
    model_features: dict[int, list[float]] = {}
    if o.model or model_inputs is not None:
        training = model_inputs is not None
        scored = _model_features(lines, words, rule, marks, entries, body, o, short_at, veto=not training)
        if model_inputs is not None:
            model_inputs.extend(scored)
        elif scored:
            threshold = o.model_threshold_busy if _busy(words, body) else o.model_threshold
            _model_cuts(scored, rule, threshold, model_features)

    if headline is not None and body is not None and headline <= body[0]:
        # after the model, whose features were learned without this rule's cuts
        _above_headline(words, rule, entries, headline)
    for i in subheads:  # after the model, which saw them cut (its features were learned so)
        rule[i] = None
    if headline is not None and rule[headline] is not None and rule[headline] not in UNMISTAKABLE:
        rule[headline] = None  # the headline the page's <title> line repeats, which that line's cut leaves alone
    # guard the start of the body
    if body_start >= 0 and o.guard_lines:
        guarded = 0
        i = body_start
        while i < n and guarded < o.guard_lines:
            if words[i]:
                # a link block's heading and headlines are not the article's start (its first paragraph may
                # sit right above a "Related posts" block): not guarded; nor is a short line a stock phrase names
                # (a paywall's "Wählen Sie Ihren Zugang" under the first paragraph): a paragraph is, and what a
                # line's place, a caption rule (the lead picture's caption reads as the article's) or the model cut
                r = rule[i]
                if (
                    r is not None
                    and r not in UNMISTAKABLE
                    and r not in _LINK_BLOCK
                    and (entries[i][1] or r in _PLACED or r in _GUARDED_ALWAYS)
                ):
                    rule[i] = None
                guarded += 1
            i += 1
    cuts = [] if rule.count(None) == n else [(i, r) for i, r in enumerate(rule) if r is not None and o.enabled(r)]
    if model_features:
        model_features = {i: f for i, f in model_features.items() if rule[i] == "model"}
    return ResidueLabels(cuts=cuts, drop=drop, model_features=model_features)


def _link_block_lines(
    lines: list[str], words: list[int], rule: list[str | None], entries: list[list[Any]], o: ResidueOptions
) -> None:
    """The lines under each link-block heading (``link_heading``): ``link_block``. Headline-shaped lines; and under
    a headline of the block, its teaser (up to :data:`TEASER_MAX_WORDS` words) when a truncation mark ends it or
    a line a rule cut ("Read more") follows it."""
    n = len(lines)
    i = 0
    while i < n:
        if rule[i] == "link_heading":
            j = i + 1
            after_headline = False
            while j < n:
                if words[j] == 0:
                    j += 1
                    continue
                if (
                    rule[j] is None
                    and not lines[j].rstrip().endswith(":")
                    and _headline_shaped(lines[j], words[j], o.max_headline_words)
                    and not (_is_prose(lines[j], words[j]))
                ):
                    rule[j] = "link_block"
                    after_headline = True
                    j += 1
                    continue
                if rule[j] == "related_link":
                    j += 1
                    continue
                if after_headline and rule[j] is None and words[j] <= TEASER_MAX_WORDS:
                    k = j + 1
                    while k < n and not words[k]:
                        k += 1
                    if entries[j][3] or (k < n and rule[k] is not None):
                        rule[j] = "link_block"
                        after_headline = False
                        j += 1
                        continue
                break
            i = j
            continue
        i += 1


#: the most words of a related article's teaser under its headline in a link block
TEASER_MAX_WORDS = 60


def _arrow_line(s: str, words: int, max_words: int) -> bool:
    """A prev/next link: a headline behind an arrow ("« headline", "headline »")."""
    arrow = (_ARROW_START.match(s) and "»" not in s) or (
        s.rstrip()[-1:] in "»›→>" and _ARROW_END.search(s) and _arrow_not_quote(s)
    )
    return bool(arrow) and _headline_shaped(s.strip(" «‹←<»›→>-"), words, max_words)


def _listing_page(
    lines: list[str], words: list[int], rule: list[str | None], marks: list[int], o: ResidueOptions
) -> str | None:
    n = len(lines)
    in_unit = [False] * n
    units = 0
    for i in range(n):
        if not marks[i]:
            continue
        # walk up over blank lines, at most one byline, then a headline
        j = i - 1
        while j >= 0 and words[j] == 0:
            j -= 1
        head = []
        if j >= 0 and not marks[j] and _BYLINE.match(lines[j]) and words[j] <= 8:
            head.append(j)
            j -= 1
            while j >= 0 and words[j] == 0:
                j -= 1
        if j >= 0 and not marks[j] and rule[j] is None and _headline_shaped(lines[j], words[j], o.max_headline_words):
            head.append(j)
            units += 1
            for k in (i, *head):
                in_unit[k] = True
    if units < o.listing_min_previews:
        return None
    unit_words = sum(words[i] for i in range(n) if in_unit[i])
    left = sum(words[i] for i in range(n) if rule[i] is None or in_unit[i])
    # prose that is not in a unit: an article with a sidebar of previews is not a listing page
    prose = sum(words[i] for i in range(n) if not in_unit[i] and rule[i] is None and _is_prose(lines[i], words[i]))
    if left and unit_words / left >= o.listing_share and prose * 4 <= unit_words:
        return LISTING_PAGE
    return None


def _trailing_previews(
    lines: list[str], words: list[int], rule: list[str | None], marks: list[int], o: ResidueOptions
) -> None:
    n = len(lines)
    found: list[tuple[int, str]] = []
    pending: list[tuple[int, str]] = []
    strong = weak = 0
    i = n - 1
    while i >= 0:
        if words[i] == 0 or rule[i] is not None:
            i -= 1
            continue
        if marks[i]:
            found.extend(pending)
            pending = []
            found.append((i, "preview_marked"))
            if marks[i] == 2:
                strong += 1
            else:
                weak += 1
            i -= 1
            continue
        if found and len(pending) < 2:
            s = lines[i]
            if _BYLINE.match(s) and words[i] <= 8:
                pending.append((i, "preview_byline"))
                i -= 1
                continue
            if _headline_shaped(s, words[i], o.max_headline_words) and not _ends_sentence(s):
                pending.append((i, "preview_headline"))
                i -= 1
                continue
        break
    # the headline above the topmost preview belongs to it when the run repeats headline / preview
    heads = sum(1 for _, r in found if r == "preview_headline")
    if pending and heads:
        found.extend(pending)
    if strong or weak >= 2:
        for i, r in found:
            rule[i] = r


_FOOTER_SIGNALS = frozenset(
    {
        "link_heading",
        "copyright",
        "comments",
        "cta",
        "share",
        "related_link",
        "nav",
        "cookie",
        "advertisement",
        "tags_line",
    }
)


def _main_body(
    lines: list[str], words: list[int], gap: int = 8, prose_at: list[int] | None = None
) -> tuple[int, int] | None:
    """First and last line of the main body: the cluster of prose lines (at most ``gap`` lines apart) holding
    the most words. ``prose_at``: the prose lines (:func:`_is_prose`), in order (worked out when not given)."""
    if prose_at is None:
        prose_at = [i for i, (line, w) in enumerate(zip(lines, words, strict=True)) if w and _is_prose(line, w)]
    best = None
    best_words = start = last = total = 0
    for i in prose_at:
        if total and i - last > gap:
            if total > best_words:
                best, best_words = (start, last), total
            total = 0
        if not total:
            start = i
        total += words[i]
        last = i
    if total > best_words:
        best = (start, last)
    return best


def _footer_run(
    lines: list[str], words: list[int], rule: list[str | None], o: ResidueOptions, body: tuple[int, int] | None
) -> None:
    """Below the main body (``body``: :func:`_main_body`), from the first line a phrase rule cut as furniture (a
    link-block heading, a copyright, a comment form, ...) on, short lines that end no sentence are footer: related
    headlines, menus."""
    if body is None:
        return
    n = len(lines)
    start = next((i for i in range(body[1] + 1, n) if rule[i] in _FOOTER_SIGNALS), None)
    if start is None:
        return
    for i in range(start, n):
        if rule[i] is None and 0 < words[i] <= o.footer_max_words and not _ends_sentence(lines[i]):
            # a subhead: the next two lines are uncut paragraphs that no truncation mark ends (the article goes
            # on; a related headline has one teaser under it, then the next headline)
            if _paragraphs_follow(lines, words, rule, i, 2):
                continue
            rule[i] = "footer_run"


#: the rules the body's first lines are guarded from even on a short line
_GUARDED_ALWAYS = frozenset({"model", "site_recurring", "caption"})

#: the rules that cut a short line for where it sits (a run, a block, below the footer), not for what it says
_PLACED = frozenset({"footer_run", "nav_run", "link_block", "above_headline"})


def _subheads(words: list[int], rule: list[str | None], long_words: int = 15) -> list[int]:
    """The short lines a placing rule (:data:`_PLACED`) cut between two lines of ``long_words`` words or more that
    no rule cut: subheads of the text around them, not a menu, a link block or a footer (they stay)."""
    nonblank = [i for i, w in enumerate(words) if w]
    release = [
        i
        for p, i, q in zip(nonblank, nonblank[1:], nonblank[2:], strict=False)
        if rule[i] in _PLACED
        and rule[p] is None
        and rule[q] is None
        and words[p] >= long_words
        and words[q] >= long_words
    ]
    return release


def _paragraphs_follow(lines: list[str], words: list[int], rule: list[str | None], i: int, k: int) -> bool:
    """Whether the ``k`` non-blank lines after line ``i`` are uncut prose that no truncation mark ends."""
    n = len(lines)
    j = i + 1
    for _ in range(k):
        while j < n and not words[j]:
            j += 1
        if j >= n or rule[j] is not None or not _is_prose(lines[j], words[j]) or _ends_truncated(lines[j]):
            return False
        j += 1
    return True


def _ends_truncated(line: str) -> bool:
    s = line.rstrip()
    return s.endswith(("…", "...", "»", "›", "]", ")")) or s[-1:].isalnum()


def _heading_word(line: str) -> str:
    """The first word of a line as the ``heading_word`` lists hold it: case-folded, bullets and arrows off."""
    return line.split()[0].casefold().strip("»>«‹›*•·-–—")


def _word_headings(
    lines: list[str],
    words: list[int],
    rule: list[str | None],
    entries: list[list[Any]],
    o: ResidueOptions,
    candidates: list[int],
) -> None:
    """A short line (two to seven words, no sentence end) whose first word opens a link-block heading ("Weitere
    Artikel zum Thema", "More from the author", "Otras noticias": the ``heading_word`` lists) over three lines that
    are headline-shaped or already cut: the heading of a link block (``link_heading``; its headlines follow).
    ``candidates``: the lines of that shape (a line's cache entry knows)."""
    n = len(lines)
    for i in candidates:
        if rule[i] is not None:
            continue
        below = 0
        j = i + 1
        while j < n and below < HEADING_OVER:
            if words[j]:
                if rule[j] is None and (
                    entries[j][1] or not _headline_shaped(lines[j], words[j], o.max_headline_words)
                ):
                    break
                below += 1
            j += 1
        if below == HEADING_OVER:
            rule[i] = "link_heading"


_TITLE_PARTS = re.compile(r"\s+(?:[|·•]|[-–—]|::)\s+")
#: the most words the site's name and section in a page's title line may have, together
TITLE_SITE_WORDS = 8


def _page_title(lines: list[str], words: list[int], rule: list[str | None]) -> int | None:
    """The page's first line when it is its ``<title>``: the headline with the site's name (and section, date) around
    it, split at ``|``, ``-``, ``·`` ("Skoda: Der lange Weg zum Strom | autohaus.de"), the headline printed again as
    a line further down. This one is ``page_title``; the copy below stays (its index is returned: no later rule may
    cut it, or the page would lose its headline)."""
    first = 0 if words[0] else next(compress(range(len(words)), words), None)
    if first is None or rule[first] is not None or words[first] > 40:
        return None
    parts = _TITLE_PARTS.split(lines[first].strip())
    if len(parts) < 2:
        return None
    later = lines[first + 1 :]  # normalize (run before) left each line stripped, its spaces single
    for k, part in enumerate(parts):
        site = sum(len(p.split()) for j, p in enumerate(parts) if j != k)
        if len(part.split()) >= 2 and site <= TITLE_SITE_WORDS and part in later:
            rule[first] = "page_title"
            return first + 1 + later.index(part)
    return None


#: the most words of a line ``above_headline`` cuts: a menu item, a section label, a breadcrumb
ABOVE_HEADLINE_MAX_WORDS = 8


def _above_headline(words: list[int], rule: list[str | None], entries: list[list[Any]], headline: int) -> None:
    """Between the page's ``<title>`` line (:func:`_page_title`) and its headline printed again at ``headline``,
    when that headline stands above the main body: the short lines that are not prose are the page's header and
    menus (``above_headline``). An article starts at its headline; its kicker, date and byline sit under it."""
    title = rule.index("page_title")
    for i in range(title + 1, headline):
        if rule[i] is None and 0 < words[i] <= ABOVE_HEADLINE_MAX_WORDS and not entries[i][1]:
            rule[i] = "above_headline"


def _teasers_over_more_links(
    lines: list[str], words: list[int], rule: list[str | None], more_at: list[int], o: ResidueOptions
) -> None:
    """A list of other articles, each a headline, a teaser and a "Read more" link alone on its line: where two such
    units or more are on the page, each unit's teaser (``preview_marked``), headline (``preview_headline``) and
    link go."""
    # a "Read more" link opens a link block when a headline follows it: the next unit's headline, and maybe its
    # teaser, are link_block already
    free = (None, "link_block")
    units = []
    for i in more_at:
        p = _above(words, i)
        if p < 0 or rule[p] not in free or not 3 <= words[p] <= TEASER_MAX_WORDS:
            continue
        h = _above(words, p)
        if (
            h >= 0
            and rule[h] in free
            and _headline_shaped(lines[h], words[h], o.max_headline_words)
            and not _ends_sentence(lines[h])
        ):
            units.append((h, p, i))
    if len(units) < 2:
        return
    for h, p, i in units:
        rule[h] = "preview_headline"
        rule[p] = "preview_marked"
        if rule[i] is None:
            rule[i] = "preview_marked"


def _above(words: list[int], i: int) -> int:
    """The nearest non-blank line above line ``i`` (-1: none)."""
    i -= 1
    while i >= 0 and not words[i]:
        i -= 1
    return i


def _trailing_heading(words: list[int], rule: list[str | None], entries: list[list[Any]]) -> None:
    """The last line no rule cut, when it has the shape of a link-block heading (a ``heading_word`` first, two to
    seven words, no sentence end: "Weitere aktuelle Themen aus der Arbeitswelt", "More in Good Deals") and is not
    the page's only line: the heading of a link block the scraper left out."""
    last = next((i for i in range(len(words) - 1, -1, -1) if words[i] and rule[i] is None), -1)
    if last > 0 and entries[last][7] and any(words[:last]):
        rule[last] = "link_heading"


#: how many headline-shaped (or cut) lines a ``heading_word`` line must sit over to be a link-block heading
HEADING_OVER = 3


def _trailing_bullets(lines: list[str], words: list[int], rule: list[str | None], o: ResidueOptions) -> None:
    """A lone list of "- headline" lines at the end (cut lines step over): two or more bulleted, headline-shaped
    lines of four words or more, not introduced by a line ending in a colon (a body list is)."""
    run: list[int] = []
    i = len(lines) - 1
    while i >= 0:
        if words[i] == 0 or (rule[i] is not None and rule[i] != "link_heading"):
            i -= 1
            continue
        s = lines[i]
        if (
            rule[i] is None
            and words[i] >= 4
            and _BULLET.match(s)
            and not s.lstrip(" -–—•·*▪►▸→>")[:1].isdigit()
            and _headline_shaped(s, words[i], o.max_headline_words)
            and not _ends_sentence(s)
        ):
            run.append(i)
            i -= 1
            continue
        break
    if len(run) >= 2 and not (i >= 0 and rule[i] is None and lines[i].rstrip().endswith(":")):
        for k in run:
            rule[k] = "link_block"


def _nav_runs(
    lines: list[str],
    words: list[int],
    rule: list[str | None],
    menu: list[bool],
    o: ResidueOptions,
    body_start: int,
    body_end: int,
) -> None:
    """Runs of menu-shaped lines above the body's first prose line or below its last one. ``menu``: per line,
    :func:`_menu_shaped`."""
    n = len(lines)
    i = 0
    while i < n:
        if words[i] and (rule[i] is not None or menu[i]):
            j = i
            members = []
            while j < n and (words[j] == 0 or rule[j] is not None or menu[j]):
                if words[j]:
                    members.append(j)
                j += 1
            inside = body_start >= 0 and members and body_start < members[-1] and members[0] < body_end
            if len(members) >= o.nav_run_min and not inside and not _introduced(lines, words, rule, i):
                digits = sum(1 for k in members if lines[k].lstrip()[:1].isdigit())
                if digits * 3 < len(members):  # not an ingredient list or a table of numbers
                    for k in members:
                        if rule[k] is None:
                            rule[k] = "nav_run"
            i = j
            continue
        i += 1


def _introduced(lines: list[str], words: list[int], rule: list[str | None], start: int) -> bool:
    """Whether the line above ``start`` introduces a list: a sentence no rule cut that ends with a colon
    (`Folgende Universitäten sind betroffen:`), not a short lead-in (`Read more:`, cut as a link heading)."""
    k = _above(words, start)
    return k >= 0 and rule[k] is None and words[k] >= 4 and lines[k].rstrip().endswith(":")


def _model_features(
    lines: list[str],
    words: list[int],
    rule: list[str | None],
    marks: list[int],
    entries: list[list[Any]],
    body: tuple[int, int] | None,
    o: ResidueOptions,
    short_at: list[int],
    veto: bool = True,
) -> list[tuple[int, list[float]]]:
    """The lines the model scores (no rule cut them, at most ``MAX_WORDS`` words), each with its features.
    ``short_at``: the lines of at most ``MAX_BODY_WORDS`` words that are not prose. ``veto``: leave out the lines
    the model may never cut (:func:`_model_veto`; training sees them all)."""
    # inside the main body the model scores only its short lines that are not prose (a subhead, a caption, an
    # inline link or ad): a paragraph of the article is never the model's to cut, and most lines of a page are those
    n = len(lines)
    b0, b1 = body if body is not None else (n, n - 1)
    candidates = [i for i in range(b0) if rule[i] is None and 0 < words[i] <= MAX_WORDS]
    candidates += [i for i in short_at if b0 <= i <= b1 and rule[i] is None]
    candidates += [i for i in range(b1 + 1, n) if rule[i] is None and 0 < words[i] <= MAX_WORDS]
    if not candidates:
        return []
    scored = candidates
    if veto:
        vetoed = _model_veto(words, rule, entries, body, candidates)
        scored = [i for i in candidates if i not in vetoed]
        if not scored:
            return []
    prose = list(map(_PROSE, entries))
    cut = list(map(is_not, rule, repeat(None)))
    max_words = o.max_headline_words

    def shapes(i: int) -> list[float]:
        # the line's own features (its text alone decides them): computed once per distinct line text
        e = entries[i]
        if e[4] is None:
            line, w = lines[i], words[i]
            e[4] = (
                *line_shape(line, w),
                1.0 if _headline_shaped(line, w, max_words) else 0.0,
                1.0 if e[5] else 0.0,
                1.0 if w <= 8 and _BYLINE.match(line) else 0.0,
                float(marks[i]),
            )
        return e[4]

    ends = list(map(_ENDS, entries))
    vectors = doc_features(
        lines, words, cut, prose, body, candidates, shapes, ends, list(map(_MENU, entries)), scored=scored
    )
    return list(zip(scored, vectors, strict=True))


#: a busy page: at least this many non-blank lines, its main body holding under half of its words (a whole page's
#: text, menus and footers and all, not an extracted article)
BUSY_LINES = 80


def _busy(words: list[int], body: tuple[int, int] | None) -> bool:
    """Whether the page is busy (:data:`BUSY_LINES`): there the model cuts from ``model_threshold_busy``."""
    if len(words) - words.count(0) < BUSY_LINES:
        return False
    in_body = sum(words[body[0] : body[1] + 1]) if body is not None else 0
    return in_body * 2 < sum(words)


def _model_veto(
    words: list[int],
    rule: list[str | None],
    entries: list[list[Any]],
    body: tuple[int, int] | None,
    candidates: list[int],
) -> set[int]:
    """Of the ``candidates``, the lines the model never cuts (keep wins): the page's first line (its title); the
    uncut lines that end a sentence right below the main body, up to the first that does not (the article's last
    short paragraphs); inside the main body, a line right over a prose line (a subhead)."""
    n = len(words)
    first = next(compress(range(n), words), None)
    veto = {first} if first is not None else set()
    if body is not None:
        b0, b1 = body
        for i in range(b1 + 1, n):
            if not words[i]:
                continue
            if rule[i] is not None or not entries[i][6]:
                break
            veto.add(i)
        # inside the main body, a line over a prose line: a subhead over its paragraph
        for i in candidates:
            if b0 <= i <= b1:
                j = i + 1
                while j < n and not words[j]:
                    j += 1
                if j < n and entries[j][1]:
                    veto.add(i)
    return veto


def _model_cuts(
    scored: list[tuple[int, list[float]]], rule: list[str | None], t: float, found: dict[int, list[float]]
) -> None:
    """Cut the ``scored`` lines (index, features) the model puts at or over the threshold ``t``; ``found`` gets
    their features (for explain)."""
    reaches = load_model().reaches
    # the threshold as log-odds: one comparison per line, no exp
    cut_at = math.log(t / (1 - t)) if 0 < t < 1 else (math.inf if t >= 1 else -math.inf)
    for i, f in scored:
        if reaches(f, cut_at):
            rule[i] = "model"
            found[i] = f


_DEFAULT = ResidueOptions()


def cut_lines(text: str, options: ResidueOptions | None = None, **kw: Any) -> tuple[str | None, ResidueLabels]:
    """Convenience for scripts and tests: ``text`` without the cut lines (``None`` when dropped), and the labels."""
    lines = text.split("\n")
    labels = label_residue(lines, options, **kw)
    if labels.drop:
        return None, labels
    gone = {i for i, _ in labels.cuts}
    return "\n".join(line for i, line in enumerate(lines) if i not in gone), labels


# --- the step -----------------------------------------------------------------------------------------------------


class SiteRecurrence(CorpusPass):
    """The residue step's corpus pass: per site, in how many documents each short line occurs, counted on the
    records as they reach the step; a line in enough of a site's documents is that site's furniture."""

    def start(self, options: ResidueOptions) -> tuple[LineRecurrence, str | None]:
        return LineRecurrence(), options.site_field

    def add(self, state: tuple[LineRecurrence, str | None], doc: Doc) -> None:
        counts, site_field = state
        counts.add(site_of(doc.record, site_field), doc.lines)

    def merge(
        self, state: tuple[LineRecurrence, str | None], other: tuple[LineRecurrence, str | None]
    ) -> tuple[LineRecurrence, str | None]:
        state[0].merge(other[0])
        return state

    def finish(self, state: tuple[LineRecurrence, str | None], options: ResidueOptions) -> LineRecurrence:
        return state[0]


class Residue(Step):
    """The ``residue`` step: cut what is not the article (previews, link blocks, calls to action, furniture,
    captions, lone dates and contacts) and drop listing pages; every cut with its rule in ``metadata.cuts``."""

    name = STEP
    Options = ResidueOptions
    summary = "Cut page residue (previews, link blocks, calls to action, furniture) and drop listing pages."
    reasons = {
        **{rule: f"a {kind.replace('_', ' ')} line" for kind, rules in KINDS.items() for rule in rules},
        LISTING_PAGE: "a page of previews (an index or listing page), not an article",
        BLANK_LINE: BLANK_LINE_REASON,
    }
    kinds = dict(_KIND_OF)
    corpus_pass = SiteRecurrence()
    order = 250  # after credits (a credit line goes to metadata, not away), before teasers and dedup
    default_on = False  # below its recall targets and slower than clean itself: on when asked (--residue)
    rounds = 3  # a menu run, a link block grow as lines between them go: cut again what a second run would
    rerun = ("credits",)  # and a byline is the first line once the menu above it is gone

    #: the last document's model cuts, one entry per round: (its line count, the cuts before it, line -> features)
    _last_model: tuple[Any, list[tuple[int, list[Any], dict[int, list[float]]]]] = (None, [])

    def label(self, doc: Doc) -> Labels:
        state = self.state
        site = site_of(doc.record, self.options.site_field) if state is not None else None
        found = label_residue(doc.lines, self.options, recurrence=state, site=site)
        drop = Drop(LISTING_PAGE) if found.drop else None
        # a further round works on the same record object: its model cuts join the first round's
        rounds = self._last_model[1] if self._last_model[0] is doc.record else []
        if found.model_features:
            before = doc.metadata.get("cuts")
            rounds = [*rounds, (len(doc.lines), list(before or ()), found.model_features)]
        self._last_model = (doc.record, rounds)
        return Labels(doc, cuts=dict(found.cuts), drop=drop)

    def cut_detail(self, cut: Mapping[str, Any]) -> str | None:
        """Why the last document's line was cut, beyond its rule: for a ``model`` cut, the features that pushed
        it most ("model: after_body +1.31, run_short +0.52"). ``cut``: its ``metadata.cuts`` entry."""
        if cut.get("rule") != "model":
            return None
        for line_count, before, features in self._last_model[1]:
            origin = entry_lines(line_count, before)
            for i, f in features.items():
                if origin[i] == cut.get("paragraph"):
                    top = load_model().top_features(f)
                    return "model: " + ", ".join(f"{name} {value:+.2f}" for name, value in top)
        return None
