"""The residue step's line model: a small gradient-boosted tree ensemble over cheap line features, shipped as JSON.

The rules of :mod:`corpus_tools.residue` cut what a phrase list or a shape names; the model looks at the lines
they leave and scores each short one (at most :data:`MAX_WORDS` words; inside the main body at most
:data:`MAX_BODY_WORDS` and not prose) from its shape, its place in the page and its neighbours, their rule cuts and
shapes (:data:`FEATURES`). A line scoring at least the step's ``model_threshold`` (``model_threshold_busy`` on a
busy page) is cut with the rule ``model``; ``explain`` shows the features that pushed it most
(:meth:`Model.top_features`).

The weights (``data/residue/model.json``) come from ``scripts/residue_train.py``, trained on the lines of the
realworld set's tune part (page ids ending in an even digit, both renderings), labelled by the pages' ``keep`` and
``cut`` snippets; the file names its source, date and settings. At run time it is plain Python: the trees are
compiled once into one function of nested comparisons (no numpy, nothing downloaded).
"""

from __future__ import annotations

import json
import math
import re
from bisect import bisect_left
from collections.abc import Sequence
from functools import cache
from importlib import resources
from itertools import accumulate, compress
from operator import mul
from typing import Any

#: Lines longer than this are never scored (the article's paragraphs; a long residue line is the rules' job).
MAX_WORDS = 40
#: Inside the main body (the cluster of prose lines with the most words) only lines of at most this many words that
#: are not prose are scored: subheads, captions, inline links; never a paragraph of the article.
MAX_BODY_WORDS = 12

#: The features, in the order of a feature vector (the model file names them too, and must match).
FEATURES = (
    "words",  # log(1 + words)
    "chars_per_word",
    "end_sentence",  # ends with . ! ? (closers stepped over)
    "end_colon",
    "end_ellipsis",
    "end_alnum",  # ends with a letter or a digit: no final punctuation
    "first_upper",
    "first_digit",
    "first_punct",  # a bullet, a dash, a quote, a bracket...
    "cap_share",  # share of words that start with a capital
    "digit_share",  # digits / characters
    "comma_rate",  # commas per word
    "inner_stops",  # sentence ends inside the line (". X")
    "separators",  # | · • / » between parts
    "link_marks",  # http, www., @, #, a domain
    "cjk",
    "headline_shaped",
    "menu_shaped",
    "byline",
    "marked",  # truncation mark: 0, 1 (bare ellipsis), 2 (strong)
    "repeats",  # the line occurs more than once in the page
    "position",  # line index / lines
    "before_body",  # above the main body's first prose line
    "after_body",  # below its last one
    "lines_to_body",  # log(1 + lines to the main body), 0 inside it
    "doc_lines",  # log(1 + non-blank lines)
    "doc_prose_share",  # share of non-blank lines that are prose
    "run_short",  # log(1 + length of the run of short non-prose lines it is in)
    "prev_words",
    "next_words",
    "prev_prose",
    "next_prose",
    "prev_cut",  # a rule cut the line above
    "next_cut",
    "prev_end_sentence",
    "next_end_sentence",
    "prose_above",  # share of the page's prose words above the line
    "prose_near",  # log(1 + prose words within four non-blank lines either side)
    "prose_up",  # log(1 + non-blank lines up to the nearest prose line above), 5.0 when none
    "prose_down",  # the same below
    "cut_near",  # share of the three non-blank lines either side that a rule cut
    "short_near",  # share of the three non-blank lines either side of at most eight words
    "cut_above",  # share of the non-blank lines above that a rule cut
    "cut_below",  # the same below
    "to_end",  # log(1 + non-blank lines below)
    "prev_menu",  # the line above is menu-shaped
    "next_menu",
)
_F = {name: i for i, name in enumerate(FEATURES)}

