"""``clean --engine dask``: the same records as the local engine, on a real LocalCluster of process workers."""

from __future__ import annotations

import builtins
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from conftest import SEEDS, generated_corpus, parse_jsonl, read_shards

distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")

pytestmark = pytest.mark.slow  # processes, signals, clusters: seconds each

BIN = Path(sys.executable).parent / "corpus-tools"


@pytest.fixture(scope="module")
def cluster():
    """A real cluster: two process workers on loopback, one thread each, no dashboard."""
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        scheduler_kwargs={"dashboard": False},
    ) as local:
        yield local


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated_corpus(tmp_path_factory.mktemp("dask") / "corpus", files=4, per_file=50)


def test_dask_on_an_existing_cluster_gives_the_local_records(cluster, corpus: Path, tmp_path: Path, cli) -> None:
    skip = ["--on-error", "skip", "-q", "--no-dedup"]
    local = cli(["clean", corpus, "--jobs", "1", *skip, "--rejects", tmp_path / "r1"])
    engine = ["--engine", "dask", "--scheduler", cluster.scheduler_address]
    dask = cli(["clean", corpus, *engine, *skip, "--rejects", tmp_path / "r2"])
    assert local.exit_code == dask.exit_code == 0, dask.stderr
    assert len(parse_jsonl(local.stdout_bytes)) == 205  # 4 x 50 generated + the 5 seeds
    assert dask.stdout_bytes == local.stdout_bytes
    assert (tmp_path / "r1").read_bytes() == (tmp_path / "r2").read_bytes() != b""
    # The cluster did the work: its workers ran tasks.
    with distributed.Client(cluster.scheduler_address) as client:
        assert client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.task_prefixes)) > 0


def test_dask_with_no_address_starts_a_local_cluster_and_writes_shards(tmp_path: Path, cli) -> None:
    local = cli(["clean", SEEDS, "-q"])
    dask = cli(["clean", SEEDS, "--engine", "dask", "--jobs", "2", "-o", f"{tmp_path}/out/", "--shard-size", "2"])
    assert dask.exit_code == 0, dask.stderr
    assert dask.stdout == ""
    assert dask.stderr.startswith(
        "clean: 5 records in, 4 out, 0 rejected, 1 dropped (1 dedup.duplicate_exact), "
        "26 lines cut (credits 6, teasers 16"
    )
    assert read_shards(tmp_path / "out") == local.stdout_bytes


def test_missing_dask_gives_the_install_hint(monkeypatch: pytest.MonkeyPatch, cli) -> None:
    real_import = builtins.__import__

    def no_distributed(name: str, *args, **kwargs):
        if name == "distributed" or name.startswith("distributed."):
            raise ImportError("No module named 'distributed'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_distributed)
    monkeypatch.setattr("importlib.import_module", lambda name: no_distributed(name))
    result = cli(["clean", SEEDS, "--engine", "dask"])
    assert result.exit_code == 2
    assert result.stderr == "error: --engine dask needs Dask: pip install 'corpus-tools[dask]'\n"
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("scheduler-host", "missing port number in address 'scheduler-host'"),
        ("", "missing port number in address ''"),
        ("bogus://x", "unknown address scheme 'bogus' (known schemes: ['inproc', 'tcp', 'tls', 'ucx', 'ws', 'wss'])"),
    ],
)
def test_a_malformed_scheduler_address_is_one_error_line(cli, address: str, reason: str) -> None:
    result = cli(["clean", SEEDS, "--engine", "dask", "--scheduler", address])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"error: bad Dask scheduler address {address!r}: {reason}\n"


