"""``check``: is this corpus clean? Rules over a stream of records, for CI gates.

Rules are data: each :class:`Rule` has a name (what ``--ignore``/``--warn``/``--error`` take), a default severity,
a short stable reason (the summary line, the JSON field, the test assertion) and a factory that builds a fresh
streaming checker for one run. A checker looks at one record at a time and returns its hits; the only state kept
across records is the 16-byte digests of ids and texts (duplicate rules) and the JSON type of each key path seen
(``types``), so a corpus of any size is checked in constant memory apart from those.

What is a finding and what is unusable input:

- a line that is JSON is a record to check: a value that breaks the record contract (not an object, ``text`` not a
  string, ``metadata.authors`` not a list of strings, ...) is a finding of the ``schema`` rule (exit 1);
- a line with a lone surrogate (``"\\ud800"``: valid JSON grammar, not valid Unicode; orjson refuses it) or with
  bytes that are not UTF-8 is checked too, and the ``unicode`` rule reports it (exit 1);
- a line that is not JSON at all, or a file that cannot be read, is unusable input: ``error: FILE:LINE: ...`` and
  exit 2, as in every other command; with ``--on-error skip`` (``on_unusable``) it is skipped and is a finding of
  the ``unusable-input`` rule (exit 1), so a gate never passes a corpus it could not read whole.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import html.entities
import json
import re
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import orjson

from corpus_tools.errors import ConfigError, InputError, below_bounds
from corpus_tools.io import STDIN, Item, read_items
from corpus_tools.labels import split_paragraphs
from corpus_tools.records import INEXACT_NUMBER, json_type

DIGEST_SIZE = 16  # bytes of blake2b per id / text: collisions are negligible far beyond any corpus size


class Severity(str, enum.Enum):
    """What a rule's findings do to the exit code."""

    error = "error"  # reported, exit code 1
    warning = "warning"  # reported, exit code unchanged
    off = "off"  # not run


@dataclass(frozen=True)
class CheckOptions:
    """Which rules run at which severity, and their thresholds. The ``[check]`` table of a TOML config.

    ``ignore``/``warn``/``error`` name rules (see :data:`RULES`) whose default severity is changed; a rule may be
    in one of them only. Every threshold is at least 1 (a threshold of 0 would make every record a finding, or
    none: to turn a rule off, ``ignore`` it); ``max_findings`` is at least 0 (0 keeps all); every integer is below
    2**63 (reports are JSON, written with 64-bit integers). A value out of its range, or an unknown rule, is a
    :class:`ConfigError` naming the option.
    """

    ignore: tuple[str, ...] = ()
    warn: tuple[str, ...] = ()
    error: tuple[str, ...] = ()
    # empty-text: a text with fewer non-whitespace characters than this is a finding (1: only empty ones).
    min_chars: int = 1
    # mojibake: a record is a finding when at least this many of its paragraphs look like mojibake.
    mojibake_min_paragraphs: int = 1
    # html-entities: a record is a finding when its text holds at least this many entities.
    entities_min: int = 1
    # credit-lines: a record is a finding when at least this many credit lines are left in its text.
    credit_min_lines: int = 1
    # teaser-tail: a record is a finding when its tail still has at least this many teaser paragraphs.
    teaser_min_paragraphs: int = 1
    # findings kept per rule for the report (counts are always exact); 0 keeps all (memory grows with them).
    max_findings: int = 50

    def __post_init__(self) -> None:
        # Every violated option gets its own message, all of them in one error.
        bounds = (
            ("min_chars", 1),
            ("mojibake_min_paragraphs", 1),
            ("entities_min", 1),
            ("credit_min_lines", 1),
            ("teaser_min_paragraphs", 1),
            ("max_findings", 0),
        )
        problems = below_bounds(self, bounds)
        claimed: dict[str, str] = {}
        for attr in ("ignore", "warn", "error"):
            for name in getattr(self, attr):  # RULE_NAMES is defined below: looked up only when a rule is named
                if name not in RULE_NAMES:
                    problems.append(f"unknown rule {name!r} in {attr} (rules: {', '.join(RULE_NAMES)})")
                elif claimed.setdefault(name, attr) != attr:
                    problems.append(f"rule {name!r} is in both {claimed[name]!r} and {attr!r}")
        if problems:
            raise ConfigError("check: " + "; ".join(problems))


@dataclass(frozen=True, slots=True)
class Hit:
    """One thing a checker found in a record: a short detail and, when it is about one paragraph, its index."""

    detail: str
    paragraph: int | None = None


class Doc:
    """One record being checked, with where it came from; text and paragraphs are computed once, on demand."""

    def __init__(
        self,
        record: Any,
        source: str,
        line: int | None,
        text_field: str,
        problem: str | None = None,
        number_problem: str | None = None,
    ):
        self.record = record
        self.source = source
        self.line = line
        self.text_field = text_field
        self.problem = problem  # a decoding problem found while reading the line (the unicode rule reports it)
        # A number the other commands cannot carry (an integer beyond 64 bits; the schema rule reports it).
        self.number_problem = number_problem

    @property
    def where(self) -> str:
        return self.source if self.line is None else f"{self.source}:{self.line}"

    @cached_property
    def id(self) -> str | None:
        value = self.record.get("id") if isinstance(self.record, dict) else None
        return value if isinstance(value, str) else None

    @property
    def id_value(self) -> Any:
        """The record's id, whatever its JSON type (``None`` when missing): what a finding names the record by."""
        return self.record.get("id") if isinstance(self.record, dict) else None

    @cached_property
    def text(self) -> str | None:
        value = self.record.get(self.text_field) if isinstance(self.record, dict) else None
        return value if isinstance(value, str) else None

    @cached_property
    def paragraphs(self) -> list[str]:
        return split_paragraphs(self.text) if self.text is not None else []


