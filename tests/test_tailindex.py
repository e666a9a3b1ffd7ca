"""The tail index: counts per document, normalization, merge, the binary file format, the `index` command."""

from __future__ import annotations

import gzip
import struct

import pytest
from hypothesis import given, settings
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


# ------------------------------------------------- add_text's whole-document pass is the plain definition, exactly


def _reference_hashes(text: str, low: int, high: int) -> set[int]:
    """The definition: the first non-blank line and every line of low..high words (``len(line.split())``), keyed
    by the regex scan and hashed one by one."""
    from hashlib import blake2b

    hashes, first = set(), True
    for paragraph in text.split("\n"):
        if not paragraph.strip():
            continue
        if first or low <= len(paragraph.split()) <= high:
            digest = blake2b(_reference_key(paragraph).encode("utf-8"), digest_size=8).digest()
            hashes.add(int.from_bytes(digest, "little"))
        first = False
    return hashes


def _reference_index(texts: list[str], low: int, high: int) -> list[tuple[int, int]]:
    from collections import Counter

    counts: Counter[int] = Counter()
    for text in texts:
        counts.update(_reference_hashes(text, low, high))
    return sorted(counts.items())


# Every kind of whitespace str.split() knows, the separators and punctuation the fast paths treat specially
# (U+2000..U+203F, ASCII punctuation next to spaces), characters NFKC changes or composes (ligature, fullwidth,
# superscript, NBSP, a combining acute after a letter, Hangul jamo), characters case folding changes (ß, İ, É,
# Kelvin sign), marks, CJK, a lone surrogate: drawn often so that the rare paths run.
_TRICKY = (
    list("\t\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2007\u200a\u2028\u2029\u202f\u205f\u3000")
    + list("\u200b\u2019\u201c\u201d\u2014\u2013\u2026\u2024\u203c\u203f\u2010\u2017\u203e")
    + list(",.;:!?()[]\"'-&/_#*+=<>@")
    + list("ﬁＦ²½①™¾´¸\u0301\u0308\u0327\u1100\u1161\u11a8가\u0b3e\u0bbe")
    + list("ßİÉÀŒΣσςǅﬀ\u212a\u2126éèçœæ")
    + list("蔡英文說：「台灣」。हिन्दी")
    + ["\ud800", "\x00", "\x01", "\x7f"]
)
_WORD = st.text(alphabet=st.sampled_from("abcXYZ019é"), min_size=1, max_size=4)
_GAP = st.one_of(
    st.just(" "), st.just(" "), st.just(" "), st.text(alphabet=st.sampled_from([" ", *_TRICKY]), max_size=3)
)
_LINE = st.lists(st.tuples(_WORD, _GAP), max_size=12).map(lambda pairs: "".join(w + g for w, g in pairs))
_TEXT_LINE = st.one_of(_LINE, _LINE, st.text(alphabet=st.sampled_from([" ", "a", "B", *_TRICKY]), max_size=20))
_DOCUMENT = st.lists(_TEXT_LINE, max_size=8).map("\n".join)


@pytest.mark.slow
@settings(max_examples=300)
@given(st.lists(_DOCUMENT, min_size=1, max_size=4), st.integers(1, 6), st.integers(0, 4))
def test_property_add_text_equals_the_definition(texts, low, width):
    index = TailIndex(low, low + width)
    for text in texts:
        index.add_text(text)
    assert index.items() == _reference_index(texts, low, low + width)
    assert index.documents == len(texts)


@given(st.lists(st.one_of(_LINE, st.text(max_size=40)), min_size=1, max_size=6))
def test_property_line_keys_equal_paragraph_keys(lines):
    from corpus_tools.tailindex import _line_keys

    lines = [line.replace("\n", " ") for line in lines]
    encoded = [line.encode("utf-8", "surrogatepass") for line in lines]
    assert [key.decode("utf-8") for key in _line_keys(encoded)] == [_reference_key(line) for line in lines]


@pytest.mark.parametrize(
    "text",
    [
        "“Hello,” she said — “it’s  fine.”\nU.S. 2,000 3.5 far-reaching\n\n  Leading and trailing  ",
        "a\u00a0b c\u2003d\re\tf\x1cg\x85h\u2028i",  # only other whitespace: the exact fallback
        "ﬁne Ｆull ½ e\u0301 cafe\u0301 Straße İstanbul \u212a",  # NFKC and casefold changes
        "\u1100\u1161\u11a8 가 \u0b47\u0b3e",  # Hangul jamo compose; an Oriya vowel sign composes
        "lone \ud800 surrogate\n\u2019\u2019\u2019\n…",
        "lead\na  b\n a b\na b \na b  c\nx y z\n\n \n",  # spaces that do not separate a word each
        "x\u203ey \u2017z\n\u201cq\u2019s\u201d \u2026",  # general punctuation only; NFKC gives two of them a mark
    ],
)
def test_add_text_equals_the_definition_on_edge_documents(text):
    for low, high in ((1, 1), (1, 3), (2, 4), (3, 5), (80, 140)):
        index = TailIndex(low, high)
        index.add_text(text)
        assert index.items() == _reference_index([text], low, high)


