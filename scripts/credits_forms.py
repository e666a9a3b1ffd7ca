#!/usr/bin/env python3
"""Precision and recall of the credits step's authors on real credit lines, per form and per part.

The labelled set is ``tests/data/credits_real/items.jsonl`` (see the README there): short real lines from the
trafilatura evaluation pages in ``shared/realworld/``, each with a few lines of context, the authors,
translators and contributors it gives (none for a look-alike), its page, part (``tune``: page ids ending in an
even digit; ``report``: odd) and form. Context lines of running text are stored as ``<body>`` and read as
:data:`BODY_SENTENCE`.

Counts are over names: a name found that the item does not give is a false positive (for a look-alike, every
name found is one); a name the item gives that was not found is a false negative. ``python scripts/credits_forms.py``
prints the table; ``--misses`` lists the items whose names differ.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ITEMS = ROOT / "tests" / "data" / "credits_real" / "items.jsonl"
# What a `<body>` context line stands for: a finished sentence of running text, longer than 15 words.
BODY_SENTENCE = (
    "The council said the plan would be reviewed again next year, after the first results from the pilot "
    "districts have been published and discussed at public hearings."
)


def load_items(path: Path = ITEMS) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def item_text(item: dict[str, Any]) -> str:
    return "\n".join(BODY_SENTENCE if line == "<body>" else line for line in item["lines"])


def run_item(item: dict[str, Any]) -> dict[str, Any]:
    """What the credits step finds in one item: authors, translators, contributors, and whether the target
    line was cut."""
    from corpus_tools.credits import Credits
    from corpus_tools.step import Doc

    labels = Credits().label(Doc({"text": item_text(item)}))  # what the step finds, whether or not text is left
    found = labels.found
    return {
        "authors": found.authors,
        "translators": found.translators,
        "contributors": [{"name": c["name"], "role": c["role"]} for c in found.contributors],
        "target_cut": item["target"] in labels.cuts,
    }


def exact(item: dict[str, Any], found: dict[str, Any]) -> bool:
    """Whether the step gives exactly the item's names (order aside)."""
    return (
        sorted(found["authors"]) == sorted(item["authors"])
        and sorted(found["translators"]) == sorted(item["translators"])
        and sorted((c["name"], c["role"]) for c in found["contributors"])
        == sorted((c["name"], c["role"]) for c in item["contributors"])
    )


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    items: int = 0
    exact: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, item: dict[str, Any], found: dict[str, Any]) -> None:
        want, got = set(item["authors"]), set(found["authors"])
        self.tp += len(want & got)
        self.fp += len(got - want)
        self.fn += len(want - got)
        self.items += 1
        if exact(item, found):
            self.exact += 1
        else:
            self.misses.append(item["item"])

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def evaluate(items: list[dict[str, Any]]) -> tuple[dict[str, dict[str, Any]], dict[str, Tally], dict[str, Tally]]:
    """(found by item id, tallies by part, tallies by form: by ``form`` and by ``form@part``)."""
    found_by_item: dict[str, dict[str, Any]] = {}
    by_part: dict[str, Tally] = defaultdict(Tally)
    by_form: dict[str, Tally] = defaultdict(Tally)
    for item in items:
        found = run_item(item)
        found_by_item[item["item"]] = found
        by_part[item["part"]].add(item, found)
        by_part["all"].add(item, found)
        by_form[item["form"]].add(item, found)
        by_form[f"{item['form']}@{item['part']}"].add(item, found)
    return found_by_item, dict(by_part), dict(by_form)


def _row(name: str, tally: Tally) -> str:
    return (
        f"{name:<24} {tally.items:>5} {tally.exact:>6} {tally.tp:>5} {tally.fp:>4} {tally.fn:>4} "
        f"{tally.precision:>10.3f} {tally.recall:>7.3f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=Path, default=ITEMS)
    parser.add_argument("--misses", action="store_true", help="list the items whose names differ")
    args = parser.parse_args(argv)
    items = load_items(args.items)
    found, by_part, by_form = evaluate(items)
    header = f"{'':<24} {'items':>5} {'exact':>6} {'tp':>5} {'fp':>4} {'fn':>4} {'precision':>10} {'recall':>7}"
    print("authors per part (tune: ids ending in an even digit; report: odd)")
    print(header)
    for part in ("tune", "report", "all"):
        if part in by_part:
            print(_row(part, by_part[part]))
    print()
    print("authors per form (all items; then precision and recall on each part)")
    print(f"{header}   {'tune P':>6} {'tune R':>6}   {'rep. P':>6} {'rep. R':>6}")
    for form in sorted(f for f in by_form if "@" not in f):
        cells = []
        for part in ("tune", "report"):
            tally = by_form.get(f"{form}@{part}")
            cells.append(f"{tally.precision:>6.3f} {tally.recall:>6.3f}" if tally else f"{'-':>6} {'-':>6}")
        print(f"{_row(form, by_form[form])}   {cells[0]}   {cells[1]}")
    if args.misses:
        by_id = {item["item"]: item for item in items}
        print()
        for name in by_part["all"].misses:
            item = by_id[name]
            print(f"{name} [{item['form']}] {item['lines'][item['target']][:90]!r}")
            print(f"    want {item['authors']} {item['translators']} {item['contributors']}")
            got = found[name]
            print(f"    got  {got['authors']} {got['translators']} {got['contributors']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
