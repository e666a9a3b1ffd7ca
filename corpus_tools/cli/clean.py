"""``corpus-tools clean``: ingest -> normalize -> credits -> teasers in one command.

The step options are not redeclared here: clean takes every option of the single commands (``normalize``,
``credits``, ``teasers``) from their own signatures, with the same flag names and help, so the two can never drift
apart. A flag given on the command line overrides the ``--config`` file, which overrides the defaults.
"""

from __future__ import annotations

import contextlib
import enum
import os
import sys
import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from corpus_tools.cli.app import (
    Config,
    DroppedOption,
    InputFormat,
    InputFormatOption,
    Inputs,
    OnErrorOption,
    Output,
    Quiet,
    RejectsOption,
    StorageOptions,
    TextField,
    check_outputs,
    check_rejects_option,
    report_rejects,
)
from corpus_tools.cli.steps import plan_from, with_pipeline_options
from corpus_tools.errors import ConfigError, CorpusError
from corpus_tools.io import STDIN, before_reading, compression_for, expand_inputs
from corpus_tools.pipeline import OnError
from corpus_tools.shards import DEFAULT_SHARD_RECORDS
from corpus_tools.storage import is_parquet, is_url  # clean is built only when it runs: no start-up cost

if TYPE_CHECKING:
    pass


Jobs = Annotated[
    int | None,
    typer.Option(
        "-j",
        "--jobs",
        min=0,
        help="Worker processes (default and 0: the machine's cores; never more than the cores or the batches). "
        "Output is the same.",
    ),
]
IndexOption = Annotated[
    str | None,
    typer.Option("--index", help="A prebuilt corpus index (corpus-tools index) for the teasers' recurrence signal."),
]
CorpusAware = Annotated[
    bool,
    typer.Option(
        "--corpus-aware/--no-corpus-aware",
        help="Run the steps' corpus passes in a first read of the inputs (files and directories only).",
    ),
]
ShardSize = Annotated[
    int | None,
    typer.Option("--shard-size", min=1, help=f"With -o DIR/: records per shard (default {DEFAULT_SHARD_RECORDS})."),
]
ShardBytes = Annotated[
    int | None,
    typer.Option(
        "--shard-bytes",
        min=1,
        help="With -o DIR/: also close a shard before it passes this many bytes. With --engine dask (no --shard-size):"
        " the input bytes of each task, whose worker writes them as one shard (default 32 MB).",
    ),
]


class ShardFormat(str, enum.Enum):
    jsonl = "jsonl"
    parquet = "parquet"


ShardFormatOption = Annotated[
    ShardFormat,
    typer.Option(
        "--shard-format",
        help="With -o DIR/: jsonl (part-NNNNN.jsonl.zst) or parquet (part-NNNNN.parquet, typed by arrow_schema(); "
        "pip install 'corpus-tools\\[parquet]').",
    ),
]
Resume = Annotated[
    bool,
    typer.Option(
        "--resume",
        help="With -o DIR/: put each shard in place as it is done, with a progress file; run the same command again "
        "after a stop and it goes on where it stopped (same output as one run).",
    ),
]


class EngineName(str, enum.Enum):
    local = "local"
    dask = "dask"


EngineOption = Annotated[
    EngineName,
    typer.Option(
        "--engine",
        help="local: worker processes on this machine. dask: a Dask cluster (pip install 'corpus-tools\\[dask]').",
    ),
]
Scheduler = Annotated[
    str | None,
    typer.Option("--scheduler", help="With --engine dask: the scheduler address (default: a local cluster)."),
]

_DOC = (
    "Clean a corpus in one go: ingest, then every step `corpus-tools steps` lists (normalize, credits, teasers, "
    "dedup), in input order.\n\n"
    "Prints exactly what the pipe of those single commands prints. Given files or directories, clean first runs the "
    "steps' corpus passes (credits' author recurrence, the teasers' paragraph index) unless --no-corpus-aware. "
    "A record a step drops goes to --dropped with its reason.\n\n"
    "-o DIR/ writes zstd shards and a manifest.json; -o FILE also writes FILE.manifest.json (configuration, counts, "
    "versions)."
)


