"""The step interface: what every step of the pipeline is, and the one place its options are described.

A step is a class with a ``name``, a frozen ``Options`` dataclass whose fields are declared with :func:`option`
(flag, help text, range: the CLI flags, the ``--config`` table, the defaults and the docs all come from there),
``label(doc)`` (what it would do: per-line cuts with a stable rule each, or a drop) and ``apply(record, labels)``
(do it: the record, or a :class:`Drop`). ``--dry-run`` and ``explain`` run ``label`` alone, so what they show is
what the cut does. The runner (:mod:`corpus_tools.pipeline`) owns ``metadata.cuts``, counts every cut and drop as
``step.reason``, and keeps cut positions in the lines of the text as it entered the pipeline.

A step may have a corpus pass (:class:`CorpusPass`): something computed over every record as it reaches the step
(after the steps before it), merged across partitions, and handed to the step before the main pass.
"""

from __future__ import annotations

import dataclasses
import enum
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from corpus_tools.errors import ConfigError
from corpus_tools.labels import cut_text, split_paragraphs
from corpus_tools.records import Record, metadata_of


def option(
    default: Any,
    help: str,
    *,
    flag: str | None = None,
    low: float | None = None,
    high: float | None = None,
    cli: bool = True,
    corpus_pass: bool = False,
) -> Any:
    """A field of a step's options dataclass, with what the CLI, the config file and the docs need.

    ``flag``: the command-line spelling (default ``--field-name``; booleans get ``--x/--no-x`` unless the flag
    says otherwise). ``low``/``high``: the accepted range, checked by :func:`check_ranges` and shown by the CLI.
    ``cli=False``: a config-file-only option. ``corpus_pass``: read only by the step's corpus pass (the commands
    warn when it is given to a run without one).
    """
    metadata = {"help": help, "flag": flag, "low": low, "high": high, "cli": cli, "corpus_pass": corpus_pass}
    if isinstance(default, (list, dict, set)):
        raise TypeError("options are frozen: use a tuple for a list default")
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class OptionSpec:
    """One option of a step, as the CLI, config and docs see it."""

    name: str
    type: Any
    default: Any
    help: str
    flag: str
    low: float | None
    high: float | None
    cli: bool
    #: a choice option that the step's own command also takes as one switch per choice (``--near``)
    switches: bool = False
    #: read only by the step's corpus pass
    corpus_pass: bool = False

    @property
    def is_bool(self) -> bool:
        return self.type is bool

    @property
    def cli_flag(self) -> str:
        """The flag as the CLI takes it: a switch both ways (``--x/--no-x``), so a flag can undo a config file."""
        if self.is_bool and "/" not in self.flag:
            return f"{self.flag}/--no-{self.flag[2:]}"
        return self.flag

    @property
    def choices(self) -> tuple[str, ...] | None:
        """The accepted values of an enum or ``Literal`` option, else ``None``."""
        if isinstance(self.type, type) and issubclass(self.type, enum.Enum):
            return tuple(str(m.value) for m in self.type)
        if typing.get_origin(self.type) is typing.Literal:
            return tuple(str(a) for a in typing.get_args(self.type))
        return None


def option_specs(options_class: type) -> list[OptionSpec]:
    """The options of ``options_class`` in declaration order (fields without :func:`option` metadata are skipped)."""
    hints = typing.get_type_hints(options_class)
    specs = []
    for f in dataclasses.fields(options_class):
        meta = f.metadata
        if "help" not in meta:
            continue
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        specs.append(
            OptionSpec(
                name=f.name,
                type=hints[f.name],
                default=default,
                help=meta["help"],
                flag=meta.get("flag") or "--" + f.name.replace("_", "-"),
                low=meta.get("low"),
                high=meta.get("high"),
                cli=meta.get("cli", True),
                switches=meta.get("switches", False),
                corpus_pass=meta.get("corpus_pass", False),
            )
        )
    return specs


