"""Shared test set-up: hypothesis profiles and helpers to run the CLI in-process and through real pipes."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
import zstandard
from hypothesis import HealthCheck, settings
from typer.testing import CliRunner

from corpus_tools.cli.app import app_for

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
DATA = Path(__file__).resolve().parent / "data"

# CI runs derandomized, so a red run reproduces exactly; locally hypothesis explores afresh each time.
settings.register_profile("ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


def parse_jsonl(data: bytes | str) -> list[dict]:
    if isinstance(data, str):
        data = data.encode()
    return [orjson.loads(line) for line in data.splitlines() if line.strip()]


@pytest.fixture
def cli():
    """Run the CLI in-process: ``cli(["ingest", "seeds/"], input=b"...")`` -> click Result (stdout/stderr split)."""
    runner = CliRunner()

    def invoke(args: list[str], input: bytes | str | None = None):
        args = [str(a) for a in args]
        return runner.invoke(app_for(args), args, input=input, catch_exceptions=False)

    return invoke


def run_shell(command: str, cwd: Path = ROOT, input: bytes | None = None) -> subprocess.CompletedProcess:
    """Run a real shell pipeline with the installed ``corpus-tools`` on PATH (the venv's bin first)."""
    # stdout block-buffered, as in a user's shell (a PYTHONUNBUFFERED here hid a failed flush at exit)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(
        ["bash", "-o", "pipefail", "-c", command], cwd=cwd, input=input, capture_output=True, env=env, timeout=300
    )


SEED_IDS = sorted(p.stem for p in SEEDS.glob("*.txt"))


def write_jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def generated_corpus(root: Path, files: int = 6, per_file: int = 60) -> Path:
    """Several hundred records made from seed paragraphs, shuffled, with a few defects and bad lines."""
    rng = random.Random(3)
    paragraphs = [p for seed in sorted(SEEDS.iterdir()) for p in seed.read_text().splitlines() if p.strip()]
    root.mkdir(exist_ok=True)
    for f in range(files):
        lines = []
        for i in range(per_file):
            body = rng.sample(paragraphs, rng.randint(3, 12))
            if i % 10 == 0:
                body[0] = body[0].replace("’", "â€™").replace(" ", "\u00a0", 3) + ".."
            lines.append(orjson.dumps({"id": f"{f}-{i}", "text": "\n".join(body), "source": "gen", "metadata": {}}))
        if f == 2:
            lines.insert(7, b"{broken")
        (root / f"part-{f}.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    for seed in sorted(SEEDS.iterdir()):
        (root / seed.name).write_bytes(seed.read_bytes())
    return root


def read_shards(directory: Path) -> bytes:
    from corpus_tools.shards import read_manifest

    manifest = read_manifest(str(directory))
    return b"".join(
        zstandard.ZstdDecompressor().stream_reader((directory / s["path"]).read_bytes()).read()
        for s in manifest["shards"]
    )


#: Words in a test's source that mean it starts processes (a real pipe, a worker pool, a cluster): such a test is
#: marked slow, so `pytest -m "not slow"` is the quick inner loop; plain `pytest` (CI) runs everything.
_PROCESS_WORDS = ("run_shell(", "subprocess.", "LocalEngine(2", "--jobs", '"-j"', "LocalCluster", "os.kill", "pty.")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    import inspect

    for item in items:
        function = getattr(item, "function", None)
        if function is None or item.get_closest_marker("slow"):
            continue
        try:
            source = inspect.getsource(function)
        except (OSError, TypeError):
            continue
        fixtures = getattr(item, "fixturenames", ())
        if any(word in source for word in _PROCESS_WORDS) or "cluster" in fixtures:
            item.add_marker(pytest.mark.slow)


def options_strategy(options_class: type) -> Any:
    """Every combination of a step's switches and choices (the options it declares with step.option), for
    property tests; numbers stay at their defaults."""
    from hypothesis import strategies as st

    from corpus_tools.step import option_specs

    fields = {}
    for spec in option_specs(options_class):
        if spec.is_bool:
            fields[spec.name] = st.booleans()
        elif spec.choices is not None:
            fields[spec.name] = st.sampled_from(spec.choices)
    return st.builds(options_class, **fields)


_VOCABULARY = [f"w{n}" for n in range(60)]


def near_duplicate_corpus(rng: random.Random, documents: int) -> list[dict]:
    """Documents made of a few bases, each a mutation of an earlier document (chains of near duplicates whose ends
    are not near each other), exact copies, and copies of copies."""
    records: list[dict] = []
    for n in range(documents):
        roll = rng.random()
        if records and roll < 0.2:
            text = rng.choice(records)["text"]  # an exact copy of any earlier one, kept or not
        elif records and roll < 0.75:
            words = rng.choice(records)["text"].split()
            for _ in range(rng.randint(1, 6)):
                words[rng.randrange(len(words))] = rng.choice(_VOCABULARY)
            text = " ".join(words)
        else:
            text = " ".join(rng.choice(_VOCABULARY) for _ in range(rng.randint(20, 40)))
        if rng.random() < 0.1:
            text = text.upper()  # the same after the exact mode's case fold
        records.append({"id": f"d{n}", "text": text})
    return records
