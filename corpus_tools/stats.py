"""``stats``: what is in a corpus. One streaming pass that counts; the report is plain data (``as_dict``).

Memory: constant per record except the document lengths (4 bytes each, for exact percentiles) and the
repeated-paragraph counter, which is bounded by ``StatsOptions.max_tracked`` (see :class:`RepeatCounter`).
"""

from __future__ import annotations

import bisect
import hashlib
import math
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from corpus_tools.errors import ConfigError, InputError, RecordError, below_bounds
from corpus_tools.io import Item, read_items
from corpus_tools.records import check_record


@dataclass(frozen=True)
class StatsOptions:
    """What the report shows. The ``[stats]`` table of a TOML config.

    Bounds: ``top`` >= 0 (0 lists none), ``min_repeats`` >= 2 (a paragraph in one record is not repeated),
    ``max_tracked`` >= 2, and ``length_bins`` strictly increasing from 0 (so every record falls in exactly one
    bin); every integer is below 2**63 (the ``--json`` report is JSON, written with 64-bit integers). A value out
    of its range is a :class:`ConfigError` naming the option.
    """

    # How many of the most repeated paragraphs to list.
    top: int = 10
    # A paragraph is listed only if it appears in at least this many records.
    min_repeats: int = 2
    # Distinct paragraphs counted at once; above it the rarest are dropped (counts become lower bounds).
    max_tracked: int = 200_000
    # Lower edges (in words) of the document-length histogram's bins; the last bin is open-ended.
    length_bins: tuple[int, ...] = (0, 50, 100, 250, 500, 1000, 2500, 5000, 10000)

    def __post_init__(self) -> None:
        # Every violated option gets its own message, all of them in one error.
        bounds = (("top", 0), ("min_repeats", 2), ("max_tracked", 2))
        problems = below_bounds(self, bounds)
        bins = list(self.length_bins)
        if not bins or bins[0] != 0 or bins != sorted(set(bins)):
            problems.append(f"length_bins must be strictly increasing word counts starting at 0 (got {bins})")
        elif bins[-1] >= 2**63:
            problems.append(f"length_bins must be 64-bit integers (got {bins})")
        if problems:
            raise ConfigError("stats: " + "; ".join(problems))


class RepeatCounter:
    """In how many records each paragraph appears, in bounded memory.

    Keys are 8-byte blake2b digests (as ints); a paragraph's text is kept only once it has been seen in two
    records, i.e. only for candidates. When more than ``max_tracked`` digests are held, the ones seen in a single
    record are dropped, then if need be the least counted, down to half of ``max_tracked``; from then on counts
    are lower bounds and ``exact`` is false. Below the bound (the usual case for a shard) the counts are exact.
    """

    def __init__(self, max_tracked: int) -> None:
        self.max_tracked = max(2, max_tracked)
        self.counts: dict[int, int] = {}
        self.texts: dict[int, str] = {}
        self.exact = True

    def add_document(self, paragraphs: Iterable[str]) -> None:
        for paragraph in set(paragraphs):
            key = int.from_bytes(hashlib.blake2b(paragraph.encode("utf-8", "surrogatepass"), digest_size=8).digest())
            count = self.counts.get(key, 0) + 1
            self.counts[key] = count
            if count == 2:
                self.texts[key] = paragraph
        if len(self.counts) > self.max_tracked:
            self._prune()

    def _prune(self) -> None:
        self.exact = False
        self.counts = {k: n for k, n in self.counts.items() if n > 1}
        target = self.max_tracked // 2
        if len(self.counts) > target:
            keep = sorted(self.counts.items(), key=lambda kv: kv[1], reverse=True)[:target]
            self.counts = dict(keep)
        self.texts = {k: t for k, t in self.texts.items() if k in self.counts}

    def top(self, n: int, min_count: int) -> list[tuple[int, str]]:
        """The ``n`` most repeated paragraphs seen in at least ``min_count`` records: (records, text)."""
        found = [(c, self.texts[k]) for k, c in self.counts.items() if c >= max(2, min_count) and k in self.texts]
        found.sort(key=lambda ct: (-ct[0], ct[1]))
        return found[:n]


