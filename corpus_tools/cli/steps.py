"""The single step commands, generated from the registry: one command per step, its flags from the step's options.

Nothing here knows a step by name: a step's command, flags, help, ranges and choices all come from its class
(:class:`corpus_tools.step.Step`) and the fields of its options dataclass (:func:`corpus_tools.step.option`).
The commands are built only when one of them runs (or ``--help`` lists them), so start-up imports no step.
"""

from __future__ import annotations

import enum
import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

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
    StreamOptions,
    TextField,
    app,
    given,
    run_steps,
)
from corpus_tools.io import STDIN
from corpus_tools.pipeline import OnError
from corpus_tools.step import CorpusPass, OptionSpec, option_specs


def flag_parameter(
    spec: OptionSpec, *, name: str | None = None, flag: str | None = None, panel: str | None = None
) -> inspect.Parameter:
    """A typer parameter for one option (``name``/``flag`` rename it, e.g. under a step prefix in ``clean``;
    ``panel`` groups it in ``--help``)."""
    flag = flag or spec.cli_flag
    kwargs: dict[str, Any] = {"help": spec.help, "show_default": True}
    if panel:
        kwargs["rich_help_panel"] = panel
    annotation: Any = spec.type
    default: Any = spec.default
    choices = spec.choices
    if spec.is_bool:
        pass
    elif choices is not None:
        annotation = enum.Enum(f"{spec.name}_choices", [(c, c) for c in choices], type=str)  # type: ignore[misc]
        kwargs["case_sensitive"] = False
        default = annotation(default.value if isinstance(default, enum.Enum) else default)
    elif typing.get_origin(spec.type) is tuple:
        annotation = list[str] | None
        kwargs["show_default"] = False
        default = None
    elif spec.type in (int, float):
        if spec.low is not None:
            kwargs["min"] = spec.low
        if spec.high is not None:
            kwargs["max"] = spec.high
    return inspect.Parameter(
        name or spec.name,
        inspect.Parameter.KEYWORD_ONLY,
        annotation=Annotated[annotation, typer.Option(flag, **kwargs)],
        default=default,
    )


def flag_value(spec: OptionSpec, value: Any) -> Any:
    """A parsed flag's value as the options field takes it (choices in their canonical case, lists as tuples)."""
    if spec.choices is not None and isinstance(value, (str, enum.Enum)):
        value = value.value if isinstance(value, enum.Enum) else value
        canonical = {c.lower(): c for c in spec.choices}[value.lower()]
        return spec.type(canonical) if isinstance(spec.type, type) and issubclass(spec.type, enum.Enum) else canonical
    if typing.get_origin(spec.type) is tuple:
        return list_value(value)
    return value


def list_value(values: typing.Iterable[str] | None) -> tuple[str, ...]:
    """A list option's values, each given either alone or comma-separated: ``--x en,de``, ``--x en --x de`` and
    ``--x en,de --x fr`` all work (blanks around a comma are dropped; ``--x ''`` alone is the empty list)."""
    return tuple(part.strip() for value in values or () for part in value.split(",") if part.strip())


_STREAM = [
    ("inputs", Inputs, None),
    ("output", Output, None),
    ("config", Config, None),
    ("text_field", TextField, "text"),
    ("input_format", InputFormatOption, InputFormat.auto),
    ("storage_option", StorageOptions, None),
    ("on_error", OnErrorOption, OnError.fail),
    ("rejects", RejectsOption, None),
    ("dropped", DroppedOption, None),
    ("quiet", Quiet, False),
]

_INDEX = Annotated[
    str | None,
    typer.Option("--index", help="A prebuilt corpus index (`corpus-tools index`) for the step's corpus pass."),
]