Checker = Callable[[Doc], list[Hit]]


@dataclass(frozen=True)
class Rule:
    """A check: ``make(options)`` returns a fresh checker (it may keep state across the records of one run)."""

    name: str
    severity: Severity
    reason: str
    make: Callable[[CheckOptions], Checker]
    doc: str = ""


# ------------------------------------------------------------------------------------------------ the rules


_CONTRACT_STRINGS = ("id", "source")


def _schema(options: CheckOptions) -> Checker:
    def check(doc: Doc) -> list[Hit]:
        record = doc.record
        if not isinstance(record, dict):
            return [Hit(f"a record must be a JSON object, not {json_type(record)}")]
        hits: list[Hit] = [Hit(doc.number_problem)] if doc.number_problem else []
        for key in (*_CONTRACT_STRINGS, doc.text_field):
            if key not in record:
                hits.append(Hit(f"missing {key!r}"))
            elif not isinstance(record[key], str):
                hits.append(Hit(f"{key!r} is {json_type(record[key])}, not a string"))
        if "metadata" not in record:
            hits.append(Hit("missing 'metadata'"))
            return hits
        metadata = record["metadata"]
        if not isinstance(metadata, dict):
            hits.append(Hit(f"'metadata' is {json_type(metadata)}, not an object"))
            return hits
        for key, (valid, what) in metadata_schema().items():
            if key in metadata and not valid(metadata[key]):
                hits.append(Hit(f"'metadata.{key}' must be {what}, got {_short_json(metadata[key])}"))
        return hits

    return check


def metadata_schema() -> dict[str, tuple[Callable[[Any], bool], str]]:
    """Each metadata key a registered step owns (and the runner's ``cuts``), with its test and its description."""
    from corpus_tools.registry import steps
    from corpus_tools.step import CUTS_TYPE, METADATA_TYPES

    schema = {"cuts": CUTS_TYPE}
    for step in steps():
        for key, type_name in step.metadata.items():
            schema[key] = METADATA_TYPES[type_name]
    return schema


class DigestTable:
    """A map from 16-byte digests to 8-byte values in about 32 bytes per entry (a ``dict`` costs ~133).

    Entries live packed in one append-only ``bytearray`` (24 bytes each: digest, value); an open-addressing index
    of 4-byte entry numbers (linear probing, kept between 1/3 and 2/3 full) finds them. Growing rehashes the
    packed entries, never empty slots.
    """

    ENTRY = DIGEST_SIZE + 8

    def __init__(self) -> None:
        self.entries = bytearray()
        self.index = array("I", bytes(4 * 1024))  # entry number + 1; 0 is an empty slot
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def setdefault(self, digest: bytes, value: int) -> int | None:
        """The value stored for ``digest``, or ``None`` after storing ``value`` (< 2**64) for it."""
        entries, index, size = self.entries, self.index, self.ENTRY
        mask = len(index) - 1
        slot = int.from_bytes(digest[:8], "little") & mask
        while True:
            number = index[slot]
            if not number:
                break
            offset = (number - 1) * size
            if entries[offset : offset + DIGEST_SIZE] == digest:
                return int.from_bytes(entries[offset + DIGEST_SIZE : offset + size], "little")
            slot = (slot + 1) & mask
        entries += digest
        entries += value.to_bytes(8, "little")
        self.size += 1
        index[slot] = self.size
        if 3 * self.size > 2 * len(index):
            self._grow()
        return None

    def _grow(self) -> None:
        index = array("I", bytes(8 * len(self.index)))
        mask = len(index) - 1
        entries, size = self.entries, self.ENTRY
        for number in range(1, self.size + 1):
            offset = (number - 1) * size
            slot = int.from_bytes(entries[offset : offset + 8], "little") & mask
            while index[slot]:
                slot = (slot + 1) & mask
            index[slot] = number
        self.index = index


class _FirstSeen:
    """Key -> where it was first seen: a 16-byte digest of the key and the place packed in 8 bytes (file number
    in the high 24 bits, line in the low 40), in a :class:`DigestTable`. No key text is kept."""

    def __init__(self) -> None:
        self.seen = DigestTable()
        self.sources: list[str] = []
        self._source_numbers: dict[str, int] = {}

    def add(self, key: str, doc: Doc) -> str | None:
        """Remember ``key``; return where it was first seen if it was seen before."""
        digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=DIGEST_SIZE).digest()
        number = self._source_numbers.get(doc.source)
        if number is None:
            number = len(self.sources)
        first = self.seen.setdefault(digest, (number << 40) + min(doc.line or 0, (1 << 40) - 1))
        if first is None:
            if number == len(self.sources):
                self._source_numbers[doc.source] = number
                self.sources.append(doc.source)
            return None
        number, line = divmod(first, 1 << 40)
        source = self.sources[number]
        return source if line == 0 else f"{source}:{line}"