def check_ranges(options: Any, owner: str) -> None:
    """Raise :class:`ConfigError` naming the first option of ``options`` outside its declared range."""
    for spec in option_specs(type(options)):
        value = getattr(options, spec.name)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if spec.low is not None and value < spec.low:
            raise ConfigError(f"{owner}: {spec.name} must be at least {_number(spec.low)}, got {value}")
        if spec.high is not None and value > spec.high:
            raise ConfigError(f"{owner}: {spec.name} must be at most {_number(spec.high)}, got {value}")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


@dataclass(frozen=True)
class Drop:
    """A step's verdict that a record does not belong in the output: counted by ``reason``, never an error.

    ``details`` go into the dropped-records stream beside the reason (``duplicate_of``, a similarity...).
    """

    reason: str
    details: Mapping[str, Any] = field(default_factory=dict)


class Doc:
    """A record as a step sees it while labelling: its text, its lines, its metadata (read only)."""

    __slots__ = ("_lines", "record", "text_field")

    def __init__(self, record: Record, text_field: str = "text") -> None:
        self.record = record
        self.text_field = text_field
        self._lines: list[str] | None = None

    @property
    def text(self) -> str:
        return self.record[self.text_field]

    @property
    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = split_paragraphs(self.text)
        return self._lines

    @property
    def metadata(self) -> Mapping[str, Any]:
        metadata = self.record.get("metadata")
        return metadata if isinstance(metadata, dict) else {}

    @property
    def id(self) -> Any:
        return self.record.get("id")


@dataclass
class Labels:
    """What ``label`` found in one document.

    ``cuts``: line index (in the text the step received) -> the rule that cuts it. ``drop``: the record goes.
    ``found``: step-specific findings ``apply`` records (names, counts, a rewritten text).
    """

    doc: Doc
    cuts: dict[int, str] = field(default_factory=dict)
    drop: Drop | None = None
    found: Any = None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


#: The JSON types a step's metadata keys may declare, each with its test and how a message names it (check's
#: schema rule and ``arrow_schema()`` are built from these).
METADATA_TYPES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "string": (lambda v: isinstance(v, str), "a string"),
    "integer": (_is_int, "an integer"),
    "number": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool), "a number"),
    "boolean": (lambda v: isinstance(v, bool), "a boolean"),
    "list[string]": (lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v), "an array of strings"),
    "list[integer]": (lambda v: isinstance(v, list) and all(_is_int(x) for x in v), "an array of integers"),
    "counts": (
        lambda v: isinstance(v, dict) and all(_is_int(x) for x in v.values()),
        "an object of integer counts",
    ),
    "list[contributor]": (
        lambda v: (
            isinstance(v, list)
            and all(
                isinstance(x, dict) and isinstance(x.get("name"), str) and isinstance(x.get("role"), str) for x in v
            )
        ),
        "an array of {name: string, role: string}",
    ),
}

#: ``metadata.cuts``, which the runner owns: one entry per line a step cut.
CUTS_TYPE = (
    lambda v: (
        isinstance(v, list)
        and all(
            isinstance(c, dict)
            and isinstance(c.get("step", ""), str)
            and isinstance(c.get("rule"), str)
            and _is_int(c.get("paragraph"))
            for c in v
        )
    ),
    "an array of {step: string, rule: string, paragraph: integer}",
)


