"""normalize: identity with ftfy (differential), the fast path's own claims, fixes and counts, bad input, CLI."""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import random
import re

import ftfy
import orjson
import pytest
from ftfy.badness import BADNESS_RE, MOJIBAKE_CATEGORIES, is_bad
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import DATA, SEEDS, options_strategy, parse_jsonl, run_shell
from corpus_tools import mojibake, normalize_reference
from corpus_tools import normalize as nz
from corpus_tools.errors import ConfigError
from corpus_tools.io import dumps_line
from corpus_tools.normalize import (
    KINDS,
    SUSPECT_CHARS,
    Normalize,
    NormalizeOptions,
    ftfy_config,
    normalize_text,
    repair_unicode,
)
from corpus_tools.pipeline import Dropped, Pipeline

CASES = DATA / "normalize"
GOLDEN = DATA / "golden" / "normalize" / "seeds.jsonl"
SEED_FILES = sorted(SEEDS.glob("*.txt"))


def fix_text(text: str, options: NormalizeOptions = NormalizeOptions()) -> str:
    """The reference: plain ftfy with the configuration normalize promises to match."""
    return ftfy.fix_text(text, ftfy_config(options))


def nonzero(counts: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in counts.items() if v}


# ------------------------------------------------------------------------------------- text to test with


def _mojibake(text: str) -> str:
    """UTF-8 bytes read as cp1252 (the usual scraping accident); undefined bytes become latin-1 C1 controls."""
    return text.encode("utf-8").decode("sloppy-windows-1252")


def _lossy_mojibake(text: str) -> str:
    """UTF-8 read as strict cp1252, the undefined bytes lost as U+FFFD (``â€œ ... â€�``)."""
    return text.encode("utf-8").decode("cp1252", errors="replace")


def _latin1_mojibake(text: str) -> str:
    return text.encode("utf-8").decode("latin-1")


WORDS = ["Taiwan", "Japan", "the", "policy", "Tokyo", "said", "a", "in", "1990", "U.S.", "x", "AT&T", "<b>"]
TYPOGRAPHY = [*"’‘“”—–…·•«»€£°×²", "\u00a0", "\u2009", "\u202f", "...", "..", "––", "e\u0301", "ﬁ", "Ｔａ"]
CJK = [
    "台灣",
    "吳志中",
    "釣魚台",
    "東京",
    "，",
    "。",
    "「",
    "」",
    "\u3000",
    "한국어",
    "\u1100\u1161",
    "\u1100\u1161\u11a8",
]
ENTITIES = [
    "&amp;",
    "&#8217;",
    "&#x2019;",
    "&eacute;",
    "&EACUTE;",
    "&nbsp;",
    "&lt;",
    "&gt;",
    "&hellip;",
    "&amp",
    "&#0;",
]
ENTITIES += ["&#55357;", "&notin;", "&bogus;", "&#xD800;"]
CONTROLS = ["\x00", "\x07", "\x0b", "\x0c", "\x1b[31m", "\x7f", "\x81", "\x85", "\x93", "\x9d", "\ufeff", "\u200b"]
CONTROLS += ["\u206a", "\ufff9", "\ud83d\udc4d", "\ud800", "\udc00"]
BREAKS = ["\n", "\r\n", "\r", "\u2028", "\u2029", "\n\n\n", " \n", "\n "]
PHRASES = ["It’s", "“quoted”", "— dash", "café", "Pérez", "naïve", "Ærø", "€5", "台灣", "👍", "Москва", "½", "→"]

# Built once: flatmap would make generation several times slower.
MOJIBAKE = sorted(
    {make(s) for s in PHRASES + TYPOGRAPHY[:8] for make in (_mojibake, _lossy_mojibake, _latin1_mojibake)}
    | {_mojibake(_mojibake(s)) for s in PHRASES}
)
PIECES = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(TYPOGRAPHY),
    st.sampled_from(CJK),
    st.sampled_from(ENTITIES),
    st.sampled_from(MOJIBAKE),
    st.sampled_from(CONTROLS),
    st.sampled_from(BREAKS),
    st.sampled_from([" ", "  ", ". ", ", "]),
    st.text(max_size=4),
    st.text(st.characters(min_codepoint=0x80, max_codepoint=0x24F), max_size=3),
)
TEXTS = st.lists(PIECES, max_size=24).map("".join)

POOLS = [WORDS, TYPOGRAPHY, CJK, ENTITIES, MOJIBAKE, CONTROLS, BREAKS, [" ", "  ", ". ", ", "]]


def _random_text(rng: random.Random) -> str:
    """Up to 60 pieces from the pools above, plus random code points, chosen by a hypothesis-seeded ``rng``."""
    pieces = []
    for _ in range(rng.randrange(60)):
        if rng.random() < 0.1:
            pieces.append(chr(rng.choice([rng.randrange(0x80, 0x250), rng.randrange(0x110000)])))
        else:
            pieces.append(rng.choice(rng.choice(POOLS)))
    return "".join(pieces)


def _seeded_text(seed: int) -> str:
    return _random_text(random.Random(seed))


