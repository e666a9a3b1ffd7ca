"""``corpus-tools stats``."""

from __future__ import annotations

import enum
import io
import sys
from typing import Annotated

import orjson
import typer

from corpus_tools.cli.app import (
    InputFormat,
    InputFormatOption,
    Inputs,
    OnErrorOption,
    Output,
    Quiet,
    RejectsOption,
    StorageOptions,
    TextField,
    app,
    check_outputs,
    check_rejects_option,
    skipping,
)
from corpus_tools.io import open_output
from corpus_tools.pipeline import OnError


class StatsFormat(str, enum.Enum):
    auto = "auto"
    table = "table"
    plain = "plain"  # as explain spells it
    json = "json"
    text = "text"  # deprecated: plain


@app.command()
def stats(
    inputs: Inputs = None,
    output: Output = None,
    output_format: Annotated[
        StatsFormat,
        typer.Option(
            "--format",
            case_sensitive=False,
            help="auto: a table on a terminal, plain text when piped; table; plain (text); json: one JSON object, "
            "for machines.",
        ),
    ] = StatsFormat.auto,
    top: Annotated[
        int | None, typer.Option("--top", min=0, help="How many of the most repeated paragraphs to list.")
    ] = None,
    config: Annotated[
        str | None, typer.Option("--config", help="A TOML file; its [stats] table sets the options.")
    ] = None,
    text_field: TextField = "text",
    storage_option: StorageOptions = None,
    input_format: InputFormatOption = InputFormat.auto,
    on_error: OnErrorOption = OnError.fail,
    rejects: RejectsOption = None,
    quiet: Quiet = False,
    as_json: Annotated[bool, typer.Option("--json", hidden=True, help="Deprecated: --format json.")] = False,
) -> None:
    """Counts of records, words, characters and paragraphs, document lengths, credits, teasers cut,
    normalization fixes by kind and the most repeated paragraphs. A table on a terminal, plain text when piped."""
    # Imported here, not at the top: every command's start-up pays for what the CLI package imports.
    from corpus_tools import stats as counting
    from corpus_tools.config import load_config, options_from

    options = counting.StatsOptions()
    if config is not None:
        options = options_from(counting.StatsOptions, load_config(config).get("stats"), where=f"{config}: [stats]")
    if top is not None:
        options = options_from(counting.StatsOptions, {"top": top}, where="--top", base=options)
    if as_json:
        typer.echo("warning: --json is deprecated, use --format json", err=True)
        output_format = StatsFormat.json
    if output_format is StatsFormat.text:
        typer.echo("warning: --format text is deprecated, use --format plain", err=True)
        output_format = StatsFormat.plain
    check_rejects_option(on_error, rejects)
    check_outputs(tuple(inputs or ()), output, rejects)
    with skipping(on_error, rejects) as (skip, skipped):
        report = counting.stats_paths(tuple(inputs or ()), options, text_field=text_field, on_unusable=skip).as_dict()
        skipped.read += report["records"]
    with open_output(output) as stream:
        if output_format is StatsFormat.json:
            stream.write(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")
        elif output_format is StatsFormat.table or (
            output_format is StatsFormat.auto and not output and sys.stdout.isatty()
        ):
            from rich.console import Console

            counting.render_rich(report, Console(file=io.TextIOWrapper(stream, encoding="utf-8", write_through=True)))
        else:
            stream.write(counting.render_text(report).encode("utf-8"))
