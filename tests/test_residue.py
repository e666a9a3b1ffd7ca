"""The residue labeller (issue 13's detection core): each rule's positive and negative cases, whole documents
(previews, link blocks, a listing page), recurrence, options, and the seeds and teaser fixtures' body lines."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from corpus_tools.errors import ConfigError
from corpus_tools.residue import (
    KINDS,
    LISTING_PAGE,
    RULES,
    LineRecurrence,
    ResidueOptions,
    available_languages,
    cut_lines,
    is_photo_credit,
    label_residue,
    line_hash,
    site_of,
)

HERE = Path(__file__).resolve().parent
CASES = HERE / "data" / "residue_cases"
SEEDS = HERE.parent / "seeds"
TEASERS = HERE / "data" / "teasers"

LINES = json.loads((CASES / "lines.json").read_text(encoding="utf-8"))
DOCUMENTS = json.loads((CASES / "documents.json").read_text(encoding="utf-8"))

BODY = [
    "The harbour ferry will run every hour from next month, the council said on Tuesday after a long debate.",
    "Residents had asked for a later last crossing, and the operator agreed to add two evening runs on weekdays.",
    "The new timetable starts on the first of May and fares stay the same until the end of the year.",
]
LAST = "The operator said it would review the timetable again in the autumn, after the first busy summer season."


def _in_body(line: str) -> list[str]:
    return [*BODY, line, LAST]


@pytest.mark.parametrize(("line", "rule"), LINES["positive"], ids=[r for _, r in LINES["positive"]])
def test_positive_line_is_cut_with_its_rule(line, rule):
    labels = label_residue(_in_body(line))
    assert labels.cuts == [(len(BODY), rule)]
    assert labels.drop is None


@pytest.mark.parametrize("line", LINES["negative"])
def test_negative_line_stays(line):
    labels = label_residue(_in_body(line))
    assert labels.cuts == []
    assert labels.drop is None


@pytest.mark.parametrize("doc", DOCUMENTS, ids=[d["name"] for d in DOCUMENTS])
def test_document(doc):
    labels = label_residue(doc["lines"])
    assert labels.drop == doc["drop"]
    if doc["cuts"] is not None:
        assert [list(c) for c in labels.cuts] == doc["cuts"]


def test_listing_page_is_dropped_and_cut_lines_says_none():
    doc = next(d for d in DOCUMENTS if d["drop"] == LISTING_PAGE)
    text, labels = cut_lines("\n".join(doc["lines"]))
    assert text is None
    assert labels.drop == LISTING_PAGE
    off = ResidueOptions(listing_pages=False)
    assert label_residue(doc["lines"], off).drop is None


def test_every_rule_belongs_to_one_kind_and_kinds_switch_off():
    assert len(RULES) == len(set(RULES))
    doc = next(d for d in DOCUMENTS if d["name"].startswith("a menu above"))
    everything_off = ResidueOptions(**{kind: False for kind in KINDS})
    assert label_residue(doc["lines"], everything_off).cuts == []
    no_furniture = label_residue(doc["lines"], ResidueOptions(furniture=False)).cuts
    assert all(rule not in KINDS["furniture"] for _, rule in no_furniture)
    assert (10, "copyright") not in no_furniture and (9, "share") in no_furniture


def test_cut_lines_removes_exactly_the_cut_lines():
    doc = DOCUMENTS[0]
    text, labels = cut_lines("\n".join(doc["lines"]))
    gone = {i for i, _ in labels.cuts}
    assert text == "\n".join(line for i, line in enumerate(doc["lines"]) if i not in gone)


def test_body_guard_keeps_the_first_body_lines_unless_unmistakable():
    lines = [
        "Subscribe to our newsletter for the latest news from the harbour and the old town every single morning.",
        "https://example.org/x",
        *BODY,
    ]
    # line 0 is a 17-word prose line ending a sentence: the body's start, guarded; a lone URL is cut anyway
    assert label_residue(lines).cuts == [(1, "lone_url")]
    assert label_residue(lines, ResidueOptions(guard_lines=0)).cuts == [(0, "cta"), (1, "lone_url")]


def test_the_body_guard_does_not_keep_a_link_block_under_the_first_paragraph():
    lines = [BODY[0], "Related posts", "Ferry timetable changes for the summer", BODY[1], BODY[2]]
    cuts = dict(label_residue(lines).cuts)
    assert cuts.get(1) == "link_heading" and cuts.get(2) == "link_block"


def test_photo_credit_shape():
    for line in ("Photo: Jane Roe/Example Agency", "Foto: dpa", "(Credit: Jane Roe / Example)", "© Jane Roe"):
        assert is_photo_credit(line), line
    for line in ("© 2021 Example Media Ltd", "The photo shows the harbour at dawn.", BODY[0]):
        assert not is_photo_credit(line), line


def test_phrase_lists_ship_for_the_required_languages_and_say_where_they_came_from():
    langs = available_languages()
    for lang in ("en", "de", "fr", "es", "it", "pt", "nl", "zh"):
        assert lang in langs
        first = Path(__file__).resolve().parent.parent / "corpus_tools" / "data" / "residue" / f"{lang}.txt"
        head = first.read_text(encoding="utf-8").splitlines()[:3]
        assert all(line.startswith("#") for line in head)
        assert "compiled by hand" in " ".join(head).casefold()


def test_languages_restrict_the_lists():
    line = "Lesen Sie auch: Stadtrat beschließt neuen Radweg"
    assert label_residue(_in_body(line), ResidueOptions(languages=("de",))).cuts == [(3, "related_link")]
    assert label_residue(_in_body(line), ResidueOptions(languages=("en",))).cuts == []


# --- options ----------------------------------------------------------------------------------------------------------


def test_options_fields_have_help_and_flag():
    for f in dataclasses.fields(ResidueOptions):
        assert f.metadata["help"] and f.metadata["flag"].startswith("--"), f.name


@pytest.mark.parametrize(
    "kwargs",
    [
        {"previews": "yes"},
        {"languages": "en"},
        {"languages": ("xx",)},
        {"min_preview_words": 0},
        {"nav_run_min": 1},
        {"guard_lines": -1},
        {"listing_share": 0},
        {"listing_share": 1.5},
        {"recurrence_min_share": "0.5"},
        {"recurrence_min_docs": 0},
        {"max_headline_words": 2**63},
        {"guard_lines": True},
    ],
)
def test_bad_options_raise_config_error(kwargs):
    with pytest.raises(ConfigError):
        ResidueOptions(**kwargs)


def test_options_accept_a_list_of_languages_as_a_tuple():
    assert ResidueOptions(languages=["en", "de"]).languages == ("en", "de")


# --- recurrence -------------------------------------------------------------------------------------------------------


def test_site_of():
    assert site_of({"source": "https://www.Example.org/news/1"}) == "example.org"
    assert site_of({"source": "seeds/000.txt", "outlet": "Example Times"}, "outlet") == "Example Times"
    assert site_of({"source": "seeds/000.txt"}, None) is None
    assert site_of({"source": "seeds/000.txt", "outlet": ""}, "outlet") is None
    assert site_of({}, "outlet") is None


def test_line_hash_folds_whitespace_and_is_64_bit():
    assert line_hash("Share  this\tarticle ") == line_hash("Share this article")
    assert 0 <= line_hash("x") < 2**64


def _site_docs(n: int) -> list[list[str]]:
    first = "Story {} opens with its own first sentence, which is different on every page."
    return [[first.format(i), "Example Footer Line"] for i in range(n)]


def test_recurrence_merge_equals_one_pass():
    one = LineRecurrence()
    a, b = LineRecurrence(), LineRecurrence()
    for i, doc in enumerate(_site_docs(10)):
        one.add("example.org", doc)
        (a if i % 2 else b).add("example.org", doc)
    b.add("other.org", ["Example Footer Line"])
    one.add("other.org", ["Example Footer Line"])
    assert a.merge(b) == one
    assert LineRecurrence.from_dict(json.loads(json.dumps(one.to_dict()))) == one
    assert one.count("example.org", "Example  Footer Line") == 10
    assert one.count(None, "Example Footer Line") == 0


def test_recurrence_counts_a_line_once_per_document_and_never_long_lines():
    state = LineRecurrence()
    long_line = "word " * 60
    state.add("s", ["Footer", "Footer", long_line])
    assert state.count("s", "Footer") == 1
    assert state.count("s", long_line) == 0
    state.add(None, ["Footer"])
    assert state.docs == {"s": 1}


def test_site_recurring_rule_needs_min_docs_and_share():
    state = LineRecurrence()
    for doc in _site_docs(10):
        state.add("example.org", doc)
    doc = [*BODY, "Example Footer Line", LAST]
    assert label_residue(doc, recurrence=state, site="example.org").cuts == [(3, "site_recurring")]
    assert label_residue(doc, recurrence=state, site=None).cuts == []
    assert label_residue(doc, recurrence=state, site="other.org").cuts == []
    strict = ResidueOptions(recurrence_min_docs=11)
    assert label_residue(doc, strict, recurrence=state, site="example.org").cuts == []
    assert state.is_furniture("example.org", "Example Footer Line", 5, 1.0)
    assert not state.is_furniture("example.org", "Story 1 opens", 1, 0.1)
    for i in range(40):
        state.add("example.org", [f"Other page {i}"])
    assert not state.is_furniture("example.org", "Example Footer Line", 5, 0.5)


# --- the seeds and the teaser fixtures keep every body line -------------------------------------------------------


@pytest.mark.parametrize("path", sorted(SEEDS.glob("*.txt")), ids=lambda p: p.name)
def test_seeds_lose_no_body_line(path):
    lines = path.read_text(encoding="utf-8").split("\n")
    labels = label_residue(lines)
    assert labels.drop is None
    # only previews (the seeds' teasers) may go
    assert all(rule.startswith("preview_") for _, rule in labels.cuts), labels.cuts


@pytest.mark.parametrize("path", sorted(TEASERS.glob("*.json")), ids=lambda p: p.name)
def test_teaser_fixtures_lose_no_body_line(path):
    case = json.loads(path.read_text(encoding="utf-8"))
    labels = label_residue(case["paragraphs"])
    assert labels.drop is None
    teasers = set(case["teasers"])
    # short furniture the fixtures carry ("Related stories", "Advertisement", "Updated at 18:40") may go
    body = [(i, r) for i, r in labels.cuts if i not in teasers and len(case["paragraphs"][i].split()) > 4]
    assert body == []


# --- any input ----------------------------------------------------------------------------------------------------

_LINE = st.text(alphabet=st.sampled_from(list("abcXY Z.,:;!?…»«©@#-–|/()[]0123456789中文 \t")), max_size=60)


@given(st.lists(_LINE, max_size=20))
def test_any_lines_give_sorted_known_cuts_in_range(lines):
    labels = label_residue(lines)
    indices = [i for i, _ in labels.cuts]
    assert indices == sorted(set(indices))
    assert all(0 <= i < len(lines) and rule in RULES for i, rule in labels.cuts)
    assert labels.drop in (None, LISTING_PAGE)


def test_a_subhead_below_a_footer_signal_stays_when_paragraphs_follow_it():
    # the article goes on after a copyright-looking line: a subhead over two paragraphs is body, not footer
    lines = [*BODY, "Share this article", "Fares and timetable", BODY[0], BODY[1], "Most popular", "Ferry news"]
    cut = dict(label_residue(lines).cuts)
    assert 4 not in cut  # the subhead
    assert cut.get(3) == "share" and cut.get(7) == "link_heading"


def test_a_title_with_a_comma_breaks_a_menu_run():
    menu = ["Harbour", "Ferries", "Timetables", "Routes", "Fares"]
    assert label_residue([*BODY, LAST, *menu]).cuts == [(i, "nav_run") for i in range(4, 9)]
    titled = [*menu[:2], "Fares, explained slowly", *menu[2:4]]
    assert label_residue([*BODY, LAST, *titled]).cuts == []


def test_the_per_line_cache_gives_the_same_labels_as_a_cold_run():
    # every fixture window, labelled once with an empty cache per window and once with the cache of all the
    # windows before it (and twice in a row): the same cuts, so looking a line up decides as working it out does
    from corpus_tools import residue

    windows = [
        [line["text"] for line in json.loads(raw)["lines"]]
        for raw in (HERE / "data" / "residue" / "lines.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    options = ResidueOptions()
    cache = residue._line_cache(options)
    cold = []
    for lines in windows:
        cache.info.clear()
        cold.append(label_residue(lines, options))
    for lines, first in zip(windows, cold, strict=True):
        warm = label_residue(lines, options)
        assert (warm.cuts, warm.drop) == (first.cuts, first.drop)
        assert warm.model_features == first.model_features


def test_a_full_line_cache_is_emptied_and_decides_the_same(monkeypatch):
    from corpus_tools import residue

    options = ResidueOptions(max_short_words=19)  # a cache of its own
    doc = DOCUMENTS[0]["lines"]
    expected = label_residue(doc, options).cuts
    monkeypatch.setattr(residue, "CACHE_LINES", 3)
    residue._line_cache(options).info.clear()
    for _ in range(3):
        assert label_residue(doc, options).cuts == expected
        assert len(residue._line_cache(options).info) <= 3


@given(st.text(alphabet="ab _-.é1\u00e0\u4e00", max_size=12), st.sampled_from(["ab", "a b", "b.", "-a", "é1", "b-a"]))
def test_phrase_search_by_hand_matches_the_word_boundary_regex(text, phrase):
    # _Contains checks the word boundaries itself (no regex per phrase): the same answer as _alt's (?<!\w)...(?!\w)
    import re

    from corpus_tools.residue import _alt, _Contains

    contains = _Contains([phrase])
    expected = re.search(_alt([phrase]), text) is not None
    assert contains.search(text, set(re.findall(r"\w+", text))) == expected
