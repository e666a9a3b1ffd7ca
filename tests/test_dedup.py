"""The dedup library (issue 15): exact keys and folds, near signatures and the keep-first decision, determinism
whatever the partitioning, the index file across runs, options out of range, empty and tiny documents."""

from __future__ import annotations

import dataclasses
import math
import random
import subprocess
import sys
from array import array
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import DATA, ROOT, SEEDS, parse_jsonl, run_shell
from corpus_tools.dedup import (
    DIGEST_BYTES,
    EXACT,
    FOLD_CASE_WHITESPACE,
    FOLD_WHITESPACE,
    FOLDS,
    NEAR,
    NON_ASCII_SPACES,
    REASON_EXACT,
    REASON_NEAR,
    DedupIndex,
    DedupOptions,
    ExactIndex,
    band_keys,
    candidate_pairs,
    clusters,
    decide,
    dedup_records,
    exact_key,
    fold_text,
    folded_bytes,
    load_index,
    lsh_parameters,
    save_index,
    shingle_hashes,
    shingles,
    signature,
    signatures,
    similarity,
    utf8,
    words,
)
from corpus_tools.errors import ConfigError, InputError

DOCS = DATA / "dedup" / "docs.jsonl"
NEAR_OPTIONS = DedupOptions(mode=NEAR)


def docs() -> list[dict]:
    return parse_jsonl(DOCS.read_bytes())


def by_id(records: list[dict]) -> dict[str, dict]:
    return {record["id"]: record for record in records}


def verdicts(dropped) -> dict[str, tuple]:
    return {d.record["id"]: (d.reason, d.duplicate_of) for d in dropped}


def sig(values: list[int]) -> bytes:
    return array("I", values).tobytes()


def seed_texts() -> dict[str, str]:
    return {path.stem: path.read_text(encoding="utf-8") for path in sorted(SEEDS.glob("*.txt"))}


@pytest.fixture(scope="module")
def cleaned_seeds() -> list[dict]:
    """``corpus-tools clean seeds/`` (with ``--no-dedup`` once clean has it: all five records)."""
    help_text = run_shell("corpus-tools clean --help").stdout.decode()
    extra = " --no-dedup" if "--no-dedup" in help_text else ""
    result = run_shell(f"corpus-tools clean seeds/ -q{extra}")
    assert result.returncode == 0, result.stderr.decode()
    records = parse_jsonl(result.stdout)
    assert len(records) == 5
    return records


# ------------------------------------------------------------------------------------------------------ options


def test_options_defaults_and_field_metadata():
    options = DedupOptions()
    assert (options.mode, options.fold, options.threshold) == (EXACT, "case+whitespace", 0.8)
    assert (options.shingle, options.permutations) == (5, 128)
    assert (options.bands, options.rows) == (9, 13)
    for item in dataclasses.fields(DedupOptions):
        assert item.metadata["help"]
        assert item.metadata["flag"].startswith("--")
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.mode = NEAR  # type: ignore[misc]


@pytest.mark.parametrize(
    ("changes", "names"),
    [
        ({"mode": "fuzzy"}, ["mode"]),
        ({"fold": "case"}, ["fold"]),
        ({"threshold": 0}, ["threshold", "(0, 1]"]),
        ({"threshold": 0.0}, ["threshold"]),
        ({"threshold": -0.5}, ["threshold"]),
        ({"threshold": 1.0000001}, ["threshold"]),
        ({"threshold": math.nan}, ["threshold"]),
        ({"threshold": True}, ["threshold"]),
        ({"threshold": "0.8"}, ["threshold"]),
        ({"shingle": 0}, ["shingle", ">= 1"]),
        ({"shingle": 65}, ["shingle", "<= 64"]),
        ({"shingle": 2.5}, ["shingle", "integer"]),
        ({"permutations": 1}, ["permutations", ">= 2"]),
        ({"permutations": 1025}, ["permutations", "<= 1024"]),
        ({"seed": -1}, ["seed", ">= 0"]),
        ({"seed": 2**63}, ["seed", "64-bit"]),
        ({"mode": "x", "shingle": 0}, ["mode", "shingle"]),
    ],
)
def test_options_out_of_range(changes, names):
    with pytest.raises(ConfigError) as error:
        DedupOptions(**changes)
    message = str(error.value)
    assert message.startswith("dedup: ")
    for name in names:
        assert name in message


