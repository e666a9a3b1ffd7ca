"""``corpus-tools cluster slurm``: a Dask cluster of Slurm jobs for ``clean --engine dask --scheduler ADDRESS``.

dask-jobqueue (the ``slurm`` extra) writes the batch script and submits it; the scheduler runs in this process (on
the login node), so it lives as long as the command does. ``--job-script`` prints the script and submits nothing.
"""

from __future__ import annotations

import importlib
import signal
import sys
import threading
from typing import Annotated, Any

import typer

from corpus_tools.cli.app import _Group, app
from corpus_tools.errors import ConfigError

cluster_app = typer.Typer(
    cls=_Group, help="Start a Dask cluster for clean --engine dask: Slurm jobs (dask-jobqueue).", no_args_is_help=True
)
app.add_typer(cluster_app, name="cluster")

INSTALL_HINT = "cluster slurm needs dask-jobqueue: pip install 'corpus-tools[slurm]'"


def slurm_cluster(
    *, jobs: int, cores: int, memory: str, queue: str | None, account: str | None, walltime: str, python: str
) -> Any:
    """A ``SLURMCluster`` whose jobs each run ``cores`` single-threaded worker processes (the steps are pure
    Python: threads would share one core), sharing ``memory``. Nothing is submitted until it is scaled."""
    try:
        jobqueue = importlib.import_module("dask_jobqueue")
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None
    return jobqueue.SLURMCluster(
        cores=cores,
        processes=cores,
        memory=memory,
        queue=queue,
        account=account,
        walltime=walltime,
        job_name="corpus-tools",
        python=python,
        scheduler_options={"dashboard": False},
    )


@cluster_app.command("slurm")
def slurm(
    jobs: Annotated[int, typer.Option("--jobs", min=1, help="Slurm jobs to submit (each a node's share).")] = 1,
    cores: Annotated[int, typer.Option("--cores", min=1, help="Cores per job: one worker process each.")] = 8,
    memory: Annotated[str, typer.Option("--memory", help="Memory per job, as Slurm takes it (16GB).")] = "16GB",
    queue: Annotated[str | None, typer.Option("--queue", help="The Slurm partition (sbatch -p).")] = None,
    account: Annotated[str | None, typer.Option("--account", help="The Slurm account (sbatch -A).")] = None,
    walltime: Annotated[str, typer.Option("--walltime", help="Time limit per job (sbatch -t).")] = "02:00:00",
    python: Annotated[
        str | None,
        typer.Option("--python", help="The Python of the workers, with corpus-tools installed (default: this one)."),
    ] = None,
    job_script: Annotated[
        bool, typer.Option("--job-script", help="Print the batch script each job runs, and submit nothing.")
    ] = False,
) -> None:
    """Submit Slurm jobs that run Dask workers, print the scheduler's address, and keep the cluster up until
    stopped (Ctrl-C, `kill`, the login session's end).

    In another shell: `corpus-tools clean IN/ -o OUT/ --engine dask --scheduler ADDRESS`.
    """
    cluster = slurm_cluster(
        jobs=jobs,
        cores=cores,
        memory=memory,
        queue=queue,
        account=account,
        walltime=walltime,
        python=python or sys.executable,
    )
    try:
        if job_script:
            typer.echo(cluster.job_script(), nl=False)
            return
        cluster.scale(jobs=jobs)
        typer.echo(f"scheduler: {cluster.scheduler_address}")
        typer.echo(f"  corpus-tools clean IN/ -o OUT/ --engine dask --scheduler {cluster.scheduler_address}")
        stop = threading.Event()
        for number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(number, lambda *_: stop.set())
        stop.wait()
    finally:
        cluster.close()
