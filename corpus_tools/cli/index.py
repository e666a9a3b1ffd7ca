"""``corpus-tools index``: build the teasers' corpus index from records."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from corpus_tools.cli.app import (
    InputFormat,
    InputFormatOption,
    Inputs,
    OnErrorOption,
    Quiet,
    RejectsOption,
    StorageOptions,
    StreamOptions,
    TextField,
    app,
    run_steps,
)
from corpus_tools.errors import ConfigError
from corpus_tools.pipeline import OnError
from corpus_tools.step import Doc, Labels, Step

if TYPE_CHECKING:
    from corpus_tools.tailindex import TailIndex


class _AddToIndex(Step):
    """A step that only counts the record's paragraphs into an index."""

    name = "index"

    def __init__(self, index: TailIndex) -> None:
        self.index = index
        self.options = None

    def label(self, doc: Doc) -> Labels:
        self.index.add_text(doc.text)
        return Labels(doc)


@app.command("index")
def index_command(
    inputs: Inputs = None,
    output: Annotated[str, typer.Option("-o", "--output", help="The index file to write (atomically).")] = "",
    text_field: TextField = "text",
    storage_option: StorageOptions = None,
    input_format: InputFormatOption = InputFormat.auto,
    on_error: OnErrorOption = OnError.fail,
    rejects: RejectsOption = None,
    quiet: Quiet = False,
    min_words: Annotated[
        int, typer.Option("--min-words", min=1, help="Count paragraphs of at least this many words.")
    ] = 80,
    max_words: Annotated[int, typer.Option("--max-words", min=1, help="... and at most this many.")] = 140,
) -> None:
    """Build a tail index: how many documents each teaser-length paragraph appears in (hashes, no text).

    Use it with `corpus-tools teasers --index FILE`: a paragraph that recurs across pages extends a teaser
    tail. The file stores 12 bytes per distinct counted paragraph plus a 36-byte header.
    """
    from corpus_tools.tailindex import TailIndex

    if not output:
        raise ConfigError("index needs -o PATH (the index is a binary file, not JSON lines)")
    if min_words > max_words:
        raise ConfigError(f"--min-words ({min_words}) is greater than --max-words ({max_words})")
    tail_index = TailIndex(min_words, max_words)
    stream = StreamOptions(tuple(inputs or ()), None, text_field, on_error, rejects, quiet)
    run_steps(stream, [_AddToIndex(tail_index)], write_records=False)
    size = tail_index.save(output)
    if not quiet:
        per_document = size / tail_index.documents if tail_index.documents else 0.0
        typer.echo(
            f"corpus-tools: indexed {tail_index.documents} documents, {len(tail_index)} distinct paragraphs, "
            f"{size} bytes ({per_document:.1f} bytes/document) -> {output}",
            err=True,
        )
