"""The credits step: shapes, positions, the fixture set, the seeds, the CLI, and patterns that cannot backtrack."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
import regex
from hypothesis import example, given
from hypothesis import strategies as st

from conftest import DATA, SEEDS, parse_jsonl, run_shell
from corpus_tools import credit_shapes as credits_module
from corpus_tools import credits as credits_module_step
from corpus_tools.credit_shapes import BIO, BYLINE, TRANSLATOR, bio_names, credit_kind
from corpus_tools.credits import Credits, CreditsOptions, find_credits, label_credits
from corpus_tools.errors import ConfigError
from corpus_tools.labels import join_paragraphs, split_paragraphs
from corpus_tools.pipeline import Dropped, Pipeline
from corpus_tools.step import BLANK_LINE, orphaned_blank_lines
from corpus_tools.teasers import Teasers

CASES_DIR = DATA / "credits"
GOLDEN = DATA / "golden" / "credits" / "seeds.jsonl"
CREDIT_KINDS = {BYLINE, BIO, TRANSLATOR}


# ------------------------------------------------------------------------------------------------ fixtures


@dataclass(frozen=True)
class Case:
    """One fixture document: each line labelled with what it is, plus the names the credits give."""

    name: str
    note: str
    authors: list[str]
    translators: list[str]
    kinds: list[str]  # per paragraph: body, heading, teaser, blank, byline, bio, translator, blank_line (cut)
    paragraphs: list[str]
    contributors: list[dict[str, str]]  # `contributors: Name (role); Name (role)`, optional

    @property
    def text(self) -> str:
        return join_paragraphs(self.paragraphs)

    @property
    def credit_lines(self) -> dict[int, str]:
        return {i: k for i, k in enumerate(self.kinds) if k in CREDIT_KINDS}


def _names(value: str) -> list[str]:
    return [n.strip() for n in value.split(";") if n.strip()]


def load_case(path: Path) -> Case:
    """Parse a ``.case`` file: ``# note``, ``authors: A; B``, ``translators: ...``, optionally ``contributors: A
    (role); B (role)``, ``---``, ``kind | text`` lines."""
    header, body = path.read_text(encoding="utf-8").split("\n---\n", 1)
    fields = dict(line.split(":", 1) for line in header.splitlines() if not line.startswith("#"))
    note = header.splitlines()[0].lstrip("# ")
    kinds, paragraphs = [], []
    for line in body.rstrip("\n").split("\n"):
        if not line:
            kinds.append("blank")
            paragraphs.append("")
            continue
        kind, text = line.split(" | ", 1)
        kinds.append(kind)
        paragraphs.append(text)
    contributors = [
        {"name": name.rsplit(" (", 1)[0], "role": name.rsplit(" (", 1)[1].rstrip(")")}
        for name in _names(fields.get("contributors", ""))
    ]
    return Case(
        path.stem, note, _names(fields["authors"]), _names(fields["translators"]), kinds, paragraphs, contributors
    )


CASES = [load_case(p) for p in sorted(CASES_DIR.glob("*.case"))]
# Cases the step gets wrong today, kept in sight (strict xfail: one that starts passing must move to the main set).
KNOWN_FAILURES = [load_case(p) for p in sorted((CASES_DIR / "known_failures").glob("*.case"))]


def test_fixture_set_is_big_and_covers_every_form():
    assert len(CASES) >= 30
    kinds = {k for case in CASES for k in case.kinds}
    assert kinds >= CREDIT_KINDS
    traps = [c for c in CASES if c.name.startswith("trap_")]
    assert len(traps) >= 10 and sum(not c.credit_lines for c in traps) >= 10
    assert any(len(c.authors) >= 2 for c in CASES) and any(len(c.translators) >= 2 for c in CASES)
    assert any(regex.search(r"\p{Han}", p) for c in CASES for p in c.paragraphs)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture_case(case: Case):
    record = {"id": case.name, "text": case.text, "source": "fixture", "metadata": {}}
    out = Pipeline((Credits(),)).process(record)
    cut = case.credit_lines.keys() | {i for i, kind in enumerate(case.kinds) if kind == BLANK_LINE}
    expected_text = join_paragraphs([p for i, p in enumerate(case.paragraphs) if i not in cut])
    assert out["text"] == expected_text, case.note
    assert out["metadata"]["authors"] == case.authors
    assert out["metadata"]["translators"] == case.translators
    assert out["metadata"]["contributors"] == case.contributors
    assert out["metadata"]["bylines"] == [case.paragraphs[i] for i in sorted(case.credit_lines)]
    labels = label_credits(case.paragraphs)
    assert {i: label.kind for i, label in labels.items()} == case.credit_lines
    # where each removed line stood and the reason its label gave; the rule says the kind
    assert out["metadata"]["cuts"] == [
        {"step": "credits", "rule": labels[i].reason if i in labels else BLANK_LINE, "paragraph": i}
        for i in sorted(cut)
    ]
    assert [Credits.kinds[labels[i].reason] for i in sorted(case.credit_lines)] == [
        case.kinds[i] for i in sorted(case.credit_lines)
    ]


@pytest.mark.xfail(strict=True, reason="known limitation, documented in the case")
@pytest.mark.parametrize("case", KNOWN_FAILURES, ids=[c.name for c in KNOWN_FAILURES])
def test_known_failure(case: Case):
    test_fixture_case(case)


def test_known_failures_never_cost_body_text():
    """What the step gets wrong there, it gets wrong by keeping a credit, never by cutting body."""
    assert len(KNOWN_FAILURES) >= 4
    for case in KNOWN_FAILURES:
        assert all(case.kinds[i] in CREDIT_KINDS for i in label_credits(case.paragraphs)), case.name


def test_step_never_removes_a_body_paragraph_in_the_fixture_set():
    removed_body = []
    for case in CASES:
        for i in label_credits(case.paragraphs):
            if case.kinds[i] not in CREDIT_KINDS:
                removed_body.append((case.name, i, case.paragraphs[i][:60]))
    assert removed_body == []


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_second_run_cuts_nothing_more(case: Case):
    once = Credits().process({"text": case.text, "metadata": {}}, "text")
    twice = Credits().process(dict(once, metadata=dict(once["metadata"])), "text")
    assert twice == once


@pytest.mark.parametrize("case", [c for c in CASES if c.credit_lines], ids=lambda c: c.name)
def test_dry_run_labels_without_cutting(case: Case):
    out = Pipeline((Credits(CreditsOptions(dry_run=True)),)).process({"text": case.text})
    assert out["text"] == case.text
    assert out["metadata"]["authors"] == case.authors
    assert out["metadata"]["translators"] == case.translators
    assert out["metadata"]["bylines"] == []  # only lines actually removed are listed
    # the cuts it would make, marked as a dry run's (a later real run replaces them)
    labels = label_credits(case.paragraphs)
    blank = [i for i, kind in enumerate(case.kinds) if kind == BLANK_LINE]
    assert out["metadata"]["cuts"] == [
        {"step": "credits", "rule": labels[i].reason if i in labels else BLANK_LINE, "paragraph": i, "dry_run": True}
        for i in sorted([*labels, *blank])
    ]
    real = Pipeline((Credits(),)).process(out)
    assert all(not c.get("dry_run") for c in real["metadata"]["cuts"])
    assert len(real["metadata"]["cuts"]) == len(case.credit_lines) + len(blank)


# ------------------------------------------------------------------------------------------------ shapes

SHAPES = [
    ("By John Lim 林泉忠", BYLINE),
    ("By Ann Lee and Bo Chen", BYLINE),
    ("By J. R. Smith", BYLINE),
    ("By the end of the year, buses will run all night.", None),
    ("By supporting Taiwan, Tokyo helps itself.", None),
    ("Translated by Eddy Chang", TRANSLATOR),
    ("Translated by Ann Lee and Bo Chen.", TRANSLATOR),
    ("Translated and edited by Grace Wu", TRANSLATOR),
    ("Translation by Grace Wu", TRANSLATOR),
    ("Translated from Japanese by Grace Wu and Ann Lee", TRANSLATOR),
    ("By Ann Lee, Staff reporter", BYLINE),
    ("By Ann Lee, in Taipei", None),  # what follows the name is no role
    ("The writer is a research fellow at an institute.", BIO),
    ("The writer is right about this.", None),
    ("Prof. Ann Lee is a lecturer in law.", BIO),
    ("Ann Lee teaches law at a university.", BIO),
    ("Ann Lee has been vocal about the plan.", None),
    ("Tzou Jiing-wen is editor-in-chief of the Liberty Times.", BIO),
    ("Gerrit van der Wees is a former Dutch diplomat who teaches history.", BIO),
    ("J. Michael Cole is a Taipei-based senior fellow with an institute in Ottawa.", BIO),
    ("Jaw Shaw-kong is chairman of the Broadcasting Corp of China.", BIO),
    ("Although Taiwan and South Korea are members of the group, they differ.", None),
    ("Translated by volunteers, the letters circulated widely.", None),
    ("The novel, translated by Howard Goldblatt, sold well.", None),
    ("Yao Chung-yuan is a professor and former deputy director of the strategic planning department.", BIO),
    ("Cathy Fang is a policy analyst in the Project 2049 Institute.", BIO),
    ("Huynh Tam Sang, an international relations lecturer, is a junior researcher at a foundation.", BIO),
    ("Pieter van der Berg is a lecturer at Leiden University.", BIO),
    ("Ahmad bin Ismail is a research fellow at an institute.", BIO),
    ("Lai is a pragmatist who will not change the name of the country.", None),  # one-word name: not a bio
    ("South Korea is a close partner and a member of the group.", None),  # a place, not a person
    ("Taipei and Tokyo are natural partners.", None),
    ("The US is a member of the alliance.", None),
    ("Chen Wei is a pragmatic man.", None),  # no role in the predicate
    ("Sanae Takaichi, one of the main candidates, has been vocal.", None),  # appositive without `is`
    ("", None),
    ("   ", None),
]


@pytest.mark.parametrize(("line", "kind"), SHAPES)
def test_credit_kind_shapes(line: str, kind: str | None):
    assert credit_kind(line) == kind


@pytest.mark.parametrize(
    ("line", "names"),
    [
        ("Lin Fei-fan (林飛帆) is a former deputy secretary-general of the party.", ["Lin Fei-fan"]),
        ("J.M. Alvarez is a former correspondent in Beijing.", ["J.M. Alvarez"]),
        ("Ann Lee, Bo Chen and Carl Wu are analysts at an institute.", ["Ann Lee", "Bo Chen", "Carl Wu"]),
        (
            "Tsai Hsin-yi is a professor at NTU and Lee Chun-yi is a doctoral student at NCKU.",
            ["Tsai Hsin-yi", "Lee Chun-yi"],
        ),
        ("Mary O’Brien is a writer based in Dublin.", ["Mary O’Brien"]),
        ("Ali al-Hassan is a researcher in Doha.", ["Ali al-Hassan"]),
    ],
)
def test_bio_names(line: str, names: list[str]):
    assert bio_names(line) == names


@pytest.mark.parametrize(
    ("text", "authors", "translators"),
    [
        ("By 林泉忠\nBody.", ["林泉忠"], []),
        ("By John Lim 林泉忠\nBody.", ["John Lim"], []),
        ("Body.\nTranslated by 王小明", [], ["王小明"]),
        ("By Ann Lee, Staff reporter\nBody.", ["Ann Lee"], []),
        ("Body.\nDr Ann Lee is a lecturer in law.", ["Ann Lee"], []),
        ("Body.\nThe writer is a lecturer in law.", [], []),
        # the author's name ends where another role's credit starts (seen on real pages)
        ("Text von Christian Seiler Illustration von Markus Roost\nBody.", ["Christian Seiler"], []),
        ("Text: Anna Meier Fotos: Peter Huber\nBody.", ["Anna Meier"], []),
    ],
)
def test_names_recorded(text: str, authors: list[str], translators: list[str]):
    out = Credits().process({"text": text}, "text")
    assert (out["metadata"]["authors"], out["metadata"]["translators"]) == (authors, translators)
    assert out["text"] == "Body."


def test_extra_roles_widen_what_a_bio_predicate_may_say():
    line = "Chen Wei is a beekeeper in Tainan."
    assert credit_kind(line) is None
    assert credit_kind(line, CreditsOptions(extra_roles=("beekeeper",))) == BIO


def test_max_bio_words_bounds_a_bio():
    line = "Ann Lee is a researcher at the Institute of Political Science."
    assert credit_kind(line, CreditsOptions(max_bio_words=5)) is None


def test_each_kind_can_be_turned_off():
    case = next(c for c in CASES if c.name == "byline_cjk")
    labels = label_credits(case.paragraphs, CreditsOptions(bylines=False))
    assert {label.kind for label in labels.values()} == {BIO}
    case = next(c for c in CASES if c.name == "name_hyphen_translator")
    assert {label.kind for label in label_credits(case.paragraphs, CreditsOptions(bios=False)).values()} == {TRANSLATOR}
    assert {label.kind for label in label_credits(case.paragraphs, CreditsOptions(translators=False)).values()} == {BIO}


def test_reasons_say_which_position_made_a_bio():
    reasons = {}
    for name in ("bio_is_a", "bio_is_an", "name_hyphen_translator", "byline_plain"):
        case = next(c for c in CASES if c.name == name)
        reasons[name] = sorted(label.reason for label in label_credits(case.paragraphs).values())
    assert reasons == {
        "bio_is_a": ["bio_at_end"],
        "bio_is_an": ["bio_before_tail"],
        "name_hyphen_translator": ["bio_before_translator", "translated_by_line"],
        "byline_plain": ["by_name_first_line"],
    }


def test_works_after_the_teaser_tail_was_cut():
    """Either order: with the tail already gone, the bio is at the end and still found."""
    case = next(c for c in CASES if c.name == "name_hyphen_translator")
    no_tail = [p for p, k in zip(case.paragraphs, case.kinds, strict=True) if k != "teaser"]
    found = find_credits(no_tail)
    assert (found.authors, found.translators) == (["Hsu Chien-jung"], ["Eddy Chang"])


TEASER_CASES = sorted((DATA / "teasers").glob("*.json"))


def _all_documents() -> list[tuple[str, str]]:
    """Every labelled document the project has: this set, the teasers step's set, the seeds."""
    docs = [(c.name, c.text) for c in CASES]
    docs += [(p.stem, join_paragraphs(orjson.loads(p.read_bytes())["paragraphs"])) for p in TEASER_CASES]
    docs += [(p.stem, p.read_text(encoding="utf-8")) for p in sorted(SEEDS.glob("*.txt"))]
    return docs


