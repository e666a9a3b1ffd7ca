"""The CLI's shared parts: the app, the options every command takes, running steps over streams, ``main``.

Each command lives in its own module beside this one and only maps its flags onto the library's options.
"""

from __future__ import annotations

import contextlib
import copy
import enum
import os
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from corpus_tools import __version__
from corpus_tools.errors import ConfigError, CorpusError, OutputError
from corpus_tools.io import (
    STDIN,
    STDOUT_NAME,
    check_output_path,
    open_output,
    reading_as,
    stand_in_for_closed_streams,
    writes_to_stdout,
)
from corpus_tools.pipeline import DroppedStream, OnError, Pipeline, Rejects, RunStats, reject


class _Group(TyperGroup):
    """Turns library errors into one ``error:`` line and an exit code, and a closed pipe into a quiet exit."""

    def get_command(self, ctx: Any, name: str) -> Any:
        command = super().get_command(ctx, name)
        if command is not None:
            get_params = command.get_params
            command.get_params = lambda ctx: _switches_without_metavar(get_params(ctx))
            format_help = command.format_help

            def with_whole_names(ctx: Any, formatter: Any) -> Any:
                _whole_option_names()
                return format_help(ctx, formatter)

            command.format_help = with_whole_names
        return command

    def get_params(self, ctx: Any) -> Any:
        return _switches_without_metavar(super().get_params(ctx))

    def format_help(self, ctx: Any, formatter: Any) -> Any:
        _whole_option_names()
        return super().format_help(ctx, formatter)

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        """Click's own errors (a bad flag, a value out of range) in the one style: ``error: ...``, exit code 2."""
        errors = _click_exceptions()
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except errors.NoArgsIsHelpError as exc:
            exc.show()  # the help, as typer shows it
            sys.exit(exc.exit_code)
        except errors.ClickException as exc:
            hint = ""
            if isinstance(exc, errors.UsageError) and exc.ctx is not None:
                hint = f" (see '{exc.ctx.command_path} --help')"
            elif isinstance(exc, errors.UsageError):  # raised before a context (`-o` with no value): the command's
                name = next((a for a in kwargs.get("args") or () if not a.startswith("-")), None)
                if name in self.commands:
                    hint = f" (see 'corpus-tools {name} --help')"
            message = exc.format_message().replace(": Value error, ", ": ")  # typer's choice check's own prefix
            typer.echo(f"error: {message}{hint}", err=True)
            sys.exit(exc.exit_code)
        except typer.Abort:
            typer.echo("Aborted!", err=True)
            sys.exit(1)
        except CorpusError as exc:  # outside a command: help written to a closed stdout, say
            typer.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except _Stopped as exc:
            # A stop signal: the command has cleaned up on the way out; the shell's code for it (main() reads it).
            raise SystemExit(128 + exc.signum) from exc
        except CorpusError as exc:
            typer.echo(f"error: {exc}", err=True)
            if isinstance(exc, OutputError) and exc.path == STDOUT_NAME:
                # what stdout's buffer still holds would fail again at exit (exit 120, "Exception ignored")
                _silence_stdout()
            ctx.exit(exc.exit_code)
        except BrokenPipeError:
            # The reader went away (`... | head -1`): not an error of ours. Point stdout at /dev/null so the
            # interpreter's final flush does not print a second BrokenPipeError.
            _silence_stdout()
            ctx.exit(0)
        except OSError as exc:
            # The system refused a write (a full disk, stdout on /dev/full, an I/O error): one line naming where,
            # not a traceback, and exit 2 like any output that cannot be written (1 means check's findings). Reads
            # of inputs are InputErrors already: an error without a file name is a write to stdout.
            reason = exc.strerror or str(exc)
            reason = reason[:1].lower() + reason[1:]
            where = f"{os.fsdecode(exc.filename)}: " if exc.filename is not None else f"{STDOUT_NAME}: cannot write: "
            typer.echo(f"error: {where}{reason}", err=True)
            _silence_stdout()
            ctx.exit(2)


def _whole_option_names() -> None:
    """Lay out ``--help`` so no option name or help word is cut (see :mod:`corpus_tools.cli.help_layout`); done
    when help is drawn, not at start-up, which imports no rich."""
    from corpus_tools.cli.help_layout import install

    install()


