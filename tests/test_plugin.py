"""A step from outside the package (tests/data/plugin: a module and a dist-info folder on PYTHONPATH) plugs in
through the entry-point group and works through every command, with no module of the package changed."""

from __future__ import annotations

import os
import shutil

import orjson
import pytest

from conftest import DATA, SEEDS, parse_jsonl, run_shell

pytestmark = pytest.mark.slow

PLUGIN = DATA / "plugin"


def shell(command: str, cwd, input: bytes | None = None):
    env_line = f"export PYTHONPATH={PLUGIN}{os.pathsep}${{PYTHONPATH:-}}; "
    return run_shell(env_line + command, cwd=cwd, input=input)


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "in"
    shutil.copytree(SEEDS, folder)
    (folder / "zz_short.txt").write_text("Too short here.\n", encoding="utf-8")
    return folder


def test_steps_lists_the_plugin_in_its_place(tmp_path):
    result = shell("corpus-tools steps", tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().split() == ["normalize", "credits", "teasers", "shortdocs", "dedup"]


def test_clean_runs_the_plugin_and_writes_its_drops(corpus, tmp_path):
    result = shell(f"corpus-tools clean {corpus} --no-dedup --dropped dropped.jsonl -o out.jsonl", tmp_path)
    assert result.returncode == 0, result.stderr
    out = parse_jsonl((tmp_path / "out.jsonl").read_bytes())
    assert [r["id"] for r in out] == [p.stem for p in sorted(SEEDS.iterdir())]
    assert all(r["metadata"]["word_count"] == len(r["text"].split()) for r in out)
    dropped = parse_jsonl((tmp_path / "dropped.jsonl").read_bytes())
    assert [(d["step"], d["reason"], d["words"], d["record"]["id"]) for d in dropped] == [
        ("shortdocs", "too_short", 3, "zz_short")
    ]
    assert "1 dropped (1 shortdocs.too_short)" in result.stderr.decode()
    manifest = orjson.loads((tmp_path / "out.jsonl.manifest.json").read_bytes())
    assert manifest["counts"]["dropped_by_reason"] == {"shortdocs.too_short": 1}
    assert manifest["config"]["shortdocs"] == {"min_words": 5}


def test_clean_equals_the_pipe_of_single_commands(corpus, tmp_path):
    pipe = shell(
        f"corpus-tools ingest {corpus} | corpus-tools normalize | corpus-tools credits | corpus-tools teasers"
        " | corpus-tools shortdocs --min-doc-words 600 | corpus-tools dedup",
        tmp_path,
    )
    clean = shell(f"corpus-tools clean {corpus} --no-corpus-aware --min-doc-words 600", tmp_path)
    assert pipe.returncode == 0 and clean.returncode == 0, (pipe.stderr, clean.stderr)
    assert pipe.stdout == clean.stdout
    assert len(parse_jsonl(clean.stdout)) == 3  # the option reached the step: 000 and 001 (515 words) went


def test_config_file_sets_the_plugin_options(corpus, tmp_path):
    (tmp_path / "c.toml").write_text("[shortdocs]\nmin_words = 100000\n", encoding="utf-8")
    result = shell(f"corpus-tools clean {corpus} --config c.toml", tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == b""
    assert "6 records in, 0 out, 0 rejected, 6 dropped (6 shortdocs.too_short)" in result.stderr.decode()
    (tmp_path / "bad.toml").write_text("[shortdocs]\nmin_words = 0\n", encoding="utf-8")
    result = shell(f"corpus-tools clean {corpus} --config bad.toml -q", tmp_path)
    assert result.returncode == 2
    assert "min_words" in result.stderr.decode()


def test_explain_shows_the_plugins_drop(corpus, tmp_path):
    result = shell(f"corpus-tools explain {corpus / 'zz_short.txt'} --format json", tmp_path)
    assert result.returncode == 0, result.stderr
    (doc,) = parse_jsonl(result.stdout)
    assert doc["dropped"] == {"step": "shortdocs", "reason": "too_short", "words": 3}


def test_check_schema_and_stats_know_the_plugins_metadata(tmp_path):
    good = {"id": "a", "text": "one two", "source": "s", "metadata": {"word_count": 2}}
    bad = {"id": "b", "text": "one two", "source": "s", "metadata": {"word_count": "two"}}
    lines = orjson.dumps(good) + b"\n" + orjson.dumps(bad) + b"\n"
    result = shell("corpus-tools check -", tmp_path, input=lines)
    assert result.returncode == 1
    assert "'metadata.word_count' must be an integer" in result.stdout.decode()
    result = shell("corpus-tools stats --format json -", tmp_path, input=lines)
    assert result.returncode == 0, result.stderr
    assert orjson.loads(result.stdout)["metadata_keys"]["word_count"] == 2