def test_same_credits_whether_teasers_ran_before_or_after():
    """Either order: over every labelled document of the project, credits finds exactly the same credits."""
    assert len(TEASER_CASES) >= 40
    keys = ("authors", "bylines", "translators")
    differ = []
    for name, text in _all_documents():
        record = {"id": name, "text": text, "metadata": {}}
        first = Pipeline((Credits(), Teasers())).process(record)
        after = Pipeline((Teasers(), Credits())).process(record)
        if [first["metadata"][k] for k in keys] != [after["metadata"][k] for k in keys]:
            differ.append(name)
    assert differ == []


def test_never_labels_a_teaser_or_heading_of_the_teasers_fixture_set():
    clashes = {}
    for path in TEASER_CASES:
        case = orjson.loads(path.read_bytes())
        labelled = set(label_credits(case["paragraphs"]))
        if labelled & (set(case["teasers"]) | set(case["headings"])):
            clashes[path.stem] = sorted(labelled)
    assert clashes == {}


# ------------------------------------------------------------------------------------------------ metadata


def test_keys_always_present_and_lists():
    out = Credits().process({"text": "Just one body line.", "metadata": {"other": 1}}, "text")
    assert out["metadata"] == {
        "other": 1,
        "authors": [],
        "bylines": [],
        "translators": [],
        "contributors": [],
        "cuts": [],
    }
    # a text with nothing left is not a record for the output: dropped, with its reason
    empty = Credits().process({"text": ""}, "text")
    assert (empty.step, empty.drop.reason) == ("credits", "empty_after_cleaning")
    only_credit = Credits().process({"text": "By Ann Lee"}, "text")
    assert (only_credit.step, only_credit.drop.reason) == ("credits", "empty_after_cleaning")


