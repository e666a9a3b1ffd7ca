"""Inputs and outputs as URLs (fsspec), Parquet shards and input, clean --resume, and S3 on a loopback moto server."""

from __future__ import annotations

import gzip
import io
import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
import zstandard

from conftest import SEEDS, generated_corpus, near_duplicate_corpus, parse_jsonl, read_shards, run_shell
from corpus_tools import storage
from corpus_tools.io import input_files, read_records
from corpus_tools.shards import read_manifest

# ------------------------------------------------------------------------------------------------ plain units


def test_urls_and_what_messages_show_of_them():
    assert storage.is_url("s3://bucket/in/") and storage.is_url("file:///tmp/x")
    assert not storage.is_url("/tmp/x") and not storage.is_url("-") and not storage.is_url(None)
    assert storage.safe("s3://AKIA:hunter22@bucket/x") == "s3://***@bucket/x"
    assert storage.options_from(["anon=true", "client_kwargs.region_name=eu-west-1", "key=abc", "n=3"]) == {
        "anon": True,
        "client_kwargs": {"region_name": "eu-west-1"},
        "key": "abc",
        "n": 3,
    }


def test_a_reason_never_shows_an_option_value_or_a_secret(monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "envsecret99")
    with storage.using_options({"secret": "optsecret42", "client_kwargs": {"token": "tok3n-x"}}):
        text = storage.reason(ValueError("bad signature for optsecret42 / envsecret99 / tok3n-x"))
    assert text == "bad signature for *** / *** / ***"


def test_a_bad_storage_option_is_one_line(cli):
    result = cli(["normalize", "--storage-option", "novalue", str(SEEDS / "000_d71da426b8456c2b.txt")])
    assert result.exit_code == 2
    assert result.stderr == "error: --storage-option takes KEY=VALUE, not 'novalue'...\n"


def test_a_missing_extra_is_named(cli):
    result = cli(["clean", "gs://bucket/in/", "-q"])
    assert result.exit_code == 2
    assert result.stderr == "error: gs:// URLs need gcsfs: pip install 'corpus-tools[gcs]'\n"


# ------------------------------------------------------------------------------------------------ file://


def _without_sources(data: bytes, *prefixes: str) -> bytes:
    for prefix in prefixes:
        data = data.replace(f'"source":"{prefix}'.encode(), b'"source":"IN/')
    return data


def test_file_urls_list_like_local_paths_and_clean_the_same(tmp_path: Path, cli):
    corpus = generated_corpus(tmp_path / "in", files=3, per_file=20)
    (corpus / "sub").mkdir()
    (corpus / "sub" / "more.jsonl").write_bytes(b'{"id": "m", "text": "A short line of text here."}\n')
    (corpus / ".hidden.jsonl").write_bytes(b"{}\n")
    local = input_files([str(corpus)])
    remote = input_files([f"file://{corpus}/"])
    assert [(p.replace(str(corpus), ""), i) for p, i in local] == [
        (p.replace(f"file://{corpus}", ""), i) for p, i in remote
    ]
    assert [i for _, i in remote][-2:] == ["part-2", "sub/more"] or "sub/more" in [i for _, i in remote]
    args = ["--on-error", "skip", "-q", "--shard-size", "25"]
    assert cli(["clean", str(corpus), "-o", f"{tmp_path}/a/", *args]).exit_code == 0
    assert cli(["clean", f"file://{corpus}/", "-o", f"file://{tmp_path}/b/", *args]).exit_code == 0
    assert sorted(os.listdir(tmp_path / "b")) == sorted(os.listdir(tmp_path / "a"))
    a, b = read_shards(tmp_path / "a"), read_shards(tmp_path / "b")
    assert _without_sources(a, f"{corpus}/") == _without_sources(b, f"file://{corpus}/")
    assert read_manifest(str(tmp_path / "a"))["counts"] == read_manifest(f"file://{tmp_path}/b/")["counts"]


