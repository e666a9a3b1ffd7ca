"""The residue step's line model: the shipped file loads, says where it came from, reproduces the training script's
predictions on fixture lines, cuts with the stable rule ``model`` (switchable, with a threshold), and ``explain``
shows the features behind a model cut."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from conftest import DATA
from corpus_tools.explain import explain_record
from corpus_tools.pipeline import Pipeline
from corpus_tools.residue import Residue, ResidueOptions, label_residue
from corpus_tools.residue_model import FEATURES, load_model

WINDOWS = [json.loads(line) for line in (DATA / "residue" / "lines.jsonl").read_text(encoding="utf-8").splitlines()]


def _model_cut_window() -> list[str]:
    """A fixture window in which the model cuts a line and some line stays (a window cut whole is dropped)."""
    for window in WINDOWS:
        lines = [line["text"] for line in window["lines"]]
        cuts = label_residue(lines).cuts
        if any(rule == "model" for _, rule in cuts) and len(cuts) < len(lines):
            return lines
    raise AssertionError("no fixture window has a model cut")


def test_the_shipped_model_loads_and_says_where_it_came_from():
    model = load_model()
    assert tuple(model.data["features"]) == FEATURES
    assert "tune part" in model.data["source"] and "scripts/residue_train.py" in model.data["source"]
    assert model.data["trained"][:2] == "20" and model.trees


def test_it_reproduces_the_training_scripts_predictions_on_fixture_lines():
    model = load_model()
    checks = model.data["checks"]
    assert len(checks) >= 10 and any(c["p"] > 0.5 for c in checks)
    for check in checks:
        lines = [line["text"] for line in WINDOWS[check["window"]]["lines"]]
        inputs: list[tuple[int, list[float]]] = []
        label_residue(lines, ResidueOptions(), model_inputs=inputs)
        features = dict(inputs)[check["line"]]
        assert math.isclose(model.score(features), check["p"], abs_tol=2e-5), check


def test_contributions_add_up_to_the_score():
    model = load_model()
    for check in model.data["checks"][:5]:
        lines = [line["text"] for line in WINDOWS[check["window"]]["lines"]]
        inputs: list[tuple[int, list[float]]] = []
        label_residue(lines, ResidueOptions(), model_inputs=inputs)
        f = dict(inputs)[check["line"]]
        roots = model.base + model.rate * sum(t["value"][0] for t in model.trees)
        assert math.isclose(roots + sum(model.contributions(f).values()), model.raw(f), abs_tol=1e-6)


def test_model_cuts_carry_the_rule_model_and_can_be_switched_off():
    lines = _model_cut_window()
    assert "model" in {rule for _, rule in label_residue(lines).cuts}
    assert "model" not in {rule for _, rule in label_residue(lines, ResidueOptions(model=False)).cuts}
    assert "model" not in {rule for _, rule in label_residue(lines, ResidueOptions(model_threshold=1.0)).cuts}
    # a lower threshold cuts at least as much
    assert len(label_residue(lines, ResidueOptions(model_threshold=0.3)).cuts) >= len(label_residue(lines).cuts)


def test_explain_shows_the_features_of_a_model_cut():
    lines = _model_cut_window()
    record = {"id": "w", "text": "\n".join(lines)}
    explanation = explain_record(record, Pipeline((Residue(ResidueOptions()),)))
    reasons = [row.reason for row in explanation.rows if row.step == "residue" and row.reason.startswith("model")]
    assert reasons
    for reason in reasons:
        names = [part.split()[0] for part in reason.removeprefix("model: ").split(", ")]
        assert names and all(name in FEATURES for name in names), reason


def test_the_early_stopping_trees_decide_as_the_whole_ensemble():
    model = load_model()
    for window in WINDOWS[:60]:
        inputs: list[tuple[int, list[float]]] = []
        label_residue([line["text"] for line in window["lines"]], ResidueOptions(), model_inputs=inputs)
        for _, f in inputs:
            for cut_at in (-2.0, 0.0, math.log(4), 3.0):
                assert model.reaches(f, cut_at) == (model.raw(f) >= cut_at)


def test_the_model_never_cuts_the_title_the_last_short_paragraphs_or_a_subhead_over_prose():
    # with a threshold that cuts nearly every line it scores, the vetoed lines still stay
    body = [
        "The harbour ferry will run every hour from next month, the council said on Tuesday after a long debate.",
        "Residents had asked for a later last crossing, and the operator agreed to add two evening runs.",
        "Night crossings",
        "The new timetable starts on the first of May and fares stay the same until the end of the year.",
    ]
    lines = ["Ferry to run every hour", *body, "Tickets go on sale on Monday.", "Fares stay low.", "Harbour news"]
    cuts = dict(label_residue(lines, ResidueOptions(model_threshold=0.01)).cuts)
    for kept in (0, 3, 5, 6):  # the title, the subhead, the two short paragraphs right below the body
        assert kept not in cuts, (lines[kept], cuts)
    assert cuts.get(7) == "model"  # the model still cuts past them


def test_inside_the_main_body_the_model_scores_only_short_lines_that_are_not_prose():
    from corpus_tools.residue_model import MAX_BODY_WORDS

    long_line = " ".join(["word"] * (MAX_BODY_WORDS + 1))
    prose = "The new timetable starts on the first of May and fares stay the same until the end of the year."
    lines = [prose, long_line, "A short caption line", prose, prose, "Harbour news"]
    inputs: list[tuple[int, list[float]]] = []
    label_residue(lines, ResidueOptions(), model_inputs=inputs)
    scored = {i for i, _ in inputs}
    assert 1 not in scored and 0 not in scored and 3 not in scored  # a long line and prose inside the body
    assert {2, 5} <= scored


def test_a_busy_page_has_its_own_model_threshold():
    from corpus_tools.residue import BUSY_LINES, _busy

    prose = "The new timetable starts on the first of May and fares stay the same until the end of the year."
    menu = [f"Menu item {k}" for k in range(BUSY_LINES)]
    words = [len(line.split()) for line in [prose, *menu]]
    assert _busy(words, (0, 0))  # 80 lines or more, the body under half the words
    assert not _busy(words[:40], (0, 0))  # too few lines
    article = [prose] * BUSY_LINES
    assert not _busy([len(line.split()) for line in article], (0, BUSY_LINES - 1))
    # on a busy page the busy threshold decides: at 1.0 nothing is cut by the model, at a low one more is
    lines = [prose, *menu[:3], "Harbour news", *[f"Ferry story number {k} of the week" for k in range(BUSY_LINES)]]
    never = ResidueOptions(model_threshold=0.01, model_threshold_busy=1.0)
    assert "model" not in {rule for _, rule in label_residue(lines, never).cuts}
    low = ResidueOptions(model_threshold=1.0, model_threshold_busy=0.01)
    assert "model" in {rule for _, rule in label_residue(lines, low).cuts}


def test_the_context_features_count_cuts_and_short_lines_around_a_line():
    from corpus_tools.residue_model import doc_features

    lines = ["Menu", "", "Home", "A long line of prose that is the article and ends here now.", "Tags", "Footer", "End"]
    words = [1, 0, 1, 12, 1, 1, 1]
    cut = [True, False, True, False, False, True, False]
    prose = [False, False, False, True, False, False, False]
    menu = [True, False, True, False, True, True, True]
    [f] = doc_features(lines, words, cut, prose, (3, 3), [4], lambda i: [0.0] * 20, None, menu)
    v = dict(zip(FEATURES, f, strict=True))
    # line 4 ("Tags") is the 4th of 6 non-blank lines: three above (Menu, Home, prose), two below (Footer, End)
    assert v["cut_near"] == 3 / 5  # Menu, Home, Footer of the five around it
    assert v["short_near"] == 4 / 5  # all but the prose line
    assert v["cut_above"] == 2 / 3 and v["cut_below"] == 1 / 2
    assert math.isclose(v["to_end"], math.log1p(2))
    assert v["prev_menu"] == 0.0 and v["next_menu"] == 1.0
    assert v["prev_prose"] == 1.0 and v["run_short"] == math.log1p(3)  # Tags, Footer, End


def _context_reference(lines, words, cut, prose, body, candidates, ends, menu, i):
    """The page features of line ``i`` (FEATURES after the first 20), worked out the slow, readable way: by scanning
    the page's non-blank lines around it. :func:`doc_features` (prefix sums, bisection) must give the same."""
    log = math.log1p
    nb = [k for k in range(len(lines)) if words[k]]
    last, r = len(nb), nb.index(i)
    m = last or 1
    total = sum(words[k] for k in nb if prose[k]) or 1
    p = nb[r - 1] if r > 0 else -1
    q = nb[r + 1] if r + 1 < last else -1
    above = [k for k in nb[:r] if prose[k]]
    below = [k for k in nb[r + 1 :] if prose[k]]
    run = 0
    if not prose[i]:
        lo = nb.index(above[-1]) + 1 if above else 0
        hi = nb.index(below[0]) if below else last
        run = hi - lo
    before = after = 0.0
    dist = 0
    if body is not None:
        before, after = float(i < body[0]), float(i > body[1])
        dist = body[0] - i if i < body[0] else (i - body[1] if i > body[1] else 0)
    near = [k for k in nb[max(r - 4, 0) : r + 5] if prose[k] and k != i]
    around = [k for k in nb[max(r - 3, 0) : r + 4] if k != i]
    return [
        1.0 if sum(lines[c].strip() == lines[i].strip() for c in candidates) > 1 else 0.0,
        r / m,
        before,
        after,
        log(dist),
        log(last),
        sum(1 for k in nb if prose[k]) / m,
        log(run),
        log(words[p]) if p >= 0 else 0.0,
        log(words[q]) if q >= 0 else 0.0,
        float(p >= 0 and prose[p]),
        float(q >= 0 and prose[q]),
        float(p >= 0 and cut[p]),
        float(q >= 0 and cut[q]),
        float(p >= 0 and ends[p]),
        float(q >= 0 and ends[q]),
        sum(words[k] for k in above) / total,
        log(sum(words[k] for k in near)),
        log(r - nb.index(above[-1])) if above else 5.0,
        log(nb.index(below[0]) - r) if below else 5.0,
        sum(cut[k] for k in around) / len(around) if around else 0.0,
        sum(words[k] <= 8 for k in around) / len(around) if around else 0.0,
        sum(cut[k] for k in nb[:r]) / r if r else 0.0,
        sum(cut[k] for k in nb[r + 1 :]) / (last - r - 1) if r + 1 < last else 0.0,
        log(last - r - 1),
        float(p >= 0 and menu[p]),
        float(q >= 0 and menu[q]),
    ]