def test_cuts_say_where_each_removed_line_stood():
    text = "By Ann Lee\nBody one.\nBody two.\nAnn Lee is a researcher at an institute.\n\nTranslated by Bo Chen"
    out = Pipeline((Credits(),)).process({"text": text})
    assert out["text"] == "Body one.\nBody two."  # the blank line between the cuts does not end the text
    assert out["metadata"]["cuts"] == [
        {"step": "credits", "rule": "by_name_first_line", "paragraph": 0},
        {"step": "credits", "rule": "bio_before_translator", "paragraph": 3},
        {"step": "credits", "rule": BLANK_LINE, "paragraph": 4},
        {"step": "credits", "rule": "translated_by_line", "paragraph": 5},
    ]


def test_a_second_run_records_its_cuts_at_the_lines_the_text_first_had():
    # the first run cannot see the bio (bios switched off); the second, on the text the first returned, can: the
    # bio is line 1 of the text it received, line 2 of the text as it first came in
    text = "By Ann Lee\nBody one.\nAnn Lee is a researcher at an institute."
    once = Pipeline((Credits(CreditsOptions(bios=False)),)).process({"text": text})
    twice = Pipeline((Credits(),)).process(once)
    assert twice["text"] == "Body one."
    assert twice["metadata"]["cuts"] == [
        {"step": "credits", "rule": "by_name_first_line", "paragraph": 0},
        {"step": "credits", "rule": "bio_at_end", "paragraph": 2},
    ]


@pytest.mark.parametrize(
    "value",
    [
        "x",
        [1],
        [{"step": "credits", "rule": "r"}],
        [{"step": "credits", "rule": 1, "paragraph": 0}],
        [{"step": "credits", "rule": "r", "paragraph": True}],
    ],
)
def test_malformed_cuts_are_a_record_error(value):
    from corpus_tools.errors import RecordError

    with pytest.raises(RecordError, match=r"metadata.cuts is not a list of"):
        Pipeline((Credits(),)).process(
            {"text": "Body.\nAnn Lee is a researcher at an institute.", "metadata": {"cuts": value}}
        )


