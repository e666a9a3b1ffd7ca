"""Teasers: signals, the labelled fixture set (recall and body kept), seeds golden files, properties, CLI."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest
import regex
from hypothesis import example, given
from hypothesis import strategies as st

from conftest import DATA, SEEDS, parse_jsonl, run_shell
from corpus_tools import teasers as teasers_module
from corpus_tools.config import options_from
from corpus_tools.credit_shapes import credit_kind
from corpus_tools.credits import Credits, CreditsOptions
from corpus_tools.errors import ConfigError, RecordError
from corpus_tools.labels import Label, ends_sentence, more_words_than, split_paragraphs, word_count
from corpus_tools.pipeline import Pipeline
from corpus_tools.step import Doc, entry_lines, orphaned_blank_lines
from corpus_tools.tailindex import TailIndex
from corpus_tools.teasers import (
    REASONS,
    Teasers,
    TeasersOptions,
    end_credits_position,
    is_heading,
    is_truncated,
    label_teasers,
    tail_start,
)

FIXTURES = sorted((DATA / "teasers").glob("*.json"))
GOLDEN = DATA / "golden" / "teasers" / "seeds.jsonl"


def words(n: int, end: str = "") -> str:
    """A paragraph of exactly ``n`` words, the last one followed by ``end``."""
    return " ".join(f"w{i}" for i in range(n)) + end


TEASER = words(100)  # in the band, stops mid-sentence
STOP_TEASER = words(101, ".")  # in the band, ends on a full stop by chance
BODY = "The body says something. It ends well."
BIO = "Jane Doe is a professor of history at the Northern University."
TRANSLATOR = "Translated by John Roe"


def kinds(labels: dict[int, Label]) -> dict[int, tuple[str, str]]:
    return {i: (label.kind, label.reason) for i, label in sorted(labels.items())}


def headings(labels: dict[int, Label]) -> list[int]:
    return sorted(i for i, label in labels.items() if label.kind == "heading")


def teasers_of(labels: dict[int, Label]) -> list[int]:
    return sorted(i for i, label in labels.items() if label.kind == "teaser")


def record(text: str, **metadata) -> dict:
    return {"id": "x", "text": text, "source": "s", "metadata": dict(metadata)}


# ----------------------------------------------------------------------------------------------- shapes


@pytest.mark.parametrize(
    ("paragraph", "truncated"),
    [
        ("Every few months a foreign reporter goes to", True),
        ("they won’t just be burning the midnight oil, they’ll be", True),
        ("a sentence cut after a comma,", True),
        ("This is not science fiction — it is reality.", False),
        ("“Now let us use it.”", False),
        ("(as the report notes.)", False),
        ("Who would want the job now?", False),
        ("課程名稱：山高水長。」", False),
        ("and there are three of them:", False),  # a colon introduces what follows: not truncation evidence
        ("the phrase she uses: “come and count the queue”", False),  # a closing quote without a full stop
        ("a bracketed aside (see below)", False),
        ("the full report is at https://example.org/report", False),  # a link, a handle, a hashtag, an emoji:
        ("follow the team on @newsdesk", False),  # the way a body paragraph or a post ends without a full stop
        ("we are back next week #summer", False),
        ("what a night 🎉", False),
        ("a night to remember ❤️", False),
        ("the talks resume in 2024", True),  # a number may be where a preview was cut
        ("", False),
    ],
)
def test_truncation_minds_quotes_brackets_cjk_and_colons(paragraph, truncated):
    assert is_truncated(paragraph) is truncated


@pytest.mark.parametrize(
    ("line", "heading"),
    [
        ("Japan’s growing military", True),
        ("The time is now", True),
        ("2024 in review", True),
        ("Translated by Eddy Chang", False),  # a credit line, not a subhead
        ("By John Lim", False),
        ("- drink water regularly", False),  # list items
        ("1. A pay rise in line with inflation", False),
        ("Residents should do the following:", False),
        ("Short sentence.", False),
        ("lower-case fragment", False),
        ("A line of more than eight words is no longer a subhead", False),
        ("", False),
    ],
)
def test_subheads(line, heading):
    assert is_heading(line) is heading


# ------------------------------------------------------------------------------------------------ signals


def test_truncated_tail_after_body():
    paragraphs = [BODY, BODY, TEASER, TEASER]
    assert kinds(label_teasers(paragraphs)) == {2: ("teaser", "truncated"), 3: ("teaser", "truncated")}
    assert tail_start(paragraphs) == 2


def test_no_tail_gives_len():
    paragraphs = [BODY, words(100, ".")]
    assert label_teasers(paragraphs) == {}
    assert tail_start(paragraphs) == 2


def test_full_stop_teaser_after_credits_is_a_teaser():
    paragraphs = [BODY, BIO, TRANSLATOR, STOP_TEASER, TEASER]
    assert kinds(label_teasers(paragraphs)) == {3: ("teaser", "after-credits"), 4: ("teaser", "truncated")}
    assert tail_start(paragraphs) == 3


def test_full_stop_teaser_straight_after_body_is_kept_without_another_signal():
    # indistinguishable from a ~100-word final body paragraph: when the signals disagree, keep
    assert teasers_of(label_teasers([BODY, STOP_TEASER, TEASER])) == [2]


def test_full_stop_paragraphs_below_or_between_truncated_ones_are_contiguous_teasers():
    labels = label_teasers([BODY, TEASER, STOP_TEASER, TEASER, STOP_TEASER])
    assert kinds(labels) == {
        1: ("teaser", "truncated"),
        2: ("teaser", "contiguous"),
        3: ("teaser", "truncated"),
        4: ("teaser", "contiguous"),
    }


def test_all_full_stop_tail_is_not_cut():
    assert label_teasers([BODY, BIO, STOP_TEASER, STOP_TEASER]) == {}


def test_out_of_band_lines_are_never_teasers():
    # the C4 rule would cut all of these
    paragraphs = [BODY, "A list item without a stop", words(60), words(120), words(94)]
    assert teasers_of(label_teasers(paragraphs)) == []


def test_band_is_an_option():
    paragraphs = [BODY, words(60), words(61)]
    assert teasers_of(label_teasers(paragraphs)) == []
    assert teasers_of(label_teasers(paragraphs, TeasersOptions(min_words=55, max_words=65))) == [1, 2]


def test_subhead_right_before_the_tail_stays():
    labels = label_teasers([BODY, "Related stories", TEASER])
    assert kinds(labels) == {1: ("heading", "subhead"), 2: ("teaser", "truncated")}


def test_subheads_after_and_inside_the_tail_are_stepped_over_and_kept():
    labels = label_teasers([BODY, BIO, TEASER, "More opinion", TEASER, STOP_TEASER, "Advertisement"])
    assert kinds(labels) == {
        2: ("teaser", "truncated"),
        3: ("heading", "subhead"),
        4: ("teaser", "truncated"),
        5: ("teaser", "contiguous"),
        6: ("heading", "subhead"),
    }


def test_a_subhead_guards_the_full_stop_paragraph_above_it():
    # above a subhead only a truncated paragraph continues the tail: the body's last paragraph stays, even
    # right below where the credits step removed end credits
    paragraphs = [BODY, words(100, "."), "Read more", TEASER]
    assert teasers_of(label_teasers(paragraphs)) == [3]
    assert teasers_of(label_teasers(paragraphs, credits_at=1)) == [3]
    assert teasers_of(label_teasers(paragraphs, credits_at=2)) == [3]


def test_full_stop_paragraphs_above_a_subhead_go_only_between_truncated_ones():
    # held above the subhead, they join the tail only when a truncated paragraph stands above them; this is
    # also what a second pass would do once the tail below the subhead is gone (found by hypothesis)
    assert teasers_of(label_teasers([BODY, STOP_TEASER, "More opinion", TEASER])) == [3]
    assert teasers_of(label_teasers([BODY, TEASER, STOP_TEASER, "More opinion", TEASER])) == [1, 2, 4]
    labels = label_teasers([BODY, TEASER, "More opinion", STOP_TEASER, "More opinion", TEASER])
    assert teasers_of(labels) == [1, 3, 5] and headings(labels) == [2, 4]
    for paragraphs in (
        [BODY, TEASER, STOP_TEASER, "More opinion", TEASER],
        [BODY, TEASER, "A", STOP_TEASER, "B", TEASER],
    ):
        once = Teasers().process(record("\n".join(paragraphs)), "text")
        assert Teasers().process(dict(once, metadata=dict(once["metadata"])), "text") == once


def test_leading_byline_is_not_an_end_credits_block():
    # `By NAME` opens a page: the ~100-word full-stop paragraph below it is body
    assert teasers_of(label_teasers(["By Noor Haddad", words(100, "."), TEASER])) == [2]


def test_credits_signal_can_be_turned_off():
    paragraphs = [BODY, BIO, STOP_TEASER, TEASER]
    assert teasers_of(label_teasers(paragraphs, TeasersOptions(use_credits=False))) == [3]


def test_blank_lines_are_stepped_over_and_those_the_cut_leaves_at_the_end_go():
    paragraphs = [BODY, "", TEASER, "", TEASER, "", ""]
    assert teasers_of(label_teasers(paragraphs)) == [2, 4]
    out = Teasers().process(record("\n".join(paragraphs)), "text")
    # lines 1 and 3 would end the text; 5 and 6 ended it before the cut (normalize's to take, not the cut's)
    assert out["text"] == "\n".join([BODY, "", ""])
    assert [(c["rule"], c["paragraph"]) for c in out["metadata"]["cuts"]] == [
        ("blank_line", 1),
        ("truncated", 2),
        ("blank_line", 3),
        ("truncated", 4),
    ]


# ----------------------------------------------------------------------- end credits the credits step removed


def cut_entry(i: int, kind: str = "bio") -> dict:
    rule = {"byline": "by_name_first_line", "bio": "bio_before_tail", "translator": "translated_by_line"}[kind]
    return {"step": "credits", "rule": rule, "paragraph": i}


@pytest.mark.parametrize(
    ("cuts", "line_count", "position"),
    [
        ([], 10, None),  # credits ran and cut nothing
        ([cut_entry(0, "byline")], 10, None),  # a leading byline is no end credit
        ([dict(cut_entry(7), dry_run=True)], 10, None),  # only labelled (a dry run): nothing was removed
        ([cut_entry(7)], 10, 7),  # the line that followed the bio now stands where the bio stood
        ([cut_entry(7), cut_entry(8, "translator")], 10, 7),  # bio then translator: one block
        ([cut_entry(7), cut_entry(9, "translator")], 10, 8),  # a blank line between them stays: the block ends above 8
        ([cut_entry(0, "byline"), cut_entry(7), cut_entry(8, "translator")], 10, 6),  # a cut above moves it up
        ([cut_entry(0, "byline"), cut_entry(3, "translator"), cut_entry(20)], 30, 18),  # the block nearest the end
        # entries count the lines the text first had, whichever run cut them, in any order
        ([cut_entry(7), cut_entry(0, "byline")], 10, 6),
        ([cut_entry(2, "byline"), cut_entry(7), cut_entry(4)], 10, 5),
        # a cut by another step above the credits moves the position up like any other
        ([{"step": "normalize", "rule": "blank_line", "paragraph": 1}, cut_entry(7)], 10, 6),
        ([cut_entry(9)], 9, 9),  # the bio was the last line: the position is the end
    ],
)
def test_end_credits_position(cuts, line_count, position):
    assert end_credits_position({"cuts": cuts}, line_count) == position


@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "step": st.sampled_from(["credits", "normalize", "teasers"]),
                "rule": st.sampled_from(["translated_by_line", "bio_at_end", "by_name_first_line", "blank_line"]),
                "paragraph": st.integers(-2, 30),
            },
            optional={"dry_run": st.booleans()},
        ),
        max_size=8,
    ),
    st.integers(0, 30),
)
def test_end_credits_position_is_counted_from_the_lines_as_they_came_in(cuts, line_count):
    # The position read off the cuts alone is the first current line whose place as it came in is past the last
    # removed end credit, as mapping every line back (entry_lines) finds it.
    ends = [
        c["paragraph"]
        for c in cuts
        if c["step"] == "credits" and not c.get("dry_run") and c["rule"] in teasers_module.END_CREDIT_RULES
    ]
    expected = None
    if ends:
        origin = entry_lines(line_count, cuts)
        expected = next((i for i, line in enumerate(origin) if line > max(ends)), line_count)
    assert end_credits_position({"cuts": cuts}, line_count) == expected


@pytest.mark.parametrize(
    "metadata", [{}, {"cuts": "x"}, {"cuts": [{"step": "teasers", "rule": "truncated", "paragraph": 3}]}]
)
def test_no_position_without_end_credits_in_the_cuts(metadata):
    assert end_credits_position(metadata, 10) is None


def test_position_of_removed_credits_is_the_after_credits_signal():
    # as if [BODY, BIO, STOP_TEASER, TEASER] had its bio cut: the full-stop teaser right where it stood counts
    paragraphs = [BODY, STOP_TEASER, TEASER]
    assert teasers_of(label_teasers(paragraphs)) == [2]  # no position: straight after the body, kept
    expected = {1: ("teaser", "after-credits"), 2: ("teaser", "truncated")}
    assert kinds(label_teasers(paragraphs, credits_at=1)) == expected
    # blank lines and a section label between the removed credits and the tail are stepped over, as with the lines
    assert teasers_of(label_teasers([BODY, "", "", STOP_TEASER, TEASER], credits_at=1)) == [3, 4]
    assert teasers_of(label_teasers([BODY, "", "", STOP_TEASER, TEASER], credits_at=3)) == [3, 4]
    labels = label_teasers([BODY, "More opinion", STOP_TEASER, TEASER], credits_at=1)
    assert kinds(labels) == {1: ("heading", "subhead"), 2: ("teaser", "after-credits"), 3: ("teaser", "truncated")}
    # the signal can be turned off like the other credits signal
    assert teasers_of(label_teasers(paragraphs, TeasersOptions(use_credits=False), credits_at=1)) == [2]


def test_position_of_removed_credits_ends_the_run_like_the_lines_did():
    # [BODY, STOP, BIO, STOP, TEASER] with the bio cut: the paragraph above the bio stays body, the one below
    # it is a teaser, exactly as when the bio is still there
    with_bio = [BODY, STOP_TEASER, BIO, STOP_TEASER, TEASER]
    assert kinds(label_teasers(with_bio)) == {3: ("teaser", "after-credits"), 4: ("teaser", "truncated")}
    cut_bio = [BODY, STOP_TEASER, STOP_TEASER, TEASER]
    assert kinds(label_teasers(cut_bio, credits_at=2)) == {2: ("teaser", "after-credits"), 3: ("teaser", "truncated")}
    # a truncated paragraph above the removed credits is not reached either
    assert teasers_of(label_teasers([BODY, TEASER, STOP_TEASER, TEASER], credits_at=2)) == [2, 3]
    # credits that stood below the whole tail (a bio at the very end) do not hide it
    assert teasers_of(label_teasers([BODY, TEASER, TEASER], credits_at=3)) == [1, 2]
    # removed credits with no body above them are a page that opened with them, not an article's end
    assert teasers_of(label_teasers([STOP_TEASER, TEASER], credits_at=0)) == [1]
    assert teasers_of(label_teasers(["By Noor Haddad", STOP_TEASER, TEASER], credits_at=1)) == [2]


def test_step_reads_the_position_from_the_cuts():
    # the text as it came in was [byline, BODY, bio, "", STOP_TEASER, TEASER]; credits cut lines 0 and 2
    paragraphs = [BODY, "", STOP_TEASER, TEASER]
    credited = [cut_entry(0, "byline"), cut_entry(2)]
    out = Teasers().process(record("\n".join(paragraphs), cuts=credited), "text")
    assert out["metadata"]["cuts"] == [
        *credited,
        {"step": "teasers", "rule": "blank_line", "paragraph": 3},  # it would end the text
        {"step": "teasers", "rule": "after-credits", "paragraph": 4},
        {"step": "teasers", "rule": "truncated", "paragraph": 5},
    ]
    # only a byline was cut, or credits only labelled: no position, the full-stop teaser stays
    for cuts in ([cut_entry(0, "byline")], [dict(cut_entry(2), dry_run=True)]):
        out = Teasers().process(record("\n".join(paragraphs), cuts=cuts), "text")
        assert out["metadata"]["cuts"][len(cuts) :] == [
            {"step": "teasers", "rule": "truncated", "paragraph": 3 + sum(not c.get("dry_run") for c in cuts)}
        ]


def test_credits_then_teasers_gives_the_labels_teasers_alone_gives():
    # the step pair in clean's order, with a leading byline, a blank line, a bio and a translator credit
    paragraphs = ["By Jane Doe", BODY, BODY, "", BIO, TRANSLATOR, "", STOP_TEASER, TEASER, STOP_TEASER]
    alone = Teasers().process(record("\n".join(paragraphs)), "text")
    dry = Credits(CreditsOptions(dry_run=True)).process(record("\n".join(paragraphs)), "text")
    assert all(c["dry_run"] for c in dry["metadata"]["cuts"])
    assert (
        Teasers().process(dry, "text")["metadata"]["cuts"][len(dry["metadata"]["cuts"]) :] == alone["metadata"]["cuts"]
    )
    credited = Credits().process(record("\n".join(paragraphs)), "text")
    assert end_credits_position(credited["metadata"], len(credited["text"].split("\n"))) == 3
    after = Teasers().process(credited, "text")
    assert after["metadata"]["teasers"] == alone["metadata"]["teasers"] == [STOP_TEASER, TEASER, STOP_TEASER]
    # the same lines, counted as the text first had them
    teaser_cuts = [c for c in after["metadata"]["cuts"] if c["step"] == "teasers" and c["rule"] != "blank_line"]
    assert teaser_cuts == [c for c in alone["metadata"]["cuts"] if c["rule"] != "blank_line"]
    assert [c["rule"] for c in teaser_cuts] == ["after-credits", "truncated", "contiguous"]
    # either way the text ends on the body: the blank line above the cut lines goes with them
    assert after["text"] == "\n".join([BODY, BODY])
    assert alone["text"].endswith(TRANSLATOR)


# --------------------------------------------------------------------------------------------- recurrence


def corpus_index(*texts: str) -> TailIndex:
    index = TailIndex()
    for text in texts:
        index.add_text(text)
    return index


def test_recurrence_extends_a_tail_over_a_full_stop_teaser():
    pages = [f"Lead {i}.\n{BODY}\n{STOP_TEASER}\n{TEASER}" for i in range(3)]
    index = corpus_index(*pages)
    labels = label_teasers(split_paragraphs(pages[0]), index=index)
    assert kinds(labels) == {2: ("teaser", "recurrent"), 3: ("teaser", "truncated")}


def test_recurrence_never_starts_a_tail_or_cuts_inside_the_body():
    recurring = words(100, ".")
    pages = [f"Lead {i}.\n{recurring}\n{BODY}" for i in range(5)] + [f"Lead x.\n{BODY}\n{recurring}"]
    index = corpus_index(*pages)
    assert index.count(recurring) == 6
    # inside the body: not even looked at
    assert label_teasers(split_paragraphs(pages[0]), index=index) == {}
    # at the end but with no truncated paragraph: recurrence alone never starts a tail
    assert label_teasers(split_paragraphs(pages[-1]), index=index) == {}


def test_recurrence_of_a_duplicated_article_is_not_evidence():
    # the same article scraped three times: its final ~100-word paragraph recurs as often as its lead
    page = f"The lead.\n{BODY}\n{words(100, '.')}\n{TEASER}"
    index = corpus_index(page, page, page)
    assert teasers_of(label_teasers(split_paragraphs(page), index=index)) == [3]


def test_recurrence_needs_min_recurrence_documents():
    pages = [f"Lead {i}.\n{STOP_TEASER}\n{TEASER}" for i in range(2)]
    index = corpus_index(*pages)
    assert teasers_of(label_teasers(split_paragraphs(pages[0]), index=index)) == [2]
    options = TeasersOptions(min_recurrence=2)
    assert teasers_of(label_teasers(split_paragraphs(pages[0]), options, index)) == [1, 2]


# -------------------------------------------------------------------------------------------- the step


def test_step_cuts_and_records_every_cut():
    text = "\n".join([BODY, BIO, STOP_TEASER, TEASER])
    out = Teasers().process(record(text, other=1), "text")
    assert out["text"] == f"{BODY}\n{BIO}"
    assert out["metadata"] == {
        "other": 1,
        "teasers": [STOP_TEASER, TEASER],
        "cuts": [
            {"step": "teasers", "rule": "after-credits", "paragraph": 2},
            {"step": "teasers", "rule": "truncated", "paragraph": 3},
        ],
    }


def test_keys_are_always_present():
    out = Teasers().process(record(BODY), "text")
    assert out["text"] == BODY
    assert out["metadata"] == {"teasers": [], "cuts": []}


def test_dry_run_labels_without_cutting_and_a_real_run_replaces_its_labels():
    text = "\n".join([BODY, TEASER])
    dry = Teasers(TeasersOptions(dry_run=True)).process(record(text), "text")
    assert dry["text"] == text
    assert dry["metadata"] == {
        "teasers": [],
        "cuts": [{"step": "teasers", "rule": "truncated", "paragraph": 1, "dry_run": True}],
    }
    again = Teasers(TeasersOptions(dry_run=True)).process(dict(dry, metadata=dict(dry["metadata"])), "text")
    assert again == dry
    real = Teasers().process(dict(dry, metadata=dict(dry["metadata"])), "text")
    assert real["text"] == BODY
    assert real["metadata"] == {"teasers": [TEASER], "cuts": [{"step": "teasers", "rule": "truncated", "paragraph": 1}]}


def test_other_text_field():
    out = Teasers().process({"content": f"{BODY}\n{TEASER}"}, "content")
    assert out == {
        "content": BODY,
        "metadata": {"teasers": [TEASER], "cuts": [{"step": "teasers", "rule": "truncated", "paragraph": 1}]},
    }


@pytest.mark.parametrize(("key", "value"), [("teasers", "x"), ("teasers", [1]), ("cuts", ["x"]), ("cuts", {})])
def test_malformed_metadata_is_a_record_error(key, value):
    with pytest.raises(RecordError, match=f"metadata.{key} is not a list"):
        Teasers().process(record(BODY, **{key: value}), "text")


# ------------------------------------------------------------------------------------------- fixture set


@cache
def fixture(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@cache
def fixture_index() -> TailIndex:
    """Recurrence over the fixture set itself: the corpus-aware mode."""
    return corpus_index(*("\n".join(fixture(p)["paragraphs"]) for p in FIXTURES))


def test_fixture_set_is_big_and_varied_enough():
    docs = [fixture(p) for p in FIXTURES]
    assert len(docs) >= 40
    counts = [len(d["teasers"]) for d in docs]
    assert min(counts) == 0 and max(counts) == 5
    stops = sum(ends_sentence(d["paragraphs"][i]) for d in docs for i in d["teasers"])
    assert stops >= 10
    for d in docs:  # every teaser is in the default band, and sits in the trailing part of its page
        assert all(95 <= word_count(d["paragraphs"][i]) <= 110 for i in d["teasers"])


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_fixture_labels(path):
    doc = fixture(path)
    paragraphs = doc["paragraphs"]
    expected = set(doc["teasers"]) - set(doc.get("missed_without_index", []))
    labels = label_teasers(paragraphs)
    assert set(teasers_of(labels)) == expected, doc["description"]
    assert sorted(i for i, label in labels.items() if label.kind == "heading") == doc["headings"]
    assert all(label.reason in (*REASONS, "subhead") for label in labels.values())
    # corpus-aware: the known per-document misses are found, nothing else changes
    assert teasers_of(label_teasers(paragraphs, index=fixture_index())) == doc["teasers"], doc["description"]


def measure(index: TailIndex | None = None, steps=None) -> tuple[float, float, int, int]:
    """Teaser recall and body kept over the fixture set (body = every non-blank line that is not a teaser)."""
    found = total = kept = body = 0
    for path in FIXTURES:
        doc = fixture(path)
        paragraphs = doc["paragraphs"]
        pipeline = Pipeline(tuple(steps or (Teasers(state=index),)))
        out = pipeline(record("\n".join(paragraphs)))
        teaser_texts = [paragraphs[i] for i in doc["teasers"]]
        cut = out["metadata"]["teasers"]
        found += sum(t in cut for t in teaser_texts)
        total += len(teaser_texts)
        body_lines = [p for i, p in enumerate(paragraphs) if p.strip() and i not in doc["teasers"]]
        kept += sum(p not in cut for p in body_lines)
        body += len(body_lines)
    return found / total, kept / body, total, body


ORDERS = {
    "teasers": lambda index: [Teasers(state=index)],
    "teasers then credits": lambda index: [Teasers(state=index), Credits()],
    # clean's order: credits cut the end credits first, teasers finds where they stood in metadata.credit_cuts
    "credits then teasers": lambda index: [Credits(), Teasers(state=index)],
}


@pytest.mark.parametrize("order", list(ORDERS))
def test_fixture_set_recall_and_body_kept(order, capsys):
    recall, body_kept, teasers, body = measure(steps=ORDERS[order](None))
    indexed_recall, indexed_body_kept, _, _ = measure(steps=ORDERS[order](fixture_index()))
    with capsys.disabled():
        print(
            f"\nteasers fixture set, {order}: {len(FIXTURES)} documents, {teasers} teasers, {body} body lines; "
            f"recall {recall:.3f}, body kept {body_kept:.3f}; "
            f"with --index: recall {indexed_recall:.3f}, body kept {indexed_body_kept:.3f}"
        )
    assert recall >= 0.98
    assert body_kept == 1.0
    assert indexed_recall == 1.0
    assert indexed_body_kept == 1.0


def test_fixture_set_same_cuts_whichever_runs_first():
    # the end credits' place in metadata.cuts stands in for the credit lines: per document, teasers cuts the same
    # paragraphs for the same reasons whether credits ran before it or not
    differ = []
    for path in FIXTURES:
        text = "\n".join(fixture(path)["paragraphs"])
        alone = Teasers().process(record(text), "text")["metadata"]
        after = Pipeline((Credits(), Teasers()))(record(text))["metadata"]
        # the same lines for the same reasons: entries count the lines the text came in with
        if (after["teasers"], [c for c in after["cuts"] if c["step"] == "teasers"]) != (
            alone["teasers"],
            alone["cuts"],
        ):
            differ.append(path.stem)
    assert differ == []


# -------------------------------------------------------------------------------------------------- seeds


def seed_paragraphs() -> dict[str, list[str]]:
    return {p.stem: p.read_text(encoding="utf-8").split("\n") for p in sorted(SEEDS.glob("*.txt"))}


EXPECTED_SEED_TAILS = {
    "000_d71da426b8456c2b": [16, 17, 18, 19],
    "001_f74657ecf586bcea": [16, 17, 18, 19],
    "002_38a8e521ae68cf37": [],
    "003_275b2542cd664c9b": [27, 28, 29, 30],
    "004_94e41eeb8c470aa6": [23, 24, 25, 26],
}


def test_seeds_all_sixteen_teasers_and_nothing_else():
    for doc_id, paragraphs in seed_paragraphs().items():
        labels = label_teasers(paragraphs)
        assert teasers_of(labels) == EXPECTED_SEED_TAILS[doc_id], doc_id
    headings = label_teasers(seed_paragraphs()["002_38a8e521ae68cf37"])
    assert kinds(headings) == {6: ("heading", "subhead"), 17: ("heading", "subhead"), 23: ("heading", "subhead")}


def ingest_seeds(cli, monkeypatch) -> bytes:
    """The seeds as `corpus-tools ingest seeds/` prints them from the repository root (sources are relative)."""
    monkeypatch.chdir(SEEDS.parent)
    return cli(["ingest", "seeds/"]).stdout_bytes


def test_seeds_golden(cli, monkeypatch):
    ingested = ingest_seeds(cli, monkeypatch)
    result = cli(["teasers"], input=ingested)
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes == GOLDEN.read_bytes()
    records = parse_jsonl(result.stdout_bytes)
    assert sum(len(r["metadata"]["teasers"]) for r in records) == 16
    for r, original in zip(records, parse_jsonl(ingested), strict=True):
        # no body line or subhead lost: the output is the input minus exactly the recorded teasers
        before = original["text"].split("\n")
        assert [p for p in before if p not in r["metadata"]["teasers"]] == r["text"].split("\n")


def test_seeds_golden_with_an_index_of_the_seeds(cli, tmp_path, monkeypatch):
    index = tmp_path / "tails.idx"
    assert cli(["index", SEEDS, "-o", index, "-q"]).exit_code == 0
    result = cli(["teasers", "--index", index], input=ingest_seeds(cli, monkeypatch))
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes == GOLDEN.read_bytes()


@pytest.mark.parametrize("order", [("credits", "teasers"), ("teasers", "credits")])
def test_seeds_with_credits_in_either_order(cli, order):
    stream = cli(["ingest", SEEDS]).stdout_bytes
    for command in order:
        stream = cli([command], input=stream).stdout_bytes
    records = {r["id"]: r for r in parse_jsonl(stream)}
    golden = {r["id"]: r for r in parse_jsonl(GOLDEN.read_bytes())}
    assert sum(len(r["metadata"]["teasers"]) for r in records.values()) == 16
    for doc_id, r in records.items():
        assert r["metadata"]["teasers"] == golden[doc_id]["metadata"]["teasers"], (order, doc_id)
        # the same lines for the same reasons (000 and 003 open their tail with a full-stop teaser right after the
        # credits), counted as the text came in whichever step ran first
        teasers = [c for c in r["metadata"]["cuts"] if c["step"] == "teasers"]
        assert teasers == golden[doc_id]["metadata"]["cuts"], (order, doc_id)


# ---------------------------------------------------------------------------------------------- properties

_BODY_LINES = st.sampled_from(
    [BODY, "Short subhead", "- a list item", "Ends with a colon:", words(30, "."), words(100, "."), words(103, "?")]
)
_TAIL_LINES = st.sampled_from([TEASER, STOP_TEASER, words(104), words(97, ","), "", "More opinion", "Advertisement"])
_CREDIT_LINES = st.sampled_from([[], [BIO], [BIO, TRANSLATOR], ["By Jane Doe"]])


@st.composite
def documents(draw) -> list[str]:
    body = draw(st.lists(_BODY_LINES, min_size=1, max_size=8))
    return body + draw(_CREDIT_LINES) + draw(st.lists(_TAIL_LINES, max_size=5))


@given(documents())
def test_property_cut_lines_form_the_tail_and_sentences_outside_it_stay(paragraphs):
    labels = label_teasers(paragraphs)
    cut = teasers_of(labels)
    start = tail_start(paragraphs)
    # the tail is everything from its start, except blank lines and subheads, which stay
    assert cut == [i for i in range(start, len(paragraphs)) if paragraphs[i].strip() and i not in headings(labels)]
    for i, paragraph in enumerate(paragraphs):
        if i < start and ends_sentence(paragraph):
            assert i not in cut
        if i in cut:
            assert 95 <= word_count(paragraph) <= 110


@given(documents())
def test_property_output_is_the_input_minus_the_cut_lines_in_order(paragraphs):
    out = Teasers().process(record("\n".join(paragraphs)), "text")
    cut = [c["paragraph"] for c in out["metadata"]["cuts"]]
    assert out["text"].split("\n") == [p for i, p in enumerate(paragraphs) if i not in cut]
    teasers = [c["paragraph"] for c in out["metadata"]["cuts"] if c["rule"] != "blank_line"]
    assert out["metadata"]["teasers"] == [paragraphs[i] for i in teasers]
    assert all(not paragraphs[i].strip() for i in set(cut) - set(teasers))
    assert (
        out["text"].split("\n")[: min(cut, default=len(paragraphs))] == paragraphs[: min(cut, default=len(paragraphs))]
    )


@given(documents(), st.booleans())
def test_property_idempotent(paragraphs, with_credits_first):
    steps = (Credits(), Teasers()) if with_credits_first else (Teasers(),)
    once = Pipeline(steps)(record("\n".join(paragraphs)))
    twice = Pipeline(steps)(once)
    assert twice == once


@given(documents())
def test_property_credits_first_cuts_what_teasers_alone_cuts(paragraphs):
    # the end credits' place in metadata.cuts stands in for the removed credit lines, exactly
    text = "\n".join(paragraphs)
    alone = Teasers().process(record(text), "text")["metadata"]
    after = Pipeline((Credits(), Teasers()))(record(text))["metadata"]
    assert after["teasers"] == alone["teasers"]
    assert [c for c in after["cuts"] if c["step"] == "teasers"] == alone["cuts"]


# ---------------------------------------------------------------------------------------------------- CLI


def test_cli_dry_run_and_options(cli):
    text = "\n".join([BODY, BIO, STOP_TEASER, TEASER])
    line = json.dumps(record(text))
    dry = parse_jsonl(cli(["teasers", "--dry-run"], input=line).stdout_bytes)[0]
    assert dry["text"] == text
    assert dry["metadata"]["cuts"] == [
        {"step": "teasers", "rule": "after-credits", "paragraph": 2, "dry_run": True},
        {"step": "teasers", "rule": "truncated", "paragraph": 3, "dry_run": True},
    ]
    no_credits = parse_jsonl(cli(["teasers", "--no-credits"], input=line).stdout_bytes)[0]
    assert no_credits["metadata"]["cuts"] == [{"step": "teasers", "rule": "truncated", "paragraph": 3}]
    narrow = parse_jsonl(cli(["teasers", "--min-words", "20", "--max-words", "40"], input=line).stdout_bytes)[0]
    assert narrow["text"] == text


def test_cli_bad_input_follows_the_error_policy(cli, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps(record(BODY)) + "\n" + '{"text": 3}\n', encoding="utf-8")
    result = cli(["teasers", path])
    assert result.exit_code == 2
    assert result.stderr == f"error: {path}:2: text field 'text' is a number, not a string\n"
    bad_meta = cli(["teasers"], input=json.dumps(record(BODY, cuts="x")) + "\n")
    assert bad_meta.exit_code == 2
    assert bad_meta.stderr == 'error: -:1: metadata.cuts is not a list of {"step", "rule", "paragraph"} objects\n'


def test_cli_bad_index_and_bad_band(cli, tmp_path):
    bogus = tmp_path / "bogus.idx"
    bogus.write_bytes(b"hello")
    result = cli(["teasers", "--index", bogus], input=b"")
    assert result.exit_code == 2
    assert result.stderr == f"error: {bogus}: not a tail index (bad magic; build one with `corpus-tools index`)\n"
    missing = cli(["teasers", "--index", tmp_path / "none.idx"], input=b"")
    assert missing.exit_code == 2
    assert missing.stderr.startswith(f"error: {tmp_path / 'none.idx'}: ")
    band = cli(["teasers", "--min-words", "50", "--max-words", "40"], input=b"")
    assert (band.exit_code, band.stderr) == (2, "error: teasers: min_words (50) must be <= max_words (40)\n")


def test_cli_warns_when_the_band_is_outside_the_index(cli, tmp_path):
    index = tmp_path / "t.idx"
    assert cli(["index", SEEDS, "-o", index, "-q", "--min-words", "90", "--max-words", "120"]).exit_code == 0
    result = cli(["teasers", "--index", index, "--min-words", "60"], input=b"")
    assert result.exit_code == 0
    assert result.stderr == (
        f"warning: {index} counts paragraphs of 90..120 words; "
        "teasers of 60..110 words outside that band get no recurrence signal\n"
    )
    assert cli(["teasers", "--index", index], input=b"").stderr == ""


def test_real_pipe_with_an_index(tmp_path):
    result = run_shell(
        f"corpus-tools index seeds/ -o {tmp_path}/t.idx -q && "
        f"corpus-tools ingest seeds/ | corpus-tools teasers --index {tmp_path}/t.idx | corpus-tools teasers"
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == b""
    assert result.stdout == GOLDEN.read_bytes()  # a second pass finds nothing more: idempotent through pipes


@pytest.mark.parametrize(
    "fields",
    [
        {"min_words": 0},
        {"min_words": 120},
        {"heading_max_words": 0},
        {"min_recurrence": 1},
    ],
)
def test_bad_options_are_config_errors(fields):
    with pytest.raises(ConfigError, match="teasers: "):
        TeasersOptions(**fields)


def test_the_length_match_option_is_gone_from_the_config():
    # `credits_removed_slack` tuned a length-match guess that the position in metadata.credit_cuts replaced
    assert options_from(TeasersOptions, {"min_words": 90}, where="c.toml [teasers]") == TeasersOptions(min_words=90)
    with pytest.raises(ConfigError, match="credits_removed_slack"):
        options_from(TeasersOptions, {"credits_removed_slack": 0}, where="c.toml [teasers]")


# ------------------------------------------------------------------------- the step computes only its tail


@given(documents(), st.sampled_from([None, 2, 4]))
def test_property_step_cuts_exactly_the_teaser_labels_of_label_teasers(paragraphs, credits_at):
    # The step skips the subhead labels (explain's) and computes only the tail: what it cuts, and why, must be
    # exactly label_teasers' teaser labels, with and without a removed-credits position.
    # A bio cut at line credits_at of the text as it came in: the current line i was line i + (i >= credits_at).
    cuts = [] if credits_at is None else [{"step": "credits", "rule": "bio_at_end", "paragraph": credits_at}]
    out = Teasers().process({"id": "x", "text": "\n".join(paragraphs), "metadata": {"cuts": cuts}}, "text")
    position = end_credits_position({"cuts": cuts}, len(paragraphs))
    assert position == (None if credits_at is None else min(credits_at, len(paragraphs)))
    labels = label_teasers(paragraphs, credits_at=position)
    shift = (lambda i: i) if credits_at is None else (lambda i: i + (i >= credits_at))
    teasers = {i: labels[i].reason for i in labels if labels[i].kind == "teaser"}
    blank = orphaned_blank_lines(paragraphs, teasers)
    assert out["metadata"]["cuts"] == cuts + [
        {"step": "teasers", "rule": teasers.get(i, "blank_line"), "paragraph": shift(i)}
        for i in sorted([*teasers, *blank])
    ]


@given(st.text(alphabet=st.sampled_from("ab \t\u00a0\u3000\n\x85."), max_size=60), st.integers(1, 12))
def test_property_capped_word_band_agrees_with_word_count(text, n):
    from corpus_tools.teasers import _in_band

    options = TeasersOptions(min_words=n, max_words=n + 3)
    assert _in_band(text, options) == (n <= word_count(text) <= n + 3)


# ------------------------------------------------------------------ shortcuts against the plain patterns

_EDGE_PIECES = [
    *"aZ9 .:;,!?”’»」）)]\"'-•1",
    "1. ",
    "- ",
    "中",
    *"、，；：。」",
    "É",
    "\u00a0",
    "\t",
    "\n",
    "By Ann Lee",
    "Ann Lee is a",
]


# The pattern is_heading's last-character test replaces.
_PLAIN_HEADING_END = regex.compile(r"[,;:、，；：]\s*$")


def _plain_is_truncated(paragraph: str) -> bool:
    text = paragraph.rstrip()
    return (
        bool(text)
        and not ends_sentence(text)
        and teasers_module._OPEN_ENDING.search(text[-4:]) is None
        and _PLAIN_POST_MARK.search(text) is None
    )


# The ending teasers.ends_on_a_post_mark tests for, as one pattern.
_PLAIN_POST_MARK = regex.compile(r"(?:^|\s)(?:\S*://|https?://|www\.|[@#])\S*$|[\p{So}\p{Sk}\uFE0F]$")


def _plain_is_heading(paragraph: str) -> bool:
    text = paragraph.strip()
    if not text:
        return False
    if ends_sentence(text) or _PLAIN_HEADING_END.search(text) or teasers_module._OPEN_ENDING.search(text[-4:]):
        return False
    if not teasers_module._HEADING_START.match(text) or teasers_module._LIST_ITEM.match(text):
        return False
    if more_words_than(text, TeasersOptions().heading_max_words):
        return False
    return credit_kind(text) is None


@given(st.lists(st.sampled_from(_EDGE_PIECES), max_size=12).map("".join) | st.text(max_size=12))
@example("Heading，")
@example("Heading：")
@example("1. Item")
@example("Ends on a quote”")
@example("a\t#tag")
@example("see\u00a0https://x.org")
def test_paragraph_shape_shortcuts_agree_with_the_plain_patterns(paragraph: str):
    assert is_truncated(paragraph) == _plain_is_truncated(paragraph)
    assert is_heading(paragraph) == _plain_is_heading(paragraph)


@given(
    st.lists(st.sampled_from([BODY, BIO, TRANSLATOR, TEASER, STOP_TEASER, "", "More opinion"]), max_size=8),
    st.sampled_from(
        [TeasersOptions(), TeasersOptions(min_words=101, max_words=104), TeasersOptions(use_credits=False)]
    ),
    st.sampled_from([None, 0, 1, 2]),
)
@example([BODY, TEASER, TEASER], TeasersOptions(min_words=101, max_words=104), None)
@example([BODY, STOP_TEASER, TEASER], TeasersOptions(), 1)
def test_a_remembered_tail_is_only_reused_for_the_same_question(lines, options, credits_at):
    # The credits step primes the memo with the default question about a text; any other question about the same
    # string (other options, a credit position) must be answered afresh, and the same one identically.
    text = "\n".join(lines)
    paragraphs = split_paragraphs(text)
    tail_start(paragraphs, text=text)
    fresh = teasers_module._tail(paragraphs, options, None, credits_at, credit_kind)
    assert teasers_module._tail_of(text, paragraphs, options, None, credits_at) == fresh
    assert tail_start(paragraphs, options, text=text) == tail_start(paragraphs, options)


@given(
    st.lists(
        st.sampled_from([BODY, BIO, TRANSLATOR, TEASER, STOP_TEASER, "", "More opinion", "Share this"]),
        min_size=1,
        max_size=10,
    ),
    st.sets(st.integers(0, 9)),
    st.sampled_from(
        [TeasersOptions(), TeasersOptions(min_words=101, max_words=104), TeasersOptions(use_credits=False)]
    ),
    st.sampled_from([None, 0, 1, 2, 3, 5, 8]),
)
@example([BODY, TRANSLATOR, BODY, TEASER], {1}, TeasersOptions(), 1)
@example([BODY, STOP_TEASER, TEASER], {0}, TeasersOptions(), 1)
@example([TEASER, TEASER], {0}, TeasersOptions(), None)
def test_a_remembered_tail_is_reused_only_where_the_lines_it_read_are_the_same(lines, cut, options, credits_at):
    # The credits step asks about its lines, then the teasers step about what is left once credits are cut: the
    # same string objects, fewer of them, perhaps with the place of removed credits. The memo answers that question
    # as the walk itself would.
    paragraphs = [(line + "\0")[:-1] for line in lines]  # distinct objects, as a split makes them
    tail_start(paragraphs)
    kept = [p for i, p in enumerate(paragraphs) if i not in cut]
    if credits_at is not None and credits_at > len(kept):
        credits_at = len(kept)
    fresh = teasers_module._tail(kept, options, None, credits_at, credit_kind)
    assert teasers_module._tail_of(None, kept, options, None, credits_at) == fresh
    # and the same question again (now remembered when it had no credit position)
    assert teasers_module._tail_of(None, kept, options, None, credits_at) == fresh


# ------------------------------------------------------------------------------------ option bounds


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"min_recurrence": 1}, "teasers: min_recurrence must be >= 2 (got 1)"),
        ({"heading_max_words": 0}, "teasers: heading_max_words must be >= 1 (got 0)"),
        (
            {"heading_max_words": 0, "min_recurrence": 1},
            "teasers: heading_max_words must be >= 1 (got 0); min_recurrence must be >= 2 (got 1)",
        ),
        ({"min_words": 0}, "teasers: min_words must be >= 1 (got 0)"),
        ({"max_words": -1}, "teasers: max_words must be >= 1 (got -1)"),
        ({"max_words": 2**63}, "teasers: max_words must be a 64-bit integer (got 9223372036854775808)"),
        ({"min_words": 120}, "teasers: min_words (120) must be <= max_words (110)"),
        ({"max_words": 50}, "teasers: min_words (95) must be <= max_words (50)"),
        (
            {"min_words": -5, "max_words": -10},
            "teasers: min_words must be >= 1 (got -5); max_words must be >= 1 (got -10)",
        ),
    ],
)
def test_each_option_out_of_range_gets_its_own_message(fields, message):
    with pytest.raises(ConfigError) as exc:
        TeasersOptions(**fields)
    assert str(exc.value) == message


def test_the_bounds_themselves_are_valid_options():
    assert TeasersOptions(min_words=1, max_words=1, heading_max_words=1, min_recurrence=2).max_words == 1


def test_the_remembered_tail_is_not_used_once_the_index_has_grown():
    # Found by differential fuzzing: the one-entry memo matched the index by identity only.
    words = lambda n, end="": " ".join(f"w{i}" for i in range(n)) + end  # noqa: E731
    text = "Lead 0.\nThe body says something. It ends well.\n" + words(101, ".") + "\n" + words(100)
    index = TailIndex()
    step = Teasers(state=index)
    step.process({"text": text}, "text")
    for i in range(1, 4):
        index.add_text(text.replace("Lead 0.", f"Lead {i}."))
    same = step.process({"text": text}, "text")["metadata"]["cuts"]
    equal = step.process({"text": "".join(list(text))}, "text")["metadata"]["cuts"]  # an equal, new string
    assert (
        same
        == equal
        == [
            {"step": "teasers", "rule": "recurrent", "paragraph": 2},
            {"step": "teasers", "rule": "truncated", "paragraph": 3},
        ]
    )


def test_a_bio_below_the_tail_does_not_hide_it_in_either_order():
    # Found by a user review: teasers alone stopped at the bio, so `teasers | credits` cut nothing here while
    # `credits | teasers` cut the two teasers (and `explain`, which labels like teasers alone, disagreed with clean).
    teaser = " ".join(f"word{i}" for i in range(99)) + " end"
    text = "\n".join(
        [
            "The council voted.",
            "Supporters said so.",
            teaser,
            teaser.replace("word", "term"),
            "Omar Haddad is an associate professor of economics at Example University.",
        ]
    )
    assert sorted(label_teasers(text.split("\n"))) == [2, 3]
    record = {"id": "a", "text": text}
    one = Pipeline((Credits(), Teasers())).process(record)
    other = Pipeline((Teasers(), Credits())).process(record)
    assert one["text"] == other["text"] == "The council voted.\nSupporters said so."
    assert one["metadata"]["teasers"] == other["metadata"]["teasers"] == text.split("\n")[2:4]
    assert one["metadata"]["authors"] == other["metadata"]["authors"] == ["Omar Haddad"]


@given(
    st.lists(st.sampled_from(["w", "w ", " ", "w.", "\n", "Ann Lee is a writer."]), max_size=40).map("".join),
    st.integers(1, 12),
    st.integers(0, 4),
)
def test_a_text_too_short_for_the_band_has_no_tail(text: str, min_words: int, more: int):
    # The shortcut before any split: a text whose length cannot hold min_words words has no teaser, as the full
    # walk over its lines (with a corpus index too) finds.
    options = TeasersOptions(min_words=min_words, max_words=min_words + more)
    index = TailIndex(1, 20)
    index.add_text(text)
    index.add_text(text)
    index.add_text(text)
    if not teasers_module.may_hold_teaser(text, options):
        for with_index in (None, index):
            assert teasers_module._tail(text.split("\n"), options, with_index, None, credit_kind) == []
        assert Teasers(options, index).label(Doc({"text": text})).cuts == {}