def _duplicate_id(options: CheckOptions) -> Checker:
    seen = _FirstSeen()

    def check(doc: Doc) -> list[Hit]:
        if doc.id is None:
            return []
        first = seen.add(doc.id, doc)
        return [Hit(f"id {doc.id!r} first seen at {first}")] if first else []

    return check


def _duplicate_text(options: CheckOptions) -> Checker:
    seen = _FirstSeen()

    def check(doc: Doc) -> list[Hit]:
        # Empty texts are the empty-text rule's business; counting them here too would only add noise.
        if doc.text is None or not doc.text.strip():
            return []
        first = seen.add(doc.text, doc)
        return [Hit(f"same text as the record at {first}")] if first else []

    return check


def _empty_text(options: CheckOptions) -> Checker:
    def check(doc: Doc) -> list[Hit]:
        if doc.text is None:
            return []
        chars = _visible_chars(doc.text, options.min_chars)
        if chars >= options.min_chars:
            return []
        what = "empty" if not doc.text else "whitespace only" if chars == 0 else f"only {chars} characters"
        return [Hit(f"text is {what}")]

    return check


def _visible_chars(text: str, enough: int) -> int:
    """Non-whitespace characters in ``text``, counted only up to ``enough`` (a long text stops early)."""
    count = 0
    for char in text:
        if not char.isspace():
            count += 1
            if count >= enough:
                break
    return count


_SURROGATE = re.compile(r"[\ud800-\udfff]")
# Characters that do not belong in a text of one paragraph per line: C0 controls except tab and newline (a carriage
# return included: line breaks are \n), DEL, C1 controls. (The standard library's re scans a character class about
# three times faster than the regex module.)
_BAD_CHAR = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _unicode(options: CheckOptions) -> Checker:
    def check(doc: Doc) -> list[Hit]:
        hits: list[Hit] = []
        if doc.problem:
            hits.append(Hit(doc.problem))
        if _may_hold_surrogates(doc.record):
            for path, value in _strings(doc.record):
                match = _SURROGATE.search(value)
                if match:
                    hits.append(Hit(f"lone surrogate U+{ord(match.group()):04X} in {path}"))
        if doc.text is None or not _BAD_CHAR.search(doc.text):  # one scan of the whole text in the usual case
            return hits
        for index, paragraph in enumerate(doc.paragraphs):
            match = _BAD_CHAR.search(paragraph)
            if match:
                hits.append(Hit(f"control character U+{ord(match.group()):04X}", index))
        return hits

    return check


def _replacement_char(options: CheckOptions) -> Checker:
    """U+FFFD, the mark of bytes an earlier decoder could not read: what they were is lost, and no cleaning step
    can bring it back, so the record is told about (a warning), not failed (``--error replacement-char`` does)."""

    def check(doc: Doc) -> list[Hit]:
        if doc.text is None or "\ufffd" not in doc.text:
            return []
        return [Hit("replacement character U+FFFD", i) for i, p in enumerate(doc.paragraphs) if "\ufffd" in p]

    return check


def _may_hold_surrogates(record: Any) -> bool:
    """False when orjson can encode ``record``: it refuses lone surrogates, and it is far faster than a walk."""
    try:
        orjson.dumps(record)
    except TypeError:  # a surrogate, or (for records built in Python) a value that is not JSON: walk to see
        return True
    return False


