"""The shared paragraph helpers: sentence ends (closing quotes, brackets, CJK), word counts, cutting."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from corpus_tools.labels import (
    cut,
    ends_sentence,
    join_paragraphs,
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