def test_options_edges_are_accepted():
    DedupOptions(threshold=1.0)
    DedupOptions(threshold=1)
    DedupOptions(threshold=1e-9)
    DedupOptions(shingle=1, permutations=2, seed=0)
    DedupOptions(shingle=64, permutations=1024, seed=2**63 - 1)


def test_lsh_parameters_match_datasketch_choice():
    # datasketch's MinHashLSH picks the same (bands, rows) for these (its _optimal_param, weights 0.5/0.5)
    assert lsh_parameters(0.8, 128) == (9, 13)
    assert lsh_parameters(0.5, 128) == (25, 5)
    assert lsh_parameters(1.0, 128) == (1, 128)
    for threshold in (0.01, 0.3, 0.8, 0.95, 1.0):
        for permutations in (2, 16, 128, 200):
            bands, rows = lsh_parameters(threshold, permutations)
            assert bands * rows <= permutations


# -------------------------------------------------------------------------------------------------------- exact


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("A  b\nc", "A b c", {"whitespace", "case+whitespace", "alnum"}),
        ("Hello World", "hello world", {"case+whitespace", "alnum"}),
        (" x ", "x", {"whitespace", "case+whitespace", "alnum"}),
        ("It’s done.", "it's done", {"alnum"}),
        ("Straße", "STRASSE", {"case+whitespace", "alnum"}),  # casefold, not lower()
        ("ＡＢＣ ﬁne", "abc fine", {"alnum"}),  # NFKC (full width) only in alnum
        ("same", "same", set(FOLDS)),
        ("one", "two", set()),
    ],
)
def test_fold_variants(a, b, same):
    for fold in FOLDS:
        assert (exact_key(a, fold) == exact_key(b, fold)) == (fold in same), fold


def test_fold_text_and_key_size():
    assert fold_text("  A\tB  ", "none") == "  A\tB  "
    assert fold_text("  A\tB  ", "whitespace") == "A B"
    assert fold_text("  A\tB  ", "case+whitespace") == "a b"
    assert fold_text("“A”—b!", "alnum") == "a b"
    assert len(exact_key("anything")) == DIGEST_BYTES == 16
    assert len(exact_key("\ud800 lone surrogate")) == 16
    with pytest.raises(ConfigError):
        fold_text("x", "upper")


# every kind of character the fast fold treats apart: ASCII and Unicode whitespace, letters whose case folding
# changes their length or leaves ASCII, a lone surrogate, and ordinary text
_FOLD_ALPHABET = st.sampled_from(
    list(" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000")
    + list("aZ09.,’“—éÉßẞİıﬁΣσςǅKÅＡ\u0301\ud800")
)


def test_the_non_ascii_spaces_are_every_code_point_python_calls_whitespace():
    assert "".join(c for c in map(chr, range(0x80, 0x110000)) if c.isspace()) == NON_ASCII_SPACES


@given(st.lists(st.one_of(_FOLD_ALPHABET, st.characters()), max_size=40).map("".join))
def test_fast_fold_is_the_reference_fold(text):
    for fold in FOLDS:
        assert folded_bytes(text, fold) == fold_text(text, fold).encode("utf-8", "surrogatepass"), fold
    assert folded_bytes(text, FOLD_CASE_WHITESPACE) == " ".join(text.casefold().split()).encode(
        "utf-8", "surrogatepass"
    )
    assert folded_bytes(text, FOLD_WHITESPACE) == " ".join(text.split()).encode("utf-8", "surrogatepass")


def test_the_fold_leaves_the_utf8_cached_on_the_text_for_the_writer():
    text = "".join(["caf\u00e9 \u2019quoted\u2019 ", "Stra\u00dfe"])  # built at run time: no cache yet
    size = sys.getsizeof(text)
    assert utf8(text) == text.encode("utf-8")
    assert sys.getsizeof(text) > size  # CPython counts the cached UTF-8 in the string's size
    lone = "a\ud800b"  # no UTF-8 to cache: encoded with the surrogate passed through
    assert utf8(lone) == b"a\xed\xa0\x80b"
    assert orjson.dumps({"text": text}) == b'{"text":"' + text.encode("utf-8") + b'"}'


