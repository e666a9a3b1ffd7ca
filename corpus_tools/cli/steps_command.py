"""``corpus-tools steps``: clean's steps in order, the pipe that ``clean`` equals."""

from __future__ import annotations

import enum
from typing import Annotated

import typer

from corpus_tools.cli.app import app


class StepsFormat(str, enum.Enum):
    text = "text"
    json = "json"


@app.command("steps")
def steps_command(
    format: Annotated[
        StepsFormat,
        typer.Option(
            "--format", case_sensitive=False, help="text: one command name a line. json: each step described."
        ),
    ] = StepsFormat.text,
    all_steps: Annotated[
        bool, typer.Option("--all", help="Also the registered steps clean runs only when asked.")
    ] = False,
) -> None:
    """Print clean's steps in order, one command name a line: `ingest | <each> | ...` is what clean does.

    Steps come from the package and from installed packages that register one (entry-point group
    `corpus_tools.steps`).
    """
    import orjson

    from corpus_tools.registry import steps
    from corpus_tools.step import describe

    chosen = [step for step in steps() if step.default_on or all_steps]
    if format is StepsFormat.json:
        typer.echo(orjson.dumps([describe(step) for step in chosen], option=orjson.OPT_INDENT_2).decode())
        return
    for step in chosen:
        typer.echo(step.name)