def test_check_schema_accepts_cuts_and_names_a_malformed_one():
    from corpus_tools.check import CheckOptions, check_items
    from corpus_tools.io import Item

    out = Pipeline((Credits(),)).process(
        {"id": "a", "source": "s", "text": "Body.\nAnn Lee is a researcher at an institute."}
    )
    assert out["metadata"]["cuts"] == [{"step": "credits", "rule": "bio_at_end", "paragraph": 1}]
    no_rule = [{"step": "credits", "paragraph": 1}]
    bad = dict(out, id="b", text="Other body.", metadata=dict(out["metadata"], cuts=no_rule))
    report = check_items([Item("mem.jsonl", 1, out), Item("mem.jsonl", 2, bad)], CheckOptions(ignore=("teaser-tail",)))
    findings = [(f.id, f.rule, f.detail) for f in report.findings]
    assert findings == [
        (
            "b",
            "schema",
            "'metadata.cuts' must be an array of {step: string, rule: string, paragraph: integer}, "
            'got [{"step": "credits", "paragraph": 1}]',
        )
    ]


def test_existing_credits_are_kept_and_merged():
    record = {
        "text": "By Ann Lee\nBody.\nAnn Lee is a researcher at an institute.",
        "metadata": {"authors": ["Bo Chen"]},
    }
    out = Credits().process(record, "text")
    assert out["metadata"]["authors"] == ["Bo Chen", "Ann Lee"]
    assert out["text"] == "Body."


def test_the_page_head_reaches_as_far_as_a_second_run_reads_it():
    # The head is the first 100 lines as the next run will read them: the credit lines cut from it let as many
    # lines further down in, so a credit line just past the first 100 lines is taken now, not by a second run.
    body = [f"Paragraph {n} of the gallery, a line of its own." for n in range(120)]
    paragraphs = body[:]
    for k, name in ((0, "Ann Lee"), (10, "Bo Chen"), (20, "Carl Diaz"), (101, "Dana Eng")):
        paragraphs[k] = f"Photo: {name}"
    record = {"text": "\n".join(paragraphs)}
    once = Pipeline((Credits(),)).process(record)
    photographers = [c["name"] for c in once["metadata"]["contributors"]]
    assert photographers == ["Ann Lee", "Bo Chen", "Carl Diaz", "Dana Eng"]
    twice = Pipeline((Credits(),)).process(once)
    assert twice == once
    # a blank line the cuts leave next to another counts once, as normalize collapses the pair
    spaced = "\n".join([*paragraphs[:1], "", *paragraphs[1:]])
    assert Pipeline((Credits(),)).process({"text": spaced})["metadata"]["contributors"][-1]["name"] == "Dana Eng"


def test_a_listings_bylines_are_not_the_pages_authors():
    # headline / By NAME / preview, again and again: other articles' bylines stay with them in the text
    entries = [
        ("A new bridge for the old harbour", "Ann Lee"),
        ("Schools open their gyms at night", "Bo Chen"),
        ("The last ferry to the islands", "Carl Diaz"),
    ]
    lines = ["Latest news"]
    for title, name in entries:
        lines += [title, f"By {name}", "The council approved the plan on Monday after a long debate about its cost..."]
    text = "\n".join(lines)
    out = Credits().process({"text": text}, "text")
    assert (out["text"], out["metadata"]["authors"]) == (text, [])
    # two bylines of one article on two lines are one byline, and the page's own
    two = "By Ann Lee\nBy Bo Chen\n" + "\n".join(lines[1:])
    assert Credits().process({"text": two}, "text")["metadata"]["authors"][:2] == ["Ann Lee", "Bo Chen"]


def test_the_authors_a_record_gives_already_say_whose_bio_it_is():
    # a byline an earlier run (or the scraper) took out of the text is in metadata.authors: a bio-shaped last line
    # about someone else is the text's, one about that author is the author's note
    text = "Body of the story.\nAnn Lee is a researcher at the Hive Institute."
    other = Credits().process({"text": text, "metadata": {"authors": ["Bo Chen"]}}, "text")
    assert (other["text"], other["metadata"]["authors"]) == (text, ["Bo Chen"])
    same = Credits().process({"text": text, "metadata": {"authors": ["Ann Lee"]}}, "text")
    assert (same["text"], same["metadata"]["authors"]) == ("Body of the story.", ["Ann Lee"])


def test_metadata_of_the_wrong_type_is_a_record_error():
    from corpus_tools.errors import RecordError

    with pytest.raises(RecordError, match=r"metadata.authors is not a list of strings"):
        Credits().process({"text": "x", "metadata": {"authors": "Ann Lee"}}, "text")


# ------------------------------------------------------------------------------------------------ seeds

SEED_CREDITS = {
    "000_d71da426b8456c2b": (["Yao Chung-yuan"], ["Eddy Chang"]),
    "001_f74657ecf586bcea": (["Yao Chung-yuan"], ["Eddy Chang"]),
    "002_38a8e521ae68cf37": ([], []),
    "003_275b2542cd664c9b": (["Huynh Tam Sang"], []),
    "004_94e41eeb8c470aa6": (["Cathy Fang"], []),
}


def test_seeds_through_a_real_pipe_match_the_golden_file():
    result = run_shell("corpus-tools ingest seeds/ | corpus-tools credits")
    assert result.returncode == 0, result.stderr.decode()
    records = parse_jsonl(result.stdout)
    assert records == parse_jsonl(GOLDEN.read_bytes())
    assert {r["id"]: (r["metadata"]["authors"], r["metadata"]["translators"]) for r in records} == SEED_CREDITS
    for record in records:
        raw = (SEEDS / f"{record['id']}.txt").read_text(encoding="utf-8")
        if record["id"].startswith("002"):
            assert record["text"] == raw  # no credits: body untouched
            continue
        kept = split_paragraphs(record["text"])
        assert not any(credit_kind(p) for p in kept)  # no credit line left in text
        removed = [p for p in split_paragraphs(raw) if p not in kept]
        assert removed == record["metadata"]["bylines"]


def test_cli_dry_run_and_switches(cli):
    text = (SEEDS / "000_d71da426b8456c2b.txt").read_text(encoding="utf-8")
    [dry] = parse_jsonl(cli(["credits", "--dry-run"], input=_jsonl(text)).stdout_bytes)
    assert dry["text"] == text and dry["metadata"]["translators"] == ["Eddy Chang"]
    assert dry["metadata"]["bylines"] == []  # nothing was removed
    [no_tr] = parse_jsonl(cli(["credits", "--no-translators"], input=_jsonl(text)).stdout_bytes)
    assert no_tr["metadata"]["translators"] == [] and "Translated by Eddy Chang" in no_tr["text"]
    keeper = "Body line.\nChen Wei is a beekeeper in Tainan."
    [out] = parse_jsonl(cli(["credits", "--role", "Beekeeper"], input=_jsonl(keeper)).stdout_bytes)
    assert out["metadata"]["authors"] == ["Chen Wei"] and out["text"] == "Body line."


