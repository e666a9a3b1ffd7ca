"""``corpus-tools clean``: ingest -> normalize -> credits -> teasers in one command.

The step options are not redeclared here: clean takes every option of the single commands (``normalize``,
``credits``, ``teasers``) from their own signatures, with the same flag names and help, so the two can never drift
apart. A flag given on the command line overrides the ``--config`` file, which overrides the defaults.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import enum
import importlib
import inspect
import os
import sys
import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from corpus_tools.cli.app import (
    InputFormat,
    InputFormatOption,
    Inputs,
    OnErrorOption,
    Output,
    Quiet,
    RejectsOption,
    TextField,
    app,
    check_outputs,
    check_rejects_option,
    report_rejects,
)
from corpus_tools.errors import ConfigError, CorpusError
from corpus_tools.io import STDIN, compression_for, expand_inputs
from corpus_tools.pipeline import OnError

if TYPE_CHECKING:
    from corpus_tools.engine import CleanPlan

# The engine, the steps and the config loader are imported by the functions that run clean, not here: every command's
# start-up (``corpus-tools normalize`` too) builds clean's signature. So engine.CLEAN_STEPS and
# shards.DEFAULT_SHARD_RECORDS are spelled out; tests/test_cli.py checks that they agree.
#: The steps of clean, in order (engine.CLEAN_STEPS).
CLEAN_STEPS = ("normalize", "credits", "teasers")
#: Records per shard with -o DIR/ (shards.DEFAULT_SHARD_RECORDS).
DEFAULT_SHARD_RECORDS = 10_000

#: Parameters every command has; clean declares them once itself.
_COMMON = frozenset({"inputs", "output", "text_field", "on_error", "rejects", "quiet", "index", "input_format"})
#: Flags whose name differs from the options field they set, and how their value maps onto it.
_RENAMED: dict[tuple[str, str], tuple[str, Any]] = {
    ("credits", "role"): ("extra_roles", lambda value: tuple(r.lower() for r in value or ())),
}


@dataclasses.dataclass(frozen=True)
class StepFlag:
    """One option of a single command, offered on clean: which step and options field it sets."""

    step: str
    param: str
    field: str
    convert: Any


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


def _prefixed(param: inspect.Parameter, step: str) -> inspect.Parameter:
    """``param`` under step-prefixed flags (``--credits`` of teasers becomes ``--teasers-credits``)."""
    meta = list(param.annotation.__metadata__)
    for i, info in enumerate(meta):
        if isinstance(info, typer.models.OptionInfo):
            info = copy.copy(info)
            decls = [info.default] if isinstance(info.default, str) else []
            decls += list(info.param_decls or ())
            renamed = [
                "/".join(
                    f"--no-{step}-{name[5:]}" if name.startswith("--no-") else f"--{step}-{name[2:]}"
                    for name in decl.split("/")
                    if name.startswith("--")
                )
                for decl in decls
            ]
            info.default, info.param_decls = renamed[0], tuple(renamed[1:])
            meta[i] = info
    annotation = Annotated[(param.annotation.__origin__, *meta)]  # type: ignore[valid-type]
    return param.replace(name=f"{step}_{param.name}", annotation=annotation)


def _shared(param: inspect.Parameter) -> inspect.Parameter:
    """A flag that several steps take: one help text saying it applies to each of them."""
    meta = [copy.copy(m) for m in param.annotation.__metadata__]
    for info in meta:
        if isinstance(info, typer.models.OptionInfo) and param.name == "dry_run":
            info.help = "Label only: every step fills its metadata (credits, cuts) but leaves the text as is."
    return param.replace(annotation=Annotated[(param.annotation.__origin__, *meta)])  # type: ignore[valid-type]


def _step_flags(own: set[str]) -> tuple[list[inspect.Parameter], list[StepFlag]]:
    """The parameters of the single step commands (minus the common ones) and the fields they map onto.

    A flag that clashes with one of clean's own (teasers' ``--no-credits`` vs clean's ``--no-credits``) is offered
    under a step prefix (``--no-teasers-credits``). That each field exists is checked when clean runs
    (:func:`_check_fields`), which imports the steps.
    """
    params: dict[str, inspect.Parameter] = {}
    flags: list[StepFlag] = []
    for step in CLEAN_STEPS:
        try:
            command = getattr(importlib.import_module(f"corpus_tools.cli.{step}"), step)
        except (ModuleNotFoundError, AttributeError):
            continue
        for param in inspect.signature(command, eval_str=True).parameters.values():
            if param.name in _COMMON:
                continue
            field, convert = _RENAMED.get((step, param.name), (param.name, None))
            if own.intersection(_decls(param)):
                param = _prefixed(param, step)
            # A flag several steps share (--dry-run) is declared once and sets each step's field.
            if param.name in params:
                params[param.name] = _shared(params[param.name])
            params.setdefault(param.name, param)
            flags.append(StepFlag(step, param.name, field, convert))
    return list(params.values()), flags


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
Config = Annotated[
    str | None,
    typer.Option("--config", help="TOML file with \\[normalize], \\[credits], \\[teasers] tables of step options."),
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


def _check_fields(flags: list[StepFlag]) -> None:
    """Every step flag clean offers sets a field of that step's options (a programming error otherwise)."""
    from corpus_tools import engine as engines

    steps = engines.available_steps()
    for flag in flags:
        if flag.step not in steps:
            continue
        options_class, _ = engines.step_types(flag.step)
        if flag.field not in {f.name for f in dataclasses.fields(options_class)}:
            raise TypeError(f"clean: '{flag.step} --{flag.param}' maps onto no field of {options_class.__name__}")