def step_command(step_name: str) -> Callable[..., None]:
    """The command that runs the step ``step_name`` alone over JSON lines."""
    from corpus_tools.registry import step_named

    step = step_named(step_name)
    specs = [s for s in option_specs(step.Options) if s.cli]

    def command(ctx: typer.Context, **kwargs: Any) -> None:
        config_path = kwargs["config"]
        overrides = {s.name: flag_value(s, kwargs[s.name]) for s in specs if given(ctx, s.name)}
        for spec, choice in switches:
            if kwargs[f"{spec.name}_{choice}"]:
                overrides[spec.name] = flag_value(spec, choice)
        if config_path:
            from corpus_tools.config import load_config, options_from

            table = load_config(config_path).get(step.name)
            options = options_from(step.Options, table, where=f"{config_path}: [{step.name}]", overrides=overrides)
        else:
            options = step.Options(**overrides)  # its own checks name a value out of range
        stream = StreamOptions(
            tuple(kwargs["inputs"] or ()),
            kwargs["output"],
            kwargs["text_field"],
            kwargs["on_error"],
            kwargs["rejects"],
            kwargs["quiet"],
            kwargs["dropped"],
        )
        for spec in specs:
            if spec.corpus_pass and given(ctx, spec.name) and not (loads and kwargs.get("index")):
                why = "without --index (a prebuilt corpus index)" if loads else "here: clean runs the corpus pass"
                typer.echo(f"warning: {spec.flag} has no effect {why}", err=True)
        state = None
        if loads and kwargs.get("index"):
            state, warning = step.corpus_pass.load(kwargs["index"], options)  # type: ignore[union-attr]
            if warning:
                typer.echo(warning, err=True)
        run_steps(stream, (step(options, state),))

    params = [inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)]
    for name, annotation, default in _STREAM:
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default))
    # a corpus pass with a file form: its result can be given prebuilt (--index), as for the teasers index
    loads = isinstance(step.corpus_pass, CorpusPass) and type(step.corpus_pass).load is not CorpusPass.load
    if loads:
        params.append(inspect.Parameter("index", inspect.Parameter.KEYWORD_ONLY, annotation=_INDEX, default=None))
    params += [flag_parameter(s) for s in specs]
    switches = [(s, choice) for s in specs if s.switches and s.choices for choice in s.choices]
    for spec, choice in switches:
        annotation = Annotated[bool, typer.Option(f"--{choice}", help=f"Same as {spec.flag} {choice}.")]
        params.append(
            inspect.Parameter(
                f"{spec.name}_{choice}", inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=False
            )
        )
    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in params}
    command.__doc__ = _help(step)
    command.__name__ = step_name
    return command


@dataclass(frozen=True)
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
    taken: dict[str, OptionSpec] = {}  # flag name -> the option that has it
    for step in steps():
        for spec in option_specs(step.Options):
            if not spec.cli:
                continue
            names = {
                n
                for decl in spec.cli_flag.split("/")
                for n in ((decl, "--no-" + decl[2:]) if spec.is_bool else (decl,))
            }
            earlier = taken.get(spec.flag)
            if earlier is not None and earlier.name == spec.name and earlier.type is spec.type:
                # the same option in two steps (--dry-run): one flag sets both
                flags.append(StepFlag(step.name, params_name(params, earlier), spec))
                continue
            name = spec.name if spec.name not in params else f"{step.name}_{spec.name}"
            if own.intersection(names) or names.intersection(taken):
                param = flag_parameter(
                    spec, name=f"{step.name}_{spec.name}", flag=_prefixed(spec, step.name), panel=f"{step.name} options"
                )
            else:
                param = flag_parameter(spec, name=name, panel=f"{step.name} options")
            taken.update(dict.fromkeys(names, spec))
            params[param.name] = param
            flags.append(StepFlag(step.name, param.name, spec))
    return list(params.values()), flags


def plan_from(ctx: typer.Context, kwargs: dict[str, Any], flags: list[StepFlag]) -> Any:
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
            if step.name in tables:  # checked all the same: a typo should not wait for the day the step is on
                options_from(step.Options, tables[step.name], where=f"{config_path}: [{step.name}]")
            chosen.append((step.name, None))
            continue
        changes = {}
        for flag in flags:
            if flag.step == step.name and given(ctx, flag.param):
                changes[flag.spec.name] = flag_value(flag.spec, kwargs[flag.param])
        # Checked once, file and flags together: min_words = 120 in the file with --max-words 130 is valid.
        where = f"{config_path}: [{step.name}]"
        options = options_from(step.Options, tables.get(step.name), where=where, overrides=changes)
        chosen.append((step.name, options))
    _warn_unused_flags(ctx, flags, {name for name, options in chosen if options is not None}, kwargs)
    corpus_aware = kwargs.get("corpus_aware", True)
    inputs = kwargs.get("inputs") or ()
    if not corpus_aware or not inputs or STDIN in inputs:
        why = "with --no-corpus-aware" if not corpus_aware else "on stdin (read once)"
        loaded = {"teasers"} if kwargs.get("index") else set()  # the prebuilt index is the teasers' pass
        on = {name for name, options in chosen if options is not None} - loaded
        for flag in flags:
            if flag.spec.corpus_pass and flag.step in on and given(ctx, flag.param):
                name = _flag_name(ctx, flag.param, kwargs.get(flag.param))
                message = f"warning: {name} has no effect {why}: it sets the {flag.step} step's corpus pass"
                typer.echo(message, err=True)
    return engines.CleanPlan(tuple(chosen), kwargs["text_field"], corpus_aware, kwargs.get("index"))