# Drawing one seed per example and building the text from it is about ten times faster than drawing every
# piece through hypothesis, which is what makes 10,000+ examples affordable; TEXTS keeps shrinkable examples.
# (Not st.randoms(): with use_true_random=False it routes every call of the generator through hypothesis, one
# draw each, which made generation cost four times the check itself.)
RANDOM_TEXTS = st.integers(0, 2**64 - 1).map(_seeded_text)
# What normalize does to a text: a dry run leaves it as it came (tested on its own).
OPTIONS = options_strategy(NormalizeOptions).map(lambda options: dataclasses.replace(options, dry_run=False))


def seed_paragraphs() -> list[str]:
    paragraphs: list[str] = []
    for path in SEED_FILES:
        paragraphs.extend(path.read_text(encoding="utf-8").split("\n"))
    return paragraphs


# ------------------------------------------------------------------------ differential: fast path == ftfy


@pytest.mark.slow
@settings(max_examples=8000)
@given(RANDOM_TEXTS)
def test_repair_is_identical_to_ftfy(text: str) -> None:
    assert repair_unicode(text)[0] == fix_text(text)


@pytest.mark.slow
@settings(max_examples=3000)
@given(st.one_of(TEXTS, RANDOM_TEXTS), OPTIONS)
def test_repair_is_identical_to_ftfy_for_every_option(text: str, options: NormalizeOptions) -> None:
    assert repair_unicode(text, options)[0] == fix_text(text, options)


@pytest.mark.parametrize("make", [str, _mojibake, _lossy_mojibake, _latin1_mojibake], ids=lambda f: f.__name__)
def test_repair_is_identical_to_ftfy_on_every_seed_paragraph(make) -> None:
    for paragraph in seed_paragraphs():
        broken = make(paragraph)
        for text in (broken, broken + "\n", broken + "\r\n"):
            assert repair_unicode(text)[0] == fix_text(text), text


@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.stem)
def test_repair_is_identical_to_ftfy_on_whole_seed_documents(path) -> None:
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    # The document as it is, every other line broken in a different way, and all of it with CRLF line breaks.
    damaged = "\n".join(_mojibake(line) if i % 3 == 0 else line.replace("’", "&#8217;") for i, line in enumerate(lines))
    for doc in (text, damaged, damaged.replace("\n", "\r\n")):
        assert repair_unicode(doc)[0] == fix_text(doc)


@pytest.mark.slow
@settings(max_examples=300)
@given(st.lists(PIECES, max_size=40).map("".join))
def test_long_lines_are_cut_where_ftfy_cuts_them(text: str) -> None:
    # fix_text cuts a line longer than max_decode_length; the fast path must cut at the same places.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(nz, "MAX_DECODE_LENGTH", 16)
        patch.setattr(nz, "_PLANS", {})
        assert repair_unicode(text)[0] == ftfy.fix_text(text, ftfy_config()._replace(max_decode_length=16))


def test_fix_encoding_shortcut_is_ftfy_fix_encoding() -> None:
    # normalize runs ftfy's fix_encoding loop itself to stop before a last, useless is_bad scan (see
    # normalize._fix_encoding); with the installed ftfy that shortcut is in use, and it gives what ftfy gives.
    assert nz._ENCODING_STEP is not None
    suspect = nz._plan(NormalizeOptions()).suspect
    texts = MOJIBAKE + [make(p) for p in seed_paragraphs() for make in (_mojibake, _lossy_mojibake, _latin1_mojibake)]
    texts = [t for t in texts if suspect.search(t)]
    assert len(texts) > 100
    for text in texts:
        assert nz._fix_encoding(text, suspect) == ftfy.fix_encoding(text), text


def _charmap_mojibake(text: str) -> list[str]:
    """``text``'s UTF-8 read in every single-byte charset ftfy tries (and would undo), strict and lossy."""
    out = []
    for encoding in (
        "latin-1",
        "cp1252",
        "cp1251",
        "cp1250",
        "cp1253",
        "cp1254",
        "cp1257",
        "iso-8859-2",
        "mac-roman",
        "cp437",
    ):
        for errors in ("strict", "replace"):
            with contextlib.suppress(UnicodeDecodeError):
                out.append(text.encode("utf-8").decode(encoding, errors=errors))
    return out


@pytest.mark.slow  # over 0.3 s: out of the quick loop (pytest -m 'not slow')
def test_copied_encoding_step_is_ftfys_step() -> None:
    # normalize._encoding_step is ftfy 6.3.1's step written out (see normalize._OWN_STEP); every branch of it:
    # each charset, restore_byte_a0 ("Ã " for "Ã\xa0"), lossy sequences, utf-8-variants (CESU-8), inconsistent
    # UTF-8 next to text no charset can encode, Latin-1 C1 controls, and lines it leaves alone.
    if not nz._OWN_STEP:
        # Another ftfy release (a new one on PyPI): the copy is not used (the test below checks that path), so there
        # is nothing to compare; it is compared on the release it was copied from.
        assert ftfy.__version__ != nz._STEP_COPIED_FROM
        return
    step = ftfy._fix_encoding_one_step_and_explain
    config = ftfy.TextFixerConfig(explain=False)
    texts = list(MOJIBAKE)
    for phrase in [*PHRASES, "voilà le travail", "à la", "Ð¿Ñ€Ð¸", "😀 ok", "naïve café — “x”"]:
        for broken in _charmap_mojibake(phrase):
            texts += [broken, broken + " 台灣", "x " + broken.replace("\xa0", " ") + " y", broken + "\x81\x9d"]
    texts += [
        "\xed\xa0\xbd\xed\xb8\x80",
        "Ã\x80",
        "\x93quoted\x94 text",
        "caf\xc3\xa9 \u2603 \xe2\x80\x9cx",
        "é\x85ü\x91",
    ]
    texts += [_random_text(random.Random(seed)) for seed in range(3000)]
    bad = [text for text in texts if text and is_bad(text)]
    assert len(bad) > 1000
    for text in bad:
        assert nz._encoding_step(text) == step(text, config)[0], text