def clean(ctx: typer.Context, **kwargs: Any) -> None:
    from corpus_tools import engine as engines

    inputs = tuple(kwargs["inputs"] or ())
    check_rejects_option(kwargs["on_error"], kwargs["rejects"])
    check_outputs(inputs, kwargs["output"], kwargs["rejects"], shards=True, dropped=kwargs["dropped"])
    plan = plan_from(ctx, kwargs, clean.step_flags)  # type: ignore[attr-defined]
    quiet: bool = kwargs["quiet"]
    engine = _engine(kwargs)
    before_reading(inputs)  # the hint for a terminal's stdin goes above the progress bar, not into it
    try:
        with _progress(quiet, inputs) as progress:
            stats, manifest = engines.clean_corpus(
                plan,
                inputs,
                kwargs["output"],
                engine=engine,
                on_error=kwargs["on_error"],
                rejects=kwargs["rejects"],
                dropped=kwargs["dropped"],
                shard_records=kwargs["shard_size"],
                shard_bytes=kwargs["shard_bytes"],
                shard_format=kwargs["shard_format"].value,
                resume=kwargs["resume"],
                progress=progress,
                warn=lambda line: typer.echo(line, err=True),
            )
    finally:
        engine.close()
    report_rejects(stats, kwargs["rejects"])
    if not quiet:
        typer.echo(f"clean: {stats.summary()} (config {manifest['config_hash']})", err=True)


def _engine(kwargs: dict[str, Any]) -> Any:
    from corpus_tools import engine as engines

    if kwargs["engine"] is EngineName.dask:
        from corpus_tools.dask_engine import DaskEngine

        return DaskEngine(kwargs["scheduler"], jobs=kwargs["jobs"])
    if kwargs["scheduler"]:
        raise ConfigError("--scheduler needs --engine dask")
    return engines.LocalEngine(kwargs["jobs"])


class _Bar:
    """A rich progress display on stderr: phase, documents, MB, MB/s, and a bar when the input size is known.

    Refreshed by hand from the main loop, not from a thread, so forking the worker processes stays safe.
    """

    def __init__(self, total_bytes: int | None) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.total = total_bytes
        columns: list[Any] = [SpinnerColumn(), TextColumn("{task.description:<9}")]
        if total_bytes:
            columns += [BarColumn(), TextColumn("{task.percentage:>3.0f}%")]
        columns += [
            TextColumn("{task.fields[documents]:,} documents"),
            TextColumn("{task.fields[mb]:,.1f} MB"),
            TextColumn("{task.fields[rate]:.1f} MB/s"),
            TimeElapsedColumn(),
        ]
        self.progress = Progress(*columns, console=Console(file=sys.stderr), auto_refresh=False, transient=True)
        self.task: Any = None
        self.phase("cleaning")

    def phase(self, description: str) -> None:
        if self.task is not None:
            self.progress.remove_task(self.task)
        self.task = self.progress.add_task(description, total=self.total, documents=0, mb=0.0, rate=0.0)
        self.documents = 0
        self.nbytes = 0
        self.started = time.perf_counter()
        self.shown = 0.0

    def advance(self, documents: int, nbytes: int) -> None:
        self.documents += documents
        self.nbytes += nbytes
        now = time.perf_counter()
        if now - self.shown < 0.1:
            return
        self.shown = now
        mb = self.nbytes / 1e6
        rate = mb / max(now - self.started, 1e-9)
        self.progress.update(self.task, completed=self.nbytes, documents=self.documents, mb=mb, rate=rate)
        self.progress.refresh()


@contextlib.contextmanager
def _progress(quiet: bool, inputs: tuple[str, ...] = ()) -> Any:
    """A progress bar only when stderr is a terminal (never on stdout, never in a log file)."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    bar = _Bar(_input_bytes(inputs))
    with bar.progress:
        yield bar


def _input_bytes(inputs: tuple[str, ...]) -> int | None:
    """The bytes the run will read, when known up front (plain files; not stdin, not compressed input)."""
    try:
        files = expand_inputs(inputs)
    except CorpusError:
        return None
    if STDIN in files or any(compression_for(f) or is_url(f) or is_parquet(f) for f in files):
        return None
    return sum(os.path.getsize(f) for f in files) or None


def build() -> Any:
    """clean, with its own options and every step's (built when clean runs or help lists it: imports the steps)."""
    own = [
        ("inputs", Inputs, None),
        ("output", Output, None),
        ("config", Config, None),
        ("jobs", Jobs, None),
        ("engine", EngineOption, EngineName.local),
        ("scheduler", Scheduler, None),
        ("corpus_aware", CorpusAware, True),
        ("index", IndexOption, None),
        ("shard_size", ShardSize, None),
        ("shard_bytes", ShardBytes, None),
        ("shard_format", ShardFormatOption, ShardFormat.jsonl),
        ("resume", Resume, False),
        ("text_field", TextField, "text"),
        ("input_format", InputFormatOption, InputFormat.auto),
        ("storage_option", StorageOptions, None),
        ("on_error", OnErrorOption, OnError.fail),
        ("rejects", RejectsOption, None),
        ("dropped", DroppedOption, None),
        ("quiet", Quiet, False),
    ]
    return with_pipeline_options(clean, own, _DOC)