def _click_exceptions() -> Any:
    """Click's exception classes as this typer raises them (typer 0.29 carries its own copy of click)."""
    try:
        from typer._click import exceptions
    except ImportError:  # a typer that uses click itself
        from click import exceptions
    return exceptions


def _switches_without_metavar(params: list[Any]) -> list[Any]:
    """A switch takes no value: its help shows none (typer would print ``<bool>``)."""
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
    return params


app = typer.Typer(
    name="corpus-tools",
    cls=_Group,
    help="Turn scraped news text into a clean, auditable JSONL corpus. Every command reads and writes "
    "JSON lines (one record per line), so commands compose with pipes.\n\n"
    "The main job: `corpus-tools clean pages/ -o corpus.jsonl` (then `corpus-tools check corpus.jsonl`). "
    "`corpus-tools steps` lists the steps clean runs, in order.",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
    # Markdown mode reflows a docstring's wrapped lines into paragraphs at the terminal's width.
    rich_markup_mode="markdown",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"corpus-tools {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Turn scraped news text into a clean, auditable JSONL corpus."""


# ------------------------------------------------------------------------------ options every command shares

Inputs = Annotated[
    list[str] | None,
    typer.Argument(
        help="Files, directories (recursive) or globs; .txt is one document, .jsonl/.json are records; "
        ".gz/.zst/.xz/.bz2 read transparently. '-' or nothing reads stdin.",
        show_default=False,
    ),
]
Output = Annotated[
    str | None,
    typer.Option(
        "-o", "--output", help="Write here instead of stdout (.gz/.zst/.xz/.bz2 compress); written atomically."
    ),
]
TextField = Annotated[str, typer.Option("--text-field", help="The record key that holds the text.")]
OnErrorOption = Annotated[
    OnError,
    typer.Option("--on-error", help="fail: stop at the first bad record (exit 2). skip: count it and go on."),
]
RejectsOption = Annotated[
    str | None,
    typer.Option("--rejects", help="With --on-error skip: write each bad record and its reason here (JSONL)."),
]
Quiet = Annotated[bool, typer.Option("-q", "--quiet", help="No summary on stderr.")]
DroppedOption = Annotated[
    str | None,
    typer.Option("--dropped", help="Write each record a step dropped, with its reason and step, here (JSONL)."),
]
Config = Annotated[
    str | None,
    typer.Option("--config", help="TOML file with a table of options per step ([normalize], [teasers] ...)."),
]


def given(ctx: typer.Context, param: str) -> bool:
    """Whether a flag was given (command line or environment), not left at its default."""
    source = ctx.get_parameter_source(param)
    # Compared by name: typer may carry its own copy of click's ParameterSource enum.
    return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")


class InputFormat(str, enum.Enum):
    auto = "auto"
    jsonl = "jsonl"
    text = "text"


def _read_inputs_as(ctx: typer.Context, value: InputFormat | None) -> InputFormat | None:
    """Set how the command reads its inputs (see :func:`corpus_tools.io.reading_as`), for the command's run."""
    if value is not None and not ctx.resilient_parsing:
        reading = reading_as(InputFormat(value).value)
        reading.__enter__()
        ctx.call_on_close(lambda: reading.__exit__(None, None, None))
    return value


def _use_storage_options(ctx: typer.Context, value: list[str] | None) -> list[str] | None:
    """Open the command's URLs with these fsspec storage options (see :func:`corpus_tools.storage.using_options`)."""
    if value and not ctx.resilient_parsing:
        from corpus_tools.storage import options_from, using_options

        using = using_options(options_from(value))
        using.__enter__()
        ctx.call_on_close(lambda: using.__exit__(None, None, None))
    return value


StorageOptions = Annotated[
    list[str] | None,
    typer.Option(
        "--storage-option",
        metavar="KEY=VALUE",
        callback=_use_storage_options,
        help="For s3:// gs:// ... inputs and outputs: an fsspec storage option (repeatable; a JSON value is parsed, "
        "a.b=V nests). Never printed. The environment works too (AWS_ENDPOINT_URL, AWS_PROFILE ...).",
        show_default=False,
    ),
]


def input_format_option(stdin: str = "stdin is JSON lines") -> Any:
    """The ``--input-format`` option; ``stdin`` says what ``auto`` makes of stdin for the command."""
    return Annotated[
        InputFormat,
        typer.Option(
            "--input-format",
            callback=_read_inputs_as,
            help="auto: JSON lines by suffix (.jsonl .json .ndjson .jl .jsonlines), .txt is text, else by content; "
            f"{stdin}. jsonl or text: read every input so.",
        ),
    ]


InputFormatOption = input_format_option()


@dataclass(frozen=True)
class StreamOptions:
    """Where records come from and go to, and what happens to bad ones."""

    inputs: tuple[str, ...] = ()
    output: str | None = None
    text_field: str = "text"
    on_error: OnError = OnError.fail
    rejects: str | None = None
    quiet: bool = False
    dropped: str | None = None


def run_steps(
    options: StreamOptions, steps: Sequence[Any], *, stdin_is_text: bool = False, write_records: bool = True
) -> RunStats:
    """Read the inputs, apply ``steps``, write the output and the rejects, report what was skipped: through the
    runner ``clean`` uses (:func:`corpus_tools.engine.run_pipeline`), on one core.

    ``write_records=False`` runs the steps for what they collect (``index``) and writes no records.
    """
    from corpus_tools.engine import LocalEngine, StreamSink, run_pipeline

    check_rejects_option(options.on_error, options.rejects)
    check_outputs(options.inputs, options.output, options.rejects, dropped=options.dropped, writes_output=write_records)
    pipeline = Pipeline(tuple(steps), options.text_field)
    with contextlib.ExitStack() as stack:
        sink = StreamSink(stack.enter_context(open_output(options.output))) if write_records else _Discard()
        rejects = Rejects(stack.enter_context(open_output(options.rejects)) if options.rejects else None)
        dropped = DroppedStream(stack.enter_context(open_output(options.dropped)) if options.dropped else None)
        stats = run_pipeline(
            options.inputs,
            pipeline,
            sink,
            engine=LocalEngine(1),
            on_error=options.on_error,
            rejects=rejects,
            dropped=dropped,
            stdin_is_text=stdin_is_text,
        )
    report_rejects(stats, options.rejects)
    report_dropped(stats, options.dropped, options.quiet)
    return stats


def check_rejects_option(on_error: OnError, rejects: str | None) -> None:
    """``--rejects`` only means something with ``--on-error skip`` (``fail`` stops at the first bad record): given
    alone it would leave an empty file and the belief that bad records were kept."""
    if rejects is not None and on_error is not OnError.skip:
        raise ConfigError("--rejects needs --on-error skip (with --on-error fail the first bad record stops the run)")


def check_outputs(
    inputs: Sequence[str],
    output: str | None,
    rejects: str | None,
    *,
    shards: bool = False,
    dropped: str | None = None,
    writes_output: bool = True,
) -> None:
    """Refuse, before any work, a run whose rejects would land on its output, on an input, or inside its shard
    folder (both are written atomically at the end, so one would silently replace the other, or the input), and
    outputs that cannot be written (a one-line error each). ``shards``: ``-o DIR/`` writes shards (clean);
    ``writes_output=False``: the run writes no records (``index``), so its rejects may take stdout.

    ``-o`` naming an input is allowed: the output replaces it only once the run has read everything.
    """
    if rejects and rejects != STDIN:
        where = os.path.realpath(rejects)
        if output and output != STDIN:
            if where == os.path.realpath(output):
                raise ConfigError(f"--rejects and -o are the same file: {rejects}")
            if output.endswith(("/", os.sep)) and where.startswith(os.path.join(os.path.realpath(output), "")):
                raise ConfigError(f"--rejects {rejects} is inside the shard folder -o {output}")
        for path in inputs:
            if path != STDIN and (where == os.path.realpath(path) or _same_file(rejects, path)):
                raise ConfigError(f"--rejects {rejects} would overwrite the input {path}")
    # Two streams of JSON lines on one stdout make one stream that no reader can split.
    on_stdout = [
        name
        for name, path, given_ in (
            ("the records" if output is None else f"-o {output}", output, writes_output),
            (f"--rejects {rejects}", rejects, rejects is not None),
            (f"--dropped {dropped}", dropped, dropped is not None),
        )
        if given_ and writes_to_stdout(path)
    ]
    if len(on_stdout) > 1:
        both = "both" if len(on_stdout) == 2 else "all"
        raise ConfigError(f"{' and '.join(on_stdout)} would {both} go to stdout: write all but one of them to a file")
    check_output_path(output, shards_allowed=shards)
    check_output_path(rejects)
    if dropped and dropped != STDIN:
        for other, flag in ((output, "-o"), (rejects, "--rejects")):
            if other and other != STDIN and os.path.realpath(dropped) == os.path.realpath(other):
                raise ConfigError(f"--dropped and {flag} are the same file: {dropped}")
        for path in inputs:
            if path != STDIN and (os.path.realpath(dropped) == os.path.realpath(path) or _same_file(dropped, path)):
                raise ConfigError(f"--dropped {dropped} would overwrite the input {path}")
        check_output_path(dropped)


def _same_file(a: str, b: str) -> bool:
    """Two existing paths to one file (a hard link, say); False when either does not exist."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


class _Discard:
    """Stands in for the output when a run's product is not records."""

    def write_line(self, line: bytes) -> None:
        pass

    def write_lines(self, block: bytes, records: int) -> None:
        pass


@contextlib.contextmanager
def skipping(on_error: OnError, rejects: str | None) -> Any:
    """For a command that reads records without writing them (check, stats): with ``--on-error skip``, a callback
    that counts an unusable record and writes it to the rejects; the summary of what was skipped goes to stderr at
    the end. Yields ``(callback or None, stats)``."""
    stats = RunStats()
    if on_error is not OnError.skip:
        yield None, stats
        return
    with open_output(rejects) if rejects else contextlib.nullcontext(None) as stream:
        sink = Rejects(stream)

        def skip(item: Any, reason: str) -> None:
            stats.read += 1
            reject(item, reason, stats, OnError.skip, sink)

        yield skip, stats
    report_rejects(stats, rejects)


def report_dropped(stats: RunStats, dropped: str | None, quiet: bool) -> None:
    """A single command's summary of what its step dropped, by reason (clean's summary line says it itself);
    --quiet leaves it out (the --dropped stream and clean's manifest still have every one)."""
    if not stats.dropped or quiet:
        return
    kinds = ", ".join(f"{n} {reason}" for reason, n in sorted(stats.dropped_reasons.items()))
    where = f" (written to {dropped})" if dropped else " (use --dropped PATH to keep them)"
    typer.echo(f"corpus-tools: dropped {stats.dropped} of {stats.read} records: {kinds}{where}", err=True)


def report_rejects(stats: RunStats, rejects: str | None) -> None:
    """Nothing is lost silently: skipped records are always reported on stderr, even with --quiet."""
    if not stats.rejected:
        return
    for line in stats.first_rejects:
        typer.echo(f"warning: {line}: skipped", err=True)
    more = stats.rejected - len(stats.first_rejects)
    if more > 0:
        typer.echo(f"warning: ... and {more} more", err=True)
    where = f" (written to {rejects})" if rejects else " (use --rejects PATH to keep them)"
    typer.echo(f"corpus-tools: {stats.summary_of_rejects()}{where}", err=True)


# ------------------------------------------------------------------------------------------------ entry


def _silence_stdout() -> None:
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def app_for(args: Sequence[str]) -> typer.Typer:
    """``app`` with only the command that ``args`` run: typer builds every registered command (nine signatures,
    ~30 ms) on each run, while one runs. ``--help``, ``--version`` or an unknown name get the whole app.

    The group and the command are built exactly as with the whole app (the root callback keeps it a group).
    """
    from corpus_tools.cli import steps
    from corpus_tools.registry import cli_names

    names = (*cli_names(), *steps.PIPELINE_COMMANDS)
    if args and args[0] in names:
        steps.register([args[0]])
    elif not args or not any(_name(info) == args[0] for info in app.registered_commands):
        steps.register(names)  # help, or a name to suggest from: every command
        _in_pipeline_order()
    found = [info for info in app.registered_commands if args and _name(info) == args[0]]
    if len(found) != 1:
        return app
    only = copy.copy(app)
    only.registered_commands = found
    return only


def _in_pipeline_order() -> None:
    """The commands in the order of a pipeline: ingest, the steps (registry order), then the rest."""
    from corpus_tools.registry import step_names

    order = ["ingest", *step_names(), "index", "explain", "clean", "check", "stats", "steps"]
    rank = {name: k for k, name in enumerate(order)}
    app.registered_commands.sort(key=lambda info: rank.get(_name(info), len(order)))


def _name(info: Any) -> str:
    return info.name or typer.main.get_command_name(info.callback.__name__)


# The signals that stop a run the way Ctrl-C does: `kill PID`, a CI job cancelled, a batch scheduler's time limit,
# a closed terminal. Their default action ends the process on the spot: the hidden temporary output, the spill
# files and the worker processes (which would wait for work forever) stay behind.
_STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class _Stopped(KeyboardInterrupt):
    """Raised by a stop signal where Ctrl-C raises KeyboardInterrupt, so the same clean-up runs."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _stop(signum: int, frame: Any) -> None:
    raise _Stopped(signum)


#: Columns of help that is not shown on a terminal: wide enough that no option name is cut.
HELP_WIDTH = 120


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: ``sys.argv[1:]``) and return the exit code.

    A stop signal (SIGTERM, SIGHUP) cleans up like Ctrl-C and exits with 128 + its number, as the shell reports a
    process the signal ended.
    """
    args = list(argv) if argv is not None else sys.argv[1:]
    stand_in_for_closed_streams()
    if "COLUMNS" not in os.environ and not sys.stdout.isatty():
        # Piped help (`clean --help | less`): rich would lay it out in 80 columns and cut long option names.
        os.environ["COLUMNS"] = str(HELP_WIDTH)
    _hint_at_a_terminal_stdin(args)
    stopped: list[int] = []
    handled = _handle_stop_signals()
    try:
        try:
            app_for(args)(args=args, prog_name="corpus-tools")
        except _Stopped as exc:  # raised outside typer's own KeyboardInterrupt handling (before or after the command)
            stopped.append(exc.signum)
        except SystemExit as exc:
            signum = _stop_signal_of(exc)
            if signum is not None:
                stopped.append(signum)
            elif isinstance(exc.__context__, BrokenPipeError):
                # Outside a command (`--help | head -1`) click turns a closed pipe into exit code 1: the reader
                # going away is not an error of ours (as inside a command, see _Group.invoke).
                _silence_stdout()
                return 0
            elif exc.code is None:
                return 0
            else:
                return exc.code if isinstance(exc.code, int) else 1
    finally:
        for signum, previous in handled.items():
            signal.signal(signum, previous)
    return 128 + stopped[0] if stopped else 0


def _hint_at_a_terminal_stdin(args: Sequence[str]) -> None:
    """A command given no input reads stdin; on a terminal it would wait without a word: say so, on stderr, when
    it starts reading (see :data:`corpus_tools.io.on_terminal_stdin`)."""
    from corpus_tools import io as inputs

    name = f"corpus-tools {args[0]}" if args and not args[0].startswith("-") else "corpus-tools"

    def hint() -> None:
        typer.echo(
            f"{name}: reading stdin, a terminal: pipe the input in or name files (see '{name} --help'); "
            "Ctrl-D ends the input",
            err=True,
        )

    inputs.on_terminal_stdin = hint


def _stop_signal_of(exc: BaseException) -> int | None:
    """The stop signal behind ``exc``: typer turns the KeyboardInterrupt into exit code 130, chained to it."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, _Stopped):
            return cause.signum
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return None


def _handle_stop_signals() -> dict[int, Any]:
    """Install :func:`_stop` for the stop signals left at their default action; return what they had before."""
    handled: dict[int, Any] = {}
    for signum in _STOP_SIGNALS:
        with contextlib.suppress(ValueError, OSError):  # not the main thread (main() called from a thread)
            if signal.getsignal(signum) is signal.SIG_DFL:
                handled[signum] = signal.signal(signum, _stop)
    return handled