def test_add_text_equals_the_definition_on_the_seeds():
    texts = [path.read_text(encoding="utf-8") for path in sorted(SEEDS.iterdir())]
    for low, high in ((80, 140), (20, 60), (1, 400)):
        index = TailIndex(low, high)
        for text in texts:
            index.add_text(text)
        assert index.items() == _reference_index(texts, low, high)


def test_whitespace_is_every_character_str_split_splits_on():
    import sys

    from corpus_tools.tailindex import WHITESPACE

    every = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())
    assert every == WHITESPACE


def test_characters_taken_as_nfkc_stable_never_compose_onto_a_previous_one():
    """_char's stability test assumes that a starter which canonical composition can attach to a previous
    character is a mark or a Hangul jamo; check that against every canonical pair in the Unicode database."""
    import sys
    import unicodedata

    from corpus_tools.tailindex import _char

    seconds = set()
    for code in range(sys.maxunicode + 1):
        decomposition = unicodedata.decomposition(chr(code))
        if decomposition and not decomposition.startswith("<"):
            parts = decomposition.split()
            if len(parts) == 2:
                seconds.add(chr(int(parts[1], 16)))
    seconds.update(map(chr, range(0x1161, 0x1176)))  # Hangul V and T jamo compose algorithmically
    seconds.update(map(chr, range(0x11A8, 0x11C3)))
    assert seconds
    assert not [c for c in seconds if c >= "\x80" and _char(c)[0]]


@given(st.text(alphabet=st.sampled_from([*_TRICKY, "a", "e", " ", "A"]), max_size=30))
def test_property_text_of_stable_characters_is_nfkc(text):
    import unicodedata

    from corpus_tools.tailindex import _char

    if all(_char(c)[0] for c in text if c >= "\x80"):
        assert unicodedata.normalize("NFKC", text) == text


def test_general_punctuation_is_never_a_word_character():
    """_line_keys turns every U+2000..U+203F into a space by its UTF-8 lead bytes."""
    from corpus_tools.tailindex import _char

    assert all(_char(chr(code))[1] == b" " for code in range(0x2000, 0x2040))


# ------------------------------------------------------------------------------ compressed index files cut short

GZIP_CUT = "cannot read: Compressed file ended before the end-of-stream marker was reached"
ZSTD_CUT = "cannot read: compressed file ended before the end of its zstd frame"


def _index_bytes() -> bytes:
    index = TailIndex()
    index.add_text(LEAD + "\n" + TEASER)
    return index.to_bytes()


def _bad_compressed_indexes(tmp_path) -> list[tuple[str, str]]:
    """(path, the reason it cannot be read): a gzip and a zstd index cut short, a gzip with a wrong CRC."""
    import zlib

    import zstandard

    data = _index_bytes()
    gz = gzip.compress(data, mtime=0)
    cut_gz, cut_zst, bad_crc = tmp_path / "cut.idx", tmp_path / "cut.idx.zst", tmp_path / "crc.idx.gz"
    cut_gz.write_bytes(gz[:20])
    cut_zst.write_bytes(zstandard.ZstdCompressor().compress(data)[:30])
    flipped = bytearray(gz)
    flipped[-8] ^= 0x01  # the first byte of the stored CRC-32
    bad_crc.write_bytes(bytes(flipped))
    stored = int.from_bytes(flipped[-8:-4], "little")
    crc_reason = f"cannot read: CRC check failed {hex(stored)} != {hex(zlib.crc32(data))}"
    return [(str(cut_gz), GZIP_CUT), (str(cut_zst), ZSTD_CUT), (str(bad_crc), crc_reason)]


def test_a_compressed_index_cut_short_or_with_a_bad_crc_is_an_input_error_naming_the_file(tmp_path):
    for path, reason in _bad_compressed_indexes(tmp_path):
        with pytest.raises(InputError) as info:
            TailIndex.load(path)
        assert str(info.value) == f"{path}: {reason}"


@pytest.mark.parametrize("command", ["clean", "teasers", "explain"])
def test_commands_given_a_broken_compressed_index_say_so_in_one_line_and_exit_2(cli, tmp_path, command):
    for path, reason in _bad_compressed_indexes(tmp_path):
        result = cli([command, SEEDS, "--index", path])
        assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"error: {path}: {reason}\n")
