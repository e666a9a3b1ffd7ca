"""``corpus-tools ingest``."""

from __future__ import annotations

from typing import Annotated

import typer

from corpus_tools.cli.app import (
    InputFormat,
    Inputs,
    OnErrorOption,
    Output,
    Quiet,
    RejectsOption,
    StorageOptions,
    StreamOptions,
    TextField,
    app,
    input_format_option,
    run_steps,
)
from corpus_tools.errors import ConfigError
from corpus_tools.pipeline import OnError


@app.command()
def ingest(
    inputs: Inputs = None,
    output: Output = None,
    text_field: TextField = "text",
    storage_option: StorageOptions = None,
    on_error: OnErrorOption = OnError.fail,
    rejects: RejectsOption = None,
    quiet: Quiet = False,
    input_format: input_format_option("stdin is one text document (JSON lines with --stdin-jsonl)") = InputFormat.auto,  # type: ignore[valid-type]
    stdin_jsonl: Annotated[
        bool,
        typer.Option("--stdin-jsonl", help="Read stdin as JSON lines (records), not as one text document."),
    ] = False,
) -> None:
    """Turn raw text files into records: id = file stem, source = path as given, text as read.

    Bytes that are not UTF-8 fall back to cp1252, then latin-1; metadata.encoding says which was used. JSON-lines
    files pass through as records. Stdin ('-' or no input) is one text document (id "stdin"), or JSON lines with
    --stdin-jsonl.
    """
    if stdin_jsonl and input_format is InputFormat.text:
        raise ConfigError("--stdin-jsonl and --input-format text contradict each other: give one of them")
    options = StreamOptions(tuple(inputs or ()), output, text_field, on_error, rejects, quiet)
    run_steps(options, (), stdin_is_text=not stdin_jsonl)
