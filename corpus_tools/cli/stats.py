"""``corpus-tools stats``."""

from __future__ import annotations

import sys
from typing import Annotated

import orjson
import typer

from corpus_tools.cli.app import InputFormat, InputFormatOption, Inputs, TextField, app


@app.command()
def stats(
    inputs: Inputs = None,
    text_field: TextField = "text",
    input_format: InputFormatOption = InputFormat.auto,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout, for machines.")] = False,
    top: Annotated[
        int | None, typer.Option("--top", min=0, help="How many of the most repeated paragraphs to list.")
    ] = None,
    config: Annotated[
        str | None, typer.Option("--config", help="A TOML file; its [stats] table sets the options.")
    ] = None,
) -> None:
    """Counts of records, words, characters and paragraphs, document lengths, credits, teasers cut,
    normalization fixes by kind and the most repeated paragraphs. A table on a terminal, plain text when piped."""
    # Imported here, not at the top: every command's start-up pays for what the CLI package imports.
    from corpus_tools import stats as counting
    from corpus_tools.config import load_config, options_from

    options = counting.StatsOptions()
    if config is not None:
        options = options_from(counting.StatsOptions, load_config(config).get("stats"), where=f"{config} [stats]")
    if top is not None:
        options = options_from(counting.StatsOptions, {"top": top}, where="--top", base=options)
    report = counting.stats_paths(tuple(inputs or ()), options, text_field=text_field).as_dict()
    if as_json:
        sys.stdout.buffer.write(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")
    elif sys.stdout.isatty():
        from rich.console import Console

        counting.render_rich(report, Console())
    else:
        sys.stdout.write(counting.render_text(report))
    sys.stdout.flush()