def _strings(value: Any, path: str = "record") -> Iterator[tuple[str, str]]:
    """Every string in a JSON value (keys included), with its path."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str):
                yield f"a key of {path}", key
            yield from _strings(item, key if path == "record" else f"{path}.{key}")
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, f"{path}[]")


def _mojibake(options: CheckOptions) -> Checker:
    def check(doc: Doc) -> list[Hit]:
        if doc.text is None or not _loud_characters().search(doc.text):
            return []
        hits = [
            Hit(f"looks like mojibake: {_snippet(p)}", i)
            for i, p in enumerate(doc.paragraphs)
            if is_bad(p) and _repairable(p)
        ]
        return hits if len(hits) >= options.mojibake_min_paragraphs else []

    return check


# ftfy's badness regex is a long alternation tried at every position: ~0.5 us per character, the slowest thing
# check does. The search that gives its answer exactly while only looking around the characters a match needs is
# corpus_tools.mojibake's, the one normalize uses: plain news text with curly quotes and dashes costs one scan for
# a character class. (Imported when the rule first runs: it loads ftfy.)


def class_chars(fragment: str) -> set[str]:
    """The characters a regex character-class body such as ``"a-cxÒ-Ö"`` (no escapes) stands for."""
    from corpus_tools.mojibake import category_chars

    return {chr(c) for c in category_chars(fragment)}


@functools.cache
def _loud_characters() -> re.Pattern[str]:
    """The characters at least one of which every badness match holds (``corpus_tools.mojibake.SUSPECT``)."""
    from corpus_tools.mojibake import SUSPECT

    return SUSPECT


def _repairable(paragraph: str) -> bool:
    """Whether ftfy's encoding repair changes ``paragraph``: ftfy's badness test alone takes some correct text for
    mojibake (German quotes before a capital umlaut, `»Überall ...«`), which no repair changes."""
    import ftfy

    return ftfy.fix_encoding(paragraph) != paragraph


def is_bad(text: str) -> bool:
    """Exactly ``ftfy.badness.is_bad(text)``, searching only around the characters a match needs."""
    from corpus_tools.mojibake import is_bad

    return is_bad(text)


# Named entities (HTML5's list, with the semicolon, so "AT&T;" or "R&D;" are not taken for one), numeric
# entities, and the five legacy names scrapers most often leave without a semicolon ("Q&amp A"). The shape is
# matched first and the name looked up after: one alternation of all 2,000 names took 0.25 s to compile, which
# every `corpus-tools` process paid at start-up.
_ENTITY = re.compile(
    r"&(?:#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|([A-Za-z][A-Za-z0-9]{1,31});|(?:amp|lt|gt|quot|nbsp)(?![A-Za-z0-9;]))"
)


def _entities(paragraph: str) -> list[str]:
    return [m.group() for m in _ENTITY.finditer(paragraph) if m.group(1) is None or f"{m.group(1)};" in _HTML5]


_HTML5 = html.entities.html5


def _html_entities(options: CheckOptions) -> Checker:
    def check(doc: Doc) -> list[Hit]:
        hits: list[Hit] = []
        total = 0
        if doc.text is None or "&" not in doc.text:
            return hits
        for index, paragraph in enumerate(doc.paragraphs):
            if "&" not in paragraph:
                continue
            found = _entities(paragraph)
            if found:
                total += len(found)
                hits.append(Hit(f"HTML entit{'y' if len(found) == 1 else 'ies'} {' '.join(found[:5])}", index))
        return hits if total >= options.entities_min else []

    return check


def _credit_lines(options: CheckOptions) -> Checker:
    from corpus_tools import credits  # here: the rule's cost (regexes, word lists) is paid when it runs

    def check(doc: Doc) -> list[Hit]:
        if not doc.paragraphs:
            return []
        labels = credits.label_credits(doc.paragraphs)
        hits = [Hit(f"{labels[i].kind}: {_snippet(doc.paragraphs[i])}", i) for i in sorted(labels)]
        return hits if len(hits) >= options.credit_min_lines else []

    return check


def _teaser_tail(options: CheckOptions) -> Checker:
    from corpus_tools import teasers

    def check(doc: Doc) -> list[Hit]:
        paragraphs = doc.paragraphs
        if not paragraphs:
            return []
        start = teasers.tail_start(paragraphs)
        if start == len(paragraphs):
            return []
        # The teasers themselves, as the step labels them: blank lines and subheads inside the tail are no teasers.
        labels = teasers.label_teasers(paragraphs)
        count = sum(1 for i, label in labels.items() if i >= start and label.kind == teasers.TEASER)
        if count < max(1, options.teaser_min_paragraphs):
            return []
        plural = "s" if count > 1 else ""
        return [Hit(f"{count} teaser paragraph{plural} at the end: {_snippet(paragraphs[start])}", start)]

    return check


def _types(options: CheckOptions) -> Checker:
    # The JSON type of every key path seen first, and where: a key that is a number in one record and a string in
    # another is exactly what makes pyarrow's (and so HuggingFace datasets') JSON reader fail on a corpus.
    # Memory grows with the number of distinct key paths, not with records.
    first: dict[str, tuple[str, str]] = {}

    def check(doc: Doc) -> list[Hit]:
        if not isinstance(doc.record, dict):
            return []
        hits: list[Hit] = []
        for path, kind in _typed_paths(doc.record, ""):
            seen = first.get(path)
            if seen is None:
                first[path] = (kind, doc.where)
            elif seen[0] != kind:
                hits.append(Hit(f"{path} is {kind} here but {seen[0]} at {seen[1]}"))
        return hits

    return check


def _typed_paths(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(path, JSON type) for every non-null value below ``value``; array items share the path ``key[]``."""
    for key, item in value.items() if isinstance(value, dict) else ():
        sub = f"{path}.{key}" if path else str(key)
        if item is None:
            continue  # null fits any column
        yield sub, _type_name(item)
        if isinstance(item, dict):
            yield from _typed_paths(item, sub)
        elif isinstance(item, list):
            yield from _typed_items(item, f"{sub}[]")


def _typed_items(items: list[Any], path: str) -> Iterator[tuple[str, str]]:
    # The distinct item types first (one C-level pass), so a list of a thousand strings costs one yield.
    types = {type(item) for item in items}
    types.discard(type(None))
    for kind in {_KIND.get(t) or _type_name(next(i for i in items if type(i) is t)) for t in types}:
        yield path, kind
    if dict in types or list in types:
        for item in items:
            if isinstance(item, dict):
                yield from _typed_paths(item, path)
            elif isinstance(item, list):
                yield from _typed_items(item, f"{path}[]")


_KIND = {str: "string", int: "number", float: "number", bool: "boolean", list: "array", dict: "object"}


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"  # pyarrow widens integers to doubles; only a change of kind breaks a column
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


