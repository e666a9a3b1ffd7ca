"""End to end fuzzing (issue 16): random JSON lines through every command that reads records, as real subprocesses.

An example is one generated line: JSON objects whose every field (``id``, ``text``, ``source``, ``metadata`` and
others) holds any JSON type, nested up to 2,000 levels, with huge and tiny numbers, lone surrogates (escaped, and
raw as invalid UTF-8), NULs, invalid UTF-8, duplicate keys, BOMs, CRLF, blank lines and lines that are not JSON.
The lines are batched into a few files (one of them cut into several batches by two 1 MB records, so ``--jobs 2``
ships batches to worker processes), and each command runs over them (``--jobs 1`` and ``--jobs 2`` for ``clean``,
both ``--on-error`` modes where a command has the flag), asserting the contract:

- no traceback, ever; the exit code is 0, 1 (``check``'s findings only) or 2; a failing run says one ``error:`` line;
- with ``--on-error skip``, every non-blank input line is in the output, the rejects or the dropped stream
  (``--dropped``: a record a step drops, such as an empty text or a duplicate) exactly once (counted, and each
  reject's and drop's line named once);
- ``--jobs 1`` and ``--jobs 2`` give the same bytes (output and rejects).

Count and time: 2,100 generated lines (derandomized in CI through the ``ci`` profile of tests/conftest.py), over
53 invocations, in about 100 s on a 2-core machine (about 40 s of it hypothesis generating the lines). Marked
``slow``: ``pytest -m 'not slow'`` leaves it out.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

LINES = 2_100  # generated lines (examples), at least the 2,000 the issue asks for
FILES = 4
BIN = str(Path(sys.executable).parent / "corpus-tools")

# ------------------------------------------------------------------------------------------ the generator

NUMBERS = (
    b"1e-400",
    b"-0",
    b"-0.0",
    b"0.000000000000000000000000000001",
    b"123456789012345678901234567890",
    b"18446744073709551615",
    b"18446744073709551616",
    b"-9223372036854775808",
    b"-9223372036854775809",
    b"9" * 400,
    b"1.7976931348623157e308",
    b"5e-324",
    b"1E5",
)
NOT_NUMBERS = (b"1e400", b"-1e400", b"01", b"1.", b"NaN", b"Infinity", b"+1")  # orjson refuses them all
KEYS = ("id", "text", "source", "metadata", "normalize", "authors", "bylines", "cuts", "teasers", "a", "")


def _string(text: str, raw: bool) -> bytes:
    """A JSON string: escaped (lone surrogates as \\udxxx, valid JSON that orjson refuses), or raw UTF-8 (a lone
    surrogate then gives bytes that are not UTF-8)."""
    if raw:
        return json.dumps(text, ensure_ascii=False).encode("utf-8", "surrogatepass")
    return json.dumps(text).encode()


SAMPLES = ["", "By Jane Doe\n\nBody text.\r\nMore.", "caf\u00c3\u00a9 &amp; \u2019", "\x00nul", "\x81\x9d", "x:y"]
texts = st.one_of(
    *[st.text(max_size=40)] * 8,
    st.text(st.characters(exclude_categories=()), max_size=3),  # lone surrogates too
    st.sampled_from([*SAMPLES, "a\ud800b"]),
)
strings = st.builds(_string, texts, st.integers(0, 15).map(lambda n: n == 0))  # raw (perhaps not UTF-8): 1 in 16
scalars = st.one_of(
    st.sampled_from([b"null", b"true", b"false"]),
    st.integers().map(lambda n: str(n).encode()),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda x: repr(x).encode()),
    st.sampled_from(NUMBERS),
    strings,
    strings,
    strings,
)
bad_scalars = st.sampled_from(NOT_NUMBERS) | st.builds(_string, texts, st.just(True))
keys = st.sampled_from(KEYS).map(lambda k: json.dumps(k).encode()) | strings


def _array(items: list[bytes]) -> bytes:
    return b"[" + b",".join(items) + b"]"


def _object(pairs: list[tuple[bytes, bytes]]) -> bytes:  # pairs, not a dict: the same key may come twice
    return b"{" + b",".join(k + b":" + v for k, v in pairs) + b"}"


values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4).map(_array) | st.lists(st.tuples(keys, inner), max_size=4).map(_object),
    max_leaves=8,
)


@st.composite
def nested(draw: st.DrawFn) -> bytes:
    """A value nested up to 2,000 levels (arrays, objects or both), built as text (no recursion)."""
    depth = draw(
        st.integers(0, 40) | st.integers(0, 300) | st.sampled_from([252, 253, 254, 1023, 1024]) | st.integers(0, 2_000)
    )
    kind = draw(st.sampled_from(["array", "object", "mixed"]))
    inner = draw(scalars)
    if kind == "array":
        return b"[" * depth + inner + b"]" * depth
    if kind == "object":
        return b'{"a":' * depth + inner + b"}" * depth
    return b'[{"a":' * (depth // 2) + inner + b"}]" * (depth // 2)


@st.composite
def records(draw: st.DrawFn) -> bytes:
    """A JSON object with the contract's fields (each any JSON type, or missing) and a few others."""
    pairs: list[tuple[bytes, bytes]] = []
    for key in ("id", "text", "source", "metadata"):
        choice = draw(st.integers(0, 9))
        if choice == 0:
            continue  # missing
        if key == "text" and choice <= 6:
            value = draw(strings)
        elif key == "metadata" and choice <= 4:
            value = _object(draw(st.lists(st.tuples(keys, values | nested()), max_size=3)))
        elif choice <= 8:
            value = draw(values)
        else:
            value = draw(nested() | bad_scalars)
        pairs.append((json.dumps(key).encode(), value))
    pairs += draw(st.lists(st.tuples(keys, values), max_size=2))
    if draw(st.integers(0, 9)) == 0 and pairs:
        pairs.append(pairs[0])  # a duplicate key, for sure
    return _object(draw(st.permutations(pairs)))


