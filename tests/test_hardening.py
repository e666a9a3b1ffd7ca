"""Issue 16 (hardening): each input a user can throw at the commands gets its documented answer (docs/bad-input.md)."""

from __future__ import annotations

import orjson
import pytest

from conftest import parse_jsonl, run_shell
from corpus_tools.records import MAX_DEPTH, DuplicateKey, TooDeep, exact_loads, suspect


def deep_line(levels: int, id: str = "deep") -> str:
    nested = "[" * levels + "]" * levels
    return f'{{"id": "{id}", "text": "x", "metadata": {{"m": {nested}}}}}\n'


GOOD = '{"id": "a", "text": "hello"}\n{"id": "b", "text": "world"}\n'


# ------------------------------------------------------------------ items 1-3: nesting deeper than orjson writes


def test_depth_limit_is_what_orjson_writes_inside_a_reject():
    ok = orjson.loads("[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1))
    exact_loads(orjson.dumps({"m": ok}))  # MAX_DEPTH levels: accepted
    orjson.dumps({"record": {"m": ok}})  # and its reject can be written
    with pytest.raises(TooDeep):
        exact_loads(orjson.dumps({"m": [ok]}))


@pytest.mark.parametrize("levels", [300, 600, 1000])
@pytest.mark.parametrize("command", ["clean --jobs 1", "clean --jobs 2", "normalize", "credits", "teasers", "ingest"])
def test_deep_nesting_is_one_line_exit_2(tmp_path, command, levels):
    path = tmp_path / "deep.jsonl"
    path.write_text(GOOD + deep_line(levels))
    done = run_shell(f"corpus-tools {command} -q {path}")
    assert done.returncode == 2, done.stderr
    assert done.stderr.decode() == f"error: {path}:3: nested deeper than {MAX_DEPTH} levels\n"


@pytest.mark.parametrize("command", ["clean --jobs 1", "clean --jobs 2", "normalize", "teasers"])
def test_deep_nesting_is_a_reject_and_the_other_records_are_kept(tmp_path, command):
    path = tmp_path / "deep.jsonl"
    path.write_text(GOOD + deep_line(300) + deep_line(600) + '{"id": "c", "text": "again"}\n')
    rejects = tmp_path / "rejects.jsonl"
    done = run_shell(f"corpus-tools {command} -q --on-error skip --rejects {rejects} {path}")
    assert done.returncode == 0, done.stderr
    assert [r["id"] for r in parse_jsonl(done.stdout)] == ["a", "b", "c"]
    entries = parse_jsonl(rejects.read_bytes())
    reason = f"nested deeper than {MAX_DEPTH} levels"
    assert [(e["line"], e["reason"]) for e in entries] == [(3, reason), (4, reason)]
    assert [e["raw"] + "\n" for e in entries] == [deep_line(300), deep_line(600)]


@pytest.mark.slow
def test_deep_nesting_on_dask(tmp_path):
    path = tmp_path / "deep.jsonl"
    path.write_text(GOOD + deep_line(600))
    done = run_shell(f"corpus-tools clean -q --engine dask --jobs 2 --on-error skip {path}")
    assert done.returncode == 0, done.stderr
    assert [r["id"] for r in parse_jsonl(done.stdout)] == ["a", "b"]
    assert b"Traceback" not in done.stderr


@pytest.mark.parametrize("line", [deep_line(1000), "[" * 100_000 + "]" * 100_000 + "\n"])
@pytest.mark.parametrize("command", ["check", "stats"])
def test_check_and_stats_on_deep_nesting(tmp_path, command, line):
    path = tmp_path / "deep.jsonl"
    path.write_text(GOOD + line)
    done = run_shell(f"corpus-tools {command} {path}")
    assert done.returncode == 2, done.stderr
    assert b"Traceback" not in done.stderr
    assert done.stderr.startswith(f"error: {path}:3: ".encode())


# ------------------------------------------------------------------------------ item 6: duplicate keys


@pytest.mark.parametrize(
    "line",
    [
        '{"text": "A", "text": "B"}',
        '{"text": "A", "metadata": {"k": 1, "k": 1}}',
        '{"text": "A", "m": [{"a": "x:y", "a": "z"}]}',
        '{"text": "A", "m": "\\u003a", "m": "b"}',  # an escaped colon cannot hide the lost key
        '{"text": "A", "m": "\\u003a\\u003a", "x": 1, "x": 2}',
    ],
)
def test_duplicate_keys_are_refused(line):
    with pytest.raises(DuplicateKey, match="duplicate key"):
        exact_loads(line)
    with pytest.raises(DuplicateKey):
        exact_loads(line.encode())


@pytest.mark.parametrize(
    "line",
    [
        '{"text": "a: b", "source": "https://x", "metadata": {"k:1": ["::", {"z": ":"}]}}',
        '{"text": "x", "a": "\\u003a"}',
        '{"text" : "x" , "b":{}}',
    ],
)
def test_colons_in_strings_are_not_duplicate_keys(line):
    assert exact_loads(line) == orjson.loads(line)


def test_the_cheap_test_passes_ordinary_records():
    line = b'{"id": "x:1", "text": "Time: 10:30", "source": "http://a/b", "metadata": {"n": 1.5, "l": [1, "a"]}}'
    assert not suspect(orjson.loads(line), line)


@pytest.mark.parametrize("command", ["clean --jobs 1", "clean --jobs 2", "normalize"])
def test_duplicate_keys_are_a_reject_with_their_reason(tmp_path, command):
    path = tmp_path / "dup.jsonl"
    path.write_text(GOOD + '{"id": "d", "text": "A", "text": "B"}\n')
    done = run_shell(f"corpus-tools {command} -q {path}")
    assert done.returncode == 2
    assert "duplicate key 'text'" in done.stderr.decode()
    done = run_shell(f"corpus-tools {command} -q --on-error skip --rejects {tmp_path}/r.jsonl {path}")
    assert done.returncode == 0
    assert len(parse_jsonl(done.stdout)) == 2
    [entry] = parse_jsonl((tmp_path / "r.jsonl").read_bytes())
    assert entry["reason"].startswith("duplicate key 'text'")
    assert entry["line"] == 3
