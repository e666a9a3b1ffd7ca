"""``clean --engine dask``: the same records as the local engine, on a real LocalCluster of process workers."""

from __future__ import annotations

import builtins
from pathlib import Path

import pytest
from test_clean import generated_corpus

from conftest import SEEDS, parse_jsonl

distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")


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
    local = cli(["clean", corpus, "--jobs", "1", "--on-error", "skip", "--rejects", tmp_path / "r1", "-q"])
    engine = ["--engine", "dask", "--scheduler", cluster.scheduler_address]
    dask = cli(["clean", corpus, *engine, "--on-error", "skip", "--rejects", tmp_path / "r2", "-q"])
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
    assert dask.stderr.startswith("clean: 5 records in, 5 out, 0 rejected, 16 teasers cut")
    from test_clean import read_shards

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