@dataclass
class CorpusStats:
    """Running counts over records; :meth:`add` one record at a time, :meth:`as_dict` for the report."""

    options: StatsOptions = field(default_factory=StatsOptions)
    text_field: str = "text"
    records: int = 0
    words: int = 0
    characters: int = 0
    paragraphs: int = 0
    lengths: array = field(default_factory=lambda: array("I"))  # words per record, for exact percentiles
    with_authors: int = 0
    with_translators: int = 0
    credit_lines: int = 0
    teasers_cut: int = 0
    teasers_per_record: Counter[int] = field(default_factory=Counter)
    cuts: Counter[str] = field(default_factory=Counter)
    normalize: Counter[str] = field(default_factory=Counter)
    normalized_records: int = 0
    # Records in which each step's key is present at all: 0 means the step has not run, not "none found".
    recorded: Counter[str] = field(default_factory=Counter)
    repeats: RepeatCounter | None = None

    def __post_init__(self) -> None:
        if self.repeats is None:
            self.repeats = RepeatCounter(self.options.max_tracked)

    def add(self, record: dict[str, Any]) -> None:
        text: str = record[self.text_field]
        metadata = record.get("metadata") if isinstance(record.get("metadata"), dict) else {}
        paragraphs = [p.strip() for p in text.split("\n")]
        paragraphs = [p for p in paragraphs if p]
        words = len(text.split())
        self.records += 1
        self.words += words
        self.characters += len(text)
        self.paragraphs += len(paragraphs)
        self.lengths.append(min(words, 2**32 - 1))
        for key in metadata:
            self.recorded[key] += 1
        self.with_authors += bool(_strings(metadata.get("authors")))
        self.with_translators += bool(_strings(metadata.get("translators")))
        self.credit_lines += len(_strings(metadata.get("bylines")))
        teasers = len(_strings(metadata.get("teasers")))
        self.teasers_cut += teasers
        self.teasers_per_record[teasers] += 1
        cuts = metadata.get("cuts")
        for cut in cuts if isinstance(cuts, list) else ():
            if isinstance(cut, dict) and isinstance(cut.get("rule"), str) and not cut.get("dry_run"):
                step = cut.get("step")
                self.cuts[f"{step}.{cut['rule']}" if isinstance(step, str) else cut["rule"]] += 1
        fixes = metadata.get("normalize")
        if isinstance(fixes, dict):
            fixed = False
            for kind, count in fixes.items():
                if isinstance(count, int) and not isinstance(count, bool):
                    self.normalize[kind] += count  # every kind, zeros included, so the report names them all
                    fixed = fixed or count > 0
            self.normalized_records += fixed
        assert self.repeats is not None
        self.repeats.add_document(paragraphs)

    def as_dict(self) -> dict[str, Any]:
        assert self.repeats is not None
        n = self.records
        lengths = sorted(self.lengths)
        top = self.repeats.top(self.options.top, self.options.min_repeats)
        return {
            "records": n,
            "words": self.words,
            "characters": self.characters,
            "paragraphs": self.paragraphs,
            "length_words": {
                "min": lengths[0] if n else 0,
                "p10": _rank(lengths, 0.10),
                "median": _rank(lengths, 0.50),
                "p90": _rank(lengths, 0.90),
                "max": lengths[-1] if n else 0,
                "mean": round(self.words / n, 2) if n else 0.0,
            },
            "length_histogram": self._histogram(lengths),
            "authors": {
                "records": self.with_authors,
                "share": _share(self.with_authors, n),
                "recorded": self.recorded["authors"],
            },
            "translators": {
                "records": self.with_translators,
                "share": _share(self.with_translators, n),
                "recorded": self.recorded["translators"],
            },
            "credit_lines": self.credit_lines,
            # Records with metadata.bylines at all (a key beside credit_lines, which stays a number).
            "credit_lines_recorded": self.recorded["bylines"],
            "teasers": {
                "cut": self.teasers_cut,
                "records": n - self.teasers_per_record.get(0, 0),
                "per_record": round(self.teasers_cut / n, 2) if n else 0.0,
                "by_count": {str(k): self.teasers_per_record[k] for k in sorted(self.teasers_per_record)},
                "recorded": self.recorded["teasers"],
            },
            "cuts": dict(sorted(self.cuts.items())),
            # Records that carry each metadata key a registered step owns (0: the step has not run on them).
            "metadata_keys": {key: self.recorded[key] for key in _step_keys()},
            "normalize": {
                "records": self.normalized_records,
                "recorded": self.recorded["normalize"],
                "fixes": sum(self.normalize.values()),
                "by_kind": _every_kind(self.normalize),
            },
            "top_paragraphs": [{"records": c, "text": t} for c, t in top],
            "top_paragraphs_exact": self.repeats.exact,
        }

    def _histogram(self, lengths: list[int]) -> list[dict[str, Any]]:
        edges = sorted(set(self.options.length_bins)) or [0]
        bins = []
        for i, low in enumerate(edges):
            high = edges[i + 1] - 1 if i + 1 < len(edges) else None
            start = bisect.bisect_left(lengths, low)
            stop = bisect.bisect_right(lengths, high) if high is not None else len(lengths)
            bins.append({"min_words": low, "max_words": high, "records": stop - start})
        return bins


