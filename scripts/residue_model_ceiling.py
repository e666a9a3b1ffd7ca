#!/usr/bin/env python3
"""Would the residue line model cut more with more to learn from? Out-of-fold figures of three ways to give it more.

The shipped recipe (``scripts/residue_train.py``) learns from the ~1,400 lines of the realworld set's tune part that
its snippets label, with the shape and place features of :mod:`corpus_tools.residue_model`. Each way below adds
one kind of information and is scored the same way, 5 folds by page repeated over ``--repeats`` splits, on the
tune part only (the report part is never read):

- ``words``: the line's words too (one 0/1 feature for each word seen on at least ``--min-pages`` training pages):
  what a phrase list knows, learnt from the data;
- ``weak``: ~26,000 more ``plain`` lines, labelled by the page's ``extracted`` rendering (a line trafilatura kept
  is body, one it left out is furniture; 87% agree with the snippets), at ``--weak-weight`` a labelled line's weight
  (``residue_train.py --weak-weight`` trains the model so);
- ``context``: the first pass's scores of the three scored lines either side (furniture comes in runs).

Printed per rendering and threshold: ``lost/cut``, body lines lost (a keep snippet's lines weigh 1/k) and residue
lines cut, as ``residue_train.py --cv`` prints them. A way helps when it cuts more at the same loss.

    pip install scikit-learn zstandard
    python scripts/residue_model_ceiling.py            # ~2 minutes on one core
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from residue_train import default_data, extracted_texts, fit, scored_pages, weak_label

THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
WORD = r"\w+"


def scored_lines(data: Path) -> list[dict[str, Any]]:
    """Every tune-part line the model would score: its features, its snippet label (None when no snippet is in it)
    and, in ``plain``, whether the page's ``extracted`` rendering holds it."""
    extracted = extracted_texts(data)
    rows = []
    for p in scored_pages(data, ("extracted", "plain")):
        squashed, keep_weight = p["squashed"], p["keep_weight"]
        for i, features in p["inputs"]:
            gold = 0 if keep_weight[i] else 1 if any(s in squashed[i] for s in p["cut"]) else None
            weak = None
            if p["rendering"] == "plain" and squashed[i]:
                weak = weak_label(squashed[i], extracted[p["page"]])
            rows.append(
                {
                    "page": p["page"],
                    "rendering": p["rendering"],
                    "line": i,
                    "text": p["lines"][i],
                    "gold": gold,
                    "keep_weight": keep_weight[i] or 1.0,
                    "weak": weak,
                    "features": features,
                }
            )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=None, help="the realworld folder (default: ../shared/realworld)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=3, help="fold splits to average over (the first: residue_train's)")
    ap.add_argument("--min-pages", type=int, default=5, help="words: a word is a feature from this many pages on")
    ap.add_argument("--weak-weight", type=float, default=0.05, help="weak: a weak line's weight")
    # the shipped recipe's settings (residue_train.py's defaults)
    ap.add_argument("--trees", type=int, default=60)
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--learning-rate", type=float, default=0.15)
    ap.add_argument("--min-leaf", type=int, default=10)
    ap.add_argument("--subsample", type=float, default=1.0)
    ap.add_argument("--body-weight", type=float, default=3.0)
    ap.add_argument("--extracted-body-weight", type=float, default=10.0)
    args = ap.parse_args()
    import numpy as np
    import regex
    from sklearn.feature_extraction.text import CountVectorizer

    rows = scored_lines(args.data or default_data())
    x = np.array([r["features"] for r in rows], dtype=np.float64)
    gold = np.array([-1 if r["gold"] is None else r["gold"] for r in rows])
    weak = np.array([-1 if r["weak"] is None else r["weak"] for r in rows])
    extracted = np.array([r["rendering"] == "extracted" for r in rows])
    keep_weight = np.array([r["keep_weight"] for r in rows])
    body_weight = np.where(extracted, args.extracted_body_weight, args.body_weight)
    pages = sorted({r["page"] for r in rows if r["gold"] is not None})
    y_gold = np.where(gold >= 0, gold, 0)
    w_gold = keep_weight * np.where(y_gold == 0, body_weight, 1.0)
    texts = [r["text"].casefold() for r in rows]
    print(
        f"{len(rows)} scored lines on the tune part: {int((gold == 1).sum())} residue and {int((gold == 0).sum())} "
        f"body by the snippets, {int((weak >= 0).sum())} plain lines with a weak label",
        file=sys.stderr,
    )

    def out_of_fold(features: Any, folds: Any, use_weak: bool = False) -> Any:
        """``features``: the feature matrix, or a function of the training rows' mask that makes it."""
        scores = np.zeros(len(rows))
        for k in range(args.folds):
            train, test = folds != k, folds == k
            matrix = features(train) if callable(features) else features
            y, w = y_gold, w_gold
            chosen = train & (gold >= 0)
            if use_weak:
                y = np.where(gold >= 0, gold, weak)
                w = np.where(gold >= 0, w_gold, args.weak_weight * np.where(y == 0, args.body_weight, 1.0))
                chosen = train & (y >= 0)
            model = fit(matrix[chosen], y[chosen], w[chosen], args)
            scores[test] = model.predict_proba(matrix[test])[:, 1]
        return scores

    def with_words(train: Any) -> Any:
        """The features and a 0/1 column for each word on --min-pages labelled training pages."""
        seen: dict[str, set[str]] = defaultdict(set)
        for r, text, chosen in zip(rows, texts, train, strict=True):
            if chosen and r["gold"] is not None:
                for word in set(regex.findall(WORD, text)):
                    seen[word].add(r["page"])
        vocabulary = sorted(w for w, p in seen.items() if len(p) >= args.min_pages)
        bag = CountVectorizer(vocabulary=vocabulary, token_pattern=WORD, binary=True, lowercase=False)
        return np.hstack([x, bag.transform(texts).toarray()])

    def with_context(first: Any) -> Any:
        at: dict[tuple[str, str], dict[int, int]] = defaultdict(dict)
        for j, r in enumerate(rows):
            at[(r["page"], r["rendering"])][r["line"]] = j
        extra = np.zeros((len(rows), 4))
        for j, r in enumerate(rows):
            index = at[(r["page"], r["rendering"])]
            up = [first[index[i]] for i in range(r["line"] - 3, r["line"]) if i in index]
            down = [first[index[i]] for i in range(r["line"] + 1, r["line"] + 4) if i in index]
            near = up + down
            extra[j] = [
                np.mean(near) if near else -1,
                max(near) if near else -1,
                np.mean(up) if up else -1,
                np.mean(down) if down else -1,
            ]
        return np.hstack([x, extra])

    # Repeated cross-validation: one fold split moves a way's figures by a few body lines and tens of residue
    # lines. Split 0 is residue_train.py --cv's (by the pages with a labelled line, in order), so that its
    # `shipped` row is that script's; the others shuffle the pages. A page with weak lines only is always training.
    names = ("shipped", "words", "weak", "context")
    lost = {(n, r): np.zeros(len(THRESHOLDS)) for n in names for r in ("extracted", "plain")}
    cut = {(n, r): np.zeros(len(THRESHOLDS)) for n in names for r in ("extracted", "plain")}
    for split in range(args.repeats):
        order = list(pages)
        if split:
            random.Random(split).shuffle(order)
        fold_of = {p: k % args.folds for k, p in enumerate(order)}
        folds = np.array([fold_of.get(r["page"], -1) for r in rows])
        shipped = out_of_fold(x, folds)
        ways = {
            "shipped": shipped,
            "words": out_of_fold(with_words, folds),
            "weak": out_of_fold(x, folds, use_weak=True),
            "context": out_of_fold(with_context(shipped), folds),
        }
        for rendering in ("extracted", "plain"):
            chosen = extracted if rendering == "extracted" else ~extracted
            body, residue = chosen & (gold == 0), chosen & (gold == 1)
            for name, scores in ways.items():
                lost[(name, rendering)] += [(keep_weight * (scores >= t) * body).sum() for t in THRESHOLDS]
                cut[(name, rendering)] += [(scores[residue] >= t).sum() for t in THRESHOLDS]
    for rendering in ("extracted", "plain"):
        chosen = extracted if rendering == "extracted" else ~extracted
        body, residue = int((chosen & (gold == 0)).sum()), int((chosen & (gold == 1)).sum())
        print(
            f"{rendering}: {body} body lines, {residue} residue lines; lost/cut at threshold, "
            f"mean of {args.repeats} fold splits"
        )
        print("  way      " + " ".join(f"{t:>11}" for t in THRESHOLDS))
        for name in names:
            mean_lost = lost[(name, rendering)] / args.repeats
            mean_cut = cut[(name, rendering)] / args.repeats
            cells = [f"{a:.1f}/{b:.1f}" for a, b in zip(mean_lost, mean_cut, strict=True)]
            print(f"  {name:8s} " + " ".join(f"{c:>11}" for c in cells))


if __name__ == "__main__":
    main()
