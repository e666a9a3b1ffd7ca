#!/usr/bin/env python3
"""Train the residue step's line model (``corpus_tools/data/residue/model.json``) on the realworld set's tune part.

Data: ``../shared/realworld/`` (or ``--data``): the pages whose id ends in an even digit (the tune part; the odd
ones, the report part, are never read here), both renderings. Each page goes through ``normalize`` and ``credits``
(the steps before residue in ``clean``), then the residue rules; the lines no rule cut and that the model would score
(:func:`corpus_tools.residue._model_features`) are labelled from the page's snippets: a line holding a ``cut``
snippet and no ``keep`` snippet is residue (1), a line holding a ``keep`` snippet is body (0), other lines are left
out. Fitted: scikit-learn's ``GradientBoostingClassifier`` (training time only: ``pip install scikit-learn``), body
lines weighted ``--body-weight`` times a residue line (keep wins), ``--extracted-body-weight`` times in the extracted
rendering (its keep target is the stricter one, and it has few residue lines to learn from). The trees are written
as plain JSON, with where they came from; ``corpus_tools.residue_model`` evaluates them in pure Python.

    python scripts/residue_train.py                      # train and write the model file
    python scripts/residue_train.py --cv 5 --no-write    # out-of-fold figures per threshold, on the tune part only
    python scripts/residue_train.py --dump lines.jsonl   # also write the labelled lines with their features
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import re
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "corpus_tools" / "data" / "residue" / "model.json"
WS = re.compile(r"\s+")


def default_data() -> Path:
    for candidate in (ROOT.parent / "shared" / "realworld", ROOT.parent.parent / "shared" / "realworld"):
        if (candidate / "labels.jsonl").exists():
            return candidate
    return Path("/work/shared/realworld")


def squash(s: str) -> str:
    return WS.sub(" ", s).strip()


def load_pages(data: Path, rendering: str) -> list[dict[str, Any]]:
    import zstandard

    with open(data / f"docs-{rendering}.jsonl.zst", "rb") as f:
        raw = zstandard.ZstdDecompressor().stream_reader(f).read()
    return [json.loads(line) for line in raw.decode("utf-8").splitlines()]


def tune(page_id: str) -> bool:
    return int(page_id[-1]) % 2 == 0


@cache
def _before() -> Any:
    from corpus_tools.credits import Credits
    from corpus_tools.normalize import Normalize
    from corpus_tools.pipeline import Pipeline

    return Pipeline((Normalize(), Credits()))


def before_residue(record: dict[str, Any]) -> list[str]:
    """The lines of a record as the residue step sees them in ``clean``: after normalize and credits."""
    from corpus_tools.pipeline import Dropped

    out = _before().process(dict(record))
    text = record["text"] if type(out) is Dropped else out["text"]
    return text.split("\n")


def scored_pages(data: Path, renderings: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    """Each tune-part page as residue sees it: its ``lines``, the ``inputs`` the model would score ((line,
    features), :func:`corpus_tools.residue.label_residue`), ``squashed`` lines, ``cut`` snippets and per line its
    ``keep_weight`` (a keep snippet in k lines is lost only when all k go: each of its lines weighs 1/k as body)."""
    from corpus_tools.residue import ResidueOptions, label_residue

    labels = {r["id"]: r for r in map(json.loads, (data / "labels.jsonl").read_text(encoding="utf-8").splitlines())}
    options = ResidueOptions()
    for rendering in renderings:
        for page in load_pages(data, rendering):
            if not tune(page["id"]):
                continue
            lab = labels[page["id"]]
            keep = [s for s in map(squash, lab["keep"]) if s]
            lines = before_residue(page)
            inputs: list[tuple[int, list[float]]] = []
            label_residue(lines, options, model_inputs=inputs)
            squashed = [squash(line) for line in lines]
            keep_weight = [0.0] * len(lines)
            for s in keep:
                holders = [i for i, line in enumerate(squashed) if s in line]
                for i in holders:
                    keep_weight[i] = max(keep_weight[i], 1 / len(holders))
            yield {
                "page": page["id"],
                "rendering": rendering,
                "lines": lines,
                "inputs": inputs,
                "squashed": squashed,
                "cut": [s for s in map(squash, lab["cut"]) if s],
                "keep_weight": keep_weight,
            }


def extracted_texts(data: Path) -> dict[str, str]:
    """Per tune-part page, its ``extracted`` rendering as residue sees it, squashed: what trafilatura kept."""
    return {
        p["id"]: " ".join(squash(line) for line in before_residue(p))
        for p in load_pages(data, "extracted")
        if tune(p["id"])
    }


def weak_label(squashed_line: str, extracted_text: str) -> int:
    """A ``plain`` line's label by the page's ``extracted`` rendering: body (0) when trafilatura kept it, else 1."""
    return 0 if squashed_line in extracted_text else 1


def labelled_lines(data: Path, renderings: tuple[str, ...], weak: bool = False) -> list[dict[str, Any]]:
    """Every tune-part line the model would score and the snippets label: page, rendering, text, y, weight,
    features, and ``weak`` False. With ``weak``, also the ``plain`` lines no snippet labels, labelled by the page's
    ``extracted`` rendering (:func:`weak_label`; ``weak`` True, weight 1)."""
    extracted = extracted_texts(data) if weak else {}
    rows = []
    for p in scored_pages(data, renderings):
        for i, features in p["inputs"]:
            line = p["squashed"][i]
            is_cut = any(s in line for s in p["cut"])
            if p["keep_weight"][i] or is_cut:
                y, weight, is_weak = (0 if p["keep_weight"][i] else 1), p["keep_weight"][i] or 1.0, False
            elif weak and p["rendering"] == "plain" and line:
                y, weight, is_weak = weak_label(line, extracted[p["page"]]), 1.0, True
            else:
                continue
            rows.append(
                {
                    "page": p["page"],
                    "rendering": p["rendering"],
                    "text": p["lines"][i],
                    "y": y,
                    "weight": weight,
                    "weak": is_weak,
                    "features": features,
                }
            )
    return rows


def fit(x: Any, y: Any, weights: Any, args: argparse.Namespace) -> Any:
    from sklearn.ensemble import GradientBoostingClassifier

    model = GradientBoostingClassifier(
        n_estimators=args.trees,
        max_depth=args.depth,
        learning_rate=args.learning_rate,
        subsample=args.subsample,
        min_samples_leaf=args.min_leaf,
        random_state=0,
    )
    model.fit(x, y, sample_weight=weights)
    return model


def to_json(model: Any, args: argparse.Namespace, n_rows: int, n_pos: int, n_weak: int) -> dict[str, Any]:
    """The fitted ensemble as plain data: per tree, parallel lists (a leaf has ``left`` -1)."""
    import numpy as np

    from corpus_tools.residue_model import FEATURES

    prior = model.init_.class_prior_[1]
    trees = []
    for est in model.estimators_[:, 0]:
        t = est.tree_
        value = [float(v) for v in t.value[:, 0, 0]]
        weight = t.weighted_n_node_samples
        # an inner node's value: its leaves' mean, weighted (sklearn keeps the pre-Newton mean there), so that
        # the gains along a path (residue_model.Model.contributions) add up to the leaf
        for node in reversed(range(t.node_count)):
            a, b = t.children_left[node], t.children_right[node]
            if a >= 0:
                value[node] = (value[a] * weight[a] + value[b] * weight[b]) / (weight[a] + weight[b])
        trees.append(
            {
                "left": [int(v) for v in t.children_left],
                "right": [int(v) for v in t.children_right],
                "feature": [int(v) if v >= 0 else 0 for v in t.feature],
                "threshold": [float(np.float32(v)) if v != -2 else 0.0 for v in t.threshold],
                "value": [round(v, 6) for v in value],
            }
        )
    return {
        "kind": "gradient-boosted trees (log-odds of residue = base + learning_rate * sum of leaf values)",
        "source": (
            "scripts/residue_train.py on the realworld set's tune part (page ids ending in an even digit), "
            "renderings: " + ",".join(args.renderings) + "; lines labelled by the pages' keep/cut snippets"
        ),
        "trained": datetime.date.today().isoformat(),
        "settings": {
            "trees": args.trees,
            "depth": args.depth,
            "learning_rate": args.learning_rate,
            "min_leaf": args.min_leaf,
            "subsample": args.subsample,
            "body_weight": args.body_weight,
            "extracted_body_weight": args.extracted_body_weight,
            "lines": n_rows,
            "residue_lines": n_pos,
            "weak_weight": args.weak_weight,
            "weak_lines": n_weak,
        },
        "features": list(FEATURES),
        "base": round(float(np.log(prior / (1 - prior))), 6),
        "learning_rate": args.learning_rate,
        "trees": trees,
    }


def fixture_checks(model: Any, per_window: int = 2, windows: int = 12) -> list[dict[str, Any]]:
    """What scikit-learn predicts for a few lines of the line fixtures (``tests/data/residue/lines.jsonl``): the
    test suite recomputes their features and checks that the shipped file gives the same probabilities."""
    from corpus_tools.residue import ResidueOptions, label_residue

    fixtures = ROOT / "tests" / "data" / "residue" / "lines.jsonl"
    checks = []
    for k, raw in enumerate(fixtures.read_text(encoding="utf-8").splitlines()):
        lines = [line["text"] for line in json.loads(raw)["lines"]]
        inputs: list[tuple[int, list[float]]] = []
        label_residue(lines, ResidueOptions(), model_inputs=inputs)
        if not inputs:
            continue
        probabilities = model.predict_proba([f for _, f in inputs])[:, 1]
        # the window's highest and lowest scoring lines: both sides of the threshold get checked
        order = sorted(range(len(inputs)), key=lambda j: -probabilities[j])
        for j in dict.fromkeys((*order[: per_window - 1], order[-1])):
            checks.append({"window": k, "line": inputs[j][0], "p": round(float(probabilities[j]), 6)})
        if len({c["window"] for c in checks}) >= windows:
            break
    return checks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=None, help="the realworld folder (default: ../shared/realworld)")
    ap.add_argument("--renderings", default="extracted,plain")
    ap.add_argument("--trees", type=int, default=60)
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--learning-rate", type=float, default=0.15)
    ap.add_argument("--min-leaf", type=int, default=10)
    ap.add_argument("--subsample", type=float, default=1.0, help="share of lines per tree (1.0: no sampling, no seed)")
    ap.add_argument("--body-weight", type=float, default=3.0)
    ap.add_argument("--extracted-body-weight", type=float, default=10.0, help="the same for extracted lines")
    ap.add_argument(
        "--weak-weight",
        type=float,
        default=0.0,
        help="also learn from the plain lines no snippet labels, labelled by the extracted rendering, at this weight",
    )
    ap.add_argument("--cv", type=int, default=0, help="also print out-of-fold figures (folds by page)")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--dump", type=Path, help="write the labelled lines (JSON lines) here")
    ap.add_argument("--out", type=Path, default=MODEL)
    args = ap.parse_args()
    args.renderings = tuple(args.renderings.split(","))
    import numpy as np

    data = args.data or default_data()
    rows = labelled_lines(data, args.renderings, weak=args.weak_weight > 0)
    x = np.array([r["features"] for r in rows], dtype=np.float64)
    y = np.array([r["y"] for r in rows])
    weak = np.array([r["weak"] for r in rows])
    # a body line of the extracted rendering weighs more: there the keep target is stricter (0.995, not 0.98)
    extracted = np.array([r["rendering"] == "extracted" for r in rows])
    body_weight = np.where(extracted, args.extracted_body_weight, args.body_weight)
    w = (
        np.array([r["weight"] for r in rows])
        * np.where(y == 0, body_weight, 1.0)
        * np.where(weak, args.weak_weight, 1.0)
    )
    gold = ~weak
    print(
        f"{int(gold.sum())} labelled lines ({int(y[gold].sum())} residue, {int((y[gold] == 0).sum())} body), "
        f"{int(weak.sum())} weak",
        file=sys.stderr,
    )
    if args.dump:
        with open(args.dump, "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    if args.cv:
        # folds by the pages with a labelled line; a page with weak lines only is always training
        pages = sorted({r["page"] for r in rows if not r["weak"]})
        fold_of = {p: k % args.cv for k, p in enumerate(pages)}
        folds = np.array([fold_of.get(r["page"], -1) for r in rows])
        oof = np.zeros(len(rows))
        for k in range(args.cv):
            m = fit(x[folds != k], y[folds != k], w[folds != k], args)
            oof[folds == k] = m.predict_proba(x[folds == k])[:, 1]
        out = io.StringIO()
        for rendering in args.renderings:
            sel = np.array([r["rendering"] == rendering for r in rows]) & gold
            for t in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
                body = sel & (y == 0)
                res = sel & (y == 1)
                lost = round(float(((oof >= t) * body * w / body_weight).sum()), 1)
                got = int((oof[res] >= t).sum())
                print(
                    f"{rendering} t={t:.1f}: body lines lost {lost}/{int(body.sum())}, "
                    f"residue lines cut {got}/{int(res.sum())}",
                    file=out,
                )
        print(out.getvalue(), end="", file=sys.stderr)
    if args.no_write:
        return
    model = fit(x, y, w, args)
    data = to_json(model, args, int(gold.sum()), int(y[gold].sum()), int(weak.sum()))
    data["checks"] = fixture_checks(model)
    args.out.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