def clean(ctx: typer.Context, **kwargs: Any) -> None:
    from corpus_tools import engine as engines

    _check_fields(_STEP_FLAGS)
    inputs = tuple(kwargs["inputs"] or ())
    check_rejects_option(kwargs["on_error"], kwargs["rejects"])
    check_outputs(inputs, kwargs["output"], kwargs["rejects"], shards=True)
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
                shard_records=kwargs["shard_size"],
                shard_bytes=kwargs["shard_bytes"],
                progress=progress,
                warn=lambda line: typer.echo(line, err=True),
            )
    finally:
        engine.close()
    report_rejects(stats, kwargs["rejects"])
    if not quiet:
        typer.echo(f"clean: {stats.summary()} (config {manifest['config_hash']})", err=True)


def _plan(ctx: typer.Context, kwargs: dict[str, Any]) -> CleanPlan:
    """Defaults, then the config file's tables, then the flags given on the command line."""
    from corpus_tools import engine as engines
    from corpus_tools.config import check_tables, load_config, options_from

    config_path: str | None = kwargs["config"]
    tables = load_config(config_path) if config_path else {}
    if config_path:
        check_tables(tables, set(engines.CLEAN_STEPS), where=config_path)
    steps = []
    for step in engines.CLEAN_STEPS:
        if kwargs.get(f"no_{step}") or step not in engines.available_steps():
            steps.append((step, None))
            continue
        options_class, _ = engines.step_types(step)
        changes = {}
        for flag in _STEP_FLAGS:
            if flag.step == step and _given(ctx, flag.param):
                value = kwargs[flag.param]
                changes[flag.field] = flag.convert(value) if flag.convert else value
        # Checked once, file and flags together: min_words = 120 in the file with --max-words 130 is valid.
        options = options_from(options_class, tables.get(step), where=f"{config_path}: [{step}]", overrides=changes)
        steps.append((step, options))
    return engines.CleanPlan(tuple(steps), kwargs["text_field"], kwargs["corpus_aware"], kwargs["index"])


def _given(ctx: typer.Context, param: str) -> bool:
    """Whether a flag was given (command line or environment), not left at its default."""
    source = ctx.get_parameter_source(param)
    # Compared by name: typer may carry its own copy of click's ParameterSource enum.
    return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")


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
        ("input_format", InputFormatOption, InputFormat.auto),
        ("on_error", OnErrorOption, OnError.fail),
        ("rejects", RejectsOption, None),
        ("quiet", Quiet, False),
    ]
    switches = [
        (f"no_{step}", Annotated[bool, typer.Option(f"--no-{step}", help=f"Skip the {step} step.")], False)
        for step in CLEAN_STEPS
    ]
    params = [inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)]
    for name, annotation, default in own + switches:
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default))
    own_flags = {flag for p in params[1:] for flag in _decls(p)}
    step_params, _STEP_FLAGS[:] = _step_flags(own_flags)
    params += [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in step_params]
    return inspect.Signature(params)


_STEP_FLAGS: list[StepFlag] = []


clean.__signature__ = _signature()  # type: ignore[attr-defined]
clean.__annotations__ = {p.name: p.annotation for p in clean.__signature__.parameters.values()}  # type: ignore[attr-defined]
clean.__doc__ = _DOC
app.command()(clean)