def test_a_file_url_glob_and_a_compressed_file_output(tmp_path: Path, cli):
    corpus = generated_corpus(tmp_path / "in", files=2, per_file=5)
    result = cli(["normalize", f"file://{corpus}/part-*.jsonl", "-o", f"file://{tmp_path}/out.jsonl.gz", "-q"])
    assert result.exit_code == 0, result.stderr
    expected = cli(["normalize", str(corpus / "part-0.jsonl"), str(corpus / "part-1.jsonl"), "-q"]).stdout_bytes
    assert gzip.decompress((tmp_path / "out.jsonl.gz").read_bytes()) == expected
    assert sorted(os.listdir(tmp_path)) == ["in", "out.jsonl.gz"]  # no temporary left


def test_a_url_that_is_not_there_is_one_line(tmp_path: Path, cli):
    result = cli(["normalize", f"file://{tmp_path}/nope.jsonl"])
    assert result.exit_code == 2
    assert result.stderr == f"error: file://{tmp_path}/nope.jsonl: no such file or directory\n"
    result = cli(["normalize", f"file://{tmp_path}/*.jsonl"])
    assert result.stderr == f"error: file://{tmp_path}/*.jsonl: no files match this pattern\n"


# ------------------------------------------------------------------------------------------------ Parquet


@pytest.mark.slow
def test_parquet_shards_read_back_as_the_jsonl_shards_records(tmp_path: Path, cli):
    corpus = generated_corpus(tmp_path / "in", files=3, per_file=20)
    args = [str(corpus), "--on-error", "skip", "-q", "--shard-size", "25"]
    assert cli(["clean", *args, "-o", f"{tmp_path}/j/"]).exit_code == 0
    assert cli(["clean", *args, "-o", f"{tmp_path}/p/", "--shard-format", "parquet"]).exit_code == 0
    manifest = read_manifest(str(tmp_path / "p"))
    assert manifest["shard_format"] == "parquet"
    assert [s["path"] for s in manifest["shards"]] == [f"part-{k:05d}.parquet" for k in range(len(manifest["shards"]))]
    jsonl = parse_jsonl(read_shards(tmp_path / "j"))
    assert list(read_records([str(tmp_path / "p")])) == jsonl
    assert manifest["records"] == len(jsonl) == read_manifest(str(tmp_path / "j"))["records"]
    # every command that reads records takes Parquet: the same records through a step
    again = cli(["normalize", str(tmp_path / "p"), "-q"]).stdout_bytes
    assert parse_jsonl(again) == parse_jsonl(cli(["normalize", "-q"], input=read_shards(tmp_path / "j")).stdout_bytes)
    # and clean's engine reads Parquet rows as records too
    assert cli(["clean", str(tmp_path / "p"), "-q", "--no-corpus-aware"]).exit_code == 0


def test_parquet_input_keeps_unknown_columns_and_names_the_row_of_a_bad_one(tmp_path: Path, cli):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"id": ["a", "b", "c"], "text": ["One line of text.", None, "Three."], "url": ["u1", "u2", None]})
    pq.write_table(table, tmp_path / "in.parquet")
    result = cli(["normalize", str(tmp_path / "in.parquet"), "--on-error", "skip", "-q"])
    records = parse_jsonl(result.stdout_bytes)
    assert [(r["id"], r.get("url")) for r in records] == [("a", "u1"), ("c", None)]
    assert "url" not in records[1]  # a null is an absent key
    assert result.stderr.startswith(f"warning: {tmp_path}/in.parquet:2: ")


def test_a_parquet_value_json_cannot_hold_is_an_error_at_its_row(tmp_path: Path, cli):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"text": ["a", "b"], "blob": [None, b"\x00"]}), tmp_path / "in.parquet")
    result = cli(["normalize", str(tmp_path / "in.parquet")])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {tmp_path}/in.parquet:2: a value JSON cannot hold: ")
    assert len(result.stderr.splitlines()) == 1


# ------------------------------------------------------------------------------------------------ resume


def test_resume_refuses_what_it_cannot_carry_over(tmp_path: Path, cli):
    out = f"{tmp_path}/out/"
    result = cli(["clean", str(SEEDS), "-o", f"{tmp_path}/x.jsonl", "--resume", "--no-dedup"])
    assert result.stderr == "error: --resume needs a directory output: -o DIR/\n"
    rejects = ["--on-error", "skip", "--rejects", f"{tmp_path}/r.jsonl"]
    result = cli(["clean", str(SEEDS), "-o", out, "--resume", "--no-dedup", *rejects])
    assert result.stderr == (
        "error: --resume cannot be used with --rejects or --dropped (they would hold the resumed part only)\n"
    )


