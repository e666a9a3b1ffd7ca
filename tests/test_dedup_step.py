"""The dedup step in the pipeline: clean's last step (exact by default, --dedup near, --no-dedup), the single
command, the dropped stream, determinism across --jobs and engines, across runs, explain and the manifest."""

from __future__ import annotations

import orjson
import pytest

from conftest import ROOT, SEEDS, parse_jsonl, run_shell
from corpus_tools.dedup import Dedup, DedupOptions
from corpus_tools.pipeline import Dropped, Pipeline, Verdicts

SEED_IDS = sorted(p.stem for p in SEEDS.glob("*.txt"))


def test_clean_keeps_four_by_default_five_without_dedup_and_names_the_kept_one(tmp_path):
    result = run_shell(f"corpus-tools clean seeds/ --dropped {tmp_path / 'dropped.jsonl'} -o {tmp_path / 'out.jsonl'}")
    assert result.returncode == 0, result.stderr
    out = parse_jsonl((tmp_path / "out.jsonl").read_bytes())
    assert [r["id"] for r in out] == [i for i in SEED_IDS if not i.startswith("001")]
    dropped = parse_jsonl((tmp_path / "dropped.jsonl").read_bytes())
    assert [(d["step"], d["reason"], d["duplicate_of"], d["record"]["id"]) for d in dropped] == [
        ("dedup", "duplicate_exact", SEED_IDS[0], SEED_IDS[1])
    ]
    assert dropped[0]["source"] == f"seeds/{SEED_IDS[1]}.txt"
    manifest = orjson.loads((tmp_path / "out.jsonl.manifest.json").read_bytes())
    assert manifest["counts"]["dropped_by_reason"] == {"dedup.duplicate_exact": 1}
    assert "1 dropped (1 dedup.duplicate_exact)" in result.stderr.decode()
    without = run_shell("corpus-tools clean seeds/ --no-dedup -q")
    assert [r["id"] for r in parse_jsonl(without.stdout)] == SEED_IDS