_LOG = [math.log1p(i) for i in range(4096)]
_DIGIT = re.compile(r"\d")
_INNER_STOP = re.compile(r"[.!?。！？]\s+\S")
_SEPARATORS = re.compile(r"\s[|·•/»›]\s|\s[|]|[|]\s")
# a URL, a handle or a domain: one search each, each with a literal to scan for first (one alternation of them all
# is tried at every position); _linkish(s) == bool(re.search(r"https?://|www\.|@\w|#\w|\w\.(?:com|...)\b", s, re.I))
_LINK_HTTP = re.compile(r"https?://", re.I)
_LINK_DOT = re.compile(r"(?<=\w)\.(?:com|org|net|de|fr|es|it|pt|nl|uk|io|info)\b|www\.", re.I)
_LINK_TAG = re.compile(r"[@#]\w")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")
_CLOSERS = "\"'”’»)]"


def _log(n: int) -> float:
    return _LOG[n] if n < 4096 else math.log1p(n)


def _linkish(s: str) -> bool:
    return bool(
        ("." in s and _LINK_DOT.search(s))
        or (("@" in s or "#" in s) and _LINK_TAG.search(s))
        or ("://" in s and _LINK_HTTP.search(s))
    )


def line_shape(line: str, words: int) -> list[float]:
    """The features of one line alone (the first 16 of :data:`FEATURES`), cheap: a few regex scans of a short
    line and one split."""
    s = line.strip()
    n = len(s) or 1
    e = s.rstrip(_CLOSERS)
    last = e[-1:] if e else ""
    first = s[:1]
    toks = s.split()
    caps = len([1 for t in toks if t[0].isupper()])
    ascii_ = s.isascii()
    # the regex scans only where their characters can be (an ASCII line without them has none)
    if ascii_:
        digits = sum(map(s.count, "0123456789"))
        stops = len(_INNER_STOP.findall(s)) if "." in s or "!" in s or "?" in s else 0
        seps = len(_SEPARATORS.findall(s)) if "|" in s or "/" in s else 0
    else:
        digits = len(_DIGIT.findall(s))
        stops = len(_INNER_STOP.findall(s))
        seps = len(_SEPARATORS.findall(s))
    return [
        _log(words),
        n / (words or 1),
        1.0 if last in ".!?。！？" and not e.endswith(("...", "…")) else 0.0,
        1.0 if last in ":：" else 0.0,
        1.0 if e.endswith(("...", "…")) else 0.0,
        1.0 if last.isalnum() else 0.0,
        1.0 if first.isupper() else 0.0,
        1.0 if first.isdigit() else 0.0,
        1.0 if first and not first.isalnum() else 0.0,
        caps / (len(toks) or 1),
        digits / n,
        s.count(",") / (words or 1),
        float(stops),
        float(seps),
        1.0 if _linkish(s) else 0.0,
        1.0 if not ascii_ and _CJK.search(s) else 0.0,
    ]