def test_exact_index_add_lookup_merge():
    first, second = ExactIndex(), ExactIndex()
    ka, kb, kc = exact_key("a"), exact_key("b"), exact_key("c")
    assert first.add(ka, "1") == (True, "1")
    assert first.add(ka, "2") == (False, "1")
    assert first.add(kb, None) == (True, None)
    assert first.add(kb, "3") == (False, None)  # an id of None is still a kept document
    assert second.add(kb, "4") == (True, "4")
    assert second.add(kc, "5") == (True, "5")
    first.merge(second)  # second's documents come later: b stays "None"'s
    assert first.lookup(kb) is None and kb in first
    assert first.lookup(kc) == "5"
    assert first.lookup(exact_key("zzz")) is None
    assert len(first) == 3


def test_exact_keeps_first_and_names_it():
    kept, dropped = dedup_records(docs(), DedupOptions())
    assert [r["id"] for r in kept] == ["a", "c", "d", "e", "f", "h", "i"]
    assert verdicts(dropped) == {"b": (REASON_EXACT, "a"), "g": (REASON_EXACT, "f")}  # two empty documents are one
    dropped_b = dropped[0]
    assert (dropped_b.ordinal, dropped_b.kept_ordinal, dropped_b.similarity) == (1, 0, None)
    assert dropped_b.record["metadata"] == {"duplicate_of": "a"}
    # h ("Breaking news.") and i ("breaking  NEWS") differ by the full stop: only alnum folds them together
    assert "i" not in verdicts(dropped)
    kept, dropped = dedup_records(docs(), DedupOptions(fold="alnum"))
    assert verdicts(dropped) == {
        "b": (REASON_EXACT, "a"),
        "e": (REASON_EXACT, "a"),
        "g": (REASON_EXACT, "f"),
        "i": (REASON_EXACT, "h"),
    }
    kept, dropped = dedup_records(docs(), DedupOptions(fold="none"))
    assert verdicts(dropped) == {"g": (REASON_EXACT, "f")}


def test_exact_keeps_the_input_order_and_other_keys():
    records = [{"id": n, "text": f"t{n % 3}", "source": "s", "metadata": {"x": n}} for n in range(9)]
    kept, dropped = dedup_records(records, DedupOptions())
    assert [r["id"] for r in kept] == [0, 1, 2]
    assert [(d.record["id"], d.duplicate_of) for d in dropped] == [(3, 0), (4, 1), (5, 2), (6, 0), (7, 1), (8, 2)]
    assert dropped[0].record["metadata"] == {"x": 3, "duplicate_of": 0}
    assert kept[0] == {"id": 0, "text": "t0", "source": "s", "metadata": {"x": 0}}


def test_text_field():
    records = [{"id": "1", "content": "x"}, {"id": "2", "content": "X"}]
    kept, dropped = dedup_records(records, DedupOptions(), text_field="content")
    assert [r["id"] for r in kept] == ["1"] and dropped[0].duplicate_of == "1"


# --------------------------------------------------------------------------------------------------------- near


def test_shingles_of_tiny_and_empty_documents():
    assert shingles("", 5) == set()
    assert shingles(" — ", 5) == set()
    assert shingles("Breaking news.", 5) == {"breaking news"}
    assert shingles("one two three four five", 5) == {"one two three four five"}
    assert shingles("a b c d e f", 5) == {"a b c d e", "b c d e f"}
    assert shingles("a b a b", 1) == {"a", "b"}
    assert signature("", NEAR_OPTIONS) == b""
    assert band_keys(b"", NEAR_OPTIONS) == []
    assert similarity(b"", b"") == 0.0


def _reference_shingle_hash(shingle: str) -> int:
    """SHINGLES_VERSION 1 written plainly: splitmix64's finalizer of sum(b_j * P**j) mod 2**64 over the UTF-8."""
    mask = (1 << 64) - 1
    x = sum(b * pow(0x100000001B3, j, 1 << 64) for j, b in enumerate(shingle.encode("utf-8", "surrogatepass"))) & mask
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & mask
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & mask
    return x ^ (x >> 31)