RULES: tuple[Rule, ...] = (
    Rule(
        "schema",
        Severity.error,
        "record breaks the contract",
        _schema,
        "id, text and source are strings, metadata an object; its list keys (authors, bylines, translators, "
        "contributors, teasers, cuts) and normalize counts have their documented types when present",
    ),
    Rule(
        "types",
        Severity.error,
        "key changes type between records",
        _types,
        "a key holds the same JSON type in every record (null aside), so the corpus loads as one table",
    ),
    Rule("duplicate-id", Severity.error, "duplicate id", _duplicate_id, "no two records share an id"),
    Rule(
        "empty-text", Severity.error, "empty text", _empty_text, "text has at least min_chars non-whitespace characters"
    ),
    Rule(
        "unicode",
        Severity.error,
        "invalid Unicode",
        _unicode,
        "no lone surrogates anywhere, no invalid UTF-8, no control characters in the text",
    ),
    Rule("mojibake", Severity.error, "mojibake left", _mojibake, "no paragraph that ftfy's badness check flags"),
    Rule(
        "html-entities",
        Severity.error,
        "HTML entities left",
        _html_entities,
        "no HTML entities (&amp; &#8217; ...) left unescaped in the text",
    ),
    Rule(
        "credit-lines",
        Severity.error,
        "credit lines left in text",
        _credit_lines,
        "no byline, author bio or translator line left in the text (the credits step's detector)",
    ),
    Rule(
        "teaser-tail",
        Severity.error,
        "tail looks like a teaser",
        _teaser_tail,
        "the text does not end in a teaser tail (the teasers step's detector)",
    ),
    Rule(
        "no-records",
        Severity.error,
        "no records",
        lambda options: lambda doc: [],  # a finding about the whole input: see check_items
        "the input holds at least one record (a producer that wrote nothing does not pass the gate)",
    ),
    Rule(
        "unusable-input",
        Severity.error,
        "unusable input skipped",
        lambda options: lambda doc: [],  # a finding about a line that is no record: see check_items
        "with --on-error skip, every line or file that is not a record (not JSON, unreadable) and was skipped; "
        "without it, the first one stops the check (exit 2)",
    ),
    Rule(
        "replacement-char",
        Severity.warning,
        "replacement character",
        _replacement_char,
        "no U+FFFD in the text (bytes an earlier decoder lost: a warning, as no step can repair them)",
    ),
    Rule(
        "duplicate-text",
        Severity.warning,
        "duplicate text",
        _duplicate_text,
        "no two records have exactly the same text (a warning: deduplicating is the user's choice)",
    ),
)
NO_RECORDS = "no records were read: the input is empty (a producer that wrote nothing?)"
RULE_NAMES: tuple[str, ...] = tuple(rule.name for rule in RULES)


def rule_named(name: str) -> Rule:
    for rule in RULES:
        if rule.name == name:
            return rule
    raise ConfigError(f"unknown rule {name!r} (rules: {', '.join(RULE_NAMES)})")


# ----------------------------------------------------------------------------------------- severities


def severities(options: CheckOptions) -> dict[str, Severity]:
    """Each rule's severity: its default, changed by ``options.ignore``/``warn``/``error``."""
    result = {rule.name: rule.severity for rule in RULES}
    claimed: dict[str, str] = {}
    for attr, severity in (("ignore", Severity.off), ("warn", Severity.warning), ("error", Severity.error)):
        for name in getattr(options, attr):
            rule_named(name)
            if name in claimed and claimed[name] != attr:
                raise ConfigError(f"rule {name!r} is in both {claimed[name]!r} and {attr!r}")
            claimed[name] = attr
            result[name] = severity
    return result


def with_overrides(
    options: CheckOptions, *, ignore: Sequence[str] = (), warn: Sequence[str] = (), error: Sequence[str] = ()
) -> CheckOptions:
    """``options`` with the named rules moved to the given severities (command-line flags win over the config)."""
    named: dict[str, str] = {}
    for attr, names in (("ignore", ignore), ("warn", warn), ("error", error)):
        for name in names:
            rule_named(name)
            if name in named and named[name] != attr:
                raise ConfigError(f"rule {name!r} given to both --{named[name]} and --{attr}")
            named[name] = attr
    lists = {attr: [n for n in getattr(options, attr) if n not in named] for attr in ("ignore", "warn", "error")}
    for name, attr in named.items():
        if name not in lists[attr]:
            lists[attr].append(name)
    return replace(options, **{attr: tuple(names) for attr, names in lists.items()})


# ---------------------------------------------------------------------------------------------- running


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    severity: Severity
    source: str
    line: int | None
    id: Any  # the record's id as a JSON value (any type; None when missing), lone surrogates spelled out
    detail: str
    paragraph: int | None = None

    @property
    def where(self) -> str:
        return self.source if self.line is None else f"{self.source}:{self.line}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "source": self.source,
            "line": self.line,
            "id": self.id,
            "paragraph": self.paragraph,
            "detail": self.detail,
        }