_PAGE_LINE = st.tuples(
    st.integers(0, 30),  # words (0: blank)
    st.booleans(),  # prose (taken only for 15 words or more)
    st.booleans(),  # cut by a rule
    st.booleans(),  # ends a sentence
    st.booleans(),  # menu-shaped
    st.sampled_from(["Home", "Read more", "A headline", "Text"]),  # few texts: the repeats feature gets exercised
)


@given(page=st.lists(_PAGE_LINE, min_size=1, max_size=40), pick=st.data())
def test_the_page_features_match_a_slow_readable_reference(page, pick):
    from corpus_tools.residue_model import doc_features

    lines = [text if w else "" for w, _, _, _, _, text in page]
    words = [w for w, *_ in page]
    prose = [bool(w >= 15 and p) for w, p, *_ in page]
    cut = [bool(w and c) for w, _, c, *_ in page]
    ends = [e for *_, e, _, _ in page]
    menu = [mn for *_, mn, _ in page]
    nonblank = [k for k in range(len(page)) if words[k]]
    assume(nonblank)
    candidates = pick.draw(st.lists(st.sampled_from(nonblank), min_size=1, unique=True).map(sorted))
    scored = pick.draw(st.lists(st.sampled_from(candidates), unique=True).map(sorted))
    body = pick.draw(st.none() | st.tuples(st.sampled_from(nonblank), st.sampled_from(nonblank)).map(sorted))
    shape = [0.0] * 20
    got = doc_features(lines, words, cut, prose, body, candidates, lambda i: shape, ends, menu, scored=scored)
    assert len(got) == len(scored)
    for i, f in zip(scored, got, strict=True):
        want = _context_reference(lines, words, cut, prose, body, candidates, ends, menu, i)
        assert f[20:] == pytest.approx(want, abs=1e-12), i
