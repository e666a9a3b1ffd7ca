"""normalize's fast path against its definition, ``corpus_tools.normalize_reference`` (differential), and the
reference running in its place with an ftfy release the fast path was not written from.

The text must be the same everywhere, and so must the counts, except on texts with Windows line breaks, where the
fast path counts them up front: see :func:`same_counts` for which kinds and why.
"""

from __future__ import annotations

import json
import random

import ftfy
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from conftest import DATA, SEEDS, options_strategy
from corpus_tools import normalize as nz
from corpus_tools import normalize_reference as ref
from corpus_tools.normalize import KINDS, Normalize, NormalizeOptions, ftfy_config, normalize_text
from corpus_tools.pipeline import Pipeline

CASES = DATA / "normalize"
SEED_TEXTS = [path.read_text(encoding="utf-8") for path in sorted(SEEDS.glob("*.txt"))]

# ------------------------------------------------------------------------------------- text to test with

PHRASES = ["It’s", "“quoted”", "— dash", "café", "Pérez", "naïve", "Ærø", "€5", "台灣", "👍", "Москва", "½", "…"]
CODECS = ["sloppy-windows-1252", "latin-1", "cp1251", "mac-roman", "cp1253", "iso-8859-2"]
MOJIBAKE = sorted(
    {p.encode("utf-8").decode(codec, errors="replace") for p in PHRASES for codec in CODECS}
    | {p.encode("utf-8").decode("cp1252", errors="replace") for p in PHRASES}  # lossy: U+FFFD for undefined bytes
)
POOLS = [
    ["Taiwan", "Japan", "the", "said", "a", "1990", "U.S.", "AT&T", "<b>", "x", "A", "Ã", "Â"],
    MOJIBAKE,
    ["&amp;", "&#8217;", "&#x2019;", "&eacute;", "&nbsp;", "&hellip;", "&amp", "&#13;", "&#129;", "&#x9d;", "&bogus;"],
    ["\t", "\x0b", "\x0c", "\u00a0", "\u2009", "\u202f", "\u3000", " ", "  ", "   "],  # odd spaces, runs
    ["\n", "\r\n", "\r", "\u2028", "\u2029", "\x85", "\n\n", "\n\n\n", " \n", "\n "],  # line breaks, blank lines
    ["..", "...", ". ", "Taiwan.. The", "––", "–––", "–", "!!", ",,"],  # doubled punctuation
    [chr(c) for c in range(0x80, 0xA0)] + ["\x00", "\x1b[31m", "\x7f", "\ufeff", "\ud800", "\ud83d\udc4d"],  # controls
    ["ﬁ", "Ｔａ", "e\u0301", "\u0301", "é", "’", "“", "”", "台", "한"],  # ligatures, width, marks, typography
]


def _random_text(rng: random.Random) -> str:
    pieces = []
    for _ in range(rng.randrange(40)):
        if rng.random() < 0.05:
            pieces.append(chr(rng.choice([rng.randrange(0x80, 0x250), rng.randrange(0x110000)])))
        else:
            pieces.append(rng.choice(rng.choice(POOLS)))
    return "".join(pieces)


# One seed per example (fast to draw); the list strategy keeps shrinkable examples too.
TEXTS = st.one_of(
    st.integers(0, 2**64 - 1).map(lambda seed: _random_text(random.Random(seed))),
    st.lists(st.sampled_from([p for pool in POOLS for p in pool]), max_size=16).map("".join),
)
OPTIONS = options_strategy(NormalizeOptions)


def same_counts(text: str, options: NormalizeOptions, fast: dict[str, int], reference: dict[str, int]) -> None:
    """The counts agree kind by kind, except on texts with Windows line breaks, where they are defined differently.

    The reference counts what ftfy reports for each line it changed: a line ending in CRLF always changes, so
    whatever ftfy reports for it counts, once per line. The fast path takes every CRLF out of a document up front
    (when no lone CR or CR entity is about, see ``normalize._repair``), counts each one as a ``line_breaks``, and
    then counts ftfy's report only for lines whose *rest* changed. The two differ (a) in ``line_breaks``, for a
    line holding a CRLF and another break ftfy fixes (U+2028, U+2029): two there, one here; and (b) in kinds ftfy
    reports for a step that changed nothing: ftfy 6.3.1 reports a ``fix_c1_controls`` transcoding (``mojibake``)
    for a line whose C1 control it keeps (``"ƹ\\x8d \\r\\n"``). Counting the reference's way would send every
    CRLF line through ftfy, which the shortcut exists to avoid. So on such texts the fast path's counts must be
    the reference's for the same text with LF line breaks, plus one ``line_breaks`` per CRLF.
    """
    if fast != reference and "\r\n" in text:
        _, reference = ref.normalize_text(text.replace("\r\n", "\n"), options)
        reference["line_breaks"] += text.count("\r\n")
    assert fast == reference, (text, options)
    assert list(fast) == list(KINDS)


def assert_same(text: str, options: NormalizeOptions = NormalizeOptions()) -> None:
    fast_text, fast = normalize_text(text, options)
    ref_text, reference = ref.normalize_text(text, options)
    assert fast_text == ref_text, (text, options)
    same_counts(text, options, fast, reference)


# ------------------------------------------------------------------------------------- the differential