@dataclass
class Report:
    """What a check run found: exact counts per rule, the first findings of each, and which rules ran."""

    severity: dict[str, Severity]
    records: int = 0
    errors: int = 0  # records with at least one error
    warnings: int = 0  # records with at least one warning
    findings: list[Finding] = field(default_factory=list)
    records_by_rule: Counter[str] = field(default_factory=Counter)  # records with at least one hit
    hits_by_rule: Counter[str] = field(default_factory=Counter)
    empty_is_error: bool = False  # no records, and the no-records rule is an error
    unusable: int = 0  # lines or files skipped as unusable input (--on-error skip); not records
    unusable_is_error: bool = False  # some were skipped, and the unusable-input rule is an error

    @property
    def exit_code(self) -> int:
        return 1 if self.errors or self.empty_is_error or self.unusable_is_error else 0

    def as_dict(self) -> dict[str, Any]:
        rules = []
        for rule in RULES:
            severity = self.severity[rule.name]
            rules.append(
                {
                    "rule": rule.name,
                    "severity": severity.value,
                    "reason": rule.reason,
                    "status": "off" if severity is Severity.off else "ran",
                    "records": self.records_by_rule[rule.name],
                    "hits": self.hits_by_rule[rule.name],
                }
            )
        return {
            "records": self.records,
            "unusable": self.unusable,
            "errors": self.errors,
            "warnings": self.warnings,
            "exit_code": self.exit_code,
            "rules": rules,
            "findings": [f.as_dict() for f in self.findings],
        }


def check_items(
    items: Iterable[Item],
    options: CheckOptions = CheckOptions(),
    *,
    text_field: str = "text",
    on_unusable: Callable[[Item, str], None] | None = None,
    inputs: str = "(input)",
) -> Report:
    """Run every rule that is not off over ``items`` (read from ``inputs``, as the empty input's finding names them);
    raise :class:`InputError` for unusable input, or hand it to
    ``on_unusable`` (item, reason) when one is given (``--on-error skip``: it is then not checked, and it is a
    finding of the ``unusable-input`` rule: a skipped line must not let a gate pass)."""
    severity = severities(options)
    report = Report(severity)
    checkers: list[tuple[str, Severity, Checker]] = []
    for rule in RULES:
        if severity[rule.name] is Severity.off:
            continue
        checkers.append((rule.name, severity[rule.name], rule.make(options)))
    kept: Counter[str] = Counter()
    for item in items:
        try:
            doc = _doc_of(item, text_field)
        except InputError as exc:
            if on_unusable is None:
                raise
            on_unusable(item, exc.reason)
            report.unusable += 1
            unusable = severity["unusable-input"]
            if unusable is not Severity.off:
                report.records_by_rule["unusable-input"] += 1
                report.hits_by_rule["unusable-input"] += 1
                report.unusable_is_error = report.unusable_is_error or unusable is Severity.error
                if not options.max_findings or kept["unusable-input"] < options.max_findings:
                    kept["unusable-input"] += 1
                    where = _printable(exc.path or item.source)
                    report.findings.append(Finding("unusable-input", unusable, where, exc.line, None, exc.reason))
            continue
        report.records += 1
        found: set[Severity] = set()
        for name, rule_severity, checker in checkers:
            hits = checker(doc)
            if not hits:
                continue
            found.add(rule_severity)
            report.records_by_rule[name] += 1
            report.hits_by_rule[name] += len(hits)
            for hit in hits:
                if options.max_findings and kept[name] >= options.max_findings:
                    break
                kept[name] += 1
                report.findings.append(
                    Finding(
                        name,
                        rule_severity,
                        _printable(doc.source),
                        doc.line,
                        json_value(doc.id_value),
                        _printable(hit.detail),
                        hit.paragraph,
                    )
                )
        report.errors += Severity.error in found
        report.warnings += Severity.warning in found
    if not report.records and severity["no-records"] is not Severity.off:
        report.findings.append(Finding("no-records", severity["no-records"], inputs, None, None, NO_RECORDS))
        report.hits_by_rule["no-records"] = 1
        report.empty_is_error = severity["no-records"] is Severity.error
    return report


def check_paths(
    paths: Sequence[str],
    options: CheckOptions = CheckOptions(),
    *,
    text_field: str = "text",
    on_unusable: Callable[[Item, str], None] | None = None,
) -> Report:
    items = read_items(paths, text_field=text_field)
    inputs = _printable(" ".join(paths)) if paths else STDIN
    return check_items(items, options, text_field=text_field, on_unusable=on_unusable, inputs=inputs)


def _doc_of(item: Item, text_field: str) -> Doc:
    """The record to check, recovering lines that are JSON but not valid Unicode; else unusable input."""
    if item.error is None:
        return Doc(item.record, item.source, item.line, text_field)
    if item.raw is not None and item.error.startswith(INEXACT_NUMBER):
        # Valid JSON that the other commands refuse (they would turn the integer into a float): a finding.
        return Doc(json.loads(item.raw), item.source, item.line, text_field, number_problem=item.error)
    if item.raw is not None and item.error.startswith(("invalid JSON", "invalid UTF-8")):
        try:
            # The standard library accepts what orjson refuses: lone surrogate escapes (valid JSON grammar).
            record = json.loads(item.raw)
        except (ValueError, RecursionError):  # RecursionError: nested deeper than the standard library parses
            record = _NOT_JSON
        if record is not _NOT_JSON:
            if item.error.startswith("invalid UTF-8"):
                return Doc(record, item.source, item.line, text_field, problem="bytes that are not UTF-8 in the line")
            if any(_SURROGATE.search(s) for _, s in _strings(record)):
                return Doc(record, item.source, item.line, text_field)
    raise InputError(item.error, item.source, item.line)