def _step_keys() -> list[str]:
    from corpus_tools.registry import steps

    return [key for step in steps() for key in step.metadata]


def _every_kind(counts: Counter[str]) -> dict[str, int]:
    """Every kind of fix the normalize step knows, in its order (``metadata.normalize``'s), zeros included; kinds
    it does not know (an older or newer version's) after them, sorted."""
    # Imported here: normalize loads ftfy, which the start-up of every command would otherwise pay for.
    from corpus_tools.normalize import KINDS

    out = {kind: counts.get(kind, 0) for kind in KINDS}
    out.update(sorted((kind, n) for kind, n in counts.items() if kind not in out))
    return out


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _rank(sorted_values: Sequence[int], q: float) -> int:
    """The nearest-rank percentile (an actual document's length, never an interpolation)."""
    if not sorted_values:
        return 0
    return sorted_values[max(0, math.ceil(q * len(sorted_values)) - 1)]


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def stats_items(
    items: Iterable[Item],
    options: StatsOptions = StatsOptions(),
    *,
    text_field: str = "text",
    on_unusable: Callable[[Item, str], None] | None = None,
) -> CorpusStats:
    """Count over ``items``; unusable input or a record without a string text raises :class:`InputError`, or goes
    to ``on_unusable`` (item, reason) when one is given (``--on-error skip``)."""
    stats = CorpusStats(options, text_field)
    for item in items:
        reason = item.error
        if reason is None:
            try:
                record = check_record(item.record, text_field)
            except RecordError as exc:
                reason = f"{exc.reason} (corpus-tools check names every such record)"
        if reason is not None:
            if on_unusable is None:
                raise InputError(reason, item.source, item.line)
            on_unusable(item, reason)
            continue
        stats.add(record)
    return stats


def stats_paths(
    paths: Sequence[str],
    options: StatsOptions = StatsOptions(),
    *,
    text_field: str = "text",
    on_unusable: Callable[[Item, str], None] | None = None,
) -> CorpusStats:
    items = read_items(paths, text_field=text_field)
    return stats_items(items, options, text_field=text_field, on_unusable=on_unusable)


# ---------------------------------------------------------------------------------------------- reports


def _bar(count: int, most: int, width: int = 30) -> str:
    if not count:
        return ""
    return "#" * max(1, round(width * count / most))


def _bin_label(b: dict[str, Any]) -> str:
    return f"{b['min_words']}+" if b["max_words"] is None else f"{b['min_words']}-{b['max_words']}"


def _share_text(entry: dict[str, Any], step: str) -> str:
    if not entry["recorded"] and not entry["records"]:
        return f"not recorded (the {step} step has not run)"
    return f"{entry['records']} ({entry['share']:.1%})"


def _teasers_text(r: dict[str, Any]) -> str:
    t = r["teasers"]
    if not t["recorded"] and r["records"]:
        return "not recorded (the teasers step has not run)"
    return f"{t['cut']} in {_n(t['records'], 'record')} of {r['records']} ({t['per_record']} per record)"


def _credit_lines_text(r: dict[str, Any]) -> str:
    if not r["credit_lines_recorded"] and r["records"]:
        return "not recorded (the credits step has not run)"
    return str(r["credit_lines"])