@pytest.mark.slow  # over 0.3 s: out of the quick loop (pytest -m 'not slow')
@pytest.mark.parametrize(
    "text",
    [
        "",
        "Breaking news.",
        "one two three four five",
        "Ａ café’s “naïve” ﬁance — 東京 in 2024, \ud800 x y z",
        "word " * 30,
        # a key longer than the first power tables (64 KiB): they grow
        " ".join(f"w{n}" for n in range(20_000)),
    ],
)
def test_shingle_hashes_are_the_shingles_hashed(text):
    for size in (1, 3, 5):
        got = shingle_hashes(text, size)
        assert sorted(set(got)) == sorted(_reference_shingle_hash(s) for s in shingles(text, size))
        count = len(words(text))
        assert len(got) == (max(1, count - size + 1) if count else 0)  # one per position: repeats repeat


def test_signature_shape_and_batch():
    texts = list(seed_texts().values())
    batch = signatures([*texts, ""], NEAR_OPTIONS)
    assert batch[:-1] == [signature(text, NEAR_OPTIONS) for text in texts]
    assert batch[-1] == b""
    assert all(len(s) == 4 * 128 for s in batch[:-1])
    assert len(band_keys(batch[0], NEAR_OPTIONS)) == 9
    assert len(signature(texts[0], DedupOptions(mode=NEAR, permutations=64))) == 256
    assert signature(texts[0], DedupOptions(mode=NEAR, seed=2)) != batch[0]


def test_signatures_are_the_same_in_every_process():
    # a worker (another process, another PYTHONHASHSEED) must compute the very same signatures and band keys
    code = (
        "import sys; from corpus_tools.dedup import DedupOptions, signature, band_keys; "
        "o = DedupOptions(mode='near'); s = signature(sys.stdin.read(), o); print(s.hex(), band_keys(s, o))"
    )
    text = next(iter(seed_texts().values()))
    outputs = set()
    for hash_seed in ("0", "12345"):
        result = subprocess.run(
            [sys.executable, "-c", code],
            input=text.encode(),
            capture_output=True,
            env={"PYTHONHASHSEED": hash_seed, "PATH": ""},
            cwd=ROOT,
            check=True,
        )
        outputs.add(result.stdout)
    sig_here = signature(text, NEAR_OPTIONS)
    assert outputs == {f"{sig_here.hex()} {band_keys(sig_here, NEAR_OPTIONS)}\n".encode()}


def test_raw_seeds_000_001_are_not_near_duplicates():
    texts = seed_texts()
    raw_000, raw_001 = (texts[name] for name in sorted(texts)[:2])
    a, b = shingles(raw_000, 5), shingles(raw_001, 5)
    assert 0.35 < len(a & b) / len(a | b) < 0.45  # each has its own ~380 words of teasers
    assert similarity(signature(raw_000, NEAR_OPTIONS), signature(raw_001, NEAR_OPTIONS)) < 0.6
    records = [{"id": name, "text": text} for name, text in texts.items()]
    kept, dropped = dedup_records(records, NEAR_OPTIONS)
    assert len(kept) == 5 and dropped == []


@pytest.mark.slow  # over 0.3 s: out of the quick loop (pytest -m 'not slow')
def test_cleaned_seeds_000_001_are_one_document(cleaned_seeds):
    kept, dropped = dedup_records(cleaned_seeds, NEAR_OPTIONS)
    assert [r["id"] for r in kept] == ["000_d71da426b8456c2b", "002_38a8e521ae68cf37", "003_275b2542cd664c9b",
                                       "004_94e41eeb8c470aa6"]  # fmt: skip
    [only] = dropped
    assert (only.record["id"], only.reason, only.duplicate_of) == (
        "001_f74657ecf586bcea",
        REASON_NEAR,
        "000_d71da426b8456c2b",
    )
    assert only.similarity == 1.0
    assert only.record["metadata"]["duplicate_of"] == "000_d71da426b8456c2b"
    assert only.record["metadata"]["similarity"] == 1.0
    # the exact mode sees it too: the cleaned texts are identical
    kept, dropped = dedup_records([dict(r, metadata={}) for r in cleaned_seeds], DedupOptions())
    assert verdicts(dropped) == {"001_f74657ecf586bcea": (REASON_EXACT, "000_d71da426b8456c2b")}


