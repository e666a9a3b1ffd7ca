"""The shared paragraph helpers: sentence ends (closing quotes, brackets, CJK), word counts, cutting."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from corpus_tools.labels import (
    _TERMINAL,
    cut,
    cut_text,
    ends_sentence,
    join_paragraphs,
    lines_containing,
    more_words_than,
    split_paragraphs,
    word_count,
    words_between,
)


@pytest.mark.parametrize(
    "paragraph",
    [
        "This is not science fiction — it is reality.",
        "peace and stability in the Indo-Pacific region.”",
        "What solution could be both deterrent and tailored?",
        "as Abe declared (see above).)",
        "台灣的未來由台灣人決定。",
        "他說：「這是現實。」",
        "Really?!",
        "The end…",
        "Trailing space after the stop.   ",
    ],
)
def test_finished_sentences(paragraph):
    assert ends_sentence(paragraph)


@pytest.mark.parametrize(
    "paragraph",
    [
        "Every few months a foreign reporter goes to",
        "the calculation is not simple. Trump has surrounded himself",
        "The reasons are these:",
        "Japan’s growing military",
        "",
    ],
)
def test_unfinished_sentences(paragraph):
    assert not ends_sentence(paragraph)


def test_paragraphs_keep_blank_lines_so_indices_match_lines():
    text = "One.\n\nTwo.\nThree."
    paragraphs = split_paragraphs(text)
    assert paragraphs == ["One.", "", "Two.", "Three."]
    assert join_paragraphs(paragraphs) == text
    assert join_paragraphs(cut(paragraphs, {1, 3})) == "One.\nTwo."


@given(st.text(alphabet=st.sampled_from("ab \t\u00a0\u3000\n\x85."), max_size=60), st.integers(0, 12))
def test_capped_word_count_agrees_with_word_count(text, n):
    assert more_words_than(text, n) == (word_count(text) > n)


@given(
    st.text(alphabet=st.sampled_from("ab \t\u00a0\u3000\n\x85."), max_size=60), st.integers(0, 12), st.integers(0, 4)
)
def test_word_band_agrees_with_word_count(text, low, width):
    assert words_between(text, low, low + width) == (low <= word_count(text) <= low + width)


# Endings the sentence pattern distinguishes: terminals, closers, spaces, the final-newline case, letters, digits.
_ENDING_CHARS = ".!?…。！？‼⁇⁈⁉”’»」）)]\"' \t\n\u00a0aZ9é中:;,-—"


@given(
    st.text(max_size=6)
    | st.text(alphabet=st.sampled_from(_ENDING_CHARS), max_size=40)
    | st.tuples(st.text(alphabet=st.sampled_from(_ENDING_CHARS), max_size=4), st.integers(10, 30)).map(
        lambda pair: pair[0] + "”" * pair[1]  # a terminal further back than the last 16 characters
    )
)
def test_ends_sentence_shortcuts_agree_with_the_pattern(paragraph):
    # The full-stop and letter shortcuts, and the 16-character window, must give exactly what the pattern gives.
    assert ends_sentence(paragraph) == (_TERMINAL.search(paragraph) is not None)


def test_a_terminal_behind_many_closers_still_ends_the_sentence():
    assert ends_sentence("Done." + "”" * 16)
    assert ends_sentence("Done." + " " * 20)
    assert not ends_sentence("Done" + "”" * 20)


@given(st.lists(st.text(alphabet=st.sampled_from("ab \n."), max_size=8), max_size=8), st.sets(st.integers(0, 8)))
def test_cut_text_and_the_remembered_split_agree_with_the_plain_ones(pieces, remove):
    text = "\n".join(pieces)
    paragraphs = split_paragraphs(text)
    assert paragraphs == text.split("\n")
    # A second split of the same string is remembered; the caller's list is its own to change.
    again = split_paragraphs(text)
    assert again == paragraphs and again is not paragraphs
    again.append("changed")
    assert split_paragraphs(text) == text.split("\n")
    cut_one = cut_text(paragraphs, remove)
    assert cut_one == join_paragraphs(cut(paragraphs, remove))
    assert split_paragraphs(cut_one) == cut_one.split("\n")


@given(st.text(alphabet=st.sampled_from("ab\n"), max_size=40), st.sampled_from(["a", "ab", "ba", "bab"]))
def test_lines_containing_is_the_line_by_line_answer(text, needle):
    assert lines_containing(text, needle) == [i for i, p in enumerate(text.split("\n")) if needle in p]


def test_every_whitespace_character_but_space_is_unprintable():
    # words_between counts spaces in printable text: that needs " " to be its only possible whitespace.
    others = [c for c in map(chr, range(0x110000)) if c.isspace() and c != " "]
    assert others and not any(c.isprintable() for c in others)


@given(st.text(alphabet=st.sampled_from("ab  é\u00a0\t."), max_size=300), st.integers(1, 60), st.integers(0, 40))
@example("ab cd ", 3, 0)
@example(" ab cd", 3, 0)
@example("ab  cd", 3, 0)
def test_word_band_counting_spaces_agrees_with_word_count(text, low, width):
    assert words_between(text, low, low + width) == (low <= word_count(text) <= low + width)
    assert more_words_than(text, low) == (word_count(text) > low)
