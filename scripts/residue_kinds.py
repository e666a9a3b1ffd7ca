#!/usr/bin/env python3
"""Per-kind recall and precision of a cleaning command on the line-level residue fixtures.

The fixtures (``tests/data/residue/lines.jsonl``) are windows of consecutive real lines from the pages of
``../shared/realworld/`` (trafilatura's evaluation set), each line labelled with its kind: ``body`` (article text)
or one of the residue kinds (``preview``, ``link_block``, ``cta``, ``furniture``, ``date``, ``contact``,
``caption``, ``photo_credit``, ``byline``, ``bio``, ``translator``, ``contributor``). One window is one record
``{"id": "<page>-<rendering>-<n>", "text": "\\n".join(lines)}``; the records go through ``--cmd`` (run by the
shell, JSON lines in and out), and a line counts as removed when it no longer occurs as a line of the output text
(compared on its letters and digits, so that normalizing quotes or spaces does not count as a cut), or when the
record is missing from the output.

Printed per kind: lines, removed, and the rate (recall for a residue kind, loss rate for ``body``: lower is
better), then the overall precision (removed lines that are not body / all removed lines). When the output records
carry ``metadata.cuts`` (``{"step", "rule", "paragraph"}``), each cut is traced back to its input line and a
per-rule breakdown shows how many lines of each kind every rule cut (its precision).

    python scripts/residue_kinds.py                                   # corpus-tools clean --no-corpus-aware
    python scripts/residue_kinds.py --part report --rendering plain --format json
    python scripts/residue_kinds.py --cmd "corpus-tools clean --no-corpus-aware" --show 10

Ids ending in an even digit are the tuning part, odd the reporting part (the split of every issue).
Exit 0 always: a measurement, not a gate.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import regex

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "data" / "residue" / "lines.jsonl"
DEFAULT_CMD = "corpus-tools clean --no-corpus-aware"

BODY = "body"
KINDS = (
    BODY,
    "preview",
    "link_block",
    "cta",
    "furniture",
    "date",
    "contact",
    "caption",
    "photo_credit",
    "byline",
    "bio",
    "translator",
    "contributor",
)
PARTS = ("tune", "report")
RENDERINGS = ("extracted", "plain")

_NOT_WORD = regex.compile(r"[^\p{L}\p{N}]+")
_SPACES = regex.compile(r"\s+")


def part_of(page: str) -> str:
    """``tune`` for ids ending in an even digit, ``report`` for odd ones."""
    return "tune" if int(page[-1]) % 2 == 0 else "report"


def line_key(line: str) -> str:
    """What a line is compared on: its letters and digits, case-folded (NFKC); a line without any keeps its
    characters with spaces squashed."""
    text = unicodedata.normalize("NFKC", line).casefold()
    key = _NOT_WORD.sub("", text)
    return key or _SPACES.sub(" ", text).strip()


def load_windows(path: Path = FIXTURES) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def select(windows: Iterable[dict[str, Any]], part: str = "all", rendering: str = "all") -> list[dict[str, Any]]:
    return [
        w
        for w in windows
        if (part == "all" or w.get("part", part_of(w["page"])) == part)
        and (rendering == "all" or w["rendering"] == rendering)
    ]


def records(windows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One record per window, ``id`` = ``<page>-<rendering>-<n>`` with ``n`` counting that page's windows in that
    rendering (in file order)."""
    seen: Counter[tuple[str, str]] = Counter()
    out = []
    for w in windows:
        n = seen[w["page"], w["rendering"]]
        seen[w["page"], w["rendering"]] += 1
        out.append({"id": f"{w['page']}-{w['rendering']}-{n}", "text": "\n".join(x["text"] for x in w["lines"])})
    return out


def run_command(cmd: str, recs: list[dict[str, Any]]) -> tuple[dict[str, dict[str, Any]], str]:
    """Pipe ``recs`` through ``cmd`` (by the shell); the output records by id, and a problem ('' when none)."""
    stdin = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs).encode()
    try:
        proc = subprocess.run(cmd, shell=True, input=stdin, capture_output=True, check=False)
    except OSError as e:
        return {}, f"could not run {cmd!r}: {e}"
    problem = "" if proc.returncode == 0 else f"command exited {proc.returncode}: {proc.stderr.decode()[-300:]}"
    out: dict[str, dict[str, Any]] = {}
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            problem = problem or f"output line is not JSON: {line[:80]!r}"
            continue
        if isinstance(rec, dict) and "id" in rec:
            out[str(rec["id"])] = rec
    return out, problem


def removed_lines(lines: list[str], output: dict[str, Any] | None) -> list[bool]:
    """For each input line, whether it no longer occurs as a line of the output text (a missing record: all)."""
    if output is None:
        return [True] * len(lines)
    left = Counter(line_key(x) for x in str(output.get("text", "")).split("\n"))
    gone = []
    for line in lines:
        key = line_key(line)
        if left[key] > 0:
            left[key] -= 1
            gone.append(False)
        else:
            gone.append(True)
    return gone