def test_cli_bad_metadata_is_one_line_naming_file_and_line(cli, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text('{"text": "a"}\n{"text": "b", "metadata": {"translators": 3}}\n', encoding="utf-8")
    result = cli(["credits", path])
    assert result.exit_code == 2
    assert result.stderr == f"error: {path}:2: metadata.translators is not a list of strings\n"


def _jsonl(text: str) -> bytes:
    return orjson.dumps({"id": "x", "text": text}) + b"\n"


# ------------------------------------------------------------------------------------------------ no backtracking

PATTERNS = {
    name: value.pattern
    for name, value in vars(credits_module).items()
    if isinstance(value, (regex.Pattern, credits_module._OnFirstUse)) and name.endswith("_RE")
}


def structure_problems(pattern: str) -> list[str]:
    """What in ``pattern`` could backtrack without bound: a group repeated without bound, or a `*`/`+` that is
    not possessive. With neither, no part of the pattern can match the same text in many ways, so matching is
    linear in the input."""
    # strip escapes and character classes so the checks below see only structure
    flat = regex.sub(r"\\[pP]\{[^}]*\}|\\.", "x", pattern)
    flat = regex.sub(r"\[[^\]]*+\]", "x", flat)
    problems = [f"unbounded group at {m.start()}" for m in regex.finditer(r"\)[*+]|\)\{\d+,\}", flat)]
    # a quantifier `*` or `+` (not the `+` that makes the one before it possessive) must be followed by `+`
    for match in regex.finditer(r"(?<![*+?}])[*+]", flat):
        if flat[match.end() : match.end() + 1] != "+":
            problems.append(f"non-possessive quantifier: {flat[: match.end()]}")
    return problems


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_pattern_structure_cannot_backtrack(name: str):
    assert structure_problems(PATTERNS[name]) == []


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_every_pattern_compiles(name: str):
    # (the ones compiled on first use too: a typo must not wait for the first line that needs the shape)
    assert regex.compile(PATTERNS[name]).pattern == PATTERNS[name]


@pytest.mark.parametrize(
    ("pattern", "bad"),
    [(r"^(a+)+$", True), (r"^(?:\w+\s?){2,}$", True), (r"^[a-z]*x", True), (r"^\p{Lu}[\p{L}]*+(?:-\w++){0,3}$", False)],
)
def test_structure_check_catches_backtracking_patterns(pattern: str, bad: bool):
    assert bool(structure_problems(pattern)) is bad


PATHOLOGICAL = [
    "A" * 1_000_000,
    "Ann " * 250_000,
    "Ann Lee, " * 110_000,
    "By " + "Ann-" * 250_000,
    "Translated by " + "J. " * 330_000,
    "Ann van der " * 90_000 + "Lee is a",
    "林" * 1_000_000,
    "Ann Lee is a professor" + " and Ann Lee" * 80_000,
    "The writer is a" + " writer" * 140_000,
]


@pytest.mark.parametrize("text", PATHOLOGICAL, ids=lambda t: f"{t[:12]!r}x{len(t)}")
def test_megabyte_lines_are_no_credit_and_patterns_finish(text: str):
    assert credit_kind(text) is None
    # The patterns themselves, without the length guard, finish on the same megabyte (linear, by structure).
    for pattern in (credits_module.BYLINE_RE, credits_module.TRANSLATOR_RE, credits_module.BIO_HEAD_RE):
        pattern.match(text)
    assert len(credits_module.SECOND_AUTHOR_RE.findall(text)) <= text.count(" and ")
    credits_module.NAME_LIST_RE.match(text, 7)


PIECES = [*"Aa .,-’林()", "By ", "Ann ", "Lee", " is a ", " and ", "van ", "professor", "Translated by "]
NAMEISH = st.lists(st.sampled_from(PIECES), max_size=12).map("".join)


@given(st.lists(NAMEISH, max_size=8))
def test_labels_are_credit_shaped_and_cutting_removes_exactly_them(paragraphs: list[str]):
    paragraphs = split_paragraphs(join_paragraphs(paragraphs))
    labels = label_credits(paragraphs)
    for i, label in labels.items():
        if label.reason == "signature_at_end":  # a letter's signature ('-Ann A'): its own shape, not a byline's
            assert credits_module.SIGNATURE_RE.match(paragraphs[i].strip()) or credits_module.SIGNATURE_PLACE_RE.match(
                paragraphs[i].strip()
            )
            continue
        assert credit_kind(paragraphs[i]) == label.kind
    out = Credits().process({"text": join_paragraphs(paragraphs)}, "text")
    cut = {*labels, *orphaned_blank_lines(paragraphs, labels)}  # and the blank lines the cut would leave behind
    kept = join_paragraphs([p for i, p in enumerate(paragraphs) if i not in cut])
    if not kept.strip():
        assert out.drop.reason == "empty_after_cleaning"
        return
    assert out["text"] == kept
    assert out["metadata"]["bylines"] == [paragraphs[i] for i in sorted(labels)]


@given(st.text(max_size=300))
def test_any_text_is_handled(text: str):
    out = Credits().process({"text": text}, "text")
    if isinstance(out, Dropped):
        assert (out.step, out.drop.reason) == ("credits", "empty_after_cleaning")
        return
    assert set(out["metadata"]) == {"authors", "bylines", "translators", "contributors", "cuts"}
    assert len(out["text"]) <= len(text)


HEADISH = st.lists(
    st.sampled_from([*PIECES, "Dr. ", "Prof ", "al-", "el-", "d’", "de ", "y ", "\t", "\x1c", "\u00a0", "É", "é"]),
    max_size=10,
).map("".join)


@given(HEADISH | st.text(max_size=40))
@example("Ann van Lee is a writer")
@example("Ann al-Hassan is a writer")
@example("Dr. el-Baradei was a diplomat")
@example("Ann d’Estaing, a writer, is")
@example("Ann Lee and Bo Chen are")
@example("É. Lee is a writer")
@example("Ann" + " " * 70 + "Lee is a writer")
def test_the_name_precheck_never_turns_away_a_bio_head(line: str):
    # The shortcut in front of BIO_HEAD_RE may only say "cannot match" when the pattern indeed cannot.
    if credits_module.BIO_HEAD_RE.match(line) is not None:
        assert credits_module._may_start_with_name(line)
    # ... nor away from the subject of a sentence, whose pattern opens the same way
    if credits_module._SUBJECT_RE.match(line) is not None:
        assert credits_module._may_start_with_name(line)


@given(HEADISH)
def test_bio_shapes_are_the_patterns_own(line: str):
    # _bio with its shortcuts, against the patterns alone deciding whether a line can start a bio.
    line = line.strip()
    shaped = credits_module.ANONYMOUS_BIO_RE.match(line) or credits_module.BIO_HEAD_RE.match(line)
    if not shaped:
        assert bio_names(line) == [] and credit_kind(line) != BIO


@given(st.lists(NAMEISH | st.sampled_from(["  Translated by Ann Lee", "translated by Bo Chen", ""]), max_size=8))
def test_labels_are_the_same_with_or_without_the_joined_text(paragraphs: list[str]):
    paragraphs = split_paragraphs(join_paragraphs(paragraphs))
    assert label_credits(paragraphs, text=join_paragraphs(paragraphs)) == label_credits(paragraphs)


@given(st.lists(NAMEISH | st.sampled_from(["By Ann Lee is a writer", "Ann Lee is a professor", ""]), max_size=8))
def test_names_recorded_are_what_each_labelled_line_says(paragraphs: list[str]):
    # The names are kept while labelling; they must be what the shape of each labelled line gives.
    paragraphs = split_paragraphs(join_paragraphs(paragraphs))
    found = find_credits(paragraphs)
    authors, translators = [], []
    for i in sorted(found.labels):
        line = paragraphs[i].strip()
        if found.labels[i].reason == "signature_at_end":  # a letter's signature: its own shape, not a byline's
            match = credits_module.SIGNATURE_RE.match(line) or credits_module.SIGNATURE_PLACE_RE.match(line)
            names = [credits_module._display_name(credits_module._latin_name(match["name"]))]
        else:
            names = credits_module._shape(line, credits_module.DEFAULT_OPTIONS)[1]
        (translators if found.labels[i].kind == TRANSLATOR else authors).extend(names)
    assert found.authors == list(dict.fromkeys(authors))
    assert found.translators == list(dict.fromkeys(translators))


@given(
    st.lists(st.sampled_from([*PIECES, "林泉忠", "（吳志中）", " & ", ",", "and", "\u3000"]), max_size=10).map("".join)
)
def test_name_splitting_shortcuts_agree_with_the_patterns(names: str):
    plain = [
        (credits_module.CJK_SUFFIX_RE.sub("", n).strip() or n.strip())
        for n in credits_module.SPLIT_NAMES_RE.split(names)
        if n.strip()
    ]
    assert credits_module._split_names(names) == list(dict.fromkeys(plain))


@pytest.mark.parametrize(
    "line", ["The writer is a researcher.", "The\u3000columnists are professors.", "The authors were editors."]
)
def test_anonymous_bios_pass_the_character_tests(line: str):
    assert credit_kind(line) == BIO


# ------------------------------------------------------------------------------------ option bounds


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"max_bio_lines": -1}, "credits: max_bio_lines must be >= 1 (got -1)"),
        ({"max_bio_lines": 0}, "credits: max_bio_lines must be >= 1 (got 0)"),
        ({"max_bio_words": 0}, "credits: max_bio_words must be >= 1 (got 0)"),
        ({"max_line_chars": -3}, "credits: max_line_chars must be >= 5 (got -3)"),
        ({"max_line_chars": 4}, "credits: max_line_chars must be >= 5 (got 4)"),
        ({"max_line_chars": 2**63}, "credits: max_line_chars must be a 64-bit integer (got 9223372036854775808)"),
        (
            {"max_bio_words": -1, "max_line_chars": 0},
            "credits: max_bio_words must be >= 1 (got -1); max_line_chars must be >= 5 (got 0)",
        ),
        (
            {"extra_roles": ("beekeeper", "bee keeper", "", "r2d2")},
            "credits: extra_roles must be single words of letters and hyphens (got 'bee keeper', '', 'r2d2')",
        ),
    ],
)
def test_options_out_of_range_are_config_errors_naming_each_option(fields, message):
    with pytest.raises(ConfigError) as exc:
        CreditsOptions(**fields)
    assert str(exc.value) == message