def doc_features(
    lines: Sequence[str],
    words: Sequence[int],
    cut: Sequence[bool],
    prose: Sequence[bool],
    body: tuple[int, int] | None,
    candidates: Sequence[int],
    shapes: Any,
    ends: Sequence[bool] | None = None,
    menu: Sequence[bool] | None = None,
    scored: Sequence[int] | None = None,
) -> list[list[float]]:
    """The feature vectors of the ``candidates`` (line indices) of one page (of ``scored`` only, when given: some
    of the candidates, which all count for the ``repeats`` feature).

    ``words``: per line (0: blank); ``cut``: a rule cut it; ``prose``: a prose line (15 words or more, ending a
    sentence); ``body``: the main body's first and last line (or ``None``); ``shapes(i)``: line ``i``'s own
    features (the first 20: :func:`line_shape`, then headline_shaped, menu_shaped, byline, marked); ``ends``: per
    line, whether it ends a sentence (worked out when not given)."""
    n = len(lines)
    if ends is None:
        ends = [_ends_sentence(line) for line in lines]
    # per non-blank line (by rank): prefix sums of prose words, rule cuts and short lines (at most eight words);
    # the ranks of the prose lines, whence the prose line above and below a candidate and its run of non-prose lines
    nonblank = list(compress(range(n), words))
    last = len(nonblank)
    m = last or 1
    doc_lines = _log(last)
    counts: dict[str, int] = {}
    for i in candidates:
        key = lines[i].strip()
        counts[key] = counts.get(key, 0) + 1
    ranked_words = list(map(words.__getitem__, nonblank))
    ranked_prose = list(map(prose.__getitem__, nonblank))
    cum = list(accumulate(map(mul, ranked_words, ranked_prose), initial=0))
    ccum = list(accumulate(map(cut.__getitem__, nonblank), initial=0))
    scum = list(accumulate(map((8).__ge__, ranked_words), initial=0))
    prose_ranks = list(compress(range(last), ranked_prose))
    n_prose = len(prose_ranks)
    total = cum[last]
    prose_share = n_prose / m
    total = total or 1
    if menu is None:
        menu = [False] * n
    b0, b1 = body if body is not None else (n, -1)
    out = []
    for i in candidates if scored is None else scored:
        r = bisect_left(nonblank, i)
        k = bisect_left(prose_ranks, r)
        prose_above_at = prose_ranks[k - 1] if k else -1  # the nearest prose line above, by rank
        k += k < n_prose and prose_ranks[k] == r
        prose_below_at = prose_ranks[k] if k < n_prose else -1
        run_len = 0 if prose[i] else (prose_below_at if prose_below_at >= 0 else last) - prose_above_at - 1
        p = nonblank[r - 1] if r > 0 else -1
        q = nonblank[r + 1] if r + 1 < len(nonblank) else -1
        f = list(shapes(i))
        if body is None:
            before = after = 0.0
            dist = 0
        else:
            before = 1.0 if i < b0 else 0.0
            after = 1.0 if i > b1 else 0.0
            dist = b0 - i if i < b0 else (i - b1 if i > b1 else 0)
        f.extend(
            (
                1.0 if counts[lines[i].strip()] > 1 else 0.0,
                r / m,
                before,
                after,
                _log(dist),
                doc_lines,
                prose_share,
                _log(run_len),
                _log(words[p]) if p >= 0 else 0.0,
                _log(words[q]) if q >= 0 else 0.0,
                1.0 if p >= 0 and prose[p] else 0.0,
                1.0 if q >= 0 and prose[q] else 0.0,
                1.0 if p >= 0 and cut[p] else 0.0,
                1.0 if q >= 0 and cut[q] else 0.0,
                1.0 if p >= 0 and ends[p] else 0.0,
                1.0 if q >= 0 and ends[q] else 0.0,
                cum[r] / total,
                _log(cum[min(r + 5, len(nonblank))] - cum[max(r - 4, 0)] - (words[i] if prose[i] else 0)),
                _log(r - prose_above_at) if prose_above_at >= 0 else 5.0,
                _log(prose_below_at - r) if prose_below_at >= 0 else 5.0,
            )
        )
        lo, hi = max(r - 3, 0), min(r + 4, last)
        others = hi - lo - 1
        f.extend(
            (
                (ccum[hi] - ccum[lo] - cut[i]) / others if others else 0.0,
                (scum[hi] - scum[lo] - (words[i] <= 8)) / others if others else 0.0,
                ccum[r] / r if r else 0.0,
                (ccum[last] - ccum[r + 1]) / (last - r - 1) if r + 1 < last else 0.0,
                _log(last - r - 1),
                1.0 if p >= 0 and menu[p] else 0.0,
                1.0 if q >= 0 and menu[q] else 0.0,
            )
        )
        out.append(f)
    return out


def _ends_sentence(line: str) -> bool:
    s = line.rstrip().rstrip(_CLOSERS)
    return bool(s) and s[-1] in ".!?。！？…"


