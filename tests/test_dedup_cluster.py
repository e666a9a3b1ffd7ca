"""Dedup's cluster decision (map to groups, shuffle, links, keep-first over the links) against the in-order one.

The shuffle is simulated in process (a dict of groups, filled in a shuffled order), so every case runs in
milliseconds; ``test_dask.py`` runs the same path on a real LocalCluster.
"""

from __future__ import annotations

import random

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import near_duplicate_corpus as corpus
from corpus_tools.dedup import Dedup, DedupIndex, DedupOptions, exact_key, save_index, signature
from corpus_tools.engine import LinesBatch, apply_verdicts, group_entries, group_links, process_batch
from corpus_tools.pipeline import Dropped, Pipeline, Verdicts
from corpus_tools.step import EARLIER_RUN, keep_first

pytest.importorskip("rensa")


def batches_of(records: list[dict], size: int) -> list[LinesBatch]:
    lines = [orjson.dumps(record) + b"\n" for record in records]
    return [
        LinesBatch("in.jsonl", start + 1, b"".join(lines[start : start + size])) for start in range(0, len(lines), size)
    ]


def in_order(pipeline: Pipeline, batches: list[LinesBatch]) -> tuple[list[bytes], list[tuple[str, dict]]]:
    """What the local engine writes: the kept lines, and each drop's (record id, drop extra)."""
    verdicts = Verdicts(pipeline.ordered)
    kept, dropped = [], []
    for batch in batches:
        result = process_batch(pipeline, batch)
        for block, keys in zip(result.outputs, result.block_keys, strict=True):
            for line, (record_id, record_keys, _source, _line) in zip(block.splitlines(True), keys, strict=True):
                verdict = verdicts.decide(record_keys, record_id, None)
                if verdict is None:
                    kept.append(line)
                else:
                    dropped.append((record_id, verdict.drop.reason, verdict.drop.details))
    return kept, dropped


def on_cluster(pipeline: Pipeline, batches: list[LinesBatch], seed: int) -> tuple[list[bytes], list[tuple[str, dict]]]:
    """The cluster path with the shuffle done by a dict: groups filled from the batches in a random order."""
    verdicts = Verdicts(pipeline.ordered)
    results = [process_batch(pipeline, batch) for batch in batches]
    [step] = verdicts.steps
    [state] = verdicts.states
    corpus_pass = step.corpus_pass
    entries = [entry for n, result in enumerate(results) for entry in group_entries(result, n, step, 0, frozenset())]
    entries += [
        (group, ((EARLIER_RUN, n), record_id, key))
        for n, (record_id, key) in enumerate(corpus_pass.earlier(state))
        for group in corpus_pass.groups(key, step.options)
    ]
    random.Random(seed).shuffle(entries)
    groups: dict[int, list] = {}
    for entry in entries:
        groups.setdefault(entry[0], []).append(entry)
    links = [link for item in groups.items() for link in group_links(step, item)]
    random.Random(seed + 1).shuffle(links)
    by_batch: dict[int, dict[int, Dropped]] = {}
    for (batch, position), (kept, kept_id, detail) in keep_first(links).items():
        drop = corpus_pass.verdict(detail, kept_id, kept[0] == EARLIER_RUN)
        by_batch.setdefault(batch, {})[position] = Dropped(step.name, drop, None)
    kept_lines, dropped = [], []
    for n, result in enumerate(results):
        for output in apply_verdicts(result, by_batch.get(n, {})).outputs:
            if isinstance(output, bytes):
                kept_lines.extend(output.splitlines(True))
            else:
                record = output.dropped
                dropped.append((record.record["id"], record.drop.reason, record.drop.details))
    return kept_lines, dropped


@pytest.mark.parametrize("mode", ["exact", "near"])
@pytest.mark.parametrize("seed", range(6))
def test_the_cluster_decision_equals_the_in_order_one(mode: str, seed: int) -> None:
    records = corpus(random.Random(seed), 120)
    pipeline = Pipeline([Dedup(DedupOptions(mode=mode, threshold=0.6, shingle=2))])
    batches = batches_of(records, 7)
    expected = in_order(pipeline, batches)
    assert expected[1], "the corpus has duplicates"
    assert on_cluster(pipeline, batches, seed) == expected


@pytest.mark.slow  # over 0.3 s: out of the quick loop (pytest -m 'not slow')
@given(seed=st.integers(0, 2**32 - 1), documents=st.integers(0, 60), size=st.integers(1, 9))
@settings(max_examples=60, deadline=None)
def test_the_cluster_decision_equals_the_in_order_one_on_generated_corpora(
    seed: int, documents: int, size: int
) -> None:
    records = corpus(random.Random(seed), documents)
    pipeline = Pipeline([Dedup(DedupOptions(mode="near", threshold=0.5, shingle=1))])
    batches = batches_of(records, size)
    assert on_cluster(pipeline, batches, seed) == in_order(pipeline, batches)


@pytest.mark.parametrize("mode", ["exact", "near"])
def test_an_earlier_run_counts_first_on_the_cluster_too(tmp_path, mode: str) -> None:
    rng = random.Random(7)
    earlier, today = corpus(rng, 60), corpus(rng, 60)
    options = DedupOptions(mode=mode, threshold=0.6, shingle=2)
    index = DedupIndex(options)
    for record in earlier[::2]:  # the earlier run kept every other one (an index need not be duplicate-free)
        sig = signature(record["text"], options) if mode == "near" else None
        index.add(record["id"], exact_key(record["text"], options.fold), sig)
    save_index(index, str(tmp_path / "earlier.idx"))
    today = earlier[1::3] + today  # some of today's documents are yesterday's
    against = DedupOptions(mode=mode, threshold=0.6, shingle=2, against=(str(tmp_path / "earlier.idx"),))
    pipeline = Pipeline([Dedup(against)])
    batches = batches_of(today, 5)
    expected = in_order(pipeline, batches)
    assert any(details.get("earlier_run") for _id, _reason, details in expected[1])
    assert on_cluster(pipeline, batches, 3) == expected


def test_keep_first_keeps_the_earliest_kept_link_and_ignores_links_into_an_earlier_run() -> None:
    a, b, c, d = (0, 0), (0, 1), (1, 0), (1, 1)
    earlier = (EARLIER_RUN, 0)
    links = [(a, "a", b, 0.9), (b, "b", c, 0.9), (a, "a", d, 0.8), (b, "b", d, 0.95), (a, "a", earlier, 1.0)]
    # b goes (a is kept); c links only to b, which went: c stays; d's earliest kept link is a
    assert keep_first(links + links[:2]) == {b: (a, "a", 0.9), d: (a, "a", 0.8)}
