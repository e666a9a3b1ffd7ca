#!/usr/bin/env python3
"""Benchmark of ``corpus_tools.dedup``: exact and near dedup, datasketch and rensa measured in the same run.

    python scripts/bench_dedup.py                     # 100,000 documents (~700 MB of text), both libraries
    python scripts/bench_dedup.py --docs 20000        # a quicker run
    python scripts/bench_dedup.py --docs 20000 --json # the figures as one JSON object too

The corpus is built in memory from the seeds, in batches, so it never sits on disk: each base document is seed
paragraphs (about 4-10 KB) in random order with every fourth word replaced by a word drawn from the seeds'
vocabulary (seed-like text whose 5-word shingles are its own, as different articles' are); then 12% are near copies
of an earlier document (one word in 33 changed, a paragraph dropped, or a teaser-like paragraph appended) and 8%
exact copies (half of them with their case and spacing changed, which the default fold folds).

Figures are CPU seconds of this one process (``time.process_time``), so MB/s is per core; MB are UTF-8 bytes of
text. Memory per document is what ``tracemalloc`` sees the structures take, divided by the number of documents.
``clean``'s own speed (for exact dedup's share of it) is measured on a sample written to a temporary file.
"rensa" is the module's own path (``shingle_hashes`` then rensa's 64-bit-token entry point); "rensa, string
shingles" and "datasketch" take the shingle strings (datasketch needs them as bytes), so their signature columns
compare the libraries on the same input. "copies found" counts the planted near and exact copies dropped: a near
copy with one word in 33 changed has a true Jaccard near 0.74, below the default 0.8, so not every one is.

A run on 2 cores shared with other work (load average ~8), Python 3.12, rensa 0.5.0, datasketch 2.0.0:

    100,000 documents, 734 MB of text (80,116 base, 11,904 near copies, 7,980 exact copies); threshold 0.8,
    5-word shingles, 128 permutations (9 bands x 13 rows)

                                            docs/s  MB/s/core  signature MB/s  dropped  copies found
    exact (blake2b-128, keep-first)      22,545      165.5                    7,985
    near, rensa                              2,208       16.2           108.8   15,093        75.9%
    near, rensa, string shingles             1,105        8.1            72.4   15,091        75.9%
    near, datasketch                           518        3.8             6.5   15,096        75.9%

    exact dedup vs clean: clean 19.0 MB/s/core, exact dedup 165 MB/s/core: 11.5% of clean's time
    memory per document: exact 84 B in memory (16 B digest + id + dict slot), 15.5 B in an index file; near
    1310 B in memory (signature + band keys), 464 B in an index file
    libraries agree on 96.8% of dropped documents; base documents dropped: 0 by each; peak RSS 1,280 MB

Again with XXH3-128 digests and the fold's shortcut (0.3.0), load average ~2.5:

    exact (xxh3-128, keep-first)            29,035      213.1                    7,985
    near, rensa                              2,253       16.5           100.9   15,093        75.9%
    near, datasketch                           535        3.9             6.5   15,096        75.9%
    exact dedup vs clean: clean 11.0 MB/s/core, exact dedup 213 MB/s/core: 5.2% of clean's time
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from array import array
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from corpus_tools.dedup import (  # noqa: E402 - the checkout's package, not an installed one
    DedupIndex,
    DedupOptions,
    ExactIndex,
    band_keys,
    decide,
    exact_key,
    shingle_hashes,
    shingles,
    similarity,
)

SEEDS = ROOT / "seeds"
BATCH = 2000


# ------------------------------------------------------------------------------------------------ the corpus


def _seed_paragraphs() -> list[list[str]]:
    paragraphs = []
    for path in sorted(SEEDS.glob("*.txt")):
        paragraphs.extend(p.split() for p in path.read_text(encoding="utf-8").split("\n") if p.strip())
    return paragraphs


def corpus(n: int, seed: int = 0) -> Iterator[tuple[str, str]]:
    """``(kind, text)`` for ``n`` documents: kind is ``base``, ``near`` or ``exact`` (what the document was made as).
    Near and exact copies are of one of the last 5,000 base documents (memory stays bounded)."""
    rng = random.Random(seed)
    paragraphs = _seed_paragraphs()
    vocabulary = sorted({word for paragraph in paragraphs for word in paragraph})
    recent: list[str] = []
    for _ in range(n):
        roll = rng.random()
        if recent and roll < 0.08:
            text = rng.choice(recent)
            if rng.random() < 0.5:
                text = "  " + text.upper().replace(" ", "  ")
            yield "exact", text
            continue
        if recent and roll < 0.20:
            parts = rng.choice(recent).split("\n")
            how = rng.random()
            if how < 0.4:
                words = " ".join(parts).split(" ")
                start = rng.randrange(33)
                words[start::33] = rng.choices(vocabulary, k=len(words[start::33]))
                parts = [" ".join(words)]
            elif how < 0.7 and len(parts) > 4:
                del parts[rng.randrange(len(parts))]
            else:
                parts.append(" ".join(rng.choice(paragraphs)[:100]))
            yield "near", "\n".join(parts)
            continue
        target = rng.randint(4000, 10000)
        parts, size = [], 0
        while size < target:
            words = list(rng.choice(paragraphs))
            start = rng.randrange(4)
            words[start::4] = rng.choices(vocabulary, k=len(words[start::4]))
            paragraph = " ".join(words)
            parts.append(paragraph)
            size += len(paragraph) + 1
        text = "\n".join(parts)
        recent.append(text)
        if len(recent) > 5000:
            del recent[: len(recent) - 5000]
        yield "base", text


def batches(n: int, seed: int) -> Iterator[list[tuple[str, str]]]:
    batch: list[tuple[str, str]] = []
    for item in corpus(n, seed):
        batch.append(item)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


# ------------------------------------------------------------------------------------------------ MinHash


def rensa_hash_signatures(tokens: list[list[int]], options: DedupOptions) -> list[bytes]:
    """``corpus_tools.dedup.signatures`` after its shingle hashes: rensa's batch entry point for 64-bit tokens."""
    import rensa

    present = [t for t in tokens if t]
    matrix = rensa.RMinHash.digest_matrix_from_token_hash_sets(present, options.permutations, options.seed)
    rows = iter(matrix.to_rows())
    return [array("I", next(rows)).tobytes() if t else b"" for t in tokens]


