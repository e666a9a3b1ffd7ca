"""scripts/bench.py is the instrument behind the README's speed figures: it must keep running and keep printing
every figure the README quotes. (Its numbers are not checked here: timing belongs to the benchmark, not the tests.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow  # processes, signals, clusters: seconds each

BENCH = ROOT / "scripts" / "bench.py"


def _bench(*args: str) -> str:
    result = subprocess.run([sys.executable, str(BENCH), *args], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_corpus_is_the_same_for_the_same_seed(tmp_path: Path) -> None:
    first = Path(_bench("corpus", "--data", str(tmp_path / "a"), "--size-mb", "0.2").strip())
    second = Path(_bench("corpus", "--data", str(tmp_path / "b"), "--size-mb", "0.2").strip())
    assert first.name == second.name == "corpus-0.2mb-0.1-0.jsonl"
    assert first.read_bytes() == second.read_bytes()
    assert 200_000 <= first.stat().st_size < 260_000  # about the size asked for: it stops after the line that passes


def test_clean_prints_every_figure_the_readme_quotes(tmp_path: Path) -> None:
    out = _bench("clean", "--data", str(tmp_path), "--size-mb", "0.3", "--obvious-mb", "0.05", "--repeat", "1")
    for label in (
        "orjson read+write (I/O limit)",
        "corpus-tools clean --jobs 1 --no-corpus-aware",
        "corpus-tools clean --jobs 1 (corpus-aware)",
        "clean --jobs 1 vs the obvious way:",
        "clean --jobs 1 vs the I/O limit:",
        "--jobs 2 vs --jobs 1 (wall):",
        "of which start-up (clean on an empty file):",
        "every step off (start-up, reading, orjson, engine):",
        "each step alone adds: normalize ",
        "floor of this design",
        "6x the I/O limit leaves them",
    ):
        assert label in out, label
    # The runs write next to the corpus and clean up after themselves.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus-0.3mb-0.1-0.jsonl", "empty.jsonl"]