def test_the_bounds_admit_options_that_still_find_credits():
    # max_line_chars 5: "By 林泉" is the shortest line that can be a credit; one less could never find a credit
    assert credit_kind("By 林泉", CreditsOptions(max_line_chars=5)) == BYLINE

    def kinds(text: str, options: CreditsOptions) -> list[tuple[int, str]]:
        return sorted((i, label.kind) for i, label in label_credits(split_paragraphs(text), options).items())

    text = "By Ann Lee\nBody text here.\nAnn Lee is a reporter in Hualien."
    assert kinds(text, CreditsOptions(max_bio_words=7, max_bio_lines=1)) == [(0, BYLINE), (2, BIO)]
    # a role given as one word, in any case or hyphenated, is a role
    keeper = "Body text here.\nAnn Lee is a beekeeper in Hualien."
    assert kinds(keeper, CreditsOptions()) == []
    assert kinds(keeper, CreditsOptions(extra_roles=("Beekeeper", "editor-at-large"))) == [(1, BIO)]
    # ... but not under a byline that names someone else: the last sentence is about another person
    assert kinds("By Bo Chen\n" + keeper, CreditsOptions(extra_roles=("Beekeeper",))) == [(0, BYLINE)]
    # a bio whose subject the byline names needs no role word
    assert kinds("By Ann Lee\n" + keeper, CreditsOptions()) == [(0, BYLINE), (2, BIO)]


# ------------------------------------------------------------------------ shortcuts vs the plain computation

_SPACES = " \t\u00a0\u2009\u3000\x0b"