def test_with_another_ftfy_release_ftfys_own_step_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    # The copy is used only with the ftfy release it was copied from; with any other, _fix_encoding must run ftfy's
    # own step and never the copy, and still give what ftfy.fix_encoding gives.
    monkeypatch.setattr(nz, "_OWN_STEP", False)
    monkeypatch.setattr(nz, "_encoding_step", lambda text: pytest.fail("the copied step ran"))
    suspect = nz._plan(NormalizeOptions()).suspect
    assert suspect is not None
    for text in MOJIBAKE:
        assert nz._fix_encoding(text, suspect) == ftfy.fix_encoding(text)


def test_every_lossy_sequence_holds_1a_or_a_question_mark() -> None:
    # normalize._encoding_step skips replace_lossy_sequences on bytes holding neither: each alternative of ftfy's
    # LOSSY_UTF8_RE has an item matching only those two bytes, so nothing else can match.
    try:
        from re import _parser as sre_parse  # Python 3.11+
    except ImportError:  # pragma: no cover
        import sre_parse  # type: ignore[no-redef]
    from ftfy.chardata import LOSSY_UTF8_RE

    def only_1a_or_question_mark(op, av) -> bool:
        if op == sre_parse.LITERAL:
            return av in (0x1A, 0x3F)
        if op == sre_parse.IN:
            return all(o == sre_parse.LITERAL and a in (0x1A, 0x3F) for o, a in av)
        return False

    [(op, (_, alternatives))] = sre_parse.parse(LOSSY_UTF8_RE.pattern, LOSSY_UTF8_RE.flags).data
    assert op == sre_parse.BRANCH and len(alternatives) > 5
    for alternative in alternatives:
        assert any(only_1a_or_question_mark(o, a) for o, a in alternative), alternative
    assert LOSSY_UTF8_RE.search(b"\xe2\x80\x1a") and LOSSY_UTF8_RE.search(b"\xc3?")


def test_badness_width_is_the_longest_badness_match() -> None:
    # mojibake.is_bad (normalize's and check's) searches only BADNESS_WIDTH - 1 characters around each suspect.
    try:
        from re import _parser as sre_parse  # Python 3.11+
    except ImportError:  # pragma: no cover
        import sre_parse  # type: ignore[no-redef]

    assert sre_parse.parse(BADNESS_RE.pattern, BADNESS_RE.flags).getwidth()[1] == mojibake.BADNESS_WIDTH
    assert "$" not in BADNESS_RE.pattern and "(?" not in BADNESS_RE.pattern  # nothing endpos could fool


@pytest.mark.slow
@settings(max_examples=2000)
@given(RANDOM_TEXTS)
def test_windowed_is_bad_is_is_bad(text: str) -> None:
    assert mojibake.is_bad(text, nz._plan(NormalizeOptions()).suspect) == is_bad(text)


def test_windowed_is_bad_is_is_bad_in_context() -> None:
    # Every mojibake sample and badness edge case at the start, the end and deep inside clean text, next to
    # letters, spaces and accented letters (suspects whose windows merge with the match's, or stay apart).
    suspect = nz._plan(NormalizeOptions()).suspect
    samples = [*MOJIBAKE, "Ã ", "Â ", "x Ã ", "1Ã ", "ГўВЂВ.x", "ØØØØ", "Ø1Ø1", "вЂ", "×²", "Ã©", "é", "café", "\x85"]
    contexts = ["", "a", " ", "1", "é", "éé", "x" * 6, "a é b", "é" + " " * 5, "Taiwan’s “x” — " * 3]
    checked = 0
    for sample in samples:
        for before in contexts:
            for after in contexts:
                text = before + sample + after
                assert mojibake.is_bad(text, suspect) == is_bad(text), text
                checked += 1
    assert checked > 5_000


def test_suspect_characters_are_needed_for_every_badness_match() -> None:
    """The fast path skips ``is_bad`` on lines without a SUSPECT_CHARS character: check that it would say False.

    Every string of up to two characters drawn from the characters BADNESS_RE names (minus the suspects, plus
    ASCII stand-ins for its [a-z], \\s, \\w and ^ parts), and many random longer ones. (An exhaustive run over
    all strings of three such characters, 8.7 million, also passes; it takes half a minute.)
    """
    named: set[int] = set()
    for spec in MOJIBAKE_CATEGORIES.values():
        named |= mojibake.category_chars(spec)
    named |= {ord(c) for c in BADNESS_RE.pattern if ord(c) > 127}
    alphabet = sorted(chr(c) for c in named - SUSPECT_CHARS) + list("aA .\n1'")
    assert len(alphabet) > 150
    for n in (1, 2):
        for chars in itertools.product(alphabet, repeat=n):
            assert not is_bad("".join(chars))
    rng = random.Random(0)
    for _ in range(60_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(3, 8)))
        assert not is_bad(text), text
    # And the claim is not vacuous: each suspect character is part of some badness match.
    assert is_bad("Ã©") and is_bad("â€") and is_bad("\x85")