def cut_rules(lines: list[str], output: dict[str, Any] | None) -> dict[int, str]:
    """Input line index -> the rule that cut it (``step:rule``), from the output's ``metadata.cuts``: each entry's
    ``paragraph`` is the line in the text as it came in (corpus-tools 0.2.0); a dry run's entries cut nothing."""
    metadata = (output or {}).get("metadata") or {}
    cuts = metadata.get("cuts") if isinstance(metadata.get("cuts"), list) else []
    rules: dict[int, str] = {}
    for c in cuts:
        if not isinstance(c, dict) or c.get("dry_run"):
            continue
        p = c.get("paragraph")
        if isinstance(p, int) and 0 <= p < len(lines):
            step = str(c.get("step", ""))
            rule = str(c.get("rule", "?"))
            rules.setdefault(p, f"{step}:{rule}" if step else rule)
    return rules


def score(windows: list[dict[str, Any]], outputs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Per-kind counts, overall precision and the per-rule breakdown for ``windows`` given the command's output
    records by id."""
    total: Counter[str] = Counter()
    removed: Counter[str] = Counter()
    by_rule: dict[str, Counter[str]] = defaultdict(Counter)
    examples: dict[str, list[str]] = {"lost": [], "left": []}
    missing = 0
    for w, rec in zip(windows, records(windows), strict=True):
        out = outputs.get(rec["id"])
        missing += out is None
        texts = [x["text"] for x in w["lines"]]
        gone = removed_lines(texts, out)
        rules = cut_rules(texts, out) if out is not None else {}
        for i, (line, g) in enumerate(zip(w["lines"], gone, strict=True)):
            kind = line["kind"]
            total[kind] += 1
            if g:
                removed[kind] += 1
                by_rule[rules.get(i, "(no cut entry)" if out is not None else "(record missing)")][kind] += 1
            if g and kind == BODY:
                examples["lost"].append(f"{rec['id']}: {line['text'][:90]}")
            elif not g and kind != BODY:
                examples["left"].append(f"{rec['id']} [{kind}]: {line['text'][:90]}")
    all_removed = sum(removed.values())
    residue_total = sum(n for k, n in total.items() if k != BODY)
    residue_removed = sum(n for k, n in removed.items() if k != BODY)
    return {
        "windows": len(windows),
        "records_missing": missing,
        "kinds": {
            k: {"lines": total[k], "removed": removed[k], "rate": removed[k] / total[k] if total[k] else None}
            for k in KINDS
            if total[k]
        },
        "residue": {
            "lines": residue_total,
            "removed": residue_removed,
            "recall": residue_removed / residue_total if residue_total else None,
        },
        "precision": (all_removed - removed[BODY]) / all_removed if all_removed else None,
        "removed": all_removed,
        "rules": {rule: dict(sorted(c.items())) for rule, c in sorted(by_rule.items())},
        "examples": examples,
    }


def _rate(x: float | None) -> str:
    return "   -  " if x is None else f"{x:.4f}"


def format_text(name: str, result: dict[str, Any], show: int = 0) -> str:
    out = [f"== {name}: {result['windows']} windows, {result['records_missing']} records missing from the output"]
    out.append(f"  {'kind':<13} {'lines':>6} {'removed':>8} {'rate':>7}")
    for kind, c in result["kinds"].items():
        note = "  (loss: lower is better)" if kind == BODY else ""
        out.append(f"  {kind:<13} {c['lines']:>6} {c['removed']:>8} {_rate(c['rate']):>7}{note}")
    r = result["residue"]
    out.append(f"  {'all residue':<13} {r['lines']:>6} {r['removed']:>8} {_rate(r['recall']):>7}  (recall)")
    out.append(f"  precision {_rate(result['precision'])} ({result['removed']} lines removed)")
    if result["rules"]:
        out.append("  per rule (lines cut, by kind; precision = not body / all):")
        for rule, c in result["rules"].items():
            n = sum(c.values())
            kinds = ", ".join(f"{k} {v}" for k, v in c.items())
            out.append(f"    {rule}: {n} [{kinds}] precision {_rate((n - c.get(BODY, 0)) / n)}")
    for label in ("lost", "left"):
        for line in result["examples"][label][:show]:
            out.append(f"  {label} {line}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cmd", default=DEFAULT_CMD, help=f"shell command, JSON lines in and out (default: {DEFAULT_CMD})")
    ap.add_argument("--fixtures", default=str(FIXTURES), help="the labelled windows (JSON lines)")
    ap.add_argument("--part", default="all", choices=["all", *PARTS], help="tune: even ids; report: odd ids")
    ap.add_argument("--rendering", default="all", choices=["all", *RENDERINGS])
    ap.add_argument("--format", default="text", choices=["text", "json"])
    ap.add_argument("--show", type=int, default=0, help="list up to N lost body lines and left residue lines")
    a = ap.parse_args(argv)
    try:
        windows = select(load_windows(Path(a.fixtures)), a.part, a.rendering)
    except (OSError, ValueError, KeyError) as e:
        print(f"cannot read the fixtures {a.fixtures}: {e}", file=sys.stderr)
        return 0
    outputs, problem = run_command(a.cmd, records(windows))
    if problem:
        print(problem, file=sys.stderr)
    result = score(windows, outputs)
    name = f"part {a.part}, rendering {a.rendering}"
    if a.format == "json":
        result = dict(result, cmd=a.cmd, part=a.part, rendering=a.rendering)
        if not a.show:
            result.pop("examples")
        else:
            result["examples"] = {k: v[: a.show] for k, v in result["examples"].items()}
        print(json.dumps(result, ensure_ascii=False, indent=1))
    else:
        print(format_text(name, result, a.show))
    return 0


if __name__ == "__main__":
    sys.exit(main())