_NOT_JSON = object()


# ------------------------------------------------------------------------------------------------ helpers


def _printable(text: str) -> str:
    """``text`` with lone surrogates spelled out (``\\udc00``), so a report can always be written as UTF-8."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


# What would break a line-oriented report (a line per finding, a TSV row): C0 and C1 controls, DEL, the Unicode
# line and paragraph separators (str.splitlines breaks there), and lone surrogates (not valid UTF-8).
_NOT_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_NAMED_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _spelled(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _NAMED_ESCAPES.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def one_line(text: str) -> str:
    """``text`` as one line of valid UTF-8: tab, line feed and carriage return spelled ``\\t``, ``\\n``, ``\\r``,
    other control characters ``\\xNN``, line separators and lone surrogates ``\\uNNNN`` (as :func:`_printable`).
    Backslashes are left as they are: this is for reading, not for parsing back."""
    return _NOT_ONE_LINE.sub(_spelled, text)


def id_text(value: Any) -> str | None:
    """How an id reads in a line-oriented report: a string as :func:`one_line`, any other JSON value as compact
    JSON (``5``, ``{"x":1}``), a missing or null id as ``None``."""
    if value is None:
        return None
    if not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return one_line(value)


def json_value(value: Any) -> Any:
    """``value`` as a JSON report can carry it: its own JSON value, with lone surrogates in strings spelled out
    (``\\udc00``) and an integer beyond 64 bits (which orjson cannot write) as its decimal digits."""
    if isinstance(value, str):
        return _printable(value)
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**64 else str(value)
    if isinstance(value, dict):
        return {_printable(str(k)): json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_value(v) for v in value]
    return str(value)


def _snippet(text: str, width: int = 60) -> str:
    text = text.strip()
    return repr(text if len(text) <= width else text[: width - 1] + "…")


def _short_json(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:59] + "…"


# ---------------------------------------------------------------------------------------------- reports


def finding_line(finding: Finding) -> str:
    """``FILE:LINE: RULE (severity) ID: [paragraph N:] detail`` (paragraphs counted from 0, as in metadata.cuts)."""
    where = f"paragraph {finding.paragraph}: " if finding.paragraph is not None else ""
    ident = f" {id_text(finding.id)}" if finding.id is not None else ""
    return one_line(f"{finding.where}: {finding.rule} ({finding.severity.value}){ident}: {where}{finding.detail}")


def summary_line(report: Report) -> str:
    errors = f"{report.errors} record{'s' if report.errors != 1 else ''} with errors"
    warnings = f"{report.warnings} with warnings"
    verdict = "clean" if report.exit_code == 0 else "not clean"
    checked = f"checked {report.records} record{'s' if report.records != 1 else ''}"
    if report.unusable:
        checked += f" ({report.unusable} unusable input{'s' if report.unusable != 1 else ''} skipped)"
    return f"{checked}: {errors}, {warnings}: {verdict}"


def render_text(report: Report) -> str:
    """The plain human report: one line per kept finding, one per rule that fired or could not run, a verdict."""
    lines = [finding_line(f) for f in report.findings]
    if lines:
        lines.append("")
    for rule in RULES:
        records = report.records_by_rule[rule.name]
        if records:
            severity = report.severity[rule.name].value
            shown = sum(1 for f in report.findings if f.rule == rule.name)
            more = report.hits_by_rule[rule.name] - shown
            tail = f" ({more} more not shown)" if more > 0 else ""
            noun = "input" if rule.name == "unusable-input" else "record"  # a skipped line is no record
            lines.append(
                f"{rule.name}: {records} {noun}{'s' if records != 1 else ''}: {rule.reason} [{severity}]{tail}"
            )
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"


def render_rich(report: Report, console: Any) -> None:
    """The terminal report: findings, then a table of every rule with its count, severity and reason."""
    from rich.table import Table
    from rich.text import Text

    style = {Severity.error: "bold red", Severity.warning: "yellow", Severity.off: "dim"}
    for finding in report.findings:
        line = Text(f"{one_line(finding.where)}: ", style="bold")
        line.append(finding.rule, style=style[finding.severity])
        line.append(f" {id_text(finding.id)}" if finding.id is not None else "", style="cyan")
        line.append(": ")
        line.append(f"paragraph {finding.paragraph}: " if finding.paragraph is not None else "", style="dim")
        line.append(one_line(finding.detail))
        console.print(line, highlight=False, soft_wrap=True)
    table = Table(title=None, show_edge=False, pad_edge=False)
    table.add_column("rule")
    table.add_column("severity")
    table.add_column("records", justify="right")
    table.add_column("reason")
    for rule in RULES:
        severity = report.severity[rule.name]
        records = report.records_by_rule[rule.name]
        count = "-" if severity is Severity.off else str(records)
        row_style = style[severity] if records else "dim" if severity is Severity.off else "green"
        table.add_row(rule.name, severity.value, count, rule.reason, style=row_style)
    if report.findings:
        console.print()
    console.print(table)
    verdict = "green" if report.exit_code == 0 else "bold red"
    console.print(Text(summary_line(report), style=verdict))


def render_rules() -> str:
    """Every rule with its default severity, reason and what it checks (``check --list-rules``)."""
    width = max(len(rule.name) for rule in RULES)
    return "".join(f"{r.name:<{width}}  {r.severity.value:<7}  {r.reason}: {r.doc}\n" for r in RULES)


def render_json(report: Report) -> bytes:
    """The ``--format json`` report (sources, ids and details are made JSON-safe when a finding is recorded)."""
    return orjson.dumps(report.as_dict(), option=orjson.OPT_INDENT_2) + b"\n"


def render_json_input_error(error: InputError) -> bytes:
    """``--format json`` for input that stopped the check (exit 2): ``{"exit_code": 2, "error": {"file", "line",
    "reason"}}``, so a parser of the report reads why there is none."""
    where = {"file": _printable(error.path) if error.path else None, "line": error.line}
    body = {"exit_code": 2, "error": {**where, "reason": _printable(error.reason)}}
    return orjson.dumps(body, option=orjson.OPT_INDENT_2) + b"\n"


def render_github(report: Report) -> str:
    """GitHub Actions workflow commands: one ``::error``/``::warning`` annotation per kept finding, then a notice."""
    lines = []
    for finding in report.findings:
        props = []
        if finding.source != "-":
            props.append(f"file={_gh_property(one_line(finding.source))}")
            if finding.line is not None:
                props.append(f"line={finding.line}")
        props.append(f"title={_gh_property(f'{finding.rule}: {rule_named(finding.rule).reason}')}")
        ident = f"{id_text(finding.id)}: " if finding.id is not None else ""
        where = f"paragraph {finding.paragraph}: " if finding.paragraph is not None else ""
        level = "error" if finding.severity is Severity.error else "warning"
        lines.append(f"::{level} {','.join(props)}::{_gh_data(one_line(ident + where + finding.detail))}")
    lines.append(f"::notice title=corpus-tools check::{_gh_data(summary_line(report))}")
    return "\n".join(lines) + "\n"


def render_github_input_error(error: InputError) -> str:
    """The ``::error`` annotation for input that stopped the check (exit 2), naming its file and line, so a GitHub
    Actions job shows why it failed where the annotations are read."""
    props = []
    if error.path and error.path != "-":
        props.append(f"file={_gh_property(one_line(_printable(error.path)))}")
        if error.line is not None:
            props.append(f"line={error.line}")
    props.append(f"title={_gh_property('unusable input (exit 2)')}")
    where = f"{error.path}:{error.line}: " if error.path == "-" and error.line is not None else ""
    return f"::error {','.join(props)}::{_gh_data(one_line(_printable(where + error.reason)))}\n"


def _gh_data(text: str) -> str:
    # The escaping GitHub's runner undoes (actions/toolkit, command.ts): % first, then line breaks.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


# ------------------------------------------------------------------------------------------ dataset loading


def arrow_schema(text_field: str = "text") -> Any:
    """The Arrow schema of a cleaned corpus, for ``pyarrow.json.ParseOptions(explicit_schema=...)`` or
    ``datasets.Features.from_arrow_schema``.

    Type inference alone is not enough: pyarrow infers each block (1 MB by default) on its own, and a block in
    which every ``translators`` or ``cuts`` list is empty infers ``list<null>``, which later blocks (or shards)
    with strings then contradict. Keys not named here (other metadata, extra record keys) are still inferred.
    Needs pyarrow (not a dependency of corpus-tools itself).
    """
    import pyarrow as pa

    from corpus_tools.registry import steps

    strings = pa.list_(pa.string())
    types = {
        "string": pa.string(),
        "integer": pa.int64(),
        "number": pa.float64(),
        "boolean": pa.bool_(),
        "list[string]": strings,
        "list[integer]": pa.list_(pa.int64()),
        "list[contributor]": pa.list_(pa.struct([("name", pa.string()), ("role", pa.string())])),
    }
    fields = [("encoding", pa.string()), ("encoding_fallback", pa.bool_())]
    for step in steps():
        for key, type_name in step.metadata.items():
            if type_name == "counts":  # a step that counts by a fixed set of kinds says which (count_keys)
                keys = getattr(step, "count_keys", ())
                fields.append(
                    (key, pa.struct([(k, pa.int64()) for k in keys]) if keys else pa.map_(pa.string(), pa.int64()))
                )
            else:
                fields.append((key, types[type_name]))
    # a dry run's entries also carry "dry_run": true (inferred where present; clean's output has none)
    cut = pa.struct([("step", pa.string()), ("rule", pa.string()), ("paragraph", pa.int64())])
    fields.append(("cuts", pa.list_(cut)))
    metadata = pa.struct(fields)
    return pa.schema([("id", pa.string()), (text_field, pa.string()), ("source", pa.string()), ("metadata", metadata)])