class Step:
    """The base of every step. Subclasses set the class attributes and write ``label`` and, if cutting lines and
    recording ``found`` is not all they do, ``apply``."""

    #: The step's name: its command, its ``--config`` table, the ``step`` of its cuts and counters.
    name: ClassVar[str]
    #: The frozen options dataclass (fields declared with :func:`option`).
    Options: ClassVar[type]
    #: One line for ``--help`` and the docs (the command's docstring adds detail).
    summary: ClassVar[str] = ""
    #: The metadata keys this step owns, with their JSON types (one of :data:`METADATA_TYPES`).
    metadata: ClassVar[Mapping[str, str]] = {}
    #: Every rule it cuts by and every reason it drops for, with a line saying what it means.
    reasons: ClassVar[Mapping[str, str]] = {}
    #: What a line cut by each rule is, for ``explain`` (``bio``, ``teaser``...); a rule not here: the step's name.
    kinds: ClassVar[Mapping[str, str]] = {}
    #: Its corpus pass, if it has one: a :class:`CorpusPass` (a state computed before the main pass) or an
    #: :class:`OrderedPass` (a verdict per record taken in input order).
    corpus_pass: ClassVar[CorpusPass | OrderedPass | None] = None
    #: Where it stands in ``clean`` (lower runs first); plugins default between the built-in detectors and dedup.
    order: ClassVar[int] = 500
    #: Whether ``clean`` runs it unless told ``--no-NAME`` (a plugin may ship off by default).
    default_on: ClassVar[bool] = True
    #: How many times the runner applies it to a record while it still cuts: a step whose labels depend on the
    #: lines around them (a run of menu lines grows once a line between them goes) reaches its fixed point, so a
    #: second run of the pipeline finds nothing new.
    rounds: ClassVar[int] = 1
    #: The earlier steps that run again before each further round (their labels read the lines this one cuts).
    rerun: ClassVar[tuple[str, ...]] = ()
    #: Whether its further rounds are only for the ``rerun`` steps: in a pipeline without any of them it runs once.
    rounds_for_rerun: ClassVar[bool] = False
    #: False for a step that never labels a line nor drops in ``apply`` (its verdicts come from an ordered pass):
    #: the runner then skips its ``label`` and ``apply`` for every record.
    labels_lines: ClassVar[bool] = True

    def __init__(self, options: Any = None, state: Any = None) -> None:
        self.options = options if options is not None else self.Options()
        self.state = state  # what the corpus pass computed, or None (the step then works without it)

    @property
    def dry_run(self) -> bool:
        return bool(getattr(self.options, "dry_run", False))

    def label(self, doc: Doc) -> Labels:
        raise NotImplementedError

    def apply(self, record: Record, labels: Labels) -> Record | Drop:
        """Drop, or cut the labelled lines (not on a dry run) and :meth:`record_found`."""
        if labels.drop is not None:
            return labels.drop
        if not labels.cuts:
            self.record_found(metadata_of(record), labels)
            return record
        blank = orphaned_blank_lines(labels.doc.lines, labels.cuts)
        if not self.dry_run:
            record[labels.doc.text_field] = cut_text(labels.doc.lines, {*labels.cuts, *blank})
        self.record_found(metadata_of(record), labels)  # from the step's own labels
        if blank:
            labels.cuts.update(dict.fromkeys(blank, BLANK_LINE))  # cut too: the runner records them with the others
        return record

    def record_found(self, metadata: dict[str, Any], labels: Labels) -> None:
        """Write the step's own metadata keys from ``labels.found`` (added to what an earlier run left)."""

    def process(self, record: Record, text_field: str = "text") -> Any:
        """This step alone on a copy of ``record``, as a one-step pipeline runs it (cuts recorded, drops returned as
        :class:`corpus_tools.pipeline.Dropped`)."""
        from corpus_tools.pipeline import Pipeline

        return Pipeline((self,), text_field).process(record)


#: The rule of a blank line that a step's cuts would leave at an end of the text or next to another blank line.
BLANK_LINE = "blank_line"
BLANK_LINE_REASON = "a blank line the step's cuts left at an end of the text or next to another blank line"


