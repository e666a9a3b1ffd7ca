"""Stopping a run: Ctrl-C, `kill PID` (SIGTERM), a closed terminal (SIGHUP) or a parent killed outright must leave no
partial output, no temporary or spill file and no worker process behind (real processes, real signals)."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc for child processes"),
    pytest.mark.slow,  # processes and signals: seconds each
]

BIN = Path(sys.executable).parent / "corpus-tools"
SPILL_ROOT = Path("/dev/shm")


def _records(n: int) -> bytes:
    text = "A paragraph that ends well.\nAnother one, with a few more words in it to carry."
    return b"".join(orjson.dumps({"id": f"d{i}", "text": text}) + b"\n" for i in range(n))


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _wait_until(condition, seconds: float = 30.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def _spill_dirs() -> set[str]:
    return {p.name for p in SPILL_ROOT.glob("corpus-tools-*")} if SPILL_ROOT.is_dir() else set()


def _default_stop_signals() -> None:
    # Under `nohup` (or a CI runner that ignores SIGHUP) the child would inherit the ignoring, and corpus-tools
    # rightly leaves an ignored signal ignored: the test wants the default a terminal session gives.
    for signum in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, signal.SIG_DFL)


def _start(tmp_path: Path, jobs: int) -> subprocess.Popen[bytes]:
    """``clean - --jobs N -o out.jsonl`` fed more than a batch through a pipe that stays open: mid-run, for sure."""
    out = tmp_path / "out.jsonl"
    process = subprocess.Popen(
        [str(BIN), "clean", "-", "--jobs", str(jobs), "-o", str(out)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        start_new_session=True,  # a signal for the main process only, as `kill PID` sends it
        preexec_fn=_default_stop_signals,
    )
    assert process.stdin is not None
    process.stdin.write(_records(40_000))  # several batches: with --jobs 2 the workers are busy
    process.stdin.flush()
    return process


@pytest.mark.parametrize(
    ("signum", "code", "jobs"),
    [
        (signal.SIGTERM, 143, 2),
        (signal.SIGTERM, 143, 1),
        (signal.SIGHUP, 129, 2),
        (signal.SIGINT, 130, 2),
    ],
)
def test_a_stop_signal_cleans_up_like_ctrl_c(tmp_path: Path, signum: int, code: int, jobs: int) -> None:
    spills_before = _spill_dirs()
    process = _start(tmp_path, jobs)
    if jobs > 1:
        assert _wait_until(lambda: len(_children(process.pid)) >= jobs), "the workers never started"
    else:
        assert _wait_until(lambda: any(p.name.startswith(".out.jsonl.") for p in tmp_path.iterdir()))
    workers = _children(process.pid)
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    assert process.returncode == code, err.decode()
    assert b"Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no output, no hidden temporary
    assert _spill_dirs() <= spills_before
    assert _wait_until(lambda: not any(_alive(w) for w in workers), 10), "a worker outlived the run"


def test_workers_end_when_the_main_process_is_killed_outright(tmp_path: Path) -> None:
    spills_before = _spill_dirs()
    process = _start(tmp_path, 2)
    assert _wait_until(lambda: len(_children(process.pid)) >= 2), "the workers never started"
    workers = _children(process.pid)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    # The kernel tells them (PR_SET_PDEATHSIG); before that they waited for work forever.
    assert _wait_until(lambda: not any(_alive(w) for w in workers), 10), "orphaned workers kept running"
    # SIGKILL runs no clean-up at all: remove the spill folder this run left (the output's temporary is in tmp_path).
    for name in _spill_dirs() - spills_before:
        shutil.rmtree(SPILL_ROOT / name, ignore_errors=True)
