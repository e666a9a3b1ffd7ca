"""The residue step in the pipeline: off in clean unless --residue, listing pages dropped with their reason, site
furniture found by the recurrence pass, every cut in metadata.cuts, the seeds untouched."""

from __future__ import annotations

import json

import orjson

from conftest import DATA, parse_jsonl, run_shell
from corpus_tools.pipeline import Dropped, Pipeline
from corpus_tools.residue import Residue, ResidueOptions
from corpus_tools.step import Doc

LISTING = next(case for case in json.loads((DATA / "residue_cases" / "documents.json").read_text()) if case["drop"])


def test_off_by_default_and_on_when_asked():
    assert "residue" not in run_shell("corpus-tools steps").stdout.decode().split()
    assert run_shell("corpus-tools steps --all").stdout.decode().split() == [
        "normalize",
        "credits",
        "residue",
        "teasers",
        "dedup",
    ]


def test_the_seeds_lose_nothing_to_it():
    assert (
        run_shell("corpus-tools clean seeds/ -q --residue").stdout == run_shell("corpus-tools clean seeds/ -q").stdout
    )


def test_a_listing_page_is_dropped_never_emitted(tmp_path):
    page = orjson.dumps({"id": "index", "text": "\n".join(LISTING["lines"]), "source": "https://example.org/list"})
    seed = run_shell("corpus-tools ingest seeds/000_d71da426b8456c2b.txt").stdout
    result = run_shell(f"corpus-tools clean --residue --dropped {tmp_path / 'd.jsonl'} -", input=page + b"\n" + seed)
    assert result.returncode == 0, result.stderr
    assert [r["id"] for r in parse_jsonl(result.stdout)] == ["000_d71da426b8456c2b"]
    [dropped] = parse_jsonl((tmp_path / "d.jsonl").read_bytes())
    assert (dropped["step"], dropped["reason"], dropped["record"]["id"]) == ("residue", "listing_page", "index")


def test_cuts_go_to_the_audit_with_their_rules():
    text = "A body paragraph that says something about the matter at hand, in full.\nSubscribe to our newsletter"
    out = Pipeline((Residue(),)).process({"id": "a", "text": text})
    assert out["text"] == "A body paragraph that says something about the matter at hand, in full."
    assert out["metadata"]["cuts"] == [{"step": "residue", "rule": "cta", "paragraph": 1}]
    assert Residue.kinds["cta"] == "cta"


def test_a_dry_run_labels_and_cuts_nothing():
    # clean --dry-run sets every step's dry_run, this one's too (it cut lines in a dry run)
    text = "A body paragraph that says something about the matter at hand, in full.\nSubscribe to our newsletter"
    out = Pipeline((Residue(ResidueOptions(dry_run=True)),)).process({"id": "a", "text": text})
    assert out["text"] == text
    assert out["metadata"]["cuts"] == [{"step": "residue", "rule": "cta", "paragraph": 1, "dry_run": True}]
    dry = run_shell("corpus-tools clean - --residue --dry-run --no-dedup -q", input=orjson.dumps({"text": text}))
    assert parse_jsonl(dry.stdout)[0]["text"] == text


def test_site_furniture_by_recurrence_is_a_corpus_pass(tmp_path):
    body = "Paragraph {} of page {} says what this page is about, and ends a sentence."
    footer = "Our partners and friends across the region"
    lines = []
    for page in range(6):
        text = "\n".join([body.format(k, page) for k in range(4)] + [footer])
        lines.append(orjson.dumps({"id": f"p{page}", "text": text, "source": f"https://news.example/{page}"}))
    (tmp_path / "site.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    aware = parse_jsonl(run_shell(f"corpus-tools clean {tmp_path / 'site.jsonl'} -q --residue").stdout)
    assert all(footer not in r["text"] for r in aware)
    assert all({"step": "residue", "rule": "site_recurring", "paragraph": 4} in r["metadata"]["cuts"] for r in aware)
    # without the pass, they stay
    unaware = parse_jsonl(
        run_shell(f"corpus-tools clean {tmp_path / 'site.jsonl'} -q --residue --no-corpus-aware").stdout
    )
    assert all(footer in r["text"] for r in unaware)


def test_a_drop_carries_the_reason_through_the_runner():
    result = Pipeline((Residue(ResidueOptions()),)).process({"id": "x", "text": "\n".join(LISTING["lines"])})
    assert isinstance(result, Dropped) and (result.step, result.drop.reason) == ("residue", "listing_page")
    assert Residue().label(Doc({"text": "\n".join(LISTING["lines"])})).drop.reason == "listing_page"


def test_explain_shows_residue_cuts():
    text = "A body paragraph that says something about the matter at hand, in full.\nSubscribe to our newsletter"
    line = orjson.dumps({"id": "a", "text": text, "source": "s"}) + b"\n"
    result = run_shell("corpus-tools explain --residue --format plain -", input=line)
    assert result.stdout.decode().splitlines()[1].split("\t")[2:5] == ["cta", "residue", "cta"]


def test_previews_a_teaser_tail_hid_go_once_teasers_cut_it():
    # residue runs before teasers: a teaser tail (cut mid-sentence, no truncation mark) ends the page, so the two
    # marked previews above it are not residue's trailing run; teasers cuts the tail and residue looks again, so
    # a second run of the pipeline finds nothing more
    from corpus_tools.credits import Credits
    from corpus_tools.teasers import Teasers

    body = [
        "The ministry froze the research budgets of several universities on Monday, and students protested.",
        "The vice-chancellors said the cut would stop the payment of grants from next month, and asked for talks.",
        "The minister said the budget would be reviewed in the spring, once the new figures were known.",
    ]
    previews = ["Die gesamte Recherche zu den Exporten nach Russland | mehr", "Ein Händler in Haft | mehr"]
    tail = (  # 100 words, cut mid-sentence: the teaser band
        "Every few months a foreign reporter goes to the border town to ask the farmers what they think of "
        "the new road and the farmers say the same thing they said the year before which is that the road "
        "brings trucks and the trucks bring dust and the dust settles on the fields and the fields give less "
        "than they did when the road was a track and the carts were slow and nobody came from the city to ask "
        "them anything at all about the road or the dust or the fields and then the reporter drives back "
        "along"
    )
    pipeline = Pipeline((Credits(), Residue(), Teasers()))
    once = pipeline.process({"id": "x", "text": "\n".join([*body, *previews, tail])})
    assert [(c["step"], c["rule"], c["paragraph"]) for c in once["metadata"]["cuts"]] == [
        ("teasers", "truncated", 5),
        ("residue", "preview_marked", 3),
        ("residue", "preview_marked", 4),
    ]
    assert once["text"] == "\n".join(body)
    assert pipeline.process({"id": "x", "text": once["text"]})["text"] == once["text"]


def test_without_residue_teasers_runs_once():
    # its further round is for residue only: in a pipeline without it, teasers runs once (its labels are their own
    # fixed point), with it, twice
    from corpus_tools.credits import Credits
    from corpus_tools.teasers import Teasers

    def rounds(pipeline: Pipeline) -> dict[str, int]:
        return {name: n for _, name, _, _, n, _ in pipeline._plan}

    assert rounds(Pipeline((Credits(), Teasers())))["teasers"] == 1
    assert rounds(Pipeline((Credits(), Residue(), Teasers()))) == {"credits": 1, "residue": 3, "teasers": 2}
    assert rounds(Pipeline((Residue(),)))["residue"] == 3  # residue's own rounds need no credits