class Model:
    """A gradient-boosted tree ensemble read from JSON: ``score(f)`` is the residue probability of a feature
    vector, ``top_features(f)`` the features that moved it most (each tree's gain along the path taken)."""

    def __init__(self, data: dict[str, Any]) -> None:
        if tuple(data["features"]) != FEATURES:
            raise ValueError("residue model: its features are not this version's (retrain: scripts/residue_train.py)")
        self.data = data
        self.base = float(data["base"])
        self.rate = float(data["learning_rate"])
        self.trees: list[dict[str, list[Any]]] = data["trees"]
        self._raw = _compile(self.trees, self.base, self.rate)
        self._decide = _compile(self.trees, self.base, self.rate, bounded=True)

    def raw(self, f: Sequence[float]) -> float:
        """The log-odds of residue."""
        return self._raw(f)

    def reaches(self, f: Sequence[float], cut_at: float) -> bool:
        """Whether ``raw(f) >= cut_at``, stopping at the first block of trees after which even the largest leaves
        of the trees left could not reach it (the same answer, most lines for a fraction of the trees)."""
        return self._decide(f, cut_at) >= cut_at

    def score(self, f: Sequence[float]) -> float:
        x = self._raw(f)
        return 1.0 / (1.0 + math.exp(-x)) if x > -500 else 0.0

    def contributions(self, f: Sequence[float]) -> dict[str, float]:
        """Per feature, the log-odds it added along the paths the line took (Saabas): they sum to
        ``raw(f) - base``."""
        out: dict[str, float] = {}
        for t in self.trees:
            node = 0
            left, right, feat, thr, value = t["left"], t["right"], t["feature"], t["threshold"], t["value"]
            while left[node] >= 0:
                child = left[node] if f[feat[node]] <= thr[node] else right[node]
                name = FEATURES[feat[node]]
                out[name] = out.get(name, 0.0) + self.rate * (value[child] - value[node])
                node = child
        return out

    def top_features(self, f: Sequence[float], k: int = 3) -> list[tuple[str, float]]:
        """The ``k`` features that pushed the line most towards residue, with their log-odds."""
        c = sorted(self.contributions(f).items(), key=lambda kv: -kv[1])
        return [(name, round(v, 2)) for name, v in c[:k] if v > 0]


def _compile(trees: list[dict[str, list[Any]]], base: float, rate: float, bounded: bool = False) -> Any:
    """One Python function of nested comparisons for the whole ensemble (built once, at load), the features
    unpacked into locals. ``bounded``: it takes a cut-off too, sums the trees with the widest spread of leaves
    first and returns early, below it, once the trees left cannot lift the sum to it."""
    nf = len(FEATURES)
    args = ", ".join(f"f{k}" for k in range(nf))
    body = ["def raw(f, cut_at=0.0):" if bounded else "def raw(f):", f"    {args}, = f", f"    s = {base!r}"]

    def leaves(t: dict[str, list[Any]]) -> list[float]:
        return [rate * v for v, left in zip(t["value"], t["left"], strict=True) if left < 0]

    if bounded:
        trees = sorted(trees, key=lambda t: min(leaves(t)) - max(leaves(t)))
    # the most the trees from k on can still add
    most = [max(leaves(t)) for t in trees]
    rest = [sum(most[k:]) for k in range(len(trees) + 1)]

    def emit(t: dict[str, list[Any]], node: int, depth: int) -> None:
        pad = "    " * depth
        if t["left"][node] < 0:
            body.append(f"{pad}s += {rate * t['value'][node]!r}")
            return
        body.append(f"{pad}if f{t['feature'][node]} <= {t['threshold'][node]!r}:")
        emit(t, t["left"][node], depth + 1)
        body.append(f"{pad}else:")
        emit(t, t["right"][node], depth + 1)

    for k, t in enumerate(trees):
        if bounded and k and k % 4 == 0:
            body.append(f"    if s + {rest[k]!r} < cut_at:")
            body.append("        return s")
        emit(t, 0, 1)
    body.append("    return s")
    namespace: dict[str, Any] = {}
    exec(compile("\n".join(body), "<residue model>", "exec"), namespace)  # our own generated code
    return namespace["raw"]


@cache
def load_model() -> Model:
    """The shipped model (``corpus_tools/data/residue/model.json``), read once."""
    text = (resources.files("corpus_tools") / "data" / "residue" / "model.json").read_text(encoding="utf-8")
    return Model(json.loads(text))