@given(
    st.sampled_from(["Translated", "translated", "Translation", "TRANSLATED", "Translate", "Transl"]),
    st.sampled_from(_SPACES),
    st.sampled_from(["by John Roe", "by J. Roe and Ann Lee", "from the Chinese by Wu Li", "and edited by Bo Chen", ""]),
)
@example("Translated", "\u00a0", "by John Roe")  # found by fuzzing: the precheck wanted a plain space
def test_translator_precheck_never_turns_away_what_the_pattern_matches(start, space, rest):
    line = f"{start}{space}{rest}".replace(" ", space)
    matched = credits_module.TRANSLATOR_RE.match(line)
    expected = credits_module._split_names(matched["names"]) if matched else []
    assert credits_module._translator_names(line, credits_module.DEFAULT_OPTIONS) == expected


_ROLE_WORD = credits_module._ROLE_WORD_RE


@given(
    st.lists(
        st.sampled_from(
            ["a", "the", "x" * 30, "x" * 389, "directorship", "director", "writer", "co-founder", "of", "."]
        ),
        max_size=40,
    )
)
@example(["a", "x" * 389, "directorship", "holder"])  # found by fuzzing: a cut at 400 characters made "director"
def test_role_test_reads_exactly_the_first_words(words):
    text = " ".join(words)
    first = [w.lower() for w in _ROLE_WORD.findall(text)][: credits_module._ROLE_WINDOW_WORDS]
    plain = any(
        form in credits_module.ROLES or (form.endswith("s") and form[:-1] in credits_module.ROLES)
        for word in first
        for form in (word, *word.split("-"))
    )
    assert credits_module._has_role(text, credits_module.DEFAULT_OPTIONS) == plain


# ------------------------------------------------------------------------------------------------ contributors


def test_contributors_are_name_role_objects_merged_and_checked():
    from corpus_tools.check import CheckOptions, check_items
    from corpus_tools.errors import RecordError
    from corpus_tools.io import Item

    text = "By Ann Lee\nBody one.\nBody two.\nAdditional reporting by Bo Chen; Editing by Carl Wu"
    old = [{"name": "Dan Ho", "role": "photo"}]
    out = Credits().process({"id": "a", "source": "s", "text": text, "metadata": {"contributors": old}}, "text")
    assert out["metadata"]["contributors"] == [
        {"name": "Dan Ho", "role": "photo"},
        {"name": "Bo Chen", "role": "additional_reporting"},
        {"name": "Carl Wu", "role": "editing"},
    ]
    assert out["metadata"]["authors"] == ["Ann Lee"]
    with pytest.raises(RecordError, match=r"metadata.contributors is not a list of"):
        Credits().process({"text": text, "metadata": {"contributors": ["Bo Chen"]}}, "text")
    bad = dict(out, id="b", text="Other body.", metadata=dict(out["metadata"], contributors=[{"name": "Bo Chen"}]))
    report = check_items([Item("m.jsonl", 1, out), Item("m.jsonl", 2, bad)], CheckOptions(ignore=("teaser-tail",)))
    assert [(f.id, f.rule) for f in report.findings] == [("b", "schema")]
    assert "metadata.contributors' must be an array of {name: string, role: string}" in report.findings[0].detail


# ------------------------------------------------------------------------------------- author recurrence


def _site(tmp_path, endings: list[str]) -> str:
    body = "The council met on Tuesday and voted on the budget for the coming year, after a long debate."
    lines = [
        orjson.dumps({"id": f"d{k}", "text": f"{body} Item {k}.\n{body}\n{ending}", "source": "s"})
        for k, ending in enumerate(endings)
    ]
    path = tmp_path / "site.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return str(path)


def test_an_end_bio_the_corpus_repeats_word_for_word_is_an_authors_note(tmp_path):
    # No role word, no byline: alone, this line is body. At the end of three documents, it is the author's note.
    note = "Ann Lee runs a dog rescue charity in Taichung and walks its dogs every morning."
    path = _site(tmp_path, [note] * 3)
    aware = parse_jsonl(run_shell(f"corpus-tools clean {path} -q --no-dedup").stdout)
    assert [r["metadata"]["authors"] for r in aware] == [["Ann Lee"]] * 3
    assert all(note not in r["text"] for r in aware)
    unaware = parse_jsonl(run_shell(f"corpus-tools clean {path} -q --no-dedup --no-corpus-aware").stdout)
    assert [r["metadata"]["authors"] for r in unaware] == [[]] * 3
    twice = parse_jsonl(run_shell(f"corpus-tools clean {_site(tmp_path, [note] * 2)} -q --no-dedup").stdout)
    assert [r["metadata"]["authors"] for r in twice] == [[]] * 2  # below min_bio_recurrence (3)


def test_sentences_about_a_public_figure_at_the_end_of_many_articles_stay_body(tmp_path):
    endings = [
        "Joe Biden is a former vice president and the Democratic front-runner.",
        "Joe Biden is expected to speak in Iowa on Monday about the economy.",
        "Joe Biden is the candidate most voters in the poll said they knew.",
        "Joe Biden is a former vice president and the Democratic front-runner.",
    ]
    out = parse_jsonl(run_shell(f"corpus-tools clean {_site(tmp_path, endings)} -q --no-dedup").stdout)
    assert [r["metadata"]["authors"] for r in out] == [[]] * 4
    assert all(r["text"].endswith(ending) for r, ending in zip(out, endings, strict=True))


ONE_LINE_PIECES = [
    *PIECES,
    "— ",
    "– ",
    "-",
    "  ",
    "\t",
    "Have a tip? ",
    " may be reached at ",
    " contributed to this report.",
    "Photo: ",
    "Von ",
    "Par ",
    "Por ",
    "Autor: ",
    "Written by:",
    "Posted by ",
    "The writer is a ",
    "columnist",
    ", a ",
    " at the University of Hong Kong",
    "Tiny record 1 says little.",
]


def _one_line_labels(line: str) -> dict:
    """What the whole labelling (the one-line shortcut out of the way) finds in a text of one line."""
    original = credits_module_step._may_credit
    credits_module_step._may_credit = lambda line, options: True
    try:
        return label_credits([line])
    finally:
        credits_module_step._may_credit = original


@given(st.lists(st.sampled_from(ONE_LINE_PIECES), max_size=10).map("".join) | st.text(max_size=40))
def test_the_one_line_shortcut_never_hides_a_credit(line: str):
    line = line.replace("\n", " ")
    if not credits_module_step._may_credit(line, credits_module.DEFAULT_OPTIONS):
        assert _one_line_labels(line) == {}
        assert label_credits([line]) == {}