lines_ = st.one_of(
    records(),
    records(),
    records(),
    records(),
    records(),
    nested(),
    values,
    st.binary(max_size=60).map(lambda b: b.replace(b"\n", b"")),  # not JSON, perhaps not UTF-8
    st.sampled_from([b"", b"   ", b"\t", b"\r", b"\x0c", b"\xef\xbb\xbf", b"\x1e{}", b"null", b"{}", b"[]"]),
)


@st.composite
def generated_lines(draw: st.DrawFn) -> bytes:
    """One input line, with its line end: the JSON (or not), a BOM before it, bytes that are not UTF-8 in it,
    spaces around it, LF or CRLF."""
    line = draw(lines_)
    if line and draw(st.integers(0, 19)) == 0:
        at = draw(st.integers(0, len(line)))
        line = line[:at] + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00"])) + line[at:]
    if draw(st.integers(0, 19)) == 0:
        line = b"\xef\xbb\xbf" + line
    if draw(st.integers(0, 9)) == 0:
        line = b" " + line + b"\t "
    return line + draw(st.sampled_from([b"\n", b"\n", b"\n", b"\r\n"]))


def collect_lines() -> list[bytes]:
    """The examples: ``LINES`` generated lines, each an example of hypothesis (derandomized in CI)."""
    found: list[bytes] = []

    @settings(max_examples=LINES, database=None, suppress_health_check=list(HealthCheck))
    @given(generated_lines())
    def collect(line: bytes) -> None:
        found.append(line)

    collect()
    return found


def blank(line: bytes) -> bool:
    """What every reader skips: a line of ASCII whitespace only (jsonlines' skip_empty, the engine's test)."""
    return not line.strip()


