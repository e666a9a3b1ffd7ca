"""``corpus-tools check``."""

from __future__ import annotations

import enum
import sys
from typing import Annotated

import typer

from corpus_tools.cli.app import (
    InputFormat,
    InputFormatOption,
    Inputs,
    OnErrorOption,
    Output,
    RejectsOption,
    StorageOptions,
    TextField,
    app,
    check_outputs,
    check_rejects_option,
    skipping,
)
from corpus_tools.errors import InputError
from corpus_tools.io import open_output
from corpus_tools.pipeline import OnError


class Format(str, enum.Enum):
    human = "human"
    json = "json"
    github = "github"


@app.command()
def check(
    inputs: Inputs = None,
    output: Output = None,
    text_field: TextField = "text",
    storage_option: StorageOptions = None,
    input_format: InputFormatOption = InputFormat.auto,
    output_format: Annotated[
        Format,
        typer.Option(
            "--format",
            help="human: a summary (rich on a terminal, plain when piped); json: one JSON report; "
            "github: GitHub Actions annotations.",
        ),
    ] = Format.human,
    ignore: Annotated[
        list[str] | None, typer.Option("--ignore", metavar="RULE", help="Do not run RULE (repeatable).")
    ] = None,
    warn: Annotated[
        list[str] | None,
        typer.Option("--warn", metavar="RULE", help="Report RULE as a warning: it does not fail the check."),
    ] = None,
    error: Annotated[
        list[str] | None, typer.Option("--error", metavar="RULE", help="Report RULE as an error: it fails the check.")
    ] = None,
    config: Annotated[
        str | None, typer.Option("--config", help="A TOML file; its [check] table sets rules and thresholds.")
    ] = None,
    list_rules: Annotated[
        bool, typer.Option("--list-rules", help="Print every rule, its default severity and what it checks; exit.")
    ] = False,
    max_findings: Annotated[
        int | None,
        typer.Option("--max-findings", min=0, help="Findings listed per rule (counts are always exact); 0: all."),
    ] = None,
    on_error: OnErrorOption = OnError.fail,
    rejects: RejectsOption = None,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="No report: only the exit code (a CI gate).")] = False,
) -> None:
    """Check records against the corpus rules; exit 0 when clean, 1 on findings, 2 on unusable input.

    Rules: schema, types, duplicate-id, empty-text, unicode, mojibake, html-entities, credit-lines,
    teaser-tail, no-records, unusable-input (errors by default), replacement-char and duplicate-text (warnings
    by default).
    Warnings are reported but do not change the exit code. With --on-error skip, each unusable line is skipped
    and is an unusable-input finding (exit 1); without it, the first one stops the check (exit 2).
    """
    # Imported here, not at the top: every command's start-up pays for what the CLI package imports.
    from corpus_tools import check as checking
    from corpus_tools.config import load_config, options_from

    if list_rules:
        typer.echo(checking.render_rules(), nl=False)
        raise typer.Exit(0)
    options = checking.CheckOptions()
    if config is not None:
        options = options_from(checking.CheckOptions, load_config(config).get("check"), where=f"{config}: [check]")
    options = checking.with_overrides(options, ignore=ignore or (), warn=warn or (), error=error or ())
    if max_findings is not None:
        options = options_from(
            checking.CheckOptions, {"max_findings": max_findings}, where="--max-findings", base=options
        )
    check_rejects_option(on_error, rejects)
    check_outputs(tuple(inputs or ()), output, rejects)
    try:
        with skipping(on_error, rejects) as (skip, skipped):
            report = checking.check_paths(tuple(inputs or ()), options, text_field=text_field, on_unusable=skip)
            skipped.read += report.records
    except InputError as exc:
        if output_format is Format.github and not quiet:  # the job's annotations say why it stopped, too
            with open_output(output) as stream:
                stream.write(checking.render_github_input_error(exc).encode("utf-8"))
        elif output_format is Format.json and not quiet:  # and a parser of the report reads why there is none
            with open_output(output) as stream:
                stream.write(checking.render_json_input_error(exc))
        raise
    if quiet:
        raise typer.Exit(report.exit_code)
    with open_output(output) as stream:
        if output_format is Format.json:
            stream.write(checking.render_json(report))
        elif output_format is Format.github:
            stream.write(checking.render_github(report).encode("utf-8"))
        elif not output and sys.stdout.isatty():
            from rich.console import Console

            checking.render_rich(report, Console())
        else:
            stream.write(checking.render_text(report).encode("utf-8"))
    raise typer.Exit(report.exit_code)