def test_near_on_the_fixture_documents():
    kept, dropped = dedup_records(docs(), NEAR_OPTIONS)
    found = {d.record["id"]: (d.duplicate_of, d.similarity) for d in dropped}
    # b and e have a's words; d adds one sentence (Jaccard ~0.95); i has h's two words; empty f, g are kept
    assert set(found) == {"b", "d", "e", "i"}
    assert found["b"] == ("a", 1.0) and found["e"] == ("a", 1.0) and found["i"] == ("h", 1.0)
    assert found["d"][0] == "a" and 0.8 <= found["d"][1] < 1.0
    assert [r["id"] for r in kept] == ["a", "c", "f", "g", "h"]
    assert all(d.reason == REASON_NEAR for d in dropped)


def test_tiny_documents_differing_in_a_word_are_not_duplicates():
    records = [{"id": 1, "text": "hello world"}, {"id": 2, "text": "hello there"}, {"id": 3, "text": "Hello, world!"}]
    kept, dropped = dedup_records(records, NEAR_OPTIONS)
    assert [r["id"] for r in kept] == [1, 2]
    assert [(d.record["id"], d.duplicate_of) for d in dropped] == [(3, 1)]


def _word_sets(shared: int, own: int) -> tuple[str, str]:
    common = [f"w{n}" for n in range(shared)]
    return " ".join(common + [f"a{n}" for n in range(own)]), " ".join(common + [f"b{n}" for n in range(own)])


@pytest.mark.parametrize(("threshold", "duplicate"), [(0.5, True), (0.7, True), (0.95, False), (1.0, False)])
def test_near_threshold_on_texts(threshold, duplicate):
    # 1-word shingles: 180 shared words, 10 own words each: Jaccard 180/200 = 0.9
    first, second = _word_sets(180, 10)
    options = DedupOptions(mode=NEAR, shingle=1, threshold=threshold, permutations=256)
    estimate = similarity(signature(first, options), signature(second, options))
    assert abs(estimate - 0.9) < 0.06
    _kept, dropped = dedup_records([{"id": "x", "text": first}, {"id": "y", "text": second}], options)
    assert (len(dropped) == 1) == duplicate
    if duplicate:
        assert dropped[0].duplicate_of == "x" and dropped[0].similarity == estimate


def test_threshold_one_drops_only_identical_signatures():
    options = DedupOptions(mode=NEAR, threshold=1.0)
    assert (options.bands, options.rows) == (1, 128)
    texts = list(seed_texts().values())
    text, other = texts[0], texts[2].split("\n")[0]  # other: a paragraph of another article (Jaccard ~0.9)
    records = [{"id": 0, "text": text}, {"id": 1, "text": text.upper()}, {"id": 2, "text": text + "\n" + other}]
    _kept, dropped = dedup_records(records, options)
    assert [(d.record["id"], d.duplicate_of, d.similarity) for d in dropped] == [(1, 0, 1.0)]


@pytest.mark.parametrize(("equal", "threshold", "duplicate"), [(80, 0.8, True), (79, 0.8, False), (7, 0.07, True),
                                                                 (6, 0.07, False), (100, 1.0, True), (99, 1.0, False),
                                                                 (1, 0.01, True), (0, 0.01, False)])  # fmt: skip
def test_decide_threshold_edges(equal, threshold, duplicate):
    # estimated Jaccard = equal slots / 100: exactly at the threshold is a duplicate, one slot less is not
    options = DedupOptions(mode=NEAR, permutations=100, threshold=threshold)
    a = sig(list(range(100)))
    b = sig(list(range(equal)) + [1000 + n for n in range(100 - equal)])
    assert similarity(a, b) == equal / 100
    expected = {1: (0, equal / 100)} if duplicate else {}
    assert decide([[(1, b), (0, a)]], options) == expected


