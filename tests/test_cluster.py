"""``corpus-tools cluster slurm``: the batch script dask-jobqueue writes, and jobs submitted and cancelled through
a stand-in ``sbatch``/``scancel`` (no Slurm here)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("dask_jobqueue", reason="the slurm extra is not installed")

BIN = Path(sys.executable).parent / "corpus-tools"


def test_the_job_script_runs_one_single_threaded_worker_per_core(cli) -> None:
    args = ["cluster", "slurm", "--job-script", "--cores", "4", "--memory", "8GB", "--queue", "short"]
    result = cli([*args, "--account", "proj", "--walltime", "01:30:00", "--python", "/opt/ct/bin/python"])
    assert result.exit_code == 0, result.stderr
    script = re.sub(r"tcp://\S+", "tcp://SCHEDULER", result.stdout)
    assert script == (
        "#!/usr/bin/env bash\n\n"
        "#SBATCH -J corpus-tools\n#SBATCH -p short\n#SBATCH -A proj\n#SBATCH -n 1\n#SBATCH --cpus-per-task=4\n"
        "#SBATCH --mem=8G\n#SBATCH -t 01:30:00\n\n"
        "/opt/ct/bin/python -m distributed.cli.dask_worker tcp://SCHEDULER --name dummy-name --nthreads 1 "
        "--memory-limit 1.86GiB --nworkers 4 --nanny --death-timeout 60\n"
    )


def test_jobs_are_submitted_then_cancelled_when_the_command_is_stopped(tmp_path: Path) -> None:
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "sbatch").write_text('#!/bin/sh\ncp "$1" "$FAKE_SLURM/job-$$.sh"\necho "Submitted batch job $$"\n')
    (fake / "scancel").write_text('#!/bin/sh\necho "$@" >> "$FAKE_SLURM/cancelled"\n')
    for script in fake.iterdir():
        script.chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}", "FAKE_SLURM": str(tmp_path)}
    command = [str(BIN), "cluster", "slurm", "--jobs", "2", "--cores", "2"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while len(list(tmp_path.glob("job-*.sh"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        output, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    first, out = output.decode().split("\n", 1)
    first += "\n"
    assert re.fullmatch(r"scheduler: tcp://[\d.]+:\d+\n", first)
    jobs = sorted(path.stem.removeprefix("job-") for path in tmp_path.glob("job-*.sh"))
    assert len(jobs) == 2
    assert sorted((tmp_path / "cancelled").read_text().split()) == jobs
    address = first.split()[1]
    assert address in (tmp_path / f"job-{jobs[0]}.sh").read_text()  # the workers find this scheduler
    assert out == f"  corpus-tools clean IN/ -o OUT/ --engine dask --scheduler {address}\n"


def test_without_dask_jobqueue_the_install_hint_is_one_line(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "dask_jobqueue", None)  # what a missing package gives: ImportError
    result = cli(["cluster", "slurm", "--job-script"])
    assert result.exit_code == 2
    assert result.stderr == "error: cluster slurm needs dask-jobqueue: pip install 'corpus-tools[slurm]'\n"
