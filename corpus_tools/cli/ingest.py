"""``corpus-tools ingest``."""

from __future__ import annotations

from corpus_tools.cli.app import Inputs, OnErrorOption, Output, RejectsOption, StreamOptions, TextField, app, run_steps
from corpus_tools.pipeline import OnError


@app.command()
def ingest(
    inputs: Inputs = None,
    output: Output = None,
    text_field: TextField = "text",
    on_error: OnErrorOption = OnError.fail,
    rejects: RejectsOption = None,
) -> None:
    """Turn raw text files into records: id = file stem, source = path as given, text as read.

    Bytes that are not UTF-8 fall back to cp1252, then latin-1; metadata.encoding says which was used.
    """
    options = StreamOptions(tuple(inputs or ()), output, text_field, on_error, rejects)
    run_steps(options, (), stdin_is_text=True)