def test_decide_chains_to_the_smallest_ordinal():
    # 0~1 (0.8) and 1~2 (0.8), but 0 and 2 share only 0.6: union-find puts all three in one cluster, kept 0
    options = DedupOptions(mode=NEAR, permutations=10, threshold=0.8)
    s0 = sig([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    s1 = sig([0, 1, 2, 3, 4, 5, 6, 7, 18, 19])
    s2 = sig([0, 1, 2, 3, 4, 5, 26, 27, 18, 19])
    result = decide([[(2, s2), (1, s1)], [(1, s1), (0, s0)]], options)
    assert result == {1: (0, 0.8), 2: (0, 0.6)}
    # 0 and 2 alone are no pair
    assert decide([[(0, s0), (2, s2)]], options) == {}


def test_candidate_pairs_of_many_copies_are_linear():
    options = DedupOptions(mode=NEAR, permutations=10)
    same = sig(list(range(10)))
    pairs = candidate_pairs([(n, same) for n in range(500, 0, -1)], options)
    assert pairs == [(1, n, 1.0) for n in range(2, 501)]
    assert clusters(pairs) == {n: 1 for n in range(2, 501)}
    assert candidate_pairs([(3, same)], options) == []
    assert candidate_pairs([(3, b""), (4, b"")], options) == []  # empty documents are never near duplicates


# ----------------------------------------------------------------------------------------------- determinism


def _corpus(size: int, seed: int) -> list[dict]:
    """Seed paragraphs recombined, with exact copies, near copies (a paragraph dropped or a word changed) and
    tiny and empty documents."""
    rng = random.Random(seed)
    paragraphs = [p for text in seed_texts().values() for p in text.split("\n") if p.strip()]
    records: list[dict] = []
    for n in range(size):
        roll = rng.random()
        if records and roll < 0.15:
            text = rng.choice(records)["text"]
        elif records and roll < 0.35:
            parts = rng.choice(records)["text"].split("\n")
            if len(parts) > 3 and rng.random() < 0.5:
                del parts[rng.randrange(len(parts))]
            else:
                i = rng.randrange(len(parts))
                words = parts[i].split()
                if words:
                    words[rng.randrange(len(words))] = "changed"
                parts[i] = " ".join(words)
            text = "\n".join(parts)
        elif roll < 0.38:
            text = rng.choice(["", "Short one.", "short ONE", "a b c"])
        else:
            text = "\n".join(rng.sample(paragraphs, rng.randint(3, 12)))
        records.append({"id": f"doc{n}", "text": text})
    return records


def _partitioned_verdicts(records: list[dict], options: DedupOptions, rng: random.Random) -> dict[int, tuple]:
    """The near pass the way a distributed engine runs it: random partitions computing signatures and band keys
    (map), a shuffle into groups arriving in any order with members in any order, then the decision."""
    ordinals = list(range(len(records)))
    rng.shuffle(ordinals)
    cuts = sorted(rng.sample(range(1, len(records)), rng.randint(1, 6)))
    partitions = [ordinals[i:j] for i, j in zip([0, *cuts], [*cuts, len(records)], strict=True)]
    emitted: list[tuple[int, int, bytes]] = []
    for part in partitions:
        sigs = signatures([records[n]["text"] for n in part], options)
        for n, s in zip(part, sigs, strict=True):
            emitted.extend((key, n, s) for key in band_keys(s, options))
    rng.shuffle(emitted)
    groups: dict[int, list[tuple[int, bytes]]] = {}
    for key, n, s in emitted:
        groups.setdefault(key, []).append((n, s))
    shuffled = list(groups.values())
    rng.shuffle(shuffled)
    return decide(shuffled, options)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_near_verdicts_do_not_depend_on_partitioning(seed):
    records = _corpus(300, seed)
    options = DedupOptions(mode=NEAR, threshold=0.7)
    _kept, dropped = dedup_records([dict(r) for r in records], options)
    local = {d.ordinal: (d.kept_ordinal, d.similarity) for d in dropped}
    assert len(local) > 60  # the corpus has plenty of duplicates
    rng = random.Random(seed)
    for _ in range(4):
        assert _partitioned_verdicts(records, options, rng) == local
    # the decision itself spread out: verified pairs per group (each group alone, any order), union-find over the
    # pairs only, then each dropped record's similarity with its kept one (a join on ordinals)
    sigs = signatures([r["text"] for r in records], options)
    groups: dict[int, list[tuple[int, bytes]]] = {}
    for n, s in enumerate(sigs):
        for key in band_keys(s, options):
            groups.setdefault(key, []).append((n, s))
    pairs = [pair for group in groups.values() for pair in candidate_pairs(reversed(group), options)]
    rng.shuffle(pairs)
    assert {n: (k, similarity(sigs[n], sigs[k])) for n, k in clusters(pairs).items()} == local
    # every dropped record names an earlier kept one
    kept_ordinals = set(range(len(records))) - set(local)
    assert all(k < n and k in kept_ordinals for n, (k, _) in local.items())


@pytest.mark.parametrize("seed", [0, 1])
def test_exact_verdicts_do_not_depend_on_partitioning(seed):
    records = _corpus(300, seed)
    _kept, dropped = dedup_records([dict(r) for r in records], DedupOptions())
    local = {d.ordinal: d.duplicate_of for d in dropped}
    rng = random.Random(seed)
    # partitions of consecutive records each build an ExactIndex; merged in input order they give the same keys
    cuts = sorted(rng.sample(range(1, len(records)), 5))
    indexes = []
    for i, j in zip([0, *cuts], [*cuts, len(records)], strict=True):
        index = ExactIndex()
        for record in records[i:j]:
            index.add(exact_key(record["text"]), record["id"])
        indexes.append(index)
    merged = indexes[0]
    for index in indexes[1:]:
        merged.merge(index)
    first_ids = {record["id"]: n for n, record in enumerate(records)}
    for n, record in enumerate(records):
        kept_id = merged.lookup(exact_key(record["text"]))
        assert (first_ids[kept_id] != n) == (n in local)
        if n in local:
            assert local[n] == kept_id


# ---------------------------------------------------------------------------------------------- across runs


@pytest.mark.parametrize("mode", [EXACT, NEAR])
@pytest.mark.parametrize("suffix", ["", ".zst"])
def test_save_load_against(tmp_path, mode, suffix):
    records = _corpus(200, 7)
    options = DedupOptions(mode=mode)
    yesterday, today = records[:120], records[120:]
    index = DedupIndex(options)
    kept_yesterday, _ = dedup_records([dict(r) for r in yesterday], options, index=index)
    assert len(index) == len(kept_yesterday)
    path = str(tmp_path / f"seen.idx{suffix}")
    size = save_index(index, path)
    assert size > 0
    loaded = load_index(path)
    assert loaded.ids == index.ids and loaded.digests == index.digests and loaded.signatures == index.signatures
    assert loaded.options == options
    assert all(len(d) == DIGEST_BYTES for d in loaded.digests)

    _kept, dropped = dedup_records([dict(r) for r in today], options, against=loaded)
    earlier = [d for d in dropped if d.earlier_run]
    assert earlier, "today's corpus repeats yesterday's documents"
    yesterday_ids = {r["id"] for r in kept_yesterday}
    for d in earlier:
        assert d.duplicate_of in yesterday_ids and d.kept_ordinal is None
        assert d.record["metadata"]["duplicate_of"] == d.duplicate_of
    # the same as deduplicating yesterday and today together, for today's records
    _, together = dedup_records([dict(r) for r in records], options)
    together_today = {d.record["id"] for d in together if d.ordinal >= 120}
    if mode == EXACT:
        assert {d.record["id"] for d in dropped} == together_today
    else:  # near clusters may chain differently across the cut; most verdicts agree
        assert len({d.record["id"] for d in dropped} ^ together_today) <= 0.1 * len(together_today)


def test_against_exact_names_the_earlier_id():
    options = DedupOptions()
    index = DedupIndex(options)
    dedup_records([{"id": "old-1", "text": "Same story."}, {"id": "old-2", "text": "Other."}], options, index=index)
    kept, dropped = dedup_records(
        [
            {"id": "new-1", "text": "SAME   story."},
            {"id": "new-2", "text": "Fresh."},
            {"id": "new-3", "text": "Fresh."},
        ],
        options,
        against=index,
    )
    assert [r["id"] for r in kept] == ["new-2"]
    assert [(d.record["id"], d.duplicate_of, d.earlier_run) for d in dropped] == [
        ("new-1", "old-1", True),
        ("new-3", "new-2", False),
    ]


def test_against_near_uses_this_runs_threshold(cleaned_seeds, tmp_path):
    index = DedupIndex(NEAR_OPTIONS)
    dedup_records([cleaned_seeds[0]], NEAR_OPTIONS, index=index)
    save_index(index, str(tmp_path / "i"))
    loaded = load_index(str(tmp_path / "i"))
    record = dict(cleaned_seeds[1], metadata={})
    _kept, dropped = dedup_records([record], DedupOptions(mode=NEAR, threshold=0.9), against=loaded)
    assert [(d.duplicate_of, d.similarity, d.reason) for d in dropped] == [("000_d71da426b8456c2b", 1.0, REASON_NEAR)]


def test_against_needs_compatible_options(tmp_path):
    exact = DedupIndex(DedupOptions())
    near = DedupIndex(NEAR_OPTIONS)
    records = [{"id": 1, "text": "x"}]
    with pytest.raises(ConfigError, match="fold"):
        dedup_records(records, DedupOptions(fold="none"), against=exact)
    with pytest.raises(ConfigError, match="no signatures"):
        dedup_records(records, NEAR_OPTIONS, against=exact)
    for name, value in (("shingle", 4), ("permutations", 64), ("seed", 9)):
        with pytest.raises(ConfigError, match=name):
            dedup_records(records, DedupOptions(mode=NEAR, **{name: value}), against=near)
    dedup_records(records, DedupOptions(mode=NEAR, threshold=0.5), against=near)
    save_index(exact, str(tmp_path / "exact.idx"))
    with pytest.raises(ConfigError, match=r"exact\.idx holds digests of fold 'case\+whitespace', not 'none'"):
        dedup_records(records, DedupOptions(fold="none"), against=load_index(str(tmp_path / "exact.idx")))
    dedup_records(records, DedupOptions(), against=near)  # a near index holds the default fold's digests too


def test_index_of_empty_and_tiny_documents_round_trips():
    options = DedupOptions(mode=NEAR)
    index = DedupIndex(options)
    dedup_records([{"id": "e", "text": ""}, {"id": "t", "text": "Tiny."}], options, index=index)
    loaded = DedupIndex.from_bytes(index.to_bytes())
    assert loaded.signatures == [b"", signature("Tiny.", options)]
    _kept, dropped = dedup_records([{"id": "e2", "text": ""}, {"id": "t2", "text": "tiny"}], options, against=loaded)
    assert [(d.record["id"], d.duplicate_of) for d in dropped] == [("t2", "t")]


def test_bad_index_files(tmp_path):
    good = DedupIndex(DedupOptions())
    good.add("x", exact_key("x"))
    data = good.to_bytes()
    assert data[:8] == b"CTDEDUPX" and data[8:10] == b"\x01\x00"
    cases = {
        "magic": b"NOTANIDX" + data[8:],
        "short": b"CT",
        "version": data[:8] + b"\x02\x00" + data[10:],
        "truncated": data[:-3],
        "params": data[:16] + b"[" + data[17:],
        "trailing": data + b"\0",
    }
    for name, broken in cases.items():
        path = tmp_path / name
        path.write_bytes(broken)
        with pytest.raises(InputError) as error:
            load_index(str(path))
        assert str(path) in str(error.value), name
        assert "dedup index" in str(error.value), name
    with pytest.raises(InputError, match="version 2"):
        DedupIndex.from_bytes(cases["version"])


def test_golden_index_file_still_loads():
    # tests/data/dedup/exact-v1.idx: version 1 of the format, written by save_index (exact mode, ids "a", "b")
    index = load_index(str(DATA / "dedup" / "exact-v1.idx"))
    assert index.ids == ["a", "b"] and index.options == DedupOptions()
    assert index.digests == [exact_key("Alpha"), exact_key("Beta")]


def test_an_index_of_0_2_0_digests_asks_to_be_rebuilt():
    # 0.2.0 wrote BLAKE2b-128 digests; comparing them with XXH3-128 ones would find no duplicate, silently
    path = str(DATA / "dedup" / "exact-v1-blake2b.idx")
    with pytest.raises(InputError) as error:
        load_index(path)
    assert str(error.value) == (
        f"{path}: dedup index digests are blake2b-128, this installation computes xxh3-128: rebuild the index"
    )


# ------------------------------------------------------------------------------------------------- start-up


def test_near_library_is_imported_lazily():
    code = (
        "import sys, corpus_tools.cli, corpus_tools.dedup as d; "
        "d.dedup_records([{'id': 1, 'text': 'x'}], d.DedupOptions()); "
        "assert not {'rensa', 'numpy', 'datasketch'} & set(sys.modules), 'imported early'; "
        "d.signature('x', d.DedupOptions(mode='near')); assert {'rensa', 'numpy'} <= set(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_dropped_metadata_is_json():
    _kept, dropped = dedup_records(docs(), NEAR_OPTIONS)
    for d in dropped:
        line = orjson.dumps(d.record)
        assert orjson.loads(line)["metadata"]["duplicate_of"] == d.duplicate_of
    assert Path(DOCS).exists()