# --------------------------------------------------------------------------------------- the data cases


def _cases(name: str) -> list[dict]:
    return json.loads((CASES / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", _cases("cases.json"), ids=lambda c: c["name"])
def test_case(case: dict) -> None:
    options = NormalizeOptions(**case.get("options", {}))
    text, counts = normalize_text(case["input"], options)
    assert text == case["expected"]
    assert nonzero(counts) == case["counts"]
    assert list(counts) == list(KINDS)


def _unchanged() -> list[str]:
    lines = (CASES / "unchanged.txt").read_text(encoding="utf-8").split("\n")
    return [line for line in lines if line and not line.startswith("# ")]


@pytest.mark.parametrize("text", _unchanged())
def test_negative_set_comes_out_unchanged(text: str) -> None:
    assert normalize_text(text) == (text, nz.zero_counts())


@pytest.mark.parametrize("case", _cases("known_failures.json"), ids=lambda c: c["name"])
@pytest.mark.xfail(strict=True, reason="known limitation, documented in the case")
def test_known_failure(case: dict) -> None:
    assert normalize_text(case["input"])[0] == case["expected"]


# -------------------------------------------------------------------------------------------- properties


@pytest.mark.slow
@settings(max_examples=2000)
@given(st.one_of(TEXTS, RANDOM_TEXTS), OPTIONS)
def test_normalize_is_idempotent(text: str, options: NormalizeOptions) -> None:
    once, _ = normalize_text(text, options)
    twice, counts = normalize_text(once, options)
    assert twice == once
    assert nonzero(counts) == {}


SPACING = [" ", "  ", ".", "..", "...", "–", "––", "—", "\n", "\n\n", "\u00a0", "\t", "\u3000", "\u2009"]
SPACING += ["A", "a", "1", "x", "”", ")", "’", "'", '"', "“", "(", "台"]


@pytest.mark.slow
@settings(max_examples=2000)
@given(st.integers(0, 2**64 - 1), OPTIONS)
def test_fix_spacing_is_idempotent(seed: int, options: NormalizeOptions) -> None:
    # normalize_text skips the spacing fixes in a later round when the Unicode repair changed nothing; that is
    # only the same result because a second application of the spacing fixes never changes anything.
    rng = random.Random(seed)
    text = "".join(rng.choice(SPACING) for _ in range(rng.randrange(16)))
    once = nz.fix_spacing(text, options, nz.zero_counts())
    counts = nz.zero_counts()
    assert nz.fix_spacing(once, options, counts) == once
    assert nonzero(counts) == {}


@pytest.mark.slow
@settings(max_examples=1000)
@given(RANDOM_TEXTS)
def test_normalized_text_has_clean_spacing(text: str) -> None:
    out, counts = normalize_text(text)
    assert list(counts) == list(KINDS) and all(isinstance(v, int) and v >= 0 for v in counts.values())
    lines = out.split("\n")
    assert all(line == line.strip(" ") and "  " not in line for line in lines)
    assert "\n\n\n" not in out and not out.startswith("\n") and not out.endswith("\n")
    assert "\r" not in out and "\u00a0" not in out and "\t" not in out
    out.encode("utf-8")  # no surrogates left: always writable as JSON


# ------------------------------------------------- the spacing fast paths == the plain substitutions

# Pieces that hit every spacing pattern and every shortcut's edge: spaces and tabs next to "\n", runs of "." and
# "–", blank-line runs, "\r", "&", odd spaces, sentence starts and ends, non-ASCII, a lone surrogate.
EDGES = [" ", "  ", "\t", " \t", "\n", "\n\n", "\n\n\n", " \n", "\n ", "\t\n", "\r", "\r\n", "&", "&amp;"]
EDGES += [".", "..", "...", "....", ". ", ".. ", "–", "––", "–––", "\u00a0", "\u2009", "\u3000", "\x0b", "\x0c"]
EDGES += ["Taiwan", "A", "a", "1", ")", "”", "’", "“", "é", "台", "e\u0301", "—", "…", "Ã©", "\ud800"]


def _edge_text(seed: int) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(EDGES) for _ in range(rng.randrange(24)))


# Seeded like RANDOM_TEXTS (fast); the lists keep shrinkable examples for a few of them.
EDGE_TEXTS = st.one_of(
    st.integers(0, 2**64 - 1).map(_edge_text),
    st.integers(0, 2**64 - 1).map(_edge_text),
    st.integers(0, 2**64 - 1).map(_edge_text),
    st.lists(st.sampled_from(EDGES), max_size=16).map("".join),
)


@pytest.mark.slow  # over 0.3 s: out of the quick loop (pytest -m 'not slow')
@settings(max_examples=150)
@given(st.integers(0, 2**64 - 1))
def test_windows_line_breaks_are_fixed_as_ftfy_fixes_them(seed: int) -> None:
    # normalize deletes the "\r" of every "\r\n" up front when no lone "\r" is about, and counts them.
    rng = random.Random(seed)
    for _ in range(4):
        text = _edge_text(rng.getrandbits(64))
        for doc in (text, text.replace("\n", "\r\n"), text.replace("\r", "") + "\r\n", "\r\n" + text):
            out, counts = repair_unicode(doc)
            assert out == fix_text(doc), doc
            if not re.search("\r(?!\n)|[\u2028\u2029\x85]", doc):
                assert counts["line_breaks"] == doc.count("\r\n"), doc


@pytest.mark.parametrize("entity", ["&#13;", "&#x0d;", "&#X0D;", "&#0013;", "&#10;", "&amp;#13;"])
@pytest.mark.parametrize("where", ["a{e}\r\nb", "a\r\n{e}b\r\n", "{e}\r\n", "a{e}b\r\nc\r\n"])
def test_an_entity_for_a_line_break_beside_windows_line_breaks(entity: str, where: str) -> None:
    # ftfy decodes the entity first: `&#13;\r\n` is then "\r\r\n", two line breaks; deleting every "\r" up front
    # (the Windows line-break shortcut) would make it one (found by differential fuzzing).
    doc = where.format(e=entity)
    assert repair_unicode(doc)[0] == fix_text(doc)
    assert normalize_text(doc)[0] == normalize_text(normalize_text(doc)[0])[0]


def reference_spacing(text: str, options: NormalizeOptions = NormalizeOptions()) -> tuple[str, dict[str, int]]:
    """fix_spacing written out as the plain substitutions its docstring describes, each over the whole text (the
    reference's, :func:`corpus_tools.normalize_reference.fix_spacing`), and its counts of the spacing kinds."""
    counts = nz.zero_counts()
    text = normalize_reference.fix_spacing(text, options, counts)
    return text, {kind: counts[kind] for kind in KINDS[-6:]}


def _spacing(text: str, options: NormalizeOptions, known: bool) -> tuple[str, dict[str, int]]:
    counts = nz.zero_counts()
    if known:  # as _normalize calls it: with the unusual characters and the UTF-8 it already has
        data = text.encode("utf-8", "surrogatepass")
        out = nz.fix_spacing(text, options, counts, nz._unusual(text), data)
    else:
        out = nz.fix_spacing(text, options, counts)
    return out, {kind: counts[kind] for kind in KINDS[-6:]}


SPACING_OPTIONS = [NormalizeOptions(whitespace=w, punctuation=p) for w in (True, False) for p in (True, False)]


@pytest.mark.slow  # over 0.3 s: out of the quick loop (pytest -m 'not slow')
@settings(max_examples=300)
@given(EDGE_TEXTS, st.integers(0, 2**64 - 1))
def test_fix_spacing_is_the_plain_substitutions(first: str, seed: int) -> None:
    # One shrinkable text and ten more from a seed per example (hypothesis' per-example overhead dominates here).
    rng = random.Random(seed)
    for text in [first] + [_edge_text(rng.getrandbits(64)) for _ in range(10)]:
        for options in SPACING_OPTIONS:
            expected = reference_spacing(text, options)
            assert _spacing(text, options, known=True) == expected, (text, options)
            assert _spacing(text, options, known=False) == expected, (text, options)


def _plain_pairs(text: str) -> tuple[bool, bool]:
    return any(p in text for p in ("  ", " \n", "\n ", "\n\n")), ".." in text


def test_pairs_is_the_plain_searches() -> None:
    # _pairs answers five two-character searches with one pass over the bytes; both answers must be exact. Every
    # string of up to five characters from an alphabet holding the three bytes it looks at, a neighbour of each in
    # the byte table ("\t", "/", "-"), multi-byte characters whose UTF-8 holds bytes 0x20-0x2E in no position
    # ("Ġ" is C4 A0, "’" E2 80 99) and a surrogate; then longer random strings.
    alphabet = [" ", "\n", ".", "a", "\t", "/", "-", "Ġ", "’", "\ud800"]
    for n in range(6):
        for chars in itertools.product(alphabet, repeat=n):
            text = "".join(chars)
            assert nz._pairs(text.encode("utf-8", "surrogatepass")) == _plain_pairs(text), text
    rng = random.Random(0)
    for _ in range(2000):
        text = _edge_text(rng.getrandbits(64))
        assert nz._pairs(text.encode("utf-8", "surrogatepass")) == _plain_pairs(text), text


def test_pairs_past_the_precomputed_mask() -> None:
    # Beyond _ONES_LENGTH bytes _pairs builds its mask for the text: pairs at the very end still count.
    body = "a. b\n" * (nz._ONES_LENGTH // 5 + 10)
    assert len(body) > nz._ONES_LENGTH
    for tail, expected in [
        ("", (False, False)),
        ("..", (False, True)),
        (" \n", (True, False)),
        (".. \n", (True, True)),
    ]:
        assert nz._pairs((body + tail).encode()) == expected, tail
        assert nz._pairs((tail + body).encode()) == expected, tail


@pytest.mark.slow
@settings(max_examples=1000)
@given(EDGE_TEXTS)
def test_normalize_is_the_reference_on_spacing_edges(text: str) -> None:
    # The whole step against its definition (fix_text, the C1 controls it leaves, then the substitutions, until a
    # round changes nothing) on the spacing fast paths' edge cases; tests/test_normalize_reference.py does the rest.
    out, counts = normalize_text(text)
    expected, expected_counts = normalize_reference.normalize_text(text)
    assert out == expected
    assert {kind: counts[kind] for kind in KINDS[-6:]} == {kind: expected_counts[kind] for kind in KINDS[-6:]}


def test_curly_quotes_and_em_dashes_survive_by_default() -> None:
    text = "Japan’s “anti-China, pro-Taiwan” stance — as ‘they’ say"
    assert normalize_text(text)[0] == text
    assert normalize_text(text, NormalizeOptions(straighten_quotes=True))[0] == (
        "Japan's \"anti-China, pro-Taiwan\" stance — as 'they' say"
    )


def test_ftfy_config_sets_every_option_on_purpose() -> None:
    config = ftfy_config()
    assert config.unescape_html is True  # never "auto": output must not depend on line order
    assert config.uncurl_quotes is False and config.explain is False and config.normalization == "NFC"
    assert set(config._fields) == set(ftfy.TextFixerConfig._fields)
    assert ftfy_config(NormalizeOptions(unicode_form="none")).normalization is None


def test_bad_unicode_form_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unicode_form"):
        NormalizeOptions(unicode_form="NFX")


# ------------------------------------------------------------------------------------------- bad input


def test_c1_controls_of_the_latin1_fallback_are_removed_and_counted(cli, tmp_path) -> None:
    # A file that is not cp1252 (0x81 and 0x9d are undefined there) is read as Latin-1, where every byte 0x80-0x9f is
    # a C1 control. ftfy turns the ones cp1252 defines into their characters (0x93, 0x94: curly quotes) and keeps
    # the others, which check's unicode and mojibake rules flag: normalize removes those and counts them.
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"Caf\xe9 owner\x81s \x93best\x94 coffee.\nA second \x9dline here.\n")
    result = cli(["clean", path, "--jobs", "1", "-q"])
    assert result.exit_code == 0, result.stderr
    [record] = parse_jsonl(result.stdout_bytes)
    assert record["metadata"]["encoding"] == "latin-1"
    assert record["text"] == "Café owners “best” coffee.\nA second line here."
    assert nonzero(record["metadata"]["normalize"]) == {"mojibake": 1, "control_chars": 2}
    checked = cli(["check"], input=result.stdout_bytes)
    assert checked.exit_code == 0, checked.stdout


@pytest.mark.parametrize("code", range(0x80, 0xA0))
def test_no_c1_control_is_left(code: int) -> None:
    # Each C1 control alone, beside text, after an accented letter (Latin-1 mojibake) and as an entity.
    for text in (
        chr(code),
        f"a{chr(code)}b",
        f"caf\u00e9 \u00c3{chr(code)} x",
        f"&#{code};",
        f"\u00e2\u0080{chr(code)}",
    ):
        out = normalize_text(text)[0]
        assert not re.search("[\x80-\x9f]", out), text
        assert normalize_text(out) == (out, nz.zero_counts())


def test_lone_surrogates_and_nul_bytes() -> None:
    text, counts = normalize_text("a\ud800b\udc00c\x00d\ud83d\udc4d")
    assert text == "a\ufffdb\ufffdcd👍"
    assert counts["surrogates"] == 1 and counts["control_chars"] == 1


def test_only_combining_marks() -> None:
    # NFC sorts a run of marks by combining class (cedillas first). CPython does that with an insertion sort,
    # so ftfy takes minutes on 300,000 marks; normalize sorts long runs itself and stays linear.
    text = "\u0301\u0308\u0327" * 100_000
    out, counts = normalize_text(text)
    assert out == "\u0327" * 100_000 + "\u0301\u0308" * 100_000
    assert nonzero(counts) == {"unicode_form": 1}
    for n in (11, 300):  # short enough for ftfy itself: the same result, with runs around other characters
        text = "x" + "\u0301\u0308\u0327" * n + "é\u0316\u0301" * n + "\u0e48\u0e38" * n
        assert normalize_text(text)[0] == fix_text(text)


def test_no_ftfy_fixer_reads_combining_marks() -> None:
    # Why sorting long runs of marks before ftfy cannot change its output (see normalize._order_mark_runs).
    import unicodedata

    from ftfy import chardata

    def marks(chars) -> set[str]:
        return {c for c in chars if unicodedata.combining(c)}

    charmaps = "".join(bytes(range(256)).decode(e, errors="ignore") for e in chardata.CHARMAP_ENCODINGS)
    assert not marks(BADNESS_RE.pattern) and not marks(charmaps) and not marks(chardata.UTF8_DETECTOR_RE.pattern)


def test_ten_megabyte_single_line() -> None:
    paragraph = SEED_FILES[0].read_text(encoding="utf-8").split("\n")[0] + " "
    line = paragraph * (10_000_000 // len(paragraph) + 1) + "Itâ€™s the end.."
    assert len(line) > 10_000_000
    text, counts = normalize_text(line)
    assert text.endswith("It’s the end.") and "\n" not in text
    assert counts["mojibake"] == 1 and counts["double_periods"] == 1 and counts["line_spaces"] == 0


# ------------------------------------------------------------------------------------------------ the step


def test_step_sets_metadata_and_keeps_other_keys() -> None:
    record = {"id": "x", "content": "Itâ€™s  here\n\n\n", "source": "s", "metadata": {"other": 1}, "extra": [1]}
    out = Pipeline((Normalize(NormalizeOptions()),), "content").process(record)
    assert out["content"] == "It’s here"
    assert out["metadata"]["other"] == 1 and out["extra"] == [1] and out["id"] == "x"
    # "here" and two blank lines: the final "\n" ends the last of them
    assert nonzero(out["metadata"]["normalize"]) == {"mojibake": 1, "space_runs": 1, "blank_lines": 2}
    assert record["content"] == "Itâ€™s  here\n\n\n"  # the input record is not changed


def test_every_record_gets_every_kind() -> None:
    out = Pipeline((Normalize(NormalizeOptions()),)).process({"id": "x", "text": "clean", "source": "s"})
    assert out["metadata"] == {"normalize": nz.zero_counts(), "cuts": []}


NORMALIZE = Pipeline((Normalize(NormalizeOptions()),))


def test_a_second_run_adds_its_counts_to_the_first_ones() -> None:
    earlier = {**nz.zero_counts(), "entities": 2, "blank_lines": 1}
    record = {"id": "x", "text": "It\u00e2\u20ac\u2122s  here", "metadata": {"normalize": earlier, "other": 1}}
    out = NORMALIZE.process(record)
    assert nonzero(out["metadata"]["normalize"]) == {"entities": 2, "mojibake": 1, "space_runs": 1, "blank_lines": 1}
    assert list(out["metadata"]["normalize"]) == list(KINDS) and out["metadata"]["other"] == 1
    assert earlier == {**nz.zero_counts(), "entities": 2, "blank_lines": 1}  # the input record is not changed


def test_a_run_that_changes_nothing_leaves_the_record_as_it_was() -> None:
    # The earlier counts keep their values and their order, whatever it is (a record a pipeline ran on already
    # carries its cut audit, metadata.cuts, last).
    earlier = dict(reversed([*{**nz.zero_counts(), "mojibake": 3}.items()]))
    record = {"text": "It’s clean.", "metadata": {"normalize": earlier, "x": [1], "cuts": []}, "id": "x"}
    assert dumps_line(NORMALIZE.process(record)) == dumps_line(record)


@pytest.mark.parametrize(
    ("earlier", "expected"),
    [
        (None, {"space_runs": 1}),  # not an object: replaced
        ([1, 2], {"space_runs": 1}),
        ({"space_runs": 2, "mojibake": "3", "note": "x"}, {"space_runs": 3, "note": "x"}),  # "3" is not a count
        ({"space_runs": True}, {"space_runs": 1}),
    ],
)
def test_earlier_values_that_are_not_counts(earlier, expected: dict) -> None:
    out = NORMALIZE.process({"id": "x", "text": "a  b", "metadata": {"normalize": earlier}})
    assert nonzero(out["metadata"]["normalize"]) == expected
    before = list(earlier) if isinstance(earlier, dict) else []
    assert list(out["metadata"]["normalize"]) == before + [kind for kind in KINDS if kind not in before]


def _twice(records: list[dict], options: NormalizeOptions = NormalizeOptions()) -> None:
    """normalize(normalize(x)) == normalize(x), byte for byte, as the CLI writes records."""
    step = Pipeline((Normalize(options),))
    for record in records:
        once = step.process(record)
        if isinstance(once, Dropped):  # nothing left to normalize again (an empty text)
            assert once.drop.reason == "empty_after_cleaning"
            continue
        assert dumps_line(step.process(once)) == dumps_line(once), record


def test_normalize_twice_is_normalize_once_on_the_seeds(cli) -> None:
    ingested = cli(["ingest", SEEDS]).stdout_bytes
    once = cli(["normalize"], input=ingested).stdout_bytes
    assert cli(["normalize"], input=once).stdout_bytes == once
    # and on the seeds damaged: mojibake, entities, Windows line breaks, Latin-1 C1 controls, blank lines
    records = parse_jsonl(ingested)
    damaged = [
        {**r, "text": make(r["text"])}
        for r in records
        for make in (_mojibake, lambda t: t.replace("’", "&#8217;"), lambda t: t.replace("\n", "\r\n") + "\x81\n\n")
    ]
    _twice(records + damaged)


RECORD_METADATA = st.one_of(
    st.none(),
    st.just({}),
    st.builds(lambda n: {"normalize": {**nz.zero_counts(), "mojibake": n}, "encoding": "utf-8"}, st.integers(0, 9)),
    st.just({"normalize": {"spaces": 1}}),
    st.just({"normalize": "garbage"}),
)


@pytest.mark.slow
@settings(max_examples=500)
@given(st.one_of(TEXTS, RANDOM_TEXTS), RECORD_METADATA, OPTIONS)
def test_normalize_twice_is_normalize_once_on_generated_records(text: str, metadata, options) -> None:
    record = {"id": "x", "text": text, "source": "s"}
    if metadata is not None:
        record["metadata"] = metadata
    _twice([record], options)


# ------------------------------------------------------------------------------------------ golden, CLI


def test_golden_seeds_through_a_real_pipe() -> None:
    result = run_shell("corpus-tools ingest seeds/ | corpus-tools normalize")
    assert result.returncode == 0, result.stderr
    assert result.stdout == GOLDEN.read_bytes()


def test_golden_says_what_the_issue_asks() -> None:
    records = {r["id"][:3]: r for r in parse_jsonl(GOLDEN.read_bytes())}
    assert len(records) == len(SEED_FILES)
    for record in records.values():
        assert "’" in record["text"] and "—" in record["text"] and "“" in record["text"]
    text = records["002"]["text"]
    assert "Taiwan.." not in text and "toward Taiwan.\n" in text and "––" not in text
    assert text.endswith("Asia-Pacific region.")
    assert nonzero(records["002"]["metadata"]["normalize"]) == {
        "blank_lines": 4,  # the file ends "region.\n\n\n\n\n": four blank lines, then its final newline
        "double_periods": 1,
        "double_dashes": 3,
    }


def test_cli_options_map_onto_the_library(cli) -> None:
    line = orjson.dumps({"id": "a", "text": "“x²”  ", "source": "s"}) + b"\n"
    result = cli(["normalize", "--straighten-quotes", "--form", "NFKC", "--no-whitespace"], input=line)
    assert result.exit_code == 0, result.stderr
    [record] = parse_jsonl(result.stdout)
    assert record["text"] == '"x2"  '
    assert nonzero(record["metadata"]["normalize"]) == {"quotes": 1, "unicode_form": 1}


def test_cli_text_field_output_file_and_rejects(cli, tmp_path) -> None:
    data = b'{"id": "a", "body": "caf&eacute;"}\nnot json\n{"id": "b", "text": "no body"}\n'
    out, rejects = tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"
    args = ["normalize", "--text-field", "body", "-o", out, "--on-error", "skip", "--rejects", rejects]
    result = cli(args, input=data)
    assert result.exit_code == 0
    [record] = parse_jsonl(out.read_bytes())
    assert record["body"] == "café" and record["metadata"]["normalize"]["entities"] == 1
    assert [r["line"] for r in parse_jsonl(rejects.read_bytes())] == [2, 3]
    assert "skipped 2 of 3 records" in result.stderr


def test_cli_bad_input_is_one_line_and_exit_2(cli) -> None:
    result = cli(["normalize"], input=b'{"id": "a", "text": "ok"}\n{"id": "b"}\n')
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: -:2: missing text field 'text'"
    result = cli(["normalize", "--form", "NFX"], input=b"")
    assert result.exit_code == 2


def test_nfc_inert_blocks_hold_no_second_half_of_a_composition() -> None:
    # The whole-document check skips is_normalized when every non-ASCII character is "NFC-inert"; that is only
    # sound if none of them can compose with the character before it (NFC quick check "maybe").
    import sys
    import unicodedata

    seconds = set()
    for code in range(sys.maxunicode + 1):
        decomposition = unicodedata.decomposition(chr(code))
        if decomposition and not decomposition.startswith("<") and len(decomposition.split()) == 2:
            seconds.add(chr(int(decomposition.split()[1], 16)))
    seconds.update(map(chr, range(0x1161, 0x1176)))  # Hangul vowel and trailing jamo compose algorithmically
    seconds.update(map(chr, range(0x11A8, 0x11C3)))
    not_inert = nz._not_nfc_inert()
    inert = [chr(c) for lo, hi in nz._NFC_INERT_BLOCKS for c in range(lo, hi + 1) if not not_inert.match(chr(c))]
    assert len(inert) > 30_000
    assert not seconds.intersection(inert)
    assert all(unicodedata.is_normalized("NFC", c) and not unicodedata.combining(c) for c in inert)
    assert not_inert.search("e\u0301") and not_inert.search("\u2000") and not not_inert.search("’“”—台灣")


def test_nfc_inert_pattern_is_its_per_character_definition() -> None:
    # _not_nfc_inert takes whole blocks after a check on the whole block; it must give what checking every
    # character of every block gives (printable ASCII and "\n" aside).
    import unicodedata

    not_inert = nz._not_nfc_inert()
    for lo, hi in nz._NFC_INERT_BLOCKS:
        for code in range(lo, hi + 1):
            char = chr(code)
            inert = not unicodedata.combining(char) and unicodedata.normalize("NFC", char) == char
            assert (not_inert.match(char) is None) == inert, hex(code)
    assert all(not_inert.match(chr(c)) is None for c in [10, *range(0x20, 0x7F)])
    assert (
        not_inert.match("\t")
        and not_inert.match("\x7f")
        and not_inert.match("\u0300")
        and not_inert.match("\U0001f600")
    )


def test_bad_unicode_form_names_the_step_option_and_choices() -> None:
    with pytest.raises(ConfigError) as exc:
        NormalizeOptions(unicode_form="nfc")
    assert str(exc.value) == "normalize: unicode_form must be one of NFC, NFKC, NFD, NFKD, none (got 'nfc')"


def test_a_dry_run_changes_no_text_and_counts_nothing_but_lists_the_blank_lines() -> None:
    from corpus_tools.normalize import Normalize
    from corpus_tools.pipeline import Pipeline

    record = {
        "id": "a",
        "text": "Caf\u00c3\u00a9 au lait..\n\n\nSecond &amp; last.",
        "metadata": {"normalize": {"spaces": 1}},
    }
    dry = Pipeline((Normalize(NormalizeOptions(dry_run=True)),)).process(record)
    assert dry["text"] == record["text"]
    assert dry["metadata"]["normalize"] == {"spaces": 1}  # what was done to the text: nothing more
    assert dry["metadata"]["cuts"] == [{"step": "normalize", "rule": "blank_line", "paragraph": 2, "dry_run": True}]
    real = Pipeline((Normalize(),)).process(record)
    assert real["text"] == "Café au lait.\n\nSecond & last."
    assert real["metadata"]["cuts"] == [{"step": "normalize", "rule": "blank_line", "paragraph": 2}]
