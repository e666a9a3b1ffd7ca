"""``corpus-tools clean``: ingest -> normalize -> credits -> teasers in one command.

The step options are not redeclared here: clean takes every option of the single commands (``normalize``,
``credits``, ``teasers``) from their own signatures, with the same flag names and help, so the two can never drift
apart. A flag given on the command line overrides the ``--config`` file, which overrides the defaults.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import inspect
import os
import sys
import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from corpus_tools.cli.app import (
    Config,
    DroppedOption,
    Inputs,
    OnErrorOption,
    Output,
    Quiet,
    RejectsOption,
    TextField,
    app,
    check_outputs,
    given,
    report_dropped,
    report_rejects,
)
from corpus_tools.errors import ConfigError, CorpusError
from corpus_tools.io import STDIN, compression_for, expand_inputs
from corpus_tools.pipeline import OnError

if TYPE_CHECKING:
    from corpus_tools.engine import CleanPlan

#: Records per shard with -o DIR/ (shards.DEFAULT_SHARD_RECORDS).
DEFAULT_SHARD_RECORDS = 10_000


@dataclasses.dataclass(frozen=True)
class StepFlag:
    """One option of a step, offered on clean: which step and options field it sets."""

    step: str
    param: str
    spec: Any


def _decls(param: inspect.Parameter) -> list[str]:
    """The flag names of a typer option parameter (``--credits/--no-credits`` gives both)."""
    info = next(
        (m for m in getattr(param.annotation, "__metadata__", ()) if isinstance(m, typer.models.OptionInfo)), None
    )
    if info is None:
        return []
    raw = [info.default] if isinstance(info.default, str) else []
    raw += list(info.param_decls or ())
    return [name for decl in raw for name in decl.split("/")]


def _step_flags(own: set[str]) -> tuple[list[inspect.Parameter], list[StepFlag]]:
    """The options of every registered step as clean's flags, generated from the options dataclasses.

    A flag two steps share (``--dry-run``) is declared once and sets each step's field; a flag that clashes with
    one of clean's own or with another step's different option is offered under the step's prefix
    (``--teasers-credits``, ``--no-teasers-credits``).
    """
    from corpus_tools.cli.steps import flag_parameter
    from corpus_tools.registry import steps
    from corpus_tools.step import option_specs

    params: dict[str, inspect.Parameter] = {}
    flags: list[StepFlag] = []
    seen: dict[str, Any] = {}
    for step in steps():
        for spec in option_specs(step.Options):
            if not spec.cli:
                continue
            names = {n for decl in spec.flag.split("/") for n in (decl, "--no-" + decl[2:])}
            earlier = seen.get(spec.name)
            if earlier is not None and earlier.flag == spec.flag and earlier.type is spec.type:
                flags.append(StepFlag(step.name, spec.name, spec))
                continue
            if own.intersection(names) or spec.name in params or earlier is not None:
                if "/" in spec.flag:
                    flag = "/".join(
                        f"--no-{step.name}-{d[5:]}" if d.startswith("--no-") else f"--{step.name}-{d[2:]}"
                        for d in spec.flag.split("/")
                    )
                elif spec.is_bool and spec.default:
                    flag = f"--{step.name}-{spec.flag[2:]}/--no-{step.name}-{spec.flag[2:]}"
                else:
                    flag = f"--{step.name}-{spec.flag[2:]}"
                param = flag_parameter(spec, name=f"{step.name}_{spec.name}", flag=flag)
            else:
                param = flag_parameter(spec)
                seen[spec.name] = spec
            params[param.name] = param
            flags.append(StepFlag(step.name, param.name, spec))
    return list(params.values()), flags


Jobs = Annotated[
    int | None,
    typer.Option("-j", "--jobs", min=1, help="Worker processes (default: the machine's cores). Output is the same."),
]
IndexOption = Annotated[
    str | None,
    typer.Option("--index", help="A prebuilt corpus index (corpus-tools index) for the teasers' recurrence signal."),
]
CorpusAware = Annotated[
    bool,
    typer.Option(
        "--corpus-aware/--no-corpus-aware",
        help="Build the teasers' recurrence index in a first pass over the inputs (files and directories only).",
    ),
]
ShardSize = Annotated[
    int | None,
    typer.Option("--shard-size", min=1, help=f"With -o DIR/: records per shard (default {DEFAULT_SHARD_RECORDS})."),
]
ShardBytes = Annotated[
    int | None,
    typer.Option("--shard-bytes", min=1, help="With -o DIR/: also close a shard before it passes this many bytes."),
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
    "Clean a corpus in one go: ingest -> normalize -> credits -> teasers, in input order.\n\n"
    "Prints exactly what `ingest | normalize | credits | teasers` prints. Given files or directories, clean first "
    "builds the teasers' corpus index (paragraph recurrence) unless --no-corpus-aware.\n\n"
    "-o DIR/ writes zstd shards and a manifest.json; -o FILE also writes FILE.manifest.json (configuration, counts, "
    "versions)."
)


def clean(ctx: typer.Context, **kwargs: Any) -> None:
    from corpus_tools import engine as engines

    inputs = tuple(kwargs["inputs"] or ())
    check_outputs(inputs, kwargs["output"], kwargs["rejects"], shards=True, dropped=kwargs["dropped"])
    plan = _plan(ctx, kwargs)
    quiet: bool = kwargs["quiet"]
    engine = _engine(kwargs)
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
                progress=progress,
                warn=lambda line: typer.echo(line, err=True),
            )
    finally:
        engine.close()
    report_rejects(stats, kwargs["rejects"])
    report_dropped(stats, kwargs["dropped"], quiet)
    if not quiet:
        typer.echo(f"clean: {stats.summary()} (config {manifest['config_hash']})", err=True)


def _plan(ctx: typer.Context, kwargs: dict[str, Any]) -> CleanPlan:
    """Defaults, then the config file's tables, then the flags given on the command line."""
    from corpus_tools import engine as engines
    from corpus_tools.cli.steps import flag_value
    from corpus_tools.config import load_config, options_from
    from corpus_tools.registry import steps as registered

    config_path: str | None = kwargs["config"]
    tables = load_config(config_path) if config_path else {}
    chosen = []
    for step in registered():
        on = not kwargs.get(f"no_{step.name}") if step.default_on else kwargs.get(f"with_{step.name}")
        if not on:
            chosen.append((step.name, None))
            continue
        changes = {}
        for flag in _STEP_FLAGS:
            if flag.step == step.name and given(ctx, flag.param):
                changes[flag.spec.name] = flag_value(flag.spec, kwargs[flag.param])
        # Checked once, file and flags together: min_words = 120 in the file with --max-words 130 is valid.
        where = f"{config_path}: [{step.name}]"
        options = options_from(step.Options, tables.get(step.name), where=where, overrides=changes)
        chosen.append((step.name, options))
    return engines.CleanPlan(tuple(chosen), kwargs["text_field"], kwargs["corpus_aware"], kwargs["index"])


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
    if STDIN in files or any(compression_for(f) for f in files):
        return None
    return sum(os.path.getsize(f) for f in files) or None


