"""The tail index: counts per document, normalization, merge, the binary file format, the `index` command."""

from __future__ import annotations

import gzip
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import SEEDS
from corpus_tools.errors import InputError
from corpus_tools.tailindex import MAGIC, TailIndex, paragraph_hash, paragraph_key

LEAD = "A short first paragraph."
TEASER = " ".join(["word"] * 99 + ["cut"])  # 100 words, in the default band (80..140)
BODY = " ".join(["body"] * 30) + "."  # 31 words: not counted


def test_counts_each_eligible_paragraph_once_per_document():
    index = TailIndex()
    index.add_text("\n".join([LEAD, BODY, TEASER, TEASER]))
    index.add_text("\n".join(["Another lead.", TEASER]))
    assert index.documents == 2
    assert index.count(TEASER) == 2  # twice in the first document, counted once there
    assert index.count(LEAD) == 1  # the first paragraph always counts: the duplicate-document baseline
    assert index.count(BODY) == 0  # neither first nor in the band
    assert index.count("never seen") == 0
    assert len(index) == 3


def test_blank_lines_are_skipped_and_the_first_non_blank_line_is_the_lead():
    index = TailIndex()
    index.add_text("\n\n" + LEAD + "\n\n" + BODY)
    assert index.count(LEAD) == 1
    assert index.count("") == 0


def test_key_ignores_case_punctuation_quotes_and_spacing():
    assert paragraph_key("“Hello,”  she said — TWICE.") == "hello she said twice"
    assert paragraph_hash("It’s  fine.") == paragraph_hash("it's fine")
    assert paragraph_hash("Ｆｕｌｌｗｉｄｔｈ") == paragraph_hash("fullwidth")  # NFKC
    assert paragraph_hash("one two") != paragraph_hash("one three")


def test_merge_adds_documents_and_counts():
    a, b = TailIndex(), TailIndex()
    a.add_text(LEAD + "\n" + TEASER)
    b.add_text("Other.\n" + TEASER)
    b.add_text("Third.\n" + TEASER)
    a.merge(b)
    assert (a.documents, a.count(TEASER), a.count("Third.")) == (3, 3, 1)


def test_merge_refuses_a_different_band():
    with pytest.raises(ValueError, match="different bands"):
        TailIndex().merge(TailIndex(10, 20))


def test_save_and_load_round_trip(tmp_path):
    index = TailIndex(50, 120)
    for lead in ("One.", "Two.", "Three."):
        index.add_text(f"{lead}\n{TEASER}")
    size = index.save(str(tmp_path / "t.idx"))
    data = (tmp_path / "t.idx").read_bytes()
    assert size == len(data) == 36 + 12 * 4
    loaded = TailIndex.load(str(tmp_path / "t.idx"))
    assert (loaded.min_words, loaded.max_words, loaded.documents) == (50, 120, 3)
    assert loaded.items() == index.items()
    assert loaded.count(TEASER) == 3
    # a loaded index keeps growing: its additions merge with the loaded arrays
    loaded.add_text(f"Four.\n{TEASER}")
    assert loaded.count(TEASER) == 4
    assert loaded.to_bytes() != data


def test_file_layout_is_the_documented_one():
    index = TailIndex()
    index.add_text(LEAD)
    data = index.to_bytes()
    magic, version, flags, low, high, documents, n = struct.unpack_from("<8sHHIIQQ", data)
    assert (magic, version, flags, low, high, documents, n) == (MAGIC, 1, 0, 80, 140, 1, 1)
    assert struct.unpack_from("<QI", data, 36) == (paragraph_hash(LEAD), 1)


def test_compressed_index_loads(tmp_path):
    index = TailIndex()
    index.add_text(LEAD)
    path = tmp_path / "t.idx.gz"
    path.write_bytes(gzip.compress(index.to_bytes()))
    assert TailIndex.load(str(path)).count(LEAD) == 1


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda d: b"NOTANIDX" + d[8:], "not a tail index"),
        (lambda d: d[:8] + struct.pack("<H", 9) + d[10:], "version 9 is not supported"),
        (lambda d: d[:-1], "truncated or padded"),
        (lambda d: d[:12] + struct.pack("<II", 5, 2) + d[20:], "bad band"),
    ],
)
def test_corrupt_files_are_input_errors(tmp_path, mutate, reason):
    index = TailIndex()
    index.add_text(LEAD + "\n" + TEASER)
    path = tmp_path / "bad.idx"
    path.write_bytes(mutate(index.to_bytes()))
    with pytest.raises(InputError, match=reason) as info:
        TailIndex.load(str(path))
    assert str(path) in str(info.value)


def test_unsorted_hashes_are_rejected():
    index = TailIndex()
    index.add_text(LEAD + "\n" + TEASER)
    data = bytearray(index.to_bytes())
    data[36:52] = data[44:52] + data[36:44]  # swap the two hashes
    with pytest.raises(InputError, match="not sorted"):
        TailIndex.from_bytes(bytes(data))