def test_the_single_command_near_keeps_four_and_names_000(tmp_path):
    result = run_shell(
        f"corpus-tools clean {ROOT}/seeds/ --no-dedup -q | corpus-tools dedup --near --dropped d.jsonl -q", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    kept = parse_jsonl(result.stdout)
    dropped = parse_jsonl((tmp_path / "d.jsonl").read_bytes())
    assert len(kept) == 4 and all("reason" not in r for r in kept)
    assert [(d["reason"], d["duplicate_of"], d["record"]["id"]) for d in dropped] == [
        ("duplicate_near", SEED_IDS[0], SEED_IDS[1])
    ]
    assert dropped[0]["similarity"] == 1.0


def test_raw_000_and_001_are_not_near_duplicates_until_cleaned():
    # their teaser tails differ: raw, the word-shingle Jaccard is far below the threshold
    result = run_shell("corpus-tools ingest seeds/ | corpus-tools dedup --near -q")
    assert len(parse_jsonl(result.stdout)) == 5


@pytest.mark.parametrize("mode", ["exact", "near"])
def test_the_same_output_whatever_the_jobs(mode):
    outputs = {run_shell(f"corpus-tools clean seeds/ -q --dedup {mode} --jobs {jobs}").stdout for jobs in (1, 2)}
    assert len(outputs) == 1 and len(parse_jsonl(outputs.pop())) == 4


@pytest.mark.slow
def test_the_dask_engine_gives_the_local_output():
    local = run_shell("corpus-tools clean seeds/ -q --dedup near")
    dask = run_shell("corpus-tools clean seeds/ -q --dedup near --engine dask --jobs 2")
    assert dask.returncode == 0, dask.stderr
    assert dask.stdout == local.stdout


def test_keep_first_in_input_order_and_fold():
    records = [
        {"id": "a", "text": "One  Text."},
        {"id": "b", "text": "one text."},
        {"id": "c", "text": "Other."},
        {"id": "d", "text": "ONE TEXT."},
    ]

    def run(options: DedupOptions) -> list[tuple[str, str | None]]:
        pipeline = Pipeline((Dedup(options),))
        verdicts = Verdicts(pipeline.ordered)
        out = []
        for record in records:
            keys: list = []
            result = pipeline.process(record, None, keys)
            verdict = verdicts.decide(keys, record["id"], result)
            out.append((record["id"], verdict.drop.details["duplicate_of"] if verdict else None))
        return out

    assert run(DedupOptions()) == [("a", None), ("b", "a"), ("c", None), ("d", "a")]
    assert run(DedupOptions(fold="none")) == [("a", None), ("b", None), ("c", None), ("d", None)]


def test_across_runs_save_index_then_against(tmp_path):
    index = tmp_path / "kept.idx"
    first = run_shell(f"corpus-tools clean seeds/ -q --save-index {index} -o {tmp_path / 'a.jsonl'}")
    assert first.returncode == 0 and index.stat().st_size > 0
    again = run_shell(f"corpus-tools clean seeds/ --against {index} --dropped {tmp_path / 'd.jsonl'} -q")
    assert again.stdout == b""
    dropped = parse_jsonl((tmp_path / "d.jsonl").read_bytes())
    assert [d["duplicate_of"] for d in dropped] == [SEED_IDS[0], SEED_IDS[0], *SEED_IDS[2:]]
    assert all(d["earlier_run"] for d in dropped)  # 001 too: its text is 000's, which the earlier run kept


def test_against_several_earlier_runs(tmp_path):
    # a daily crawl: each day's kept records in an index of its own, each new day checked against all of them
    bridge = "The mayor opened the new bridge across the river on Monday morning with a ribbon."
    bakery = "Fresh news about a local bakery winning an award for its sourdough bread loaves."
    days = {
        "day1": [{"id": "x1", "text": bridge}],
        "day2": [{"id": "y1", "text": bakery}],
        "day3": [{"id": "z1", "text": bridge}, {"id": "z2", "text": bakery}, {"id": "z3", "text": "Something new."}],
    }
    for day, records in days.items():
        (tmp_path / f"{day}.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    run = lambda args: run_shell(f"corpus-tools dedup -q {args}", cwd=tmp_path)  # noqa: E731
    assert run("day1.jsonl --save-index k1.idx -o /dev/null").returncode == 0
    assert run("day2.jsonl --against k1.idx --save-index k2.idx -o /dev/null").returncode == 0
    both = run("day3.jsonl --against k1.idx --against k2.idx --dropped d.jsonl")
    assert [r["id"] for r in parse_jsonl(both.stdout)] == ["z3"]
    dropped = parse_jsonl((tmp_path / "d.jsonl").read_bytes())
    assert [(d["record"]["id"], d["duplicate_of"]) for d in dropped] == [("z1", "x1"), ("z2", "y1")]
    assert parse_jsonl(run("day3.jsonl --against k1.idx,k2.idx").stdout) == parse_jsonl(both.stdout)
    # the index a run saves holds its own kept records only: saving over an --against index would lose the others
    same = run("day2.jsonl --against k1.idx --save-index k1.idx")
    assert same.returncode == 2
    assert same.stderr.decode().startswith("error: dedup: --save-index k1.idx is also an --against index")
    assert (tmp_path / "k1.idx").stat().st_size > 0


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ("--threshold 2", "threshold must be in (0, 1]"),
        ("--shingle 0", "Invalid value for '--shingle': Input should be greater than or equal to 1"),
        ("--permutations 1", "Invalid value for '--permutations': Input should be greater than or equal to 2"),
        ("--dedup fuzzy", "Invalid value for '--dedup'"),
    ],
)
def test_options_out_of_range_are_one_line_and_exit_2(flags, message):
    result = run_shell(f"corpus-tools clean seeds/ {flags}")
    assert result.returncode == 2
    assert message in result.stderr.decode() and result.stderr.count(b"\n") == 1


def test_explain_names_the_record_a_duplicate_duplicates():
    result = run_shell("corpus-tools explain seeds/ --format json")
    docs = {d["id"]: d for d in parse_jsonl(result.stdout)}
    assert docs[SEED_IDS[1]]["dropped"] == {
        "step": "dedup",
        "reason": "duplicate_exact",
        "duplicate_of": SEED_IDS[0],
    }
    assert all(docs[i]["dropped"] is None for i in SEED_IDS if i != SEED_IDS[1])


def test_an_empty_pipeline_result_is_not_deduplicated():
    assert isinstance(Pipeline((Dedup(),)).process({"text": " "}), Dropped)
