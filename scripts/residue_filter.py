#!/usr/bin/env python3
"""Filter JSON lines through the residue labeller: each record's ``text`` without its cut lines; records labelled
``listing_page`` are left out. For measuring (``/work/shared/realworld/score.py --cmd "python
scripts/residue_filter.py"``), not the pipeline step.

Options: ``--no KIND`` (repeatable) switches a kind off; ``--explain`` writes each cut to stderr."""

from __future__ import annotations

import argparse
import sys

import orjson

from corpus_tools.residue import KINDS, ResidueOptions, cut_lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--no", action="append", default=[], choices=[*KINDS, "listing_pages"])
    ap.add_argument("--explain", action="store_true")
    a = ap.parse_args()
    options = ResidueOptions(**{kind: False for kind in a.no})
    out = sys.stdout.buffer
    for raw in sys.stdin.buffer:
        if not raw.strip():
            continue
        rec = orjson.loads(raw)
        text, labels = cut_lines(rec.get("text", ""), options)
        if a.explain:
            lines = rec.get("text", "").split("\n")
            for i, rule in labels.cuts:
                print(f"{rec.get('id')}\t{i}\t{rule}\t{lines[i][:100]}", file=sys.stderr)
            if labels.drop:
                print(f"{rec.get('id')}\t-\t{labels.drop}", file=sys.stderr)
        if text is None:
            continue
        rec["text"] = text
        out.write(orjson.dumps(rec) + b"\n")


if __name__ == "__main__":
    main()