def test_the_one_line_shortcut_on_every_fixture_line():
    # Each line of the fixture set as a record of its own: the shortcut agrees with the whole labelling.
    lines = {p for case in [*CASES, *KNOWN_FAILURES] for p in case.paragraphs} | {line for line, _ in SHAPES}
    real = parse_jsonl((DATA / "credits_real" / "items.jsonl").read_bytes())
    lines |= {line for item in real for line in item["lines"]}
    lines |= {line for path in SEEDS.glob("*.txt") for line in path.read_text(encoding="utf-8").split("\n")}
    assert len(lines) > 2000
    for line in lines:
        assert label_credits([line]) == _one_line_labels(line), line


@given(st.lists(st.sampled_from(ONE_LINE_PIECES), max_size=10).map("".join) | st.text(max_size=40))
@example("Translated by Ann Lee")
@example("Ann Lee is a professor at the University of Hong Kong.")
@example("By Ann Lee is a writer")
def test_the_end_credit_test_is_the_shape(line: str):
    # What the teasers step asks of the last lines: credit_kind's answer, with its cheaper tests first.
    assert credits_module.end_credit_shaped(line) == (credit_kind(line) in (BIO, TRANSLATOR))


def test_the_end_credit_test_on_every_fixture_line():
    lines = {p for case in [*CASES, *KNOWN_FAILURES] for p in case.paragraphs} | {line for line, _ in SHAPES}
    lines |= {
        line for item in parse_jsonl((DATA / "credits_real" / "items.jsonl").read_bytes()) for line in item["lines"]
    }
    assert sum(map(credits_module.end_credit_shaped, lines)) > 50
    for line in lines:
        assert credits_module.end_credit_shaped(line) == (credit_kind(line) in (BIO, TRANSLATOR)), line


def test_a_credit_line_given_twice_is_recorded_twice_and_a_second_run_changes_nothing():
    from corpus_tools.credits import Credits, CreditsOptions
    from corpus_tools.pipeline import Pipeline

    text = "Translated by Eddy Chang\nThe body says something. It ends well.\nTranslated by Eddy Chang"
    pipeline = Pipeline([Credits(CreditsOptions())])
    once = pipeline.process({"id": "x", "text": text})
    assert once["metadata"]["bylines"] == ["Translated by Eddy Chang", "Translated by Eddy Chang"]
    assert once["metadata"]["translators"] == ["Eddy Chang"]
    assert pipeline.process(once) == once  # every removed line stays listed: clean(clean(x)) == clean(x)


CANDIDATE_PIECES = [
    "By ",
    "by ",
    "BY ",
    "Photo: ",
    "Posted by ",
    "Written by:",
    "Translated by ",
    "translated by ",
    "Translation by ",
    "Ann Lee",
    " and ",
    "Jane Doe",
    " contributed to this report.",
    "Have a tip? ",
    " may be reached at ann@example.com",
    " is a professor at the University of Hong Kong.",
    "The body goes on and says something. ",
    "x" * 140 + " ",
    " ",
    "\u3000",
    "\t",
    "\u2003",
    "\u00a0",
    "",
]


def _plain_credit_candidates(
    paragraphs: list[str],
    first: int,
    starts: object = None,
    text: object = None,
    head_range: tuple[int, int] | None = None,
) -> list[int]:
    """The credit candidates as a test of every line of the head and of the last lines finds them (the reference
    of the start candidates and the short-line test)."""
    prefixes = credits_module_step._credit_prefixes()
    start, end = head_range or (first, credits_module_step._head_end(paragraphs, first, {}))
    head = [k for k, line in enumerate(paragraphs[start:end], start) if line.lstrip().startswith(prefixes)]
    head = [k for k in head if paragraphs[k][:1] in credits_module_step._INDENT or paragraphs[k].startswith(prefixes)]
    tail = [
        k
        for k in range(max(first, len(paragraphs) - 16), len(paragraphs))
        if "contributed" in paragraphs[k]
        or paragraphs[k].startswith("Have a tip?")
        or (k >= end and paragraphs[k].lstrip().startswith(prefixes))
    ]
    return head + tail


@given(st.lists(st.lists(st.sampled_from(CANDIDATE_PIECES), max_size=6).map("".join), min_size=1, max_size=24))
@example(["Title", "\u2003Translated by Ann Lee", "Body."])
@example(["Body.", "Ann Lee contributed to this report." + " " * 300])
@example(["Body.", "\t" * 300 + "Have a tip? Ann Lee may be reached at ann@example.com"])
@example(["Body."] * 110 + ["Photo: Ann Lee"])
@example(["Body.", "Have a tip? Ann Lee may be reached at ann@example.com"])
@example(["Body.", "Have a tip? Ann Lee may be reached at ann@example.com" + " " * 300])
def test_the_start_and_length_shortcuts_change_no_label(paragraphs: list[str]):
    # The lines that cannot start a credit, and the long last lines, are never tested one by one: with every line
    # tested (every line a translator candidate too), the labelling is the same.
    fast = find_credits(paragraphs, text=join_paragraphs(paragraphs))
    assert find_credits(paragraphs) == fast
    starts, candidates = credits_module_step._start_candidates, credits_module_step._credit_candidates
    credits_module_step._start_candidates = lambda paragraphs: list(range(len(paragraphs)))
    credits_module_step._credit_candidates = _plain_credit_candidates
    try:
        plain = find_credits(paragraphs, text=join_paragraphs(paragraphs))
    finally:
        credits_module_step._start_candidates, credits_module_step._credit_candidates = starts, candidates
    assert fast == plain


def test_a_name_line_that_recurs_on_a_sites_pages_is_no_authors_note(tmp_path):
    # a link or label under each page names a person but says nothing of them: no bio, no author, the line stays
    for ending in ("Martha Stewart this link opens in a new tab", "Sarah Jones on Twitter"):
        out = parse_jsonl(run_shell(f"corpus-tools clean {_site(tmp_path, [ending] * 3)} -q --no-dedup").stdout)
        assert [r["metadata"]["authors"] for r in out] == [[]] * 3
        assert all(r["text"].endswith(ending) for r in out)
