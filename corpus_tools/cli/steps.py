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
from typing import Annotated, Any

import typer

from corpus_tools.cli.app import (
    Config,
    DroppedOption,
    Inputs,
    OnErrorOption,
    Output,
    Quiet,
    RejectsOption,
    StreamOptions,
    TextField,
    app,
    given,
    run_steps,
)
from corpus_tools.pipeline import OnError
from corpus_tools.step import OptionSpec, option_specs


def flag_parameter(spec: OptionSpec, *, name: str | None = None, flag: str | None = None) -> inspect.Parameter:
    """A typer parameter for one option (``name``/``flag`` rename it, e.g. under a step prefix in ``clean``)."""
    flag = flag or spec.flag
    kwargs: dict[str, Any] = {"help": spec.help, "show_default": True}
    annotation: Any = spec.type
    default: Any = spec.default
    choices = spec.choices
    if spec.is_bool:
        if "/" not in flag and spec.default:
            flag = f"{flag}/--no-{flag[2:]}"
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
        return tuple(value or ())
    return value


_STREAM = [
    ("inputs", Inputs, None),
    ("output", Output, None),
    ("config", Config, None),
    ("text_field", TextField, "text"),
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
        from corpus_tools.config import load_config, options_from

        config_path = kwargs["config"]
        tables = load_config(config_path) if config_path else {}
        overrides = {s.name: flag_value(s, kwargs[s.name]) for s in specs if given(ctx, s.name)}
        options = options_from(
            step.Options, tables.get(step.name), where=f"{config_path}: [{step.name}]", overrides=overrides
        )
        stream = StreamOptions(
            tuple(kwargs["inputs"] or ()),
            kwargs["output"],
            kwargs["text_field"],
            kwargs["on_error"],
            kwargs["rejects"],
            kwargs["quiet"],
            kwargs["dropped"],
        )
        state = None
        if step.corpus_pass is not None and kwargs.get("index"):
            from corpus_tools.tailindex import TailIndex, band_warning

            state = TailIndex.load(kwargs["index"])
            warning = band_warning(state, options.min_words, options.max_words, kwargs["index"])
            if warning:
                typer.echo(warning, err=True)
        run_steps(stream, (step(options, state),))

    params = [inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)]
    for name, annotation, default in _STREAM:
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default))
    if step.corpus_pass is not None:
        params.append(inspect.Parameter("index", inspect.Parameter.KEYWORD_ONLY, annotation=_INDEX, default=None))
    params += [flag_parameter(s) for s in specs]
    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in params}
    command.__doc__ = _help(step)
    command.__name__ = step_name
    return command


def _help(step: Any) -> str:
    keys = ", ".join(f"metadata.{k}" for k in step.metadata)
    doc = f"{step.summary}\n\n"
    if keys:
        doc += f"Sets {keys}; every line cut goes to metadata.cuts ({{step, rule, paragraph}}). "
    doc += f"Rules: {', '.join(step.reasons)}." if step.reasons else ""
    return doc


def register(names: typing.Iterable[str]) -> None:
    """Add the commands of the steps ``names`` to the app (each built now: its step module is imported)."""
    known = {info.name for info in app.registered_commands}
    for name in names:
        if name not in known:
            app.command(name)(step_command(name))