def _signature() -> inspect.Signature:
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
        ("text_field", TextField, "text"),
        ("on_error", OnErrorOption, OnError.fail),
        ("rejects", RejectsOption, None),
        ("dropped", DroppedOption, None),
        ("quiet", Quiet, False),
    ]
    from corpus_tools.registry import steps

    switches = [
        (f"no_{s.name}", Annotated[bool, typer.Option(f"--no-{s.name}", help=f"Skip the {s.name} step.")], False)
        if s.default_on
        else (f"with_{s.name}", Annotated[bool, typer.Option(f"--{s.name}", help=f"Run the {s.name} step.")], False)
        for s in steps()
    ]
    params = [inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)]
    for name, annotation, default in own + switches:
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default))
    own_flags = {flag for p in params[1:] for flag in _decls(p)}
    own_flags |= {"--" + p.name.replace("_", "-") for p in params[1:]}
    step_params, _STEP_FLAGS[:] = _step_flags(own_flags)
    params += [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in step_params]
    return inspect.Signature(params)


_STEP_FLAGS: list[StepFlag] = []


clean.__signature__ = _signature()  # type: ignore[attr-defined]
clean.__annotations__ = {p.name: p.annotation for p in clean.__signature__.parameters.values()}  # type: ignore[attr-defined]
clean.__doc__ = _DOC
app.command()(clean)
