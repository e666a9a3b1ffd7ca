"""Shared test set-up: hypothesis profiles and helpers to run the CLI in-process and through real pipes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
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
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(
        ["bash", "-o", "pipefail", "-c", command], cwd=cwd, input=input, capture_output=True, env=env, timeout=300
    )