def _fixes_text(r: dict[str, Any]) -> str:
    nz = r["normalize"]
    if not nz["recorded"] and r["records"]:
        return "not recorded (the normalize step has not run)"
    return f"{nz['fixes']} in {_n(nz['records'], 'record')}"


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _clip(text: str, width: int = 100) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def render_text(report: dict[str, Any]) -> str:
    """The plain report (for pipes and logs): one ``name: value`` per line, a ``#`` histogram."""
    r = report
    lw = r["length_words"]
    out = [
        f"records: {r['records']}",
        f"words: {r['words']}",
        f"characters: {r['characters']}",
        f"paragraphs: {r['paragraphs']}",
        f"words per record: min {lw['min']}, p10 {lw['p10']}, median {lw['median']}, p90 {lw['p90']}, "
        f"max {lw['max']}, mean {lw['mean']}",
        "length histogram (words: records):",
    ]
    bins = [b for b in r["length_histogram"] if b["records"]]
    most = max((b["records"] for b in bins), default=0)
    width = max((len(_bin_label(b)) for b in bins), default=0)
    out.extend(f"  {_bin_label(b):>{width}}: {b['records']:>4} {_bar(b['records'], most)}" for b in bins)
    for key in ("authors", "translators"):
        out.append(f"with {key}: {_share_text(r[key], 'credits')}")
    out.append(f"credit lines moved to metadata: {_credit_lines_text(r)}")
    out.append(f"teasers cut: {_teasers_text(r)}")
    if r["cuts"]:
        out.append("cuts by rule: " + ", ".join(f"{k} {v}" for k, v in r["cuts"].items()))
    nz = r["normalize"]
    out.append(f"normalization fixes: {_fixes_text(r)}")
    if nz["recorded"]:  # every kind, zeros included (nothing to list when the step has not run)
        out.extend(f"  {kind}: {count}" for kind, count in nz["by_kind"].items())
    exact = "" if r["top_paragraphs_exact"] else " (approximate: counts are lower bounds)"
    out.append(f"top repeated paragraphs{exact}:")
    out.extend(f"  {p['records']:>4} records: {_clip(p['text'])}" for p in r["top_paragraphs"])  # always >= 2
    if not r["top_paragraphs"]:
        out.append("  none")
    return "\n".join(out) + "\n"


def render_rich(report: dict[str, Any], console: Any) -> None:
    """The terminal report: rich tables and a bar histogram."""
    from rich.table import Table

    r = report
    lw = r["length_words"]
    credit_lines = r["credit_lines"] if r["credit_lines_recorded"] or not r["records"] else _credit_lines_text(r)
    overview = Table(title="corpus", show_header=False, title_justify="left")
    overview.add_column(style="bold")
    overview.add_column(justify="right")
    for name, value in (
        ("records", r["records"]),
        ("words", r["words"]),
        ("characters", r["characters"]),
        ("paragraphs", r["paragraphs"]),
        ("words/record (min · median · max)", f"{lw['min']} · {lw['median']} · {lw['max']}"),
        ("words/record (p10 · p90 · mean)", f"{lw['p10']} · {lw['p90']} · {lw['mean']}"),
        ("with authors", _share_text(r["authors"], "credits")),
        ("with translators", _share_text(r["translators"], "credits")),
        ("credit lines", credit_lines),
        ("teasers cut", _teasers_text(r)),
        ("normalization fixes", _fixes_text(r)),
    ):
        overview.add_row(name, f"{value:,}" if isinstance(value, int) else str(value))
    console.print(overview)
    hist = Table(title="document length (words)", title_justify="left")
    hist.add_column("words", justify="right")
    hist.add_column("records", justify="right")
    hist.add_column("")
    bins = [b for b in r["length_histogram"] if b["records"]]
    most = max((b["records"] for b in bins), default=0)
    for b in bins:
        hist.add_row(_bin_label(b), str(b["records"]), "█" * max(1, round(30 * b["records"] / most)))
    console.print(hist)
    fixes = r["normalize"]["by_kind"] if r["normalize"]["recorded"] else {}  # every kind, zeros included
    if fixes or r["cuts"]:
        kinds = Table(title="fixes and cuts by kind", title_justify="left")
        kinds.add_column("step")
        kinds.add_column("kind")
        kinds.add_column("count", justify="right")
        for k, v in fixes.items():
            kinds.add_row("normalize", k, str(v))
        for k, v in r["cuts"].items():
            kinds.add_row("cuts", k, str(v))
        console.print(kinds)
    top = Table(
        title="top repeated paragraphs" + ("" if r["top_paragraphs_exact"] else " (approximate)"), title_justify="left"
    )
    top.add_column("records", justify="right")
    top.add_column("paragraph", overflow="ellipsis", no_wrap=True, max_width=100)
    for p in r["top_paragraphs"]:
        top.add_row(str(p["records"]), p["text"])
    console.print(top)
