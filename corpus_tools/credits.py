"""Credits: bylines, contributor lines, author bios and translator credits, out of the body and into metadata.

Tag first, cut later. :func:`credit_kind` says what one line *looks like* (shape only);
:func:`label_credits` decides what a document's lines *are*, from shape and position together:

- a **byline** is a credit phrase (``data/credits/credit_phrases.tsv``: ``By``, ``by``, ``BY``, ``Von``, ``Par``,
  ``Por``, ``Posted by``, ``Written by:``, ``Autor:`` ...), then names, then an optional tail that only says when,
  where or for whom (``By Evan Symon, August 14, 2020``, ``By John Walk - Outlet | Date``, ``Von Jörg Staff am
  16.11.2022``, ``By Ann Lee, Staff reporter``, ``By John Lim 林泉忠``). A ``By``-type line counts in the page head
  only: before the running text starts (the first of two paragraphs of running text in a row, so a standfirst
  between the title and the byline is no start). The other phrases count in the head and among the last lines; a
  phrase alone on its line (``Written by:``, ``Article by``) takes the names from the next line;
- every **name** needs evidence that it names a person (:func:`name_evidence`): a first name from the list of its
  script, initials, a middle initial, a romanised Han surname then a given name, a Han name starting with a
  surname, or the CJK form after the Latin one. ``By Royal Decree`` has none and stays a headline; agency and
  staff bylines (``By AP and TOI staff``) name no person;
- **case rule** for all-caps bylines and translator credits: the byline stays verbatim in ``metadata.bylines``; the
  name is recorded in title case, word by word (``BY JAKE SHERMAN`` -> ``Jake Sherman``, ``Bruno CANEPARO`` ->
  ``Bruno Caneparo``, ``MARY-JANE O'BRIEN`` -> ``Mary-Jane O'Brien``; initials and ``II``/``III``/``IV`` as printed);
- a **contributor** line goes to ``metadata.contributors`` as ``{"name", "role"}``, not to the authors: ``Photo:
  NAME`` (``photo``), ``Additional reporting by A; Editing by B`` (``additional_reporting``, ``editing``),
  ``Reporting by``, ``Illustration:``, ``NAME contributed to this report.`` (``contributor``); it is labelled
  ``byline`` (a credit line) with its own reason;
- ``Have a tip? NAME may be reached at ...`` and a **signature** at the end (``– NAME``, or ``NAME, Place`` under
  the last sentence of a letter) credit an author;
- a **translator** credit is a whole line ``Translated by NAME``, ``Translated by NAME and NAME``, ``Translated
  and edited by NAME``, ``Translated from the Chinese by NAME`` or ``Translated by Staff Writer NAME`` (the role
  words are not the name), or its German, French, Spanish, Portuguese, Italian or Dutch form (``Übersetzt von:
  NAME``, ``Traduit de l'anglais par NAME``, ``Traducción: NAME y NAME``); a sentence that mentions "translated
  by" in passing is not a credit;
- a **bio** (``NAME is a ...``, ``NAME, a ... at ..., is a ...``, ``NAME and NAME are ...``, ``NAME writes
  about ...``, ``NAME ist ...``, ``The writer is ...``; ``Jr.``/``Sr.``/``III`` and middle initials in the name)
  counts only in the bio position: the last lines right before a translator credit, before the teaser tail
  (:func:`corpus_tools.teasers.tail_start`), at the end of the text even when up to eight lines of page furniture
  follow (``Share this``, ``@handle``), or right under an author-box heading (``About the author``, ``Zur
  Person``) or under a line that is only the person's name (an author box without a heading; not three such on
  a page: a list of profiles); anywhere when it starts with the name of the page's own author (the byline's, or a
  bio's subject as a second run reads it in metadata): a full page's author note above its tags, menus and
  footer. A role bio away from a translator credit needs corroboration too: the byline names the person, the
  predicate names a writer's role or an affiliation (``at ...``, ``of``/``for``/``bei`` and a capitalised name),
  the subject has an academic title, or the line stands after a separator or in italics markers; so ``Joe Biden is
  a former vice president and the Democratic front-runner.`` at the end is body. A bio without a role word counts
  when the byline names its subject (``Ann Lee runs a dog rescue charity``). ``Lai is a pragmatist who ...`` in the
  middle of an article is body, whatever its shape.

The :class:`Credits` step removes the labelled lines and records them in ``metadata.authors``,
``metadata.bylines`` (the removed lines, verbatim, in text order), ``metadata.translators``,
``metadata.contributors`` (``[{"name": str, "role": str}]``); the runner records in ``metadata.cuts`` where each
removed line stood and the rule that cut it: the audit trail the teasers step reads to know where the end credits
stood once they are gone.

The word lists and phrases live in ``corpus_tools/data/credits/`` (each file says where it came from) and are read
on first use. Each line's first two characters are looked up once (what a credit line, a translator credit or a tip
line can start with); only those lines, the last lines and the short lines (author-box headings) are looked at
closely, and the rest of a text is never searched per phrase.

Every pattern is anchored and built from possessive quantifiers on character classes, with only bounded
repetition of groups, so no input makes them backtrack; and no line longer than
:attr:`CreditsOptions.max_line_chars` is ever matched against them.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from corpus_tools.credit_shapes import (
    _BY_WORDS,
    _NAME_FULL_RE,
    _NOT_BIO_FIRST,
    _SECTION_LABEL_WORDS,
    _TITLE_WORDS,
    _TRANSLATOR_CLUES,
    _TRANSLATOR_STARTS,
    BIO,
    BYLINE,
    DEFAULT_OPTIONS,
    HAVE_A_TIP_RE,
    REASON_BIO_AT_END,
    REASON_BIO_BEFORE_FURNITURE,
    REASON_BIO_BEFORE_TAIL,
    REASON_BIO_BEFORE_TRANSLATOR,
    REASON_BIO_OF_PAGE_AUTHOR,
    REASON_BIO_UNDER_HEADING,
    REASON_BIO_UNDER_NAME,
    REASON_BY_NAME,
    REASON_BY_NAME_BEFORE_BODY,
    REASON_BY_NAME_UNDER_TITLE,
    REASON_CONTRIBUTED,
    REASON_CREDIT_PHRASE,
    REASON_HAVE_A_TIP,
    REASON_MACHINE_TRANSLATED,
    REASON_NAME_AFTER_PHRASE,
    REASON_SIGNATURE,
    REASON_TRANSLATED_BY,
    ROLE_AUTHOR,
    ROLE_PHOTO,
    ROLE_TRANSLATOR,
    SIGNATURE_PLACE_RE,
    SIGNATURE_RE,
    STEP,
    TRANSLATOR,
    TRANSLATOR_RE,
    CreditsOptions,
    _author_box_headings_printed,
    _bio,
    _body_paragraph,
    _bylined_bio,
    _corroborated,
    _credit_names,
    _credit_phrases,
    _data_lines,
    _display_name,
    _furniture,
    _latin_name,
    _shape,
    _translator_names,
    _unique,
    contributor_credits,
    name_evidence,
    photo_credit,
    phrase_credit,
    subject_name,
)
from corpus_tools.errors import RecordError
from corpus_tools.labels import (
    Label,
    ends_sentence,
    lines_containing,
    more_words_than,
)
from corpus_tools.step import BLANK_LINE, BLANK_LINE_REASON, CorpusPass, Doc, Labels, Step
from corpus_tools.teasers import tail_start

# ------------------------------------------------------------------------------------------------ position


def _tail_start(paragraphs: list[str], text: str | None) -> int:
    """Where the teaser tail starts (``len(paragraphs)`` when there is none), from the teasers step."""
    return tail_start(paragraphs, text=text)


def label_credits(
    paragraphs: list[str], options: CreditsOptions | None = None, *, text: str | None = None
) -> dict[int, Label]:
    """Label the credit lines of one document (index -> :class:`Label`); unlabelled lines are body.

    Works whether or not the teaser tail is still there, and whether or not it was cut already.
    Only a few lines are ever looked at closely: those of the page head and the last lines that start like a
    credit phrase, the lines that start like a translator credit, and the few lines above each bio position.
    ``text``, the paragraphs joined with line breaks when the caller has it, spares the teaser tail's search a
    text too short for one.
    """
    return _label_credits(paragraphs, options or DEFAULT_OPTIONS, text, {})


def _label_credits(
    paragraphs: list[str],
    options: CreditsOptions,
    text: str | None,
    names: dict[int, list[str]],
    contributors: dict[int, list[tuple[str, str]]] | None = None,
    recurring: frozenset[str] = frozenset(),
    known_authors: frozenset[str] = frozenset(),
) -> dict[int, Label]:
    """:func:`label_credits`, filling ``names`` with the names each labelled line gives (authors or translators,
    by the label's kind) and ``contributors`` with the ``(name, role)`` pairs of contributor lines. ``recurring``:
    the (casefolded) subjects of end bios the corpus repeats word for word, corroborated like a byline's names.
    ``known_authors``: the (casefolded) authors the record's metadata gives already (a byline an earlier run took
    out of the text still says who wrote it)."""
    labels: dict[int, Label] = {}
    if len(paragraphs) == 1 and not recurring and not _may_credit(paragraphs[0], options):
        return labels
    contributors = {} if contributors is None else contributors
    first = _next_filled(paragraphs, 0)
    if first is None:
        return labels

    starts = _start_candidates(paragraphs)
    if options.bylines:
        _label_bylines(paragraphs, first, text, labels, names, contributors, options, starts)
        _label_photo_credits(paragraphs, starts, labels, names, contributors)

    translator_lines = []
    if options.translators:
        # A translator credit starts with one of _TRANSLATOR_STARTS (TRANSLATOR_RE: `Translated`, `Übersetzt` ...) once
        # stripped: it is among the start candidates.
        for i in starts:
            found = [] if i in labels else _translator_names(paragraphs[i].strip(), options)
            if not found:
                continue
            # `Translated by Google`: a machine-translation service is a contributor, not a translator
            people = [name for name in found if not _machine_translation(name)]
            machines = [(name, ROLE_MACHINE_TRANSLATION) for name in found if _machine_translation(name)]
            labels[i] = Label(TRANSLATOR, REASON_TRANSLATED_BY if people else REASON_MACHINE_TRANSLATED, STEP)
            names[i] = people
            if machines:
                contributors[i] = machines
            if people:
                translator_lines.append(i)

    if options.bios:
        tail = _tail_start(paragraphs, text)
        # The authors the page's own byline names (not a contributor's or a letter's signature).
        page_authors = {
            n.casefold()
            for i, label in labels.items()
            if label.kind == BYLINE and label.reason in _PAGE_BYLINE_REASONS
            for n in names.get(i, ())
        } | known_authors
        bylined = page_authors | recurring
        # Bio positions: right before a translator credit, right before the tail, at the end.
        anchors: dict[int, str] = {}
        for i in translator_lines:
            anchors.setdefault(i, REASON_BIO_BEFORE_TRANSLATOR)
        if tail < len(paragraphs):
            anchors.setdefault(tail, REASON_BIO_BEFORE_TAIL)
        anchors.setdefault(len(paragraphs), REASON_BIO_AT_END)
        for anchor, reason in sorted(anchors.items()):
            _label_bios_before(paragraphs, anchor, reason, labels, names, options, bylined, page_authors)
        # A bio's subject is an author from then on, as a second run would read it in metadata.authors: the
        # lines about them above it are looked at once more with that evidence.
        found = {n.casefold() for i, label in labels.items() if label.kind == BIO for n in names.get(i, ())}
        if found - page_authors and _names_a_line_above(paragraphs, labels, found - page_authors):
            page_authors |= found
            bylined = page_authors | recurring
            for anchor, reason in sorted(anchors.items()):
                _label_bios_before(paragraphs, anchor, reason, labels, names, options, bylined, page_authors)
        # the short lines (blank ones too), where an author box's heading or name stands: once for both searches,
        # and only in a text that has one (a news text's lines are mostly long)
        has_short = min(map(len, paragraphs), default=0) <= _NAME_LINE_CHARS
        short = [i for i, p in enumerate(paragraphs) if len(p) <= _NAME_LINE_CHARS] if has_short else []
        _label_author_box(paragraphs, short, labels, names, options, bylined)
        _label_blog_author_box(paragraphs, starts, labels, names)
        if short:
            _label_name_boxes(paragraphs, short, labels, names, options)
        # the authors a second run reads in metadata.authors: the byline's and every bio's subject
        authors = page_authors | {n.casefold() for i, label in labels.items() if label.kind == BIO for n in names[i]}
        if authors:
            # as the page writes them (a byline's or a bio's name; one from metadata in title case)
            written = {n for i, label in labels.items() if label.kind in (BYLINE, BIO) for n in names.get(i, ())}
            written.update(n.title() for n in known_authors)
            heads = tuple(n + " " for n in written if n.casefold() in authors)
            # a line starting with one is rare: one search of the text each (when it is at hand) before the lines
            if heads and (text is None or any(text.startswith(h) or "\n" + h in text for h in heads)):
                _label_page_author_bios(paragraphs, labels, names, options, authors, heads)
    return labels


def _may_credit(line: str, options: CreditsOptions) -> bool:
    """For a text of this one line: False only when :func:`_label_credits` (without corpus recurrence) labels
    nothing in it. Every rule needs, on a line with no other line around it, one of: a credit phrase's first
    word at its start, after a bracket or not (bylines, `Photo:`, `(Foto: NAME)`, a phrase whose name would be on
    the next line), `©` at its start (a photo credit), `contributed` or `Have a tip?`, a dash at its start (a
    signature; `NAME, Place` needs a sentence above it), one of `_TRANSLATOR_CLUES` (translator credits, and the
    translator shapes a bio may sit above), or the start of a bio (:func:`_bio` without the role requirement is the
    loosest form it takes; a bio's byline corroboration needs a byline, another line). An author box needs its
    heading and the bio under it, two lines. Short records (a headline, a sentence) are mostly none of these, and
    are answered here without the passes over the head, the tail and the bio positions."""
    stripped = line.strip()
    if not stripped:
        return False
    if stripped[0] in "—–-" or "contributed" in line or "Have a tip?" in line:
        return True
    if _TRANSLATOR_CLUES.search(line):
        return True
    if stripped.startswith(_credit_prefixes()) or (stripped[0] == "(" and stripped[1:].startswith(_credit_prefixes())):
        return True
    if stripped.startswith(("©", "(©")):  # `© NAME` under a picture
        return True
    return _bio(stripped, options, require_role=False) is not None


_MAX_HEADING_CHARS = 32


def _label_author_box(
    paragraphs: list[str],
    short: list[int],
    labels: dict[int, Label],
    names: dict[int, list[str]],
    options: CreditsOptions,
    bylined: frozenset[str] | set[str],
) -> None:
    """Label the bio right under an author-box heading, wherever the box stands. ``short``: the lines of at most
    :data:`_NAME_LINE_CHARS` characters, where a heading stands (news paragraphs rarely are so short)."""
    printed = _author_box_headings_printed()
    about_a_person = _author_box_headings_printed("person_box_headings.txt")
    # a heading is printed in one of a few cases: a set look-up a short line (no search of the text per heading)
    lines = [i for i in short if len(p := paragraphs[i]) < _MAX_HEADING_CHARS and (p in printed or p in about_a_person)]
    for line in lines:
        j = _next_filled(paragraphs, line + 1)
        if j is None or j in labels or j - line > 2:
            continue
        bio = paragraphs[j].strip()
        if paragraphs[line] in about_a_person:
            # A profile of the author (a guest piece) or of someone the article is about: the author's when the
            # byline names its subject, or when the article above never names them (it quotes whom it is about).
            found = _bylined_bio(bio, options, bylined) if bylined else None
            if found is None:
                found = _bio(bio, options)
                if found and _named_above(paragraphs, line, found):
                    found = None
        else:
            found = _bio(bio, options)
            if found is None and bylined:
                found = _bylined_bio(bio, options, bylined)
        if found:
            labels[j] = Label(BIO, REASON_BIO_UNDER_HEADING, STEP)
            names[j] = _shape(bio, options)[1] if bio.startswith(_NOT_BIO_FIRST) else found


#: the most words of a bio in a blog platform's author box
_BOX_BIO_MAX_WORDS = 150


def _label_blog_author_box(
    paragraphs: list[str], starts: list[int], labels: dict[int, Label], names: dict[int, list[str]]
) -> None:
    """A blog platform's author box: a heading naming the author ("Über NAME", "About NAME"), the bio, then the
    link to the author's posts ("Zeige alle Beiträge von NAME →", ``author_box_footers.txt``). The bio is NAME's.
    ``starts``: :func:`_start_candidates` (the footers' first two characters are among its heads)."""
    footers, _ = _author_box_footers()
    for i in starts:
        line = paragraphs[i]
        # normalize (run before) leaves no runs of spaces: the phrase is the folded line's start, as written
        if len(line) > 120 or not line[:40].casefold().startswith(footers):
            continue
        folded = " ".join(line.split()).casefold()
        footer = next(f for f in footers if folded.startswith(f))
        name = " ".join(line.split())[len(footer) :].strip(" →»>›.:")
        if not 1 <= len(name.split()) <= 4 or not name[:1].isupper():
            continue
        bio = _previous_filled(paragraphs, i)
        heading = _previous_filled(paragraphs, bio) if bio is not None else None
        if bio is None or heading is None or bio in labels or heading in labels:
            continue
        head = " ".join(paragraphs[heading].split()).rstrip(":")
        # the heading is the name, or a word or two before it ("Über", "À propos de")
        if not head.casefold().endswith(name.casefold()) or len(head.split()) > len(name.split()) + 3:
            continue
        if len(paragraphs[bio].split()) > _BOX_BIO_MAX_WORDS:
            continue
        labels[bio] = Label(BIO, REASON_BIO_UNDER_HEADING, STEP)
        names[bio] = [name]


@functools.cache
def _author_box_footers() -> tuple[tuple[str, ...], frozenset[str]]:
    """The author-box footer phrases, case-folded, longest first, a space after each (``author_box_footers.txt``),
    and their first two characters as a line prints them (as written, capitalised, in capitals)."""
    phrases = {" ".join(p.split()).casefold() for p in _data_lines("author_box_footers.txt")}
    heads = frozenset(form[:2] for p in phrases for form in (p, p.capitalize(), p.upper()))
    # each with the space before the name: a str.startswith test of all of them at once
    return tuple(p + " " for p in sorted(phrases, key=len, reverse=True)), heads


def _named_above(paragraphs: list[str], line: int, names: list[str]) -> bool:
    """Whether a line above ``line`` names one of ``names`` (by its last word, the surname)."""
    surnames = [name.split()[-1] for name in names if name.split()]
    return any(surname in paragraphs[k] for k in range(line) for surname in surnames)


def _candidate_lines(paragraphs: list[str], text: str | None, clue: str) -> list[int]:
    if text is None:
        return [i for i, p in enumerate(paragraphs) if clue in p]
    return lines_containing(text, clue)


@functools.cache
def _credit_prefixes() -> tuple[str, ...]:
    """The first words of the credit phrases (a colon dropped): what a credit line starts with."""
    _, first_words = _credit_phrases()
    return tuple(sorted({w.rstrip(":") for w in first_words}))


@functools.cache
def _credit_prefix_heads() -> frozenset[str]:
    """The first two characters of the credit phrases' first words."""
    return frozenset(p[:2] for p in _credit_prefixes())


_INDENT = frozenset(" \t\u3000\u00a0")

# How far down the page head the search for bylines goes, and how many last lines the search for end credits
# looks at: credits run on every document, so only the head (up to where the running text starts) and the last
# lines are looked at line by line, never the whole text.
_HEAD_LINES = 100
_TAIL_LINES = 16


# What a tip line starts with (`Have a tip? NAME may be reached at ...`).
_HAVE_A_TIP = "Have a tip?"


@functools.cache
def _start_heads() -> frozenset[str]:
    """The first two characters of the credit phrases' first words, a translator credit's and a tip line's."""
    return _credit_prefix_heads() | {start[:2] for start in (*_TRANSLATOR_STARTS, _HAVE_A_TIP)}


@functools.cache
def _short_line_heads() -> frozenset[str]:
    """The first two characters of what starts only a short line (:data:`_SHORT_LINE_CHARS`): a credit phrase after a
    bracket ("(Foto: NAME)", :func:`_label_photo_credits`) and an author box's footer ("View all posts by NAME")."""
    copyright_heads = {"© ", "(©"}  # `© NAME` under a picture (:func:`_label_photo_credits`)
    bracketed = {"(" + head[:1] for head in _credit_prefix_heads()}
    return frozenset(bracketed | copyright_heads | _author_box_footers()[1]) - _start_heads()


@functools.cache
def _all_start_heads() -> frozenset[str]:
    """:func:`_start_heads` and :func:`_short_line_heads`: what makes a line worth a second look."""
    return _start_heads() | _short_line_heads()


#: The most characters of a line that only :func:`_short_line_heads` make a start candidate (a body paragraph starting
#: "Al..." or "Se..." is longer, and is not looked at).
_SHORT_LINE_CHARS = 160


#: A photo credit line anywhere on the page has at most this many words.
_PHOTO_CREDIT_WORDS = 12


def _label_photo_credits(
    paragraphs: list[str],
    starts: list[int],
    labels: dict[int, Label],
    names: dict[int, list[str]],
    contributors: dict[int, list[tuple[str, str]]],
) -> None:
    """A photo credit naming a person anywhere on the page ("Foto: NAME/AGENCY", "(Photo: NAME)" under a picture in
    the middle of the text): a contributor, ``photo``. The head and the last lines had every credit form looked for;
    elsewhere only this one, on the start candidates (a bracket first is one)."""
    prefixes = _photo_prefixes()
    heads = _photo_heads()
    for i in starts:
        # a set look-up of the first two characters before the prefixes (a byline's `By` fails here)
        if paragraphs[i].lstrip()[:2] not in heads or i in labels:
            continue
        line = paragraphs[i].strip()
        if not line.startswith(prefixes) or len(line) > _SHORT_LINE_CHARS or more_words_than(line, _PHOTO_CREDIT_WORDS):
            continue
        persons = photo_credit(line)
        if persons:
            _record(labels, names, contributors, i, ROLE_PHOTO, persons, REASON_CONTRIBUTED)


@functools.cache
def _photo_heads() -> frozenset[str]:
    """The first two characters of :func:`_photo_prefixes`; ``©`` then a space (the start candidates' head)."""
    return frozenset({p[:2] for p in _photo_prefixes() if len(p) >= 2} | {"© "})


@functools.cache
def _photo_prefixes() -> tuple[str, ...]:
    """The first words of the photo-credit phrases, as printed and after a bracket (a line's start test)."""
    by_first, _ = _credit_phrases()
    words = {w for w, phrases in by_first.items() if any(role == ROLE_PHOTO for _, role in phrases)}
    words = {w.rstrip(":") for w in words}
    forms = {form for w in words for form in (w, "(" + w, w.upper(), "(" + w.upper())}
    return tuple(sorted(forms | {"©", "(©"}))  # `© NAME` under a picture: a credit without a phrase


def _start_candidates(paragraphs: list[str]) -> list[int]:
    """The lines that may start, once stripped, with the first word of a credit phrase or of a translator credit,
    or start a tip line: their first two characters are those of such a word, or they start with whitespace; and
    the short lines that may be a bracketed photo credit or an author box's footer. One pass over the lines (a set
    lookup a line), which the byline, tip, translator, photo-credit and author-box searches share."""
    heads, any_heads = _start_heads(), _all_start_heads()
    found = [k for k, line in enumerate(paragraphs) if line[:2] in any_heads or line[:1].isspace()]
    # a line with a short-line head only stays when short (a few lines a page get this far)
    return [k for k in found if (p := paragraphs[k])[:2] in heads or len(p) <= _SHORT_LINE_CHARS or p[:1].isspace()]


def _head_end(paragraphs: list[str], first: int, labels: Mapping[int, Label]) -> int:
    """Where the page head ends: after :data:`_HEAD_LINES` lines from ``first`` as a second run would read them,
    without the ``labels``' lines and with the blank-line runs their removal makes collapsed (normalize's rule), so
    a second run's head holds no line this run's did not (``clean(clean(x)) == clean(x)``)."""
    n = len(paragraphs)
    if n - first <= _HEAD_LINES:
        return n
    count = 0
    previous_blank = True  # a blank line at the start goes
    for k in range(first, n):
        if k in labels:
            continue
        blank = not paragraphs[k] or paragraphs[k].isspace()
        if blank and previous_blank:
            continue
        previous_blank = blank
        count += 1
        if count == _HEAD_LINES:
            return k + 1
    return n


def _credit_candidates(
    paragraphs: list[str],
    first: int,
    starts: list[int] | None = None,
    text: str | None = None,
    head: tuple[int, int] | None = None,
) -> list[int]:
    """The lines that start with the first word of a credit phrase, among the lines of the page head (``head``,
    ``(start, end)``: by default from ``first`` to :func:`_head_end`) and the last :data:`_TAIL_LINES` lines; and
    among those last lines, the ones that say `contributed` or start `Have a tip?` (end-of-article credits) and are
    short enough for such a credit. ``starts``: :func:`_start_candidates`, and ``text``: the lines joined, when the
    caller has them."""
    prefixes = _credit_prefixes()
    head_start, past_head = head if head is not None else (first, _head_end(paragraphs, first, {}))
    if starts is None:
        starts = _start_candidates(paragraphs)
    found = _head_candidates(paragraphs, starts, head_start, past_head)
    # The last lines: `Have a tip? ...` (a start candidate) and `NAME contributed ...` (not looked for line by line in
    # a text without the word), each on a line short enough for it; a credit phrase past the head.
    n = len(paragraphs)
    last = max(first, n - _TAIL_LINES)
    tail = {k for k in starts if k >= last and paragraphs[k].startswith(_HAVE_A_TIP) and _short_credit(paragraphs[k])}
    if text is None or "contributed" in text:
        tail.update(k for k in range(last, n) if "contributed" in paragraphs[k] and _short_credit(paragraphs[k]))
    if n > past_head:
        tail.update(k for k in range(max(last, past_head), n) if paragraphs[k].lstrip().startswith(prefixes))
    return found + sorted(tail)


# `NAME contributed to this report.` and `Have a tip? NAME may be reached ...` are credits only on a line of at
# most this many characters, stripped.
_SHORT_CREDIT_CHARS = 300


def _head_candidates(paragraphs: list[str], starts: list[int], start: int, end: int) -> list[int]:
    """The start candidates in lines ``start``..``end`` that start with a credit phrase's first word, tested as
    every line there would be."""
    prefixes = _credit_prefixes()
    heads = _credit_prefix_heads()
    return [
        k
        for k in starts
        if start <= k < end
        and (
            ((line := paragraphs[k])[:2] in heads and line.startswith(prefixes))
            or (line[:1] in _INDENT and line.lstrip().startswith(prefixes))
        )
    ]


def _short_credit(line: str) -> bool:
    """Whether ``line``, stripped, is short enough for a contributor or tip credit."""
    return len(line) <= _SHORT_CREDIT_CHARS or len(line.strip()) <= _SHORT_CREDIT_CHARS


def _body_start(paragraphs: list[str], start: int, end: int) -> int:
    """Where the running text starts, if it starts between ``start`` and ``end``: the first of two paragraphs of
    running text in a row (a standfirst alone, between the title and the byline, is no start); else ``end``."""
    previous = None
    for k in range(start, end):
        line = paragraphs[k].strip()
        if not line:
            continue
        if _body_paragraph(line):
            if previous is not None:
                return previous
            previous = k
        else:
            previous = None
    return end


def _label_bylines(
    paragraphs: list[str],
    first: int,
    text: str | None,
    labels: dict[int, Label],
    names: dict[int, list[str]],
    contributors: dict[int, list[tuple[str, str]]],
    options: CreditsOptions,
    starts: list[int] | None = None,
) -> None:
    """Label the credit-phrase lines: `By NAME` lines before the first paragraph of running text (the first line,
    the line under the title, or a line further down the page head: where the running text starts is the first
    of two paragraphs of running text in a row, so a standfirst between the title and the byline is no start),
    and the explicit credit lines (`Posted by`, `Autor:`, `Photo:`, `Additional reporting by ...`) in the head
    and among the last lines, with `NAME contributed to this report.` and `Have a tip? ...`; then a signature
    (`– NAME`, `NAME, Place`) at the end."""
    body_start = first  # the running text starts at body_start or later: known up to `scanned`
    scanned = first
    if starts is None:
        starts = _start_candidates(paragraphs)
    head_end = _head_end(paragraphs, first, {})
    for i in _growing_candidates(paragraphs, first, starts, text, head_end, labels):
        if i in labels or i >= len(paragraphs):
            continue
        line = paragraphs[i].strip()
        if len(line) > options.max_line_chars or i in labels:
            continue
        if line.startswith(_HAVE_A_TIP):
            match = HAVE_A_TIP_RE.match(line) if len(line) <= _SHORT_CREDIT_CHARS else None
            if match and name_evidence(match["name"]):
                labels[i] = Label(BYLINE, REASON_HAVE_A_TIP, STEP)
                names[i] = [_display_name(_latin_name(match["name"]))]
            continue
        if "contributed" in line:
            pairs = contributor_credits(line) if len(line) <= _SHORT_CREDIT_CHARS else None
            if pairs:
                labels[i] = Label(BYLINE, REASON_CONTRIBUTED, STEP)
                names[i] = []
                contributors[i] = pairs
            continue
        credit = phrase_credit(line) if ";" not in line else None
        if credit is None:
            pairs = contributor_credits(line) if ";" in line else None
            if pairs:
                labels[i] = Label(BYLINE, REASON_CONTRIBUTED, STEP)
                names[i] = []
                contributors[i] = pairs
            continue
        role, found, next_line = credit
        if role == ROLE_TRANSLATOR:
            continue
        if next_line:
            j = _next_filled(paragraphs, i + 1)
            if j is None or j in labels or j - i > 2:
                continue
            found = _credit_names(paragraphs[j].strip()) if len(paragraphs[j]) <= 200 else []
            if not found:
                continue
            labels[i] = Label(BYLINE, REASON_CREDIT_PHRASE, STEP)
            names[i] = []
            _record(labels, names, contributors, j, role, found, REASON_NAME_AFTER_PHRASE)
            continue
        if line.split(None, 1)[0] in _BY_WORDS:
            # `By NAME`: only in the head of the page, before the running text starts.
            if scanned < i:
                body_start = _body_start(paragraphs, scanned, i)
                scanned = i if body_start == i else len(paragraphs)
            if body_start < i:
                continue
            if i == first:
                reason = REASON_BY_NAME
            elif _next_filled(paragraphs, first + 1) == i and _title_like(paragraphs[first]):
                reason = REASON_BY_NAME_UNDER_TITLE
            else:
                reason = REASON_BY_NAME_BEFORE_BODY
            _record(labels, names, contributors, i, role, found, reason)
            continue
        _record(labels, names, contributors, i, role, found, REASON_CREDIT_PHRASE)

    _unlabel_listing_bylines(paragraphs, labels, names)

    # A signature closes the text: `– NAME` or `NAME, Place` among the last lines, with only furniture after it
    # (`NAME, Place` right under a finished sentence, the end of the letter).
    i = len(paragraphs) - 1
    seen = 0
    while i >= 0 and seen < 4:
        line = paragraphs[i].strip()
        if line:
            seen += 1
            if i in labels or len(line) > 80:
                break
            match = None
            if line[:1] in "—–-":
                match = SIGNATURE_RE.match(line)
            elif "," in line and not more_words_than(line, 6):
                above = _previous_filled(paragraphs, i)
                if above is not None and ends_sentence(paragraphs[above].strip()):
                    match = SIGNATURE_PLACE_RE.match(line)
            if match and name_evidence(match["name"]):
                labels[i] = Label(BYLINE, REASON_SIGNATURE, STEP)
                names[i] = [_display_name(_latin_name(match["name"]))]
                break
            if line[:1] in "—–-" or not _furniture(line):
                break
        i -= 1


# A page's head with author credit lines in this many places or more, apart, naming two people or more, is a list
# of other articles (`headline / By NAME / preview`, `Autor: NAME, Datum: ...`), not the page's byline.
_LISTING_BYLINE_GROUPS = 3


def _unlabel_listing_bylines(paragraphs: list[str], labels: dict[int, Label], names: dict[int, list[str]]) -> None:
    """Take back the author labels of a listing's bylines (see :data:`_LISTING_BYLINE_GROUPS`); a byline on the
    page's first lines (`by_name_first_line`, `by_name_under_title`) stays the page's own."""
    authored = sorted(
        i for i, label in labels.items() if label.kind == BYLINE and label.reason in _LISTING_REASONS and names.get(i)
    )
    if len(authored) < _LISTING_BYLINE_GROUPS:
        return
    groups: list[list[int]] = []
    for i in authored:
        # lines with only blank or labelled lines between them are one byline (`By A` / `By B`)
        if groups and all(k in labels or not paragraphs[k].strip() for k in range(groups[-1][-1] + 1, i)):
            groups[-1].append(i)
        else:
            groups.append([i])
    people = {n.casefold() for i in authored for n in names[i]}
    if len(groups) < _LISTING_BYLINE_GROUPS or len(people) < 2:
        return
    for i in authored:
        del labels[i]
        del names[i]


_LISTING_REASONS = frozenset({REASON_BY_NAME_BEFORE_BODY, REASON_CREDIT_PHRASE})


def _growing_candidates(
    paragraphs: list[str], first: int, starts: list[int], text: str | None, head_end: int, labels: dict[int, Label]
) -> Iterator[int]:
    """:func:`_credit_candidates`, the head growing by the lines labelled in it as they are labelled: a second run,
    on the text without them, reads that much further down (:func:`_head_end`)."""
    seen: set[int] = set()
    for i in [*_credit_candidates(paragraphs, first, starts, text, (first, head_end)), None]:
        # before a line past the head (and at the end): the lines the labels so far let into the head
        while (i is None or i >= head_end) and (grown := _head_end(paragraphs, first, labels)) > head_end:
            for k in _head_candidates(paragraphs, starts, head_end, grown):
                seen.add(k)
                yield k
            head_end = grown
        if i is not None and i not in seen:
            seen.add(i)
            yield i


def _previous_filled(paragraphs: list[str], start: int) -> int | None:
    """The index of the last non-blank line before ``start``."""
    for i in range(start - 1, -1, -1):
        if paragraphs[i].strip():
            return i
    return None


def _record(
    labels: dict[int, Label],
    names: dict[int, list[str]],
    contributors: dict[int, list[tuple[str, str]]],
    i: int,
    role: str,
    found: list[str],
    reason: str,
) -> None:
    labels[i] = Label(BYLINE, reason, STEP)
    if role == ROLE_AUTHOR:
        names[i] = found
    else:
        names[i] = []
        contributors[i] = [(n, role) for n in found]


#: The role of a machine-translation service named as a text's translator (`Translated by DeepL`).
ROLE_MACHINE_TRANSLATION = "machine_translation"
# Services whose name in a translator credit means the text was machine-translated (casefolded, whole name).
_MACHINE_TRANSLATION_SERVICES = frozenset(
    s.casefold()
    for s in (
        "Google", "Google Translate", "DeepL", "DeepL Translator", "Bing", "Bing Translator", "Microsoft Translator",
        "Yandex", "Yandex Translate", "Baidu Translate", "Papago", "ChatGPT", "AI", "machine translation",
    )
)  # fmt: skip


def _machine_translation(name: str) -> bool:
    return name.casefold() in _MACHINE_TRANSLATION_SERVICES


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
    bylined: frozenset[str] | set[str] = frozenset(),
    page_authors: frozenset[str] | set[str] = frozenset(),
) -> None:
    """Label the bio lines that end right before ``anchor``, stepping over blank lines and other credits, and
    over one section label between the credits and the tail ("More opinion", "Related"); at the end of the text,
    over up to :data:`_MAX_FURNITURE_LINES` lines of page furniture ("Share this", "@handle", "Tags: ...").

    A role bio not right before a translator credit needs corroboration (:func:`_corroborated`); a bio whose
    predicate names no role counts when the byline names its subject."""
    taken = 0
    headings = 0
    furniture = 0
    i = anchor - 1
    # before the tail as at the end: once the tail is cut, that is the end (a second run must find nothing new)
    at_end = reason in (REASON_BIO_AT_END, REASON_BIO_BEFORE_TAIL)
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
            if label.kind == BYLINE and label.reason in _END_CREDIT_REASONS:
                i -= 1  # a contributor line or signature under the bio
                continue
            break
        if taken == 0 and headings == 0 and furniture == 0 and _section_label(line):
            headings += 1
            i -= 1
            continue
        found = _bio(line, options)
        if (
            found is not None
            and reason != REASON_BIO_BEFORE_TRANSLATOR
            and taken == 0
            and not _corroborated(paragraphs, i, line, found, bylined, labels, page_authors)
        ):
            found = None
        if found is None and bylined and line[:1].isupper() and not line.startswith(_NOT_BIO_FIRST):
            found = _bylined_bio(line, options, bylined)
        if found is None:
            # Not a bio: page furniture under the last block is stepped over (a bio's own handle, `... writer
            # for FiveThirtyEight. @perrybaconjr`, makes it look unfinished, so the bio test comes first).
            if at_end and taken == 0 and furniture < _MAX_FURNITURE_LINES and _furniture(line):
                furniture += 1
                i -= 1
                continue
            break
        labels[i] = Label(BIO, REASON_BIO_BEFORE_FURNITURE if furniture else reason, STEP)
        # What _shape says of the line: a byline or translator shape comes before the bio shape there.
        names[i] = _shape(line, options)[1] if line.startswith(_NOT_BIO_FIRST) else found
        taken += 1
        i -= 1


#: A page with this many name-and-bio pairs holds a list of profiles (an article's), not author boxes.
_PROFILE_LIST_NAMES = 3
#: The most characters of a line that is only a name.
_NAME_LINE_CHARS = 40


def _label_name_boxes(
    paragraphs: list[str],
    short: list[int],
    labels: dict[int, Label],
    names: dict[int, list[str]],
    options: CreditsOptions,
) -> None:
    """An author box without a heading, anywhere on the page: a line that is only a person's name (name evidence),
    then a role bio whose subject is that name or its first name (`David Brand` / `David is a reporter covering
    housing for ...`); both lines are the bio. The role is what tells an author's note from an article's profile
    of someone (`Chloe Kim` / `Chloe ist eine Freestyle-Snowboarderin ...`), and three or more such pairs on a page
    are a list of profiles, left alone."""
    pairs = []
    last = len(paragraphs) - 1
    for i in short:
        # the cheap tests first: a name line, and under it (often right under it) a line starting with its first
        # letter; a headline or a byline over a paragraph fails here
        head = paragraphs[i][:1]
        if i == last or not head.isupper() or (paragraphs[i + 1] and paragraphs[i + 1][:1] != head):
            continue
        words = paragraphs[i].split()
        if not 2 <= len(words) <= 4 or not all(w[:1].isupper() for w in words[1:]):
            continue  # a name's words are capitalised ("The time is now" is a headline)
        j = _next_filled(paragraphs, i + 1)
        if j is None:
            continue
        line = paragraphs[j].strip()
        if not line.startswith(words[0]) or i in labels or j in labels:
            continue
        name = " ".join(words)
        subject = next((s for s in (name, words[0]) if line.startswith((s + " ", s + ","))), None)
        if subject is not None and _NAME_FULL_RE.match(name) and name_evidence(name):
            pairs.append((i, j, name, name + line[len(subject) :]))
    if not pairs or len({name for _, _, name, _ in pairs}) >= _PROFILE_LIST_NAMES:
        return
    for i, j, name, line in pairs:
        found = _bio(line, options)
        if found == [name]:
            for k in (i, j):
                labels[k] = Label(BIO, REASON_BIO_UNDER_NAME, STEP)
                names[k] = [name]


def _label_page_author_bios(
    paragraphs: list[str],
    labels: dict[int, Label],
    names: dict[int, list[str]],
    options: CreditsOptions,
    page_authors: frozenset[str] | set[str],
    heads: tuple[str, ...],
) -> None:
    """Label, anywhere in the text, a bio whose subject the page's own byline names: the author's note a full page
    keeps between the article and its footer (`Perry Bacon Jr. is a senior writer for FiveThirtyEight.` above tags,
    menus and related headlines, too far from the end for :func:`_label_bios_before`). Only a line that starts
    with an author's name as written (``heads``: each name and a space) is looked at; the article does not
    describe its own author in the third person."""
    for i, paragraph in enumerate(paragraphs):
        if not paragraph.startswith(heads) or i in labels:
            continue
        line = paragraph.strip()
        found = _bio(line, options)
        if not (found and any(n.casefold() in page_authors for n in found)):
            found = _bylined_bio(line, options, page_authors)
        if found:
            labels[i] = Label(BIO, REASON_BIO_OF_PAGE_AUTHOR, STEP)
            names[i] = found


def _names_a_line_above(paragraphs: list[str], labels: dict[int, Label], names: set[str]) -> bool:
    """Whether one of the few lines above a bio block starts with one of ``names`` (casefolded): only then can a
    second look at the bio positions find more (most texts have one bio line, or none)."""
    for i, label in labels.items():
        if label.kind != BIO or (i - 1 in labels and labels[i - 1].kind == BIO):
            continue
        seen = 0
        j = i - 1
        while j >= 0 and seen < 3:
            line = paragraphs[j].strip()
            if line:
                seen += 1
                if j not in labels and line.casefold().startswith(tuple(names)):
                    return True
            j -= 1
    return False


# The bylines that say who wrote the page (`By NAME` at its head, `Written by:` and the name under it).
_PAGE_BYLINE_REASONS = frozenset(
    {
        REASON_BY_NAME,
        REASON_BY_NAME_UNDER_TITLE,
        REASON_BY_NAME_BEFORE_BODY,
        REASON_CREDIT_PHRASE,
        REASON_NAME_AFTER_PHRASE,
    }
)
# The most lines of page furniture the search for an end bio steps over.
_MAX_FURNITURE_LINES = 8
# Credit lines that may stand between an end bio and the end of the text.
_END_CREDIT_REASONS = frozenset({"contributed_line", "signature_at_end", "have_a_tip", "credit_phrase_line"})


# ------------------------------------------------------------------------------------------------ the step


@dataclass(frozen=True)
class CreditsFound:
    """What :func:`find_credits` found in one text."""

    labels: dict[int, Label]
    authors: list[str]
    bylines: list[str]
    translators: list[str]
    contributors: list[dict[str, str]] = dataclasses.field(default_factory=list)


def find_credits(
    paragraphs: list[str],
    options: CreditsOptions | None = None,
    *,
    text: str | None = None,
    recurring: frozenset[str] = frozenset(),
    known_authors: frozenset[str] = frozenset(),
) -> CreditsFound:
    """Label the credits and collect the names they give, in text order, each name once (``text``: see
    :func:`label_credits`)."""
    options = options or DEFAULT_OPTIONS
    names: dict[int, list[str]] = {}
    pairs: dict[int, list[tuple[str, str]]] = {}
    labels = _label_credits(paragraphs, options, text, names, pairs, recurring, known_authors)
    authors: list[str] = []
    translators: list[str] = []
    bylines: list[str] = []
    contributors: list[dict[str, str]] = []
    for i in sorted(labels):
        bylines.append(paragraphs[i])
        (translators if labels[i].kind == TRANSLATOR else authors).extend(names[i])
        contributors.extend({"name": name, "role": role} for name, role in pairs.get(i, ()))
    return CreditsFound(labels, _unique(authors), bylines, _unique(translators), _unique_contributors(contributors))


def _unique_contributors(contributors: list[dict[str, str]]) -> list[dict[str, str]]:
    seen: dict[tuple[str, str], dict[str, str]] = {}
    for c in contributors:
        seen.setdefault((c["name"], c["role"]), c)
    return list(seen.values())


#: How many of a document's last non-blank lines the author-recurrence pass looks at.
_RECURRENCE_LINES = 12


def hash_line(line: str) -> int:
    """A stable 64-bit hash of a line, whitespace folded (partial states from other processes must agree)."""
    return int.from_bytes(
        hashlib.blake2b(" ".join(line.split()).encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big"
    )


class BioRecurrence(CorpusPass):
    """The credits step's corpus pass: the bio-shaped lines at the end of documents, counted across the corpus by
    their words; one found word for word in ``min_bio_recurrence`` documents is an author's note (a columnist's
    bio closes each of their pieces), and its subject is corroborated as an author the way a byline's names are.
    A sentence about a public figure at the end of many articles says something different each time: it does not
    recur word for word."""

    after = ("normalize",)

    def start(self, options: CreditsOptions) -> dict[int, tuple[int, list[str]]]:
        return {}  # a bio line's 64-bit hash -> (documents it ends, the names it credits)

    def add(self, state: dict[int, tuple[int, list[str]]], doc: Doc) -> None:
        seen: set[int] = set()
        lines = [line.strip() for line in doc.lines[-4 * _RECURRENCE_LINES :] if line.strip()][-_RECURRENCE_LINES:]
        for line in lines:
            if line[:1].islower() or len(line) > DEFAULT_OPTIONS.max_line_chars:
                continue
            # the shape, whatever this run's options: a bio, or a sentence about a named person; only a line of
            # that shape is hashed (hashing every last line was a tenth of a default clean's time)
            found = _bio(line, DEFAULT_OPTIONS, require_role=False) or (
                [subject] if (subject := subject_name(line)) else None
            )
            if found:
                key = hash_line(line)
                if key in seen:
                    continue
                seen.add(key)
                count, names = state.get(key, (0, found))
                state[key] = (count + 1, names)

    def merge(
        self, state: dict[int, tuple[int, list[str]]], other: dict[int, tuple[int, list[str]]]
    ) -> dict[int, tuple[int, list[str]]]:
        for key, (count, names) in other.items():
            state[key] = (state.get(key, (0, names))[0] + count, names)
        return state

    def finish(self, state: dict[int, tuple[int, list[str]]], options: CreditsOptions) -> frozenset[str]:
        return frozenset(
            name.casefold() for count, names in state.values() if count >= options.min_bio_recurrence for name in names
        )


class Credits(Step):
    """The ``credits`` step: cut credit lines from the text and record them in metadata."""

    name = STEP
    Options = CreditsOptions
    summary = "Move bylines, author bios and translator credits out of the text into metadata."
    metadata = {
        "authors": "list[string]",
        "bylines": "list[string]",
        "translators": "list[string]",
        "contributors": "list[contributor]",
    }
    reasons = {
        REASON_BY_NAME: "a 'By NAME' line at the top",
        REASON_BY_NAME_UNDER_TITLE: "a 'By NAME' line under the title",
        REASON_TRANSLATED_BY: "a 'Translated by NAME' line",
        REASON_BIO_BEFORE_TRANSLATOR: "an author bio right above a translator credit",
        REASON_BIO_BEFORE_TAIL: "an author bio right above the teaser tail",
        REASON_BIO_AT_END: "an author bio at the end of the text",
        REASON_BIO_BEFORE_FURNITURE: "an author bio in the last block, with page furniture after it",
        REASON_BIO_UNDER_HEADING: "an author bio under an 'About the author' heading",
        REASON_BIO_OF_PAGE_AUTHOR: "an author bio about the page's bylined author, with page furniture after it",
        REASON_BIO_UNDER_NAME: "an author box: a name alone on its line, then a role bio of that person",
        REASON_BY_NAME_BEFORE_BODY: "a byline in the page head, before the running text",
        REASON_CREDIT_PHRASE: "a credit phrase ('Written by:') whose name is on the next line",
        REASON_NAME_AFTER_PHRASE: "the name under a credit phrase",
        REASON_CONTRIBUTED: "a contributor credit ('NAME contributed to this report', 'Photo: NAME')",
        REASON_HAVE_A_TIP: "'Have a tip? NAME may be reached at ...'",
        REASON_SIGNATURE: "a signature ('- NAME', 'NAME, City') at the end of a letter",
        REASON_MACHINE_TRANSLATED: "a machine-translation credit ('Translated by Google'): no translator's",
        BLANK_LINE: BLANK_LINE_REASON,
    }
    kinds = {
        REASON_BY_NAME: BYLINE,
        REASON_BY_NAME_UNDER_TITLE: BYLINE,
        REASON_TRANSLATED_BY: TRANSLATOR,
        REASON_BIO_BEFORE_TRANSLATOR: BIO,
        REASON_BIO_BEFORE_TAIL: BIO,
        REASON_BIO_AT_END: BIO,
        REASON_BIO_BEFORE_FURNITURE: BIO,
        REASON_BIO_UNDER_HEADING: BIO,
        REASON_BIO_OF_PAGE_AUTHOR: BIO,
        REASON_BIO_UNDER_NAME: BIO,
        REASON_BY_NAME_BEFORE_BODY: BYLINE,
        REASON_CREDIT_PHRASE: BYLINE,
        REASON_NAME_AFTER_PHRASE: BYLINE,
        REASON_CONTRIBUTED: BYLINE,
        REASON_HAVE_A_TIP: BYLINE,
        REASON_SIGNATURE: BYLINE,
        REASON_MACHINE_TRANSLATED: TRANSLATOR,
    }
    order = 200

    corpus_pass = BioRecurrence()

    def label(self, doc: Doc) -> Labels:
        authors = doc.metadata.get("authors")
        known = (
            frozenset(n.casefold() for n in authors if isinstance(n, str)) if isinstance(authors, list) else frozenset()
        )
        found = find_credits(
            doc.lines, self.options, text=doc.text, recurring=self.state or frozenset(), known_authors=known
        )
        return Labels(doc, cuts={i: label.reason for i, label in found.labels.items()}, found=found)

    def record_found(self, metadata: dict[str, Any], labels: Labels) -> None:
        found: CreditsFound = labels.found
        # A second run (or a dry run then a real one) adds to what is there instead of wiping it.
        metadata["authors"] = _merge(metadata, "authors", found.authors)
        # `bylines` lists the lines removed from the text: a dry run removes none.
        metadata["bylines"] = _merge(metadata, "bylines", [] if self.dry_run else found.bylines)
        metadata["translators"] = _merge(metadata, "translators", found.translators)
        metadata["contributors"] = _merge_contributors(metadata, found.contributors)


def _merge_contributors(metadata: dict[str, Any], new: list[dict[str, str]]) -> list[dict[str, str]]:
    """``metadata.contributors``: ``[{"name": str, "role": str}]``, what was there first, each pair once."""
    old = metadata.get("contributors")
    if old is None:
        return new
    if not isinstance(old, list) or not all(
        isinstance(c, dict) and isinstance(c.get("name"), str) and isinstance(c.get("role"), str) for c in old
    ):
        raise RecordError('metadata.contributors is not a list of {"name", "role"} objects')
    return _unique_contributors([*old, *new])


def _merge(metadata: dict[str, Any], key: str, new: list[str]) -> list[str]:
    """What was there first, then ``new``: names each once; ``bylines`` (the removed lines, verbatim) every one, as
    a first run records them, so a second run that finds nothing leaves the list as it was."""
    old = metadata.get(key)
    if old is None:
        return new
    if not isinstance(old, list) or not all(isinstance(x, str) for x in old):
        raise RecordError(f"metadata.{key} is not a list of strings")
    if key == "bylines":
        return [*old, *new]
    return _unique([*old, *new])