def test_a_progress_file_of_another_run_is_refused(tmp_path: Path, cli):
    out = tmp_path / "out"
    out.mkdir()
    (out / ".progress.json").write_bytes(orjson.dumps({"format": "corpus-tools.progress/1", "key": "other"}))
    result = cli(["clean", str(SEEDS), "-o", f"{out}/", "--resume", "--no-dedup", "-q"])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {out}/: its .progress.json is from a run with other inputs or options; "
        "resume with the same ones, or use a new output folder\n"
    )


def test_an_uninterrupted_resume_run_is_the_plain_run(tmp_path: Path, cli):
    args = [str(SEEDS), "--shard-size", "2", "--no-dedup", "-q"]
    assert cli(["clean", *args, "-o", f"{tmp_path}/a/"]).exit_code == 0
    assert cli(["clean", *args, "-o", f"{tmp_path}/b/", "--resume"]).exit_code == 0
    assert sorted(os.listdir(tmp_path / "b")) == sorted(os.listdir(tmp_path / "a"))  # no progress file left
    for name in os.listdir(tmp_path / "a"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


@pytest.mark.parametrize("shard_format", ["jsonl", "parquet"])
def test_a_killed_run_resumed_is_byte_identical_to_one_run(tmp_path: Path, shard_format: str):
    corpus = generated_corpus(tmp_path / "in", files=6, per_file=60)
    args = f"--shard-size 40 --no-dedup --on-error skip -q --shard-format {shard_format}"
    whole = run_shell(f"corpus-tools clean {corpus} -o {tmp_path}/whole/ {args}")
    assert whole.returncode == 0, whole.stderr
    stopped = run_shell(
        f"CORPUS_TOOLS_TEST_STOP_AFTER_SHARDS=3 corpus-tools clean {corpus} -o {tmp_path}/out/ {args} --resume -j 2"
    )
    assert stopped.returncode != 0  # killed (SIGKILL): no clean-up ran
    left = sorted(os.listdir(tmp_path / "out"))
    assert "manifest.json" not in left and ".progress.json" in left
    progress = orjson.loads((tmp_path / "out" / ".progress.json").read_bytes())
    assert len(progress["shards"]) == 3 and progress["resume_at"]["batch"] > 0
    resumed = run_shell(f"corpus-tools clean {corpus} -o {tmp_path}/out/ {args} --resume --jobs 1")
    assert resumed.returncode == 0, resumed.stderr
    assert sorted(os.listdir(tmp_path / "out")) == sorted(os.listdir(tmp_path / "whole"))
    for name in os.listdir(tmp_path / "whole"):
        assert (tmp_path / "out" / name).read_bytes() == (tmp_path / "whole" / name).read_bytes(), name


@pytest.mark.parametrize("mode", ["exact", "near"])
def test_a_killed_run_with_dedup_resumed_is_byte_identical_to_one_run(tmp_path: Path, mode: str):
    # dedup's kept records go to a journal beside the progress file, replayed by the resumed run
    records = near_duplicate_corpus(random.Random(2), 600)
    for record in records:
        record["text"] = "\n".join([record["text"]] * 40)  # ~8 KB: the input spans several batches (1 MB each)
    corpus = tmp_path / "in.jsonl"
    corpus.write_bytes(b"".join(orjson.dumps(record) + b"\n" for record in records))
    args = f"--shard-size 60 -q --dedup {mode} --threshold 0.6 --shingle 2 --no-corpus-aware"
    whole = run_shell(f"corpus-tools clean {corpus} -o {tmp_path}/whole/ {args}")
    assert whole.returncode == 0, whole.stderr
    manifest = orjson.loads((tmp_path / "whole" / "manifest.json").read_bytes())
    assert 100 < manifest["counts"]["dropped"] < 500  # duplicates before and after the stop
    stopped = run_shell(
        f"CORPUS_TOOLS_TEST_STOP_AFTER_SHARDS=4 corpus-tools clean {corpus} -o {tmp_path}/out/ {args} --resume -j 2"
    )
    assert stopped.returncode != 0
    progress = orjson.loads((tmp_path / "out" / ".progress.json").read_bytes())
    assert progress["resume_at"]["batch"] > 0 and progress["journal"]["entries"][0] > 0
    assert ".progress.journal.0" in os.listdir(tmp_path / "out")
    resumed = run_shell(f"corpus-tools clean {corpus} -o {tmp_path}/out/ {args} --resume --jobs 1")
    assert resumed.returncode == 0, resumed.stderr
    assert sorted(os.listdir(tmp_path / "out")) == sorted(os.listdir(tmp_path / "whole"))
    for name in os.listdir(tmp_path / "whole"):
        assert (tmp_path / "out" / name).read_bytes() == (tmp_path / "whole" / name).read_bytes(), name


# ------------------------------------------------------------------------------------------------ S3 (moto)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    """moto's S3 server on 127.0.0.1 (a free port), and the environment that points the AWS SDK at it."""
    pytest.importorskip("moto.server")
    pytest.importorskip("s3fs")
    port = _free_port()
    log = tmp_path_factory.mktemp("moto") / "server.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=out
        )
    endpoint = f"http://127.0.0.1:{port}"
    env = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
        "NO_PROXY": "127.0.0.1",
    }
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail(f"moto server did not start: {log.read_text()}")
                time.sleep(0.2)
        import boto3

        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing-secret",
            region_name="us-east-1",
        )
        yield client, env
    finally:
        server.terminate()
        server.wait(timeout=10)