# ------------------------------------------------------------------------------------------------ the runs


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    done = subprocess.run([BIN, *args], cwd=cwd, capture_output=True, timeout=600)
    err = done.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err, f"{args}: {err[-3000:]}"
    assert done.returncode in (0, 1, 2), (args, done.returncode, err[-2000:])
    if done.returncode == 1:
        assert args[0] == "check", (args, err[-2000:])  # exit 1 means check's findings, nothing else
    if done.returncode == 2:
        errors = [line for line in err.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1, (args, err[-2000:])
    return done


def nonblank_lines(path: Path) -> int:
    return sum(1 for line in path.read_bytes().split(b"\n") if not blank(line))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    lines = collect_lines()
    assert len(lines) >= 2_000
    folder = tmp_path_factory.mktemp("fuzz")
    names = []
    size = -(-len(lines) // FILES)
    padding = orjson.dumps({"id": "pad", "text": "Padding. " * 120_000}) + b"\n"  # 1 MB: a batch of its own
    for k in range(FILES):
        chunk = lines[k * size : (k + 1) * size]
        if k == 0:  # cut into several batches, so --jobs 2 ships them to workers and back
            chunk = [padding, *chunk[: len(chunk) // 2], padding, *chunk[len(chunk) // 2 :]]
        name = f"f{k}.jsonl"
        (folder / name).write_bytes(b"".join(chunk))
        names.append(name)
    return folder, names


STEP_COMMANDS = [
    ["ingest"],
    ["normalize"],
    ["credits"],
    ["teasers"],
    ["dedup"],
    ["clean", "-j", "1"],
    ["clean", "-j", "2"],
]


@pytest.mark.slow
@pytest.mark.parametrize("command", STEP_COMMANDS, ids=lambda c: " ".join(c))
def test_every_line_is_in_the_output_the_rejects_or_the_dropped_once(corpus, command):
    folder, names = corpus
    tag = "-".join(command)
    args = [*command, "-q", "--on-error", "skip", "--rejects", f"{tag}.rejects.jsonl", "-o", f"{tag}.out.jsonl"]
    if command != ["ingest"]:  # ingest runs no step: nothing to drop
        args += ["--dropped", f"{tag}.dropped.jsonl"]
    run([*args, *names], folder)
    out = (folder / f"{tag}.out.jsonl").read_bytes()
    written = out.count(b"\n")
    assert all(orjson.loads(line) is not None for line in out.splitlines())  # every output line is JSON
    rejects = [orjson.loads(line) for line in (folder / f"{tag}.rejects.jsonl").read_bytes().splitlines()]
    dropped_path = folder / f"{tag}.dropped.jsonl"
    dropped = [orjson.loads(line) for line in dropped_path.read_bytes().splitlines()] if dropped_path.exists() else []
    places = [(r["source"], r["line"]) for r in [*rejects, *dropped]]
    assert len(set(places)) == len(places), "a line rejected or dropped twice"
    for name in names:
        assert all(1 <= line <= (folder / name).read_bytes().count(b"\n") for source, line in places if source == name)
    assert all(d["reason"] and d["step"] and isinstance(d["record"], dict) for d in dropped)
    assert written + len(rejects) + len(dropped) == sum(nonblank_lines(folder / name) for name in names)


@pytest.mark.slow
def test_jobs_1_and_2_give_the_same_bytes(corpus):
    folder, names = corpus
    outputs = []
    for jobs in ("1", "2"):
        args = ["clean", "-q", "--jobs", jobs, "--on-error", "skip", "--rejects", f"j{jobs}.rejects.jsonl"]
        done = run([*args, "-o", f"j{jobs}.jsonl", *names], folder)
        assert done.returncode == 0
        outputs.append(((folder / f"j{jobs}.jsonl").read_bytes(), (folder / f"j{jobs}.rejects.jsonl").read_bytes()))
    assert outputs[0] == outputs[1]


@pytest.mark.slow
def test_index_counts_every_line_once(corpus):
    folder, names = corpus
    done = run(["index", "--on-error", "skip", "--rejects", "index.rejects.jsonl", "-o", "f.index", *names], folder)
    rejected = (folder / "index.rejects.jsonl").read_bytes().count(b"\n")
    summary = [line for line in done.stderr.decode().splitlines() if line.startswith("corpus-tools: indexed")]
    indexed = int(summary[0].split()[2])
    assert indexed + rejected == sum(nonblank_lines(folder / name) for name in names)


READERS = [
    ["ingest"],
    ["normalize"],
    ["credits"],
    ["teasers"],
    ["index", "-o", "x.index"],
    ["clean", "--jobs", "1"],
    ["clean", "--jobs", "2"],
    ["check"],
    ["stats"],
    ["explain"],
]


@pytest.mark.slow
@pytest.mark.parametrize("command", READERS, ids=lambda c: " ".join(c))
def test_fail_mode_is_one_line_and_exit_2_or_a_clean_run(corpus, command):
    """Each file on its own, so each run stops at another first bad line."""
    folder, names = corpus
    for name in names:
        run([*command, name], folder)
    if command[0] in ("check", "stats", "explain"):
        run([*command, *names], folder)


@pytest.mark.slow
def test_the_generator_makes_what_the_docstring_says(corpus):
    folder, names = corpus
    data = b"".join((folder / name).read_bytes() for name in names)
    assert data.count(b"\r\n") > 50 and data.count(b"\xef\xbb\xbf") > 20
    assert max(line.count(b"[") + line.count(b"{") for line in data.split(b"\n")) > 1_500  # nesting
    assert b"\\ud" in data and b"1e400" in data and b"\\u0000" in data
    assert os.path.getsize(folder / names[0]) > 2_000_000  # two batches of padding: --jobs 2 uses workers