def test_a_scheduler_that_does_not_answer_waits_for_dasks_connect_timeout(cli) -> None:
    """The wait is distributed's own connect setting (30 s unless changed), so a user can shorten it."""
    import dask

    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        result = cli(["clean", SEEDS, "--engine", "dask", "--scheduler", "tcp://127.0.0.1:1"])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "error: cannot reach the Dask scheduler at tcp://127.0.0.1:1: "
        "Timed out trying to connect to tcp://127.0.0.1:1 after 1 s\n"
    )


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a real signal to a real process")
def test_a_stop_signal_leaves_only_our_exit_code_and_no_dask_log_lines(tmp_path: Path) -> None:
    """SIGTERM mid-run: exit 143, no output, and nothing on stderr (distributed's WARNING per cancelled task
    included)."""
    text = "A paragraph that ends well.\\nAnother one, with a few more words in it to carry.\\n" * 4
    line = b'{"text": "' + text.encode() + b'"}\n'
    (tmp_path / "in.jsonl").write_bytes(line * 80_000)
    out = tmp_path / "out"
    out.mkdir()
    command = [BIN, "clean", tmp_path / "in.jsonl", "--engine", "dask", "--jobs", "2", "--no-corpus-aware"]
    process = subprocess.Popen(
        [*command, "-o", out / "o.jsonl"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while not any(out.iterdir()) and time.monotonic() < deadline:  # the hidden output: the cleaning has begun
        time.sleep(0.05)
    time.sleep(1.0)  # batches in flight on the workers
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert (process.returncode, err.decode()) == (143, "")
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("mode", ["exact", "near"])
def test_dedup_decides_on_the_cluster_as_the_local_engine_does(cluster, tmp_path: Path, mode: str) -> None:
    import io
    import random

    from conftest import near_duplicate_corpus
    from corpus_tools.dask_engine import DaskEngine
    from corpus_tools.dedup import Dedup, DedupOptions
    from corpus_tools.engine import LocalEngine, StreamSink, run_pipeline
    from corpus_tools.pipeline import DroppedStream, Pipeline

    records = near_duplicate_corpus(random.Random(11), 400)
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"".join(orjson.dumps(record) + b"\n" for record in records))
    pipeline = Pipeline([Dedup(DedupOptions(mode=mode, threshold=0.6, shingle=2))])

    def run(engine) -> tuple[bytes, bytes, int]:
        out, dropped = io.BytesIO(), io.BytesIO()
        try:
            stats = run_pipeline(
                [str(path)], pipeline, StreamSink(out), engine=engine, dropped=DroppedStream(dropped), batch_bytes=1500
            )
        finally:
            engine.close()
        return out.getvalue(), dropped.getvalue(), stats.written

    engine = DaskEngine(cluster.scheduler_address)
    decided_here = engine.map_and_decide
    results = []

    def spy(*args, **kwargs):  # what comes back to the client: processed batches without their keys
        for result in decided_here(*args, **kwargs):
            results.append(result)
            yield result

    engine.map_and_decide = spy
    local, on_cluster = run(LocalEngine(1)), run(engine)
    assert on_cluster == local
    assert 0 < local[2] < 400 and local[1].count(b"\n") == 400 - local[2]
    assert len(results) > 30 and all(result.block_keys == [] for result in results)


def _concatenate(left: str, right: str) -> str:
    return left + right


def _label(shared: str, item: int) -> str:
    return f"{shared}{item},"


def test_map_reduce_merges_in_input_order_on_the_workers(cluster) -> None:
    from corpus_tools.dask_engine import DaskEngine

    engine = DaskEngine(cluster.scheduler_address)
    try:
        for n in (0, 1, 2, 3, 7, 8, 21):
            expected = "".join(f"b{i}," for i in range(n)) or None
            assert engine.map_reduce(_label, "b", range(n), _concatenate) == expected, n
    finally:
        engine.close()


def test_the_workers_read_the_inputs_the_client_only_lists_them(
    cluster, corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gzip
    import io
    import shutil

    from corpus_tools import engine as engines
    from corpus_tools import io as corpus_io
    from corpus_tools.dask_engine import DaskEngine
    from corpus_tools.engine import CleanPlan, StreamSink, corpus_states, run_pipeline
    from corpus_tools.pipeline import OnError

    inputs = tmp_path / "in"
    shutil.copytree(corpus, inputs)
    for part in sorted(inputs.glob("part-[13].jsonl")):  # compressed files: one batch each, read where it runs
        part.with_suffix(".jsonl.gz").write_bytes(gzip.compress(part.read_bytes()))
        part.unlink()
    paths = [str(inputs)]
    from corpus_tools.registry import steps

    plan = CleanPlan(tuple((step.name, step.Options() if step.default_on else None) for step in steps()))

    def clean(engine) -> bytes:
        out = io.BytesIO()
        try:
            states = corpus_states(plan, paths, engine)
            run_pipeline(
                paths, plan.pipeline(states), StreamSink(out), engine=engine, batch_bytes=20_000, on_error=OnError.skip
            )
        finally:
            engine.close()
        return out.getvalue()

    local = clean(engines.LocalEngine(1))

    def no_reading(*args, **kwargs):
        raise AssertionError("the client read an input")

    for module in (engines, corpus_io):  # the client's readers of whole inputs (workers are other processes)
        monkeypatch.setattr(module, "open_binary", no_reading)
        monkeypatch.setattr(module, "read_document_bytes", no_reading)
    assert clean(DaskEngine(cluster.scheduler_address)) == local


@pytest.mark.parametrize("shard_format", ["jsonl", "parquet"])
def test_the_workers_write_the_shards_and_the_client_the_manifest(
    cluster, corpus: Path, tmp_path: Path, cli, shard_format: str
) -> None:
    import orjson

    local = cli(["clean", corpus, "--on-error", "skip", "-q", "--jobs", "1"])
    engine = ["--engine", "dask", "--scheduler", cluster.scheduler_address, "--shard-bytes", "40000"]
    out = tmp_path / "out"
    dask = cli(["clean", corpus, *engine, "--on-error", "skip", "-q", "-o", f"{out}/", "--shard-format", shard_format])
    assert dask.exit_code == 0, dask.stderr
    manifest = orjson.loads((out / "manifest.json").read_bytes())
    names = [shard["path"] for shard in manifest["shards"]]
    suffix = ".parquet" if shard_format == "parquet" else ".jsonl.zst"
    assert len(names) > 5 and all(name.startswith("part-") and name.endswith(suffix) for name in names)
    assert sorted(path.name for path in out.iterdir()) == sorted([*names, "manifest.json"])  # no temporary left
    if shard_format == "jsonl":
        assert read_shards(out) == local.stdout_bytes
    else:
        from corpus_tools.io import read_items

        records = [item.record for item in read_items([str(out)])]
        assert records == parse_jsonl(local.stdout_bytes)
    assert manifest["records"] == len(parse_jsonl(local.stdout_bytes)) == sum(s["records"] for s in manifest["shards"])


def test_a_worker_killed_mid_run_changes_nothing(tmp_path: Path) -> None:
    import os

    from conftest import near_duplicate_corpus

    records = near_duplicate_corpus(__import__("random").Random(5), 3000)
    for record in records:
        record["text"] = " ".join([record["text"]] * 40)  # ~10 KB each: a run of some seconds
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"".join(orjson.dumps(record) + b"\n" for record in records))
    local = subprocess.run([BIN, "clean", source, "-q", "--jobs", "1", "--dedup", "near"], capture_output=True)
    assert local.returncode == 0, local.stderr
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0"
        ) as local_cluster,
        distributed.Client(local_cluster) as client,
    ):
        out = tmp_path / "out"
        command = [BIN, "clean", source, "-q", "--dedup", "near", "--engine", "dask", "--shard-bytes", "200000"]
        run = subprocess.Popen(
            [*command, "--scheduler", local_cluster.scheduler_address, "-o", f"{out}/"], stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 60
        while not any(out.glob("part-*")) and time.monotonic() < deadline:  # the run is well under way
            time.sleep(0.05)
        victim = next(iter(client.run(os.getpid).values()))
        os.kill(victim, signal.SIGKILL)
        _, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
        assert victim not in client.run(os.getpid).values()  # the nanny started another worker
    assert read_shards(out) == local.stdout


def test_a_killed_dask_run_resumed_is_byte_identical_to_one_run(cluster, tmp_path: Path) -> None:
    # The client writes a resumable run's shards; either engine resumes the other's run.
    corpus = generated_corpus(tmp_path / "in", files=6, per_file=60)
    args = ["--shard-size", "40", "--no-dedup", "--on-error", "skip", "-q"]
    whole = subprocess.run([BIN, "clean", corpus, "-o", f"{tmp_path}/whole/", *args], capture_output=True)
    assert whole.returncode == 0, whole.stderr
    dask = ["--engine", "dask", "--scheduler", cluster.scheduler_address, "--resume"]
    stopped = subprocess.run(
        [BIN, "clean", corpus, "-o", f"{tmp_path}/out/", *args, *dask],
        capture_output=True,
        env={**__import__("os").environ, "CORPUS_TOOLS_TEST_STOP_AFTER_SHARDS": "3"},
    )
    assert stopped.returncode != 0  # killed: no clean-up ran
    assert "manifest.json" not in {path.name for path in (tmp_path / "out").iterdir()}
    resumed = subprocess.run([BIN, "clean", corpus, "-o", f"{tmp_path}/out/", *args, *dask], capture_output=True)
    assert resumed.returncode == 0, resumed.stderr
    names = sorted(path.name for path in (tmp_path / "whole").iterdir())
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == names
    for name in names:
        assert (tmp_path / "out" / name).read_bytes() == (tmp_path / "whole" / name).read_bytes(), name


def test_a_failed_run_whose_workers_write_shards_leaves_nothing(cluster, tmp_path: Path) -> None:
    bad = tmp_path / "in.jsonl"
    bad.write_bytes(b'{"text": "fine"}\n' * 50 + b"{broken\n")
    out = tmp_path / "out"
    command = [BIN, "clean", bad, "--engine", "dask", "--scheduler", cluster.scheduler_address, "-o", f"{out}/"]
    failed = subprocess.run(command, capture_output=True)
    assert failed.returncode == 2
    assert failed.stderr.decode().startswith(f"error: {bad}:51: invalid JSON")
    assert b"Traceback" not in failed.stderr
    assert not out.exists()  # the folder this run made, and the shards its workers wrote, are gone
    bad.write_bytes(b'{"text": "fine"}\n' * 50)
    assert subprocess.run(command, capture_output=True).returncode == 0
    assert (out / "manifest.json").exists()


def test_a_failed_run_with_work_in_flight_says_one_line_and_leaves_no_shard(cluster, tmp_path: Path) -> None:
    # The first task fails at once while the second, a bigger file, is still being cleaned on the other worker: the
    # client must not clear the output before that task's shard lands, or the shard stays behind.
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "a.jsonl").write_bytes(b"{broken\n")
    corpus = generated_corpus(tmp_path / "gen", files=1, per_file=2000)
    (inputs / "b.jsonl").write_bytes((corpus / "part-0.jsonl").read_bytes())
    out = tmp_path / "out"
    out.mkdir()  # an output folder that exists already (the previous corpus there): the run does not remove it
    engine = ["--engine", "dask", "--scheduler", cluster.scheduler_address]
    command = [BIN, "clean", inputs, *engine, "--no-corpus-aware", "--no-dedup", "-o", f"{out}/"]
    failed = subprocess.run(command, capture_output=True)
    assert failed.returncode == 2, failed.stderr
    # one line: the engine's work in flight is cancelled while its client is up (a traceback came after it)
    assert failed.stderr.decode().startswith(f"error: {inputs / 'a.jsonl'}:1: invalid JSON")
    assert failed.stderr.count(b"\n") == 1, failed.stderr.decode()
    with distributed.Client(cluster.scheduler_address) as client:
        deadline = time.monotonic() + 60
        while any(client.processing().values()) and time.monotonic() < deadline:
            time.sleep(0.1)
    assert sorted(path.name for path in out.iterdir()) == []