@given(st.lists(st.lists(st.sampled_from(["A.", "B b.", TEASER, TEASER + " x", ""]), max_size=6), max_size=8))
def test_merging_partial_indexes_equals_one_pass(documents):
    whole, left, right = TailIndex(), TailIndex(), TailIndex()
    for i, paragraphs in enumerate(documents):
        text = "\n".join(paragraphs)
        whole.add_text(text)
        (left if i % 2 else right).add_text(text)
    left.merge(right)
    assert left.items() == whole.items()
    assert left.documents == whole.documents
    assert TailIndex.from_bytes(whole.to_bytes()).items() == whole.items()


# ------------------------------------------------------------------------------------------------------- CLI


def test_index_command_builds_the_seeds_index(cli, tmp_path):
    out = tmp_path / "tails.idx"
    result = cli(["index", SEEDS, "-o", out])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    index = TailIndex.load(str(out))
    assert index.documents == 5
    lead = (SEEDS / "000_d71da426b8456c2b.txt").read_text(encoding="utf-8").split("\n")[0]
    assert index.count(lead) == 2
    kinmen = (SEEDS / "000_d71da426b8456c2b.txt").read_text(encoding="utf-8").split("\n")[19]
    assert index.count(kinmen) == 2  # seeds 000 and 003
    size = out.stat().st_size
    assert result.stderr == (
        f"corpus-tools: indexed 5 documents, {len(index)} distinct paragraphs, {size} bytes "
        f"({size / 5:.1f} bytes/document) -> {out}\n"
    )


def test_index_command_reads_jsonl_and_is_quiet_with_q(cli, tmp_path):
    records = cli(["ingest", SEEDS]).stdout_bytes
    out = tmp_path / "t.idx"
    result = cli(["index", "-", "-o", out, "-q"], input=records)
    assert (result.exit_code, result.stderr) == (0, "")
    assert TailIndex.load(str(out)).documents == 5


def test_index_command_needs_an_output(cli):
    result = cli(["index", SEEDS])
    assert result.exit_code == 2
    assert result.stderr == "error: index needs -o PATH (the index is a binary file, not JSON lines)\n"


def test_index_command_bad_record_follows_the_error_policy(cli, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text('{"text": "ok"}\n{"id": 1}\n', encoding="utf-8")
    result = cli(["index", path, "-o", tmp_path / "t.idx"])
    assert result.exit_code == 2
    assert result.stderr == f"error: {path}:2: missing text field 'text'\n"
    assert not (tmp_path / "t.idx").exists()
    skipped = cli(["index", path, "-o", tmp_path / "t.idx", "--on-error", "skip", "-q"])
    assert skipped.exit_code == 0
    assert "skipped 1 of 2 records" in skipped.stderr
    assert TailIndex.load(str(tmp_path / "t.idx")).documents == 1


def test_compaction_midway_keeps_every_count(monkeypatch):
    from corpus_tools import tailindex

    texts = [f"Lead {i}.\n{TEASER}\n{TEASER} {i % 3}" for i in range(20)]
    reference = TailIndex()
    for text in texts:
        reference.add_text(text)
    monkeypatch.setattr(tailindex, "COMPACT_EVERY", 3)
    small = TailIndex()
    for text in texts:
        small.add_text(text)
    assert small.items() == reference.items()
    assert small.count(TEASER) == 20
    assert small.count(f"{TEASER} 1") == 7


# ------------------------------------------------------------------ the fast key is the defined key, exactly


def _reference_key(paragraph: str) -> str:
    """The definition of the key: the regex scan that paragraph_key replaces with a faster, equal build."""
    import unicodedata

    from corpus_tools.tailindex import _WORDS

    return " ".join(_WORDS.findall(unicodedata.normalize("NFKC", paragraph).casefold()))


@pytest.mark.parametrize(
    "text",
    [
        "café vs cafe\u0301",  # a combining mark is part of the word
        "हिन्दी भाषा",  # spacing marks (Mc) inside words
        "ﬁne Straße İstanbul",  # NFKC ligature, casefold ß -> ss, dotted capital I
        "蔡英文說：「台灣」。",  # CJK letters, CJK punctuation
        "a\u00a0b\u3000c\x85d\x1ce\u2028f\u200bg",  # Unicode spaces, separators, a zero-width space
        "x_y-z 3½ ② ⅷ",  # underscore, numbers of every kind
        "lone \ud800 surrogate",
        "",
        "   ",
    ],
)
def test_key_equals_the_regex_definition(text):
    assert paragraph_key(text) == _reference_key(text)


@given(st.text(max_size=80))
def test_property_key_equals_the_regex_definition(text):
    assert paragraph_key(text) == _reference_key(text)


@given(st.text(alphabet=st.sampled_from("ab \t\u00a0\u3000\x85"), max_size=60), st.integers(1, 10))
def test_property_eligibility_band_agrees_with_word_count(text, low):
    from corpus_tools.labels import word_count

    index = TailIndex(low, low + 2)
    assert index._in_band(text) == (low <= word_count(text) <= low + 2)