def rensa_string_signatures(tokens: list[set[str]], options: DedupOptions) -> list[bytes]:
    """rensa over the shingle strings (it hashes them itself)."""
    import rensa

    present = [t for t in tokens if t]
    digests = iter(rensa.RMinHash.digests_from_token_sets(present, options.permutations, options.seed))
    return [array("I", next(digests)).tobytes() if t else b"" for t in tokens]


def datasketch_signatures(tokens: list[set[str]], options: DedupOptions) -> list[bytes]:
    """datasketch over the shingle strings (``MinHash.bulk``, its batch path; tokens must be bytes)."""
    import numpy
    from datasketch import MinHash

    present = [[token.encode("utf-8") for token in t] for t in tokens if t]
    minhashes = iter(MinHash.bulk(present, num_perm=options.permutations, seed=options.seed))
    return [numpy.asarray(next(minhashes).hashvalues, dtype="<u4").tobytes() if t else b"" for t in tokens]


#: name -> (tokens it takes: "hashes" are corpus_tools.dedup.shingle_hashes, "strings" its shingles(), compute)
LIBRARIES: dict[str, tuple[str, Callable[[Any, DedupOptions], list[bytes]]]] = {
    "rensa": ("hashes", rensa_hash_signatures),
    "rensa, string shingles": ("strings", rensa_string_signatures),
    "datasketch": ("strings", datasketch_signatures),
}


def _version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


# ------------------------------------------------------------------------------------------------ measuring