def _shell_env(env: dict[str, str]) -> str:
    return " ".join(f"{k}={v}" for k, v in env.items())


def _shard_bytes(client, bucket: str, prefix: str) -> bytes:
    manifest = orjson.loads(client.get_object(Bucket=bucket, Key=f"{prefix}manifest.json")["Body"].read())
    data = b""
    for shard in manifest["shards"]:
        body = client.get_object(Bucket=bucket, Key=f"{prefix}{shard['path']}")["Body"].read()
        data += zstandard.ZstdDecompressor().stream_reader(io.BytesIO(body)).read()
    return data


def _keys(client, bucket: str, prefix: str) -> list[str]:
    listing = client.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return sorted(o["Key"][len(prefix) :] for o in listing)


def test_clean_from_s3_to_s3_is_the_local_clean(s3, tmp_path: Path, monkeypatch):
    client, env = s3
    client.create_bucket(Bucket="corpus")
    corpus = generated_corpus(tmp_path / "in", files=4, per_file=40)  # with the seeds beside the JSON lines
    for path in sorted(corpus.rglob("*")):
        client.upload_file(str(path), "corpus", f"in/{path.relative_to(corpus)}")
    args = "--shard-size 30 --on-error skip -q"
    local = run_shell(f"corpus-tools clean {corpus} -o {tmp_path}/out/ {args}")
    assert local.returncode == 0, local.stderr
    remote = run_shell(f"{_shell_env(env)} corpus-tools clean s3://corpus/in/ -o s3://corpus/out/ {args}")
    assert remote.returncode == 0, remote.stderr
    assert remote.stderr == local.stderr.replace(
        str(corpus).encode(), b"s3://corpus/in"
    )  # the one bad line, named alike
    want = read_manifest(str(tmp_path / "out"))
    assert _keys(client, "corpus", "out/") == ["manifest.json", *(s["path"] for s in want["shards"])]
    got = orjson.loads(client.get_object(Bucket="corpus", Key="out/manifest.json")["Body"].read())
    assert got["inputs"] == ["s3://corpus/in/"]
    assert (got["records"], got["counts"], got["config_hash"]) == (want["records"], want["counts"], want["config_hash"])
    assert [s["records"] for s in got["shards"]] == [s["records"] for s in want["shards"]]
    records = _shard_bytes(client, "corpus", "out/")
    assert _without_sources(records, "s3://corpus/in/") == _without_sources(read_shards(tmp_path / "out"), f"{corpus}/")

    # Parquet shards to S3 read back (from S3) as the same records
    parquet = run_shell(
        f"{_shell_env(env)} corpus-tools clean s3://corpus/in/ -o s3://corpus/pq/ {args} --shard-format parquet"
    )
    assert parquet.returncode == 0, parquet.stderr
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert list(read_records(["s3://corpus/pq/"])) == parse_jsonl(records)

    # a run stopped after two shards, resumed: the same objects as the run that never stopped
    # --jobs 1: a SIGKILL leaves forkserver workers (started when threads run, as s3fs's do) holding the pipes
    resume = f"{args} --no-dedup --resume --jobs 1"
    plain = run_shell(f"{_shell_env(env)} corpus-tools clean s3://corpus/in/ -o s3://corpus/whole/ {args} --no-dedup")
    assert plain.returncode == 0, plain.stderr
    stopped = run_shell(
        f"{_shell_env(env)} CORPUS_TOOLS_TEST_STOP_AFTER_SHARDS=2 corpus-tools clean s3://corpus/in/"
        f" -o s3://corpus/res/ {resume}"
    )
    assert stopped.returncode != 0
    assert "manifest.json" not in _keys(client, "corpus", "res/")
    again = run_shell(f"{_shell_env(env)} corpus-tools clean s3://corpus/in/ -o s3://corpus/res/ {resume}")
    assert again.returncode == 0, again.stderr
    assert _keys(client, "corpus", "res/") == _keys(client, "corpus", "whole/")
    for key in _keys(client, "corpus", "whole/"):
        a = client.get_object(Bucket="corpus", Key=f"whole/{key}")["Body"].read()
        b = client.get_object(Bucket="corpus", Key=f"res/{key}")["Body"].read()
        assert a == b, key