def orphaned_blank_lines(lines: Sequence[str], cuts: Mapping[int, str]) -> list[int]:
    """The kept blank lines that cutting ``cuts`` would leave at the start or the end of the text, or next to the
    blank lines on the other side of a cut ("Title / (blank) / By NAME / (blank) / Body" keeps one blank line, not
    two). Blank lines at the ends or in runs that the text had before the cut are not the cut's doing: they stay."""
    n = len(lines)
    first = 0  # the first kept line of text (most texts: line 0)
    while first < n and (first in cuts or not lines[first].strip()):
        first += 1
    last = n - 1  # and the last
    while last >= 0 and (last in cuts or not lines[last].strip()):
        last -= 1
    found: list[int] = []
    for start in sorted(cuts):
        if start - 1 in cuts or not 0 <= start < n:
            continue  # inside a run of cut lines: its first line speaks for it
        end = start
        while end + 1 in cuts:
            end += 1
        if last < start:  # the text would end with the blank lines above the run (none above: nothing is left)
            k = start - 1
            while k >= 0 and k not in cuts and not lines[k].strip():
                found.append(k)
                k -= 1
        elif first > start or (start > 0 and start - 1 not in cuts and not lines[start - 1].strip()):
            # the text would start with the blank lines below the run, or they would join those above it
            k = end + 1
            while k < n and k not in cuts and not lines[k].strip():
                found.append(k)
                k += 1
    return sorted(found)


class CorpusPass:
    """A pass over the whole corpus, run before the main pass, whose result the owning step receives as ``state``.

    It reads the records as they reach the step that owns it (after the steps before it). Partitions are added to
    separate states (``start`` then ``add`` per record, in input order within a partition), ``merge``d in input
    order, and ``finish`` turns the merged state into what the step is built with.

    ``after``: the steps whose changes the pass needs to see (``None``: every step before it). Passes that read
    after the same steps share one read of the inputs.
    """

    after: tuple[str, ...] | None = None

    def start(self, options: Any) -> Any:
        raise NotImplementedError

    def add(self, state: Any, doc: Doc) -> None:
        raise NotImplementedError

    def merge(self, state: Any, other: Any) -> Any:
        raise NotImplementedError

    def finish(self, state: Any, options: Any) -> Any:
        return state

    def load(self, path: str, options: Any) -> tuple[Any, str | None]:
        """A state saved before (``--index PATH``) in place of the pass, and a warning line when it does not fit
        ``options``; a pass without a file form raises :class:`NotImplementedError`."""
        raise NotImplementedError


class OrderedPass:
    """A verdict per record taken in input order: of the records that share a key, the first is kept and every
    later one dropped (deduplication's shape).

    ``key(doc, options)`` runs where the step runs (in parallel, on the record as it reaches the step); the runner
    carries the key with the record, and ``decide(state, key, id)`` runs in input order as results come back (in
    the main process), so no stage runs before the main pass and the verdicts do not depend on ``--jobs``.
    ``finish`` runs once at the end (to save what was kept, say).
    """

    def key(self, doc: Doc, options: Any) -> Any:
        raise NotImplementedError

    def start(self, options: Any) -> Any:
        raise NotImplementedError

    def decide(self, state: Any, key: Any, id: Any) -> Drop | None:
        raise NotImplementedError

    def finish(self, state: Any, options: Any) -> None:
        """Called once when the run has decided every record."""

    # What ``clean --resume`` saves of the state and rebuilds it from: entries appended in input order.

    def journal(self, state: Any, start: int, end: int) -> list[Any]:
        """The state's entries ``start`` to ``end``, in the order they were added (the state only ever appends to
        them). A pass without a journal cannot be resumed (``clean --resume`` refuses it)."""
        raise NotImplementedError

    def journal_length(self, state: Any) -> int:
        raise NotImplementedError

    def replay(self, state: Any, entries: Sequence[Any]) -> None:
        """Add ``entries`` (a prefix of another run's :meth:`journal`) to a fresh ``state``."""
        raise NotImplementedError

    # The same verdicts on a cluster, with no process holding every key (see :func:`keep_first`): the keys are
    # mapped to ``groups``, shuffled so each group's members meet, ``links`` names within a group who would drop
    # whom, and the keep-first decision runs over the links alone. A pass without these decides in input order.

    def on_cluster(self, options: Any) -> bool:
        """Whether this run of the pass can decide on a cluster (it implements the methods below)."""
        return False

    def groups(self, key: Any, options: Any) -> Iterable[int]:
        """The groups a key falls into (64-bit ints): two records can only link when they share one."""
        raise NotImplementedError

    def links(self, members: Sequence[Member], options: Any) -> Iterable[Link]:
        """Within one group (``members`` sorted by ordinal): each ``(earlier, earlier_id, later, detail)`` such that
        ``later`` is dropped when ``earlier`` is kept and is the earliest kept record it links to."""
        raise NotImplementedError

    def verdict(self, detail: Any, kept_id: Any, earlier_run: bool) -> Drop:
        """The drop of a record linked to ``kept_id`` (``earlier_run``: a record an earlier run kept)."""
        raise NotImplementedError

    def earlier(self, state: Any) -> Sequence[tuple[Any, Any]]:
        """``(id, key)`` of the records an earlier run kept (``--against``), which every record of this run follows."""
        return ()