def clean_speed(sample: list[str]) -> float:
    """``corpus-tools clean``'s MB/s per core (CPU time of the child) on ``sample`` as JSON lines."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sample.jsonl"
        with open(path, "wb") as out:
            for n, text in enumerate(sample):
                out.write(orjson.dumps({"id": f"d{n}", "text": text}) + b"\n")
        executable = Path(sys.executable).parent / "corpus-tools"
        command = [
            str(executable) if executable.exists() else "corpus-tools",
            "clean",
            str(path),
            "-q",
            "-o",
            os.devnull,
        ]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(command, check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    seconds = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return sum(len(t.encode("utf-8")) for t in sample) / 1e6 / seconds


def traced(build: Callable[[], Any]) -> tuple[Any, int]:
    """``build()`` and the bytes it left allocated."""
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    value = build()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return value, after - before


def run(args: argparse.Namespace) -> dict[str, Any]:
    options = DedupOptions(mode="near", threshold=args.threshold)
    n, megabytes = 0, 0.0
    kinds: list[str] = []
    cpu: dict[str, float] = dict.fromkeys(("generate", "exact", "hashes", "strings", "bands"), 0.0)
    cpu.update({f"sig_{name}": 0.0 for name in LIBRARIES})
    sigs: dict[str, list[bytes]] = {name: [] for name in LIBRARIES}
    digests: list[bytes] = []
    clean_sample: list[str] = []
    keys: dict[str, list[list[int]]] = {name: [] for name in LIBRARIES}

    clock = time.process_time
    start = clock()
    for batch in batches(args.docs, args.seed):
        texts = [text for _, text in batch]
        kinds.extend(kind for kind, _ in batch)
        n += len(texts)
        megabytes += sum(len(text.encode("utf-8")) for text in texts) / 1e6
        if len(clean_sample) < args.clean_docs:
            clean_sample.extend(texts[: args.clean_docs - len(clean_sample)])
        t0 = clock()
        cpu["generate"] += t0 - start
        digests.extend(exact_key(text) for text in texts)
        t1 = clock()
        cpu["exact"] += t1 - t0
        tokens = {"hashes": [shingle_hashes(text, options.shingle) for text in texts]}
        t2 = clock()
        cpu["hashes"] += t2 - t1
        tokens["strings"] = [shingles(text, options.shingle) for text in texts]
        cpu["strings"] += clock() - t2
        for name, (kind, compute) in LIBRARIES.items():
            t = clock()
            computed = compute(tokens[kind], options)
            cpu[f"sig_{name}"] += clock() - t
            sigs[name].extend(computed)
        t3 = clock()
        for name in LIBRARIES:
            keys[name].extend(band_keys(sig, options) for sig in sigs[name][-len(texts) :])
        cpu["bands"] += (clock() - t3) / len(LIBRARIES)
        start = clock()
        print(f"\r{n:,} documents, {megabytes:,.0f} MB", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)

    # exact: the keep-first pass over the digests (an ExactIndex, as a worker or the driver holds it)
    t = clock()
    exact_index = ExactIndex()
    exact_dropped = {i for i, digest in enumerate(digests) if not exact_index.add(digest, f"doc{i:07d}")[0]}
    cpu["exact_pass"] = clock() - t

    # near: the shuffle (group by band key) and the decision, per library
    verdicts: dict[str, dict[int, tuple[int, float]]] = {}
    for name in LIBRARIES:
        t = clock()
        groups: dict[int, list[tuple[int, bytes]]] = {}
        for i, (sig, doc_keys) in enumerate(zip(sigs[name], keys[name], strict=True)):
            for key in doc_keys:
                groups.setdefault(key, []).append((i, sig))
        verdicts[name] = decide((g for g in groups.values() if len(g) > 1), options)
        cpu[f"decide_{name}"] = clock() - t
        del groups

    # memory per document
    sample = min(n, args.memory_docs)
    _, exact_bytes = traced(lambda: _exact_index(digests[:sample]))
    _, near_bytes = traced(lambda: _near_state(sigs["rensa"][:sample], keys["rensa"][:sample]))
    index = DedupIndex(options)
    for i in range(sample):
        index.add(f"doc{i:07d}", digests[i], sigs["rensa"][i])
    near_file = len(index.to_bytes())
    exact_file_index = DedupIndex(DedupOptions())
    for i in range(sample):
        exact_file_index.add(f"doc{i:07d}", digests[i])
    exact_file = len(exact_file_index.to_bytes())

    clean_mb_s = clean_speed(clean_sample) if clean_sample else float("nan")

    # quality: planted copies found, base documents dropped, agreement of the libraries
    planted = {i for i, kind in enumerate(kinds) if kind != "base"}
    quality = {}
    for name in LIBRARIES:
        dropped = set(verdicts[name])
        quality[name] = {
            "dropped": len(dropped),
            "planted_found": len(dropped & planted) / max(1, len(planted)),
            "base_dropped": len(dropped - planted),
        }
    common = set(verdicts["rensa"]) & set(verdicts["datasketch"])
    agreement = len(common) / max(1, len(set(verdicts["rensa"]) | set(verdicts["datasketch"])))
    estimate_gap = max(
        (abs(similarity(sigs["rensa"][i], sigs["rensa"][k]) - similarity(sigs["datasketch"][i], sigs["datasketch"][k]))
         for i in common for k in [verdicts["rensa"][i][0]] if verdicts["datasketch"][i][0] == k),
        default=0.0,
    )  # fmt: skip

    shared = cpu["bands"]
    result: dict[str, Any] = {
        "documents": n,
        "megabytes": round(megabytes, 1),
        "planted": {kind: kinds.count(kind) for kind in ("base", "near", "exact")},
        "versions": {name: _version(name) for name in ("rensa", "datasketch", "numpy")},
        "options": {
            "threshold": options.threshold,
            "shingle": options.shingle,
            "permutations": options.permutations,
            "bands": options.bands,
            "rows": options.rows,
        },
        "cpu_seconds": {key: round(value, 2) for key, value in cpu.items()},
        "exact": {
            "docs_per_s": n / (cpu["exact"] + cpu["exact_pass"]),
            "mb_per_s": megabytes / (cpu["exact"] + cpu["exact_pass"]),
            "dropped": len(exact_dropped),
            "clean_mb_per_s": clean_mb_s,
            "share_of_clean": (cpu["exact"] + cpu["exact_pass"]) / (megabytes / clean_mb_s),
            "memory_bytes_per_doc": exact_bytes / sample,
            "index_file_bytes_per_doc": exact_file / sample,
        },
        "near": {},
        "near_memory_bytes_per_doc": near_bytes / sample,
        "near_index_file_bytes_per_doc": near_file / sample,
        "agreement": agreement,
        "max_estimate_gap": estimate_gap,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    for name in LIBRARIES:
        signature_only = cpu[f"sig_{name}"]
        total = shared + cpu[LIBRARIES[name][0]] + signature_only + cpu[f"decide_{name}"]
        result["near"][name] = {
            "signature_mb_per_s": megabytes / signature_only,
            "docs_per_s": n / total,
            "mb_per_s": megabytes / total,
            **quality[name],
        }
    return result


def _exact_index(digests: list[bytes]) -> ExactIndex:
    index = ExactIndex()
    for i, digest in enumerate(digests):
        index.add(bytes(digest), f"doc{i:07d}")  # fresh copies: the digests are the index's own
    return index


def _near_state(sigs: list[bytes], keys: list[list[int]]) -> tuple[list[bytes], dict[int, list[int]]]:
    """What the in-memory near pass holds per document: its signature and its ordinal under each band key."""
    own = [bytes(sig) for sig in sigs]
    groups: dict[int, list[int]] = {}
    for i, doc_keys in enumerate(keys):
        for key in doc_keys:
            groups.setdefault(key + 0, []).append(i)
    return own, groups


def report(result: dict[str, Any]) -> None:
    exact, near = result["exact"], result["near"]
    print(
        f"{result['documents']:,} documents, {result['megabytes']:,.0f} MB of text "
        f"(base/near/exact copies: {result['planted']}); rensa {result['versions']['rensa']}, "
        f"datasketch {result['versions']['datasketch']}; threshold {result['options']['threshold']}, "
        f"{result['options']['shingle']}-word shingles, {result['options']['permutations']} permutations "
        f"({result['options']['bands']} bands x {result['options']['rows']} rows)"
    )
    print()
    print(f"{'':36} {'docs/s':>9} {'MB/s/core':>10} {'signature MB/s':>15} {'dropped':>8} {'copies found':>13}")
    print(f"{'exact (xxh3-128, keep-first)':36} {exact['docs_per_s']:9,.0f} {exact['mb_per_s']:10.1f} "
          f"{'':>15} {exact['dropped']:8,}")  # fmt: skip
    for name, row in near.items():
        print(
            f"{'near, ' + name:36} {row['docs_per_s']:9,.0f} {row['mb_per_s']:10.1f} "
            f"{row['signature_mb_per_s']:15.1f} {row['dropped']:8,} {row['planted_found']:12.1%}"
        )
    print()
    cpu = result["cpu_seconds"]
    print("CPU seconds: " + ", ".join(f"{k} {v}" for k, v in cpu.items()))
    print(
        f"exact dedup vs clean: clean {exact['clean_mb_per_s']:.1f} MB/s/core, exact dedup {exact['mb_per_s']:.0f} "
        f"MB/s/core: {exact['share_of_clean']:.1%} of clean's time"
    )
    print(
        f"memory per document: exact {exact['memory_bytes_per_doc']:.0f} B in memory (16 B digest + id + dict slot), "
        f"{exact['index_file_bytes_per_doc']:.1f} B in an index file; near {result['near_memory_bytes_per_doc']:.0f} B "
        f"in memory (signature + band keys), {result['near_index_file_bytes_per_doc']:.0f} B in an index file"
    )
    print(
        f"libraries agree on {result['agreement']:.1%} of dropped documents; base documents dropped: "
        + ", ".join(f"{name} {row['base_dropped']}" for name, row in near.items())
        + f"; peak RSS {result['peak_rss_mb']:,.0f} MB"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threshold", type=float, default=0.8)
    parser.add_argument("--clean-docs", type=int, default=3000, help="documents of the sample clean runs on")
    parser.add_argument("--memory-docs", type=int, default=20_000, help="documents memory is measured on")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args(argv)
    result = run(args)
    report(result)
    if args.json:
        print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