def test_clean_from_s3_to_s3_on_a_dask_cluster_is_the_local_clean(s3, tmp_path: Path):
    # The workers list nothing and read and write S3 themselves: one shard per input part, the manifest last.
    pytest.importorskip("distributed")
    client, env = s3
    client.create_bucket(Bucket="cluster")
    corpus = generated_corpus(tmp_path / "in", files=4, per_file=2100)  # ~20 MB, and the seeds
    assert sum(path.stat().st_size for path in corpus.rglob("*")) > 19e6
    for path in sorted(corpus.rglob("*")):
        client.upload_file(str(path), "cluster", f"in/{path.relative_to(corpus)}")
    args = "--on-error skip -q --dedup near"
    local = run_shell(f"corpus-tools clean {corpus} {args} --jobs 1")
    assert local.returncode == 0, local.stderr
    dask = "--engine dask --jobs 2 --shard-bytes 3000000"
    remote = run_shell(f"{_shell_env(env)} corpus-tools clean s3://cluster/in/ -o s3://cluster/out/ {args} {dask}")
    assert remote.returncode == 0, remote.stderr
    manifest = orjson.loads(client.get_object(Bucket="cluster", Key="out/manifest.json")["Body"].read())
    assert len(manifest["shards"]) > 4
    assert _keys(client, "cluster", "out/") == sorted(["manifest.json", *(s["path"] for s in manifest["shards"])])
    records = _shard_bytes(client, "cluster", "out/")
    assert _without_sources(records, "s3://cluster/in/") == _without_sources(local.stdout, f"{corpus}/")


def test_an_s3_error_is_one_line_without_the_secret(s3, tmp_path: Path):
    _, env = s3
    env = {**env, "AWS_SECRET_ACCESS_KEY": "sup3r-s3cret-value"}
    result = run_shell(
        f"{_shell_env(env)} corpus-tools clean s3://no-such-bucket/in/ -q --storage-option secret=an0ther-s3cret"
    )
    assert result.returncode == 2
    err = result.stderr.decode()
    assert err.startswith("error: s3://no-such-bucket/in/: ") and len(err.splitlines()) == 1, err
    assert "s3cret" not in err


def test_a_run_that_cannot_start_leaves_the_previous_output_whole(tmp_path: Path, cli):
    out = f"{tmp_path}/out/"
    assert cli(["clean", str(SEEDS), "-o", out, "--resume"]).exit_code == 0
    before = sorted(os.listdir(out))
    failed = cli(["clean", str(SEEDS), "-o", out, "--resume", "--against", f"{tmp_path}/missing.idx"])
    assert failed.exit_code == 2
    assert failed.stderr == f"error: {tmp_path}/missing.idx: no such file or directory\n"
    assert sorted(os.listdir(out)) == before and "manifest.json" in before
    assert cli(["clean", str(SEEDS), "-o", out, "--resume"]).exit_code == 0