#: A record's place in input order on a cluster: ``(batch, position among the batch's decided records)``; batch
#: ``EARLIER_RUN`` holds the records an earlier run kept, which come before every record of this run.
Ordinal = tuple[int, int]
EARLIER_RUN = -1
#: ``(ordinal, id, key)`` of a record in a group; a link ``(earlier, earlier_id, later, detail)``.
Member = tuple[Ordinal, Any, Any]
Link = tuple[Ordinal, Any, Ordinal, Any]


def keep_first(links: Iterable[Link]) -> dict[Ordinal, tuple[Ordinal, Any, Any]]:
    """The keep-first verdicts from the links alone: ``{dropped: (kept, kept_id, detail)}``.

    In input order, a record is dropped when it links to a kept earlier record (the earliest such one), else kept:
    exactly the in-order decisions of :meth:`OrderedPass.decide` when the links hold every pair it could compare.
    Records of an earlier run are always kept. A link given twice (from two groups) counts once.
    """
    earlier_of: dict[Ordinal, dict[Ordinal, tuple[Any, Any]]] = {}
    for earlier, earlier_id, later, detail in links:
        if later[0] != EARLIER_RUN:
            earlier_of.setdefault(later, {})[earlier] = (earlier_id, detail)
    dropped: dict[Ordinal, tuple[Ordinal, Any, Any]] = {}
    for later in sorted(earlier_of):
        candidates = earlier_of[later]
        for earlier in sorted(candidates):
            if earlier not in dropped:
                dropped[later] = (earlier, *candidates[earlier])
                break
    return dropped


def entry_lines(line_count: int, previous: list[dict[str, Any]] | None) -> list[int]:
    """For each of the ``line_count`` lines of a text, the line it was when the text first entered a pipeline:
    the lines that earlier runs cut (``previous``, real cuts only) are counted back in."""
    removed = {c["paragraph"] for c in previous or () if not c.get("dry_run")}
    if not removed:
        return list(range(line_count))
    origin: list[int] = []
    line = 0
    while len(origin) < line_count:
        if line not in removed:
            origin.append(line)
        line += 1
    return origin


def describe(step: type[Step]) -> dict[str, Any]:
    """A step as plain data (name, summary, options, metadata keys, reasons): for ``steps --format json`` and docs."""
    return {
        "name": step.name,
        "summary": step.summary,
        "options": [
            {"name": s.name, "flag": s.flag, "default": _plain(s.default), "help": s.help}
            for s in option_specs(step.Options)
        ],
        "metadata": dict(step.metadata),
        "reasons": dict(step.reasons),
        "corpus_pass": step.corpus_pass is not None,
    }


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return value