def _warn_unused_flags(ctx: typer.Context, flags: list[StepFlag], on: set[str], kwargs: dict[str, Any]) -> None:
    """One warning line per step option given on the command line for a step that does not run
    (``--residue-languages en`` without ``--residue``): it would otherwise be ignored without a word."""
    from corpus_tools.registry import steps as registered

    steps_of: dict[str, set[str]] = {}
    for flag in flags:
        steps_of.setdefault(flag.param, set()).add(flag.step)
    default_on = {step.name: step.default_on for step in registered()}
    for param, owners in steps_of.items():
        if owners & on or not given(ctx, param):
            continue
        step = sorted(owners)[0]
        why = f"with --no-{step}" if default_on.get(step, True) else f"without --{step}"
        name = _flag_name(ctx, param, kwargs.get(param))
        typer.echo(f"warning: {name} has no effect {why} (the {step} step does not run)", err=True)


def _flag_name(ctx: typer.Context, param: str, value: Any) -> str:
    """The flag as the user wrote it (``--no-residue-cta`` for a switch given off)."""
    for p in ctx.command.params:
        if p.name == param:
            if getattr(p, "secondary_opts", None) and value is False:
                return p.secondary_opts[0]
            return next((o for o in p.opts if o.startswith("--")), p.opts[0])
    return "--" + param.replace("_", "-")


def params_name(params: dict[str, inspect.Parameter], spec: OptionSpec) -> str:
    """The parameter that already carries ``spec``'s flag."""
    flag = spec.flag.split("/")[0]
    for name, param in params.items():
        if flag in _decls(param):
            return name
    raise KeyError(spec.flag)


def _prefixed(spec: OptionSpec, step: str) -> str:
    """``spec``'s flag under the step's prefix: ``--credits/--no-credits`` of teasers is ``--teasers-credits``."""
    if "/" in spec.flag:
        return "/".join(
            f"--no-{step}-{d[5:]}" if d.startswith("--no-") else f"--{step}-{d[2:]}" for d in spec.flag.split("/")
        )
    if spec.is_bool:
        return f"--{step}-{spec.flag[2:]}/--no-{step}-{spec.flag[2:]}"
    return f"--{step}-{spec.flag[2:]}"


def with_pipeline_options(function: Callable[..., None], own: list[tuple[str, Any, Any]], doc: str) -> Any:
    """``function`` with ``own`` parameters, a switch per step (``--no-NAME``; ``--NAME`` for a step that is off
    by default) and every step's options: the options of a whole pipeline (``clean``, ``explain``)."""
    from corpus_tools.registry import steps

    switches = [
        (
            f"no_{s.name}",
            Annotated[bool, typer.Option(f"--no-{s.name}", help=f"Skip the {s.name} step.", rich_help_panel="steps")],
            False,
        )
        if s.default_on
        else (
            f"with_{s.name}",
            Annotated[bool, typer.Option(f"--{s.name}", help=f"Run the {s.name} step.", rich_help_panel="steps")],
            False,
        )
        for s in steps()
    ]
    params = [inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)]
    for name, annotation, default in own + switches:
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default))
    own_flags = {flag for p in params[1:] for flag in _decls(p)}
    own_flags |= {"--" + p.name.replace("_", "-") for p in params[1:]}
    step_params, flags = _step_flags(own_flags)
    params += [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in step_params]
    function.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    function.__annotations__ = {p.name: p.annotation for p in params}
    function.__doc__ = doc
    function.step_flags = flags  # type: ignore[attr-defined]
    return function


def _help(step: Any) -> str:
    keys = ", ".join(f"metadata.{k}" for k in step.metadata)
    doc = f"{step.summary}\n\n"
    if keys:
        doc += f"Sets {keys}; every line cut goes to metadata.cuts ({{step, rule, paragraph}}). "
    doc += f"Rules: {', '.join(step.reasons)}." if step.reasons else ""
    return doc


#: Commands whose options come from the registry, built only when they run or help lists them.
PIPELINE_COMMANDS = {"clean": "corpus_tools.cli.clean", "explain": "corpus_tools.cli.explain"}


def register(names: typing.Iterable[str]) -> None:
    """Add the commands ``names`` (steps, or :data:`PIPELINE_COMMANDS`) to the app, each built now (the steps'
    modules are imported)."""
    import importlib

    known = {info.name for info in app.registered_commands}
    for name in names:
        if name in known:
            continue
        if name in PIPELINE_COMMANDS:
            app.command(name)(importlib.import_module(PIPELINE_COMMANDS[name]).build())
        else:
            app.command(name)(step_command(name))