@pytest.mark.slow
@settings(max_examples=3000)
@given(TEXTS)
def test_fast_path_is_the_reference(text: str) -> None:
    assert_same(text)


@pytest.mark.slow
@settings(max_examples=1500)
@given(TEXTS, OPTIONS)
def test_fast_path_is_the_reference_for_every_option(text: str, options: NormalizeOptions) -> None:
    assert_same(text, options)


@pytest.mark.slow  # over 0.3 s: out of the quick loop (pytest -m 'not slow')
@settings(max_examples=300)
@given(TEXTS)
def test_the_reference_repair_is_ftfy_fix_text(text: str) -> None:
    # The reference's Unicode stage is the plain call, line by line with an explanation: the same text.
    assert ref.repair(text, NormalizeOptions(), nz.zero_counts()) == ftfy.fix_text(text, ftfy_config())


def _damaged(text: str) -> list[str]:
    """A seed document as it is and broken the ways scraped news is: mojibake, entities, CRLF, Latin-1 read,
    odd spaces and doubled punctuation, all of them at once."""
    lines = text.split("\n")
    mojibake = "\n".join(
        line.encode("utf-8").decode("sloppy-windows-1252") if i % 3 == 0 else line for i, line in enumerate(lines)
    )
    entities = text.replace("&", "&amp;").replace("’", "&#8217;").replace("—", "&mdash;")
    latin1 = text.encode("utf-8").decode("latin-1")
    spacing = text.replace(". ", ".. ", 3).replace(" ", "\u00a0", 5).replace("—", "––").replace("\n", "\n\n\n")
    everything = spacing.replace("’", "&#8217;").encode("utf-8").decode("sloppy-windows-1252") + "\x81\r\n"
    return [text, text + "\n", mojibake, entities, text.replace("\n", "\r\n"), latin1, spacing, everything]


@pytest.mark.parametrize("index", range(len(SEED_TEXTS)), ids=lambda i: f"seed{i}")
def test_fast_path_is_the_reference_on_the_seeds(index: int) -> None:
    for text in _damaged(SEED_TEXTS[index]):
        assert_same(text)
        assert_same(text, NormalizeOptions(straighten_quotes=True, unicode_form="NFKC"))


def _data_cases() -> list[tuple[str, NormalizeOptions]]:
    cases = []
    for name in ("cases.json", "known_failures.json"):
        for case in json.loads((CASES / name).read_text(encoding="utf-8")):
            cases.append((case["input"], NormalizeOptions(**case.get("options", {}))))
    unchanged = (CASES / "unchanged.txt").read_text(encoding="utf-8").split("\n")
    cases += [(line, NormalizeOptions()) for line in unchanged if line and not line.startswith("# ")]
    return cases


def test_fast_path_is_the_reference_on_every_data_case() -> None:
    cases = _data_cases()
    assert len(cases) > 50
    for text, options in cases:
        assert_same(text, options)


# ------------------------------------------------------------------------------ with another ftfy release


def test_with_another_ftfy_release_the_reference_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    # The fast path mirrors ftfy 6.3.1 (its copied encoding step, its tables of what each fixer touches): with any
    # other release, normalize_text and the step must run the reference, never the fast path, and give its output.
    ran: list[str] = []
    reference = ref.normalize_text

    def spy(text: str, options: NormalizeOptions = NormalizeOptions()) -> tuple[str, dict[str, int]]:
        ran.append(text)
        return reference(text, options)

    monkeypatch.setattr(ftfy, "__version__", "6.4.0")
    monkeypatch.setattr(ref, "normalize_text", spy)
    monkeypatch.setattr(nz, "_repair", lambda *args: pytest.fail("the fast path ran"))
    cases = json.loads((CASES / "cases.json").read_text(encoding="utf-8"))
    for case in cases:
        options = NormalizeOptions(**case.get("options", {}))
        text, counts = normalize_text(case["input"], options)
        assert text == case["expected"], case["name"]
        assert {kind: n for kind, n in counts.items() if n} == case["counts"], case["name"]
    assert len(ran) == len(cases)
    record = Pipeline((Normalize(NormalizeOptions()),)).process({"id": "x", "text": "Itâ€™s \x81 here\n"})
    assert record["text"] == "It’s here" and ran[-1] == "Itâ€™s \x81 here\n"
    assert {kind: n for kind, n in record["metadata"]["normalize"].items() if n} == {
        "mojibake": 1,
        "control_chars": 1,
        "space_runs": 1,
    }


ASCII_LINES = st.lists(
    st.sampled_from(["Tiny", "record", " ", "  ", ".", "..", "...", "&amp;", "&", "AT&T", "1", "x.", "\x7f", "\t"]),
    max_size=12,
).map("".join)


@given(ASCII_LINES)
@example("Tiny record..")
@example("Taiwan.. The")
@example("AT&amp;T")
@example(" Tiny")
def test_a_plain_ascii_line_is_the_reference(text: str) -> None:
    # The shortcut for one line of printable ASCII: what it calls normal, the reference leaves as it is.
    assert_same(text)
    if text.isascii() and text.isprintable() and nz._plain_line_is_normal(text):
        assert ref.normalize_text(text, NormalizeOptions()) == (text, nz.zero_counts())
