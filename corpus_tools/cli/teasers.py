"""``corpus-tools teasers`` and ``corpus-tools index``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from corpus_tools.cli.app import (
    InputFormat,
    InputFormatOption,
    Inputs,
    OnErrorOption,
    Output,
    Quiet,
    RejectsOption,
    StreamOptions,
    TextField,
    app,
    run_steps,
)
from corpus_tools.errors import ConfigError
from corpus_tools.pipeline import OnError
from corpus_tools.records import Record

if TYPE_CHECKING:
    from corpus_tools.tailindex import TailIndex

# The defaults below are TeasersOptions' and the tail index's (DEFAULT_MIN_WORDS, DEFAULT_MAX_WORDS), spelled out so
# that starting the CLI does not import the step; tests/test_cli.py checks that they agree.


@app.command()
def teasers(
    inputs: Inputs = None,
    output: Output = None,
    text_field: TextField = "text",
    on_error: OnErrorOption = OnError.fail,
    rejects: RejectsOption = None,
    quiet: Quiet = False,
    input_format: InputFormatOption = InputFormat.auto,
    index: Annotated[
        str | None,
        typer.Option("--index", help="A tail index (`corpus-tools index`): adds the recurrence-across-pages signal."),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Only label: fill metadata.cuts with what would be cut; text unchanged."),
    ] = False,
    min_words: Annotated[
        int, typer.Option("--min-words", min=1, help="Shortest teaser, in words (teasers share a tight band).")
    ] = 95,
    max_words: Annotated[int, typer.Option("--max-words", min=1, help="Longest teaser, in words.")] = 110,
    heading_max_words: Annotated[
        int, typer.Option("--heading-max-words", min=1, help="Longest subhead, in words (subheads are kept).")
    ] = 8,
    use_credits: Annotated[
        bool,
        typer.Option("--credits/--no-credits", help="Use 'right after the credit lines' as a teaser signal."),
    ] = True,
    min_recurrence: Annotated[
        int, typer.Option("--min-recurrence", min=2, help="With --index: documents a paragraph must recur in.")
    ] = 3,
) -> None:
    """Cut the teaser tail (truncated previews of other articles) that scraped pages end with.

    Every cut paragraph goes to metadata.teasers (verbatim) and its reason to metadata.cuts
    ({"rule", "paragraph"}); both are always present. Subheads stay. When the signals disagree, the paragraph
    stays: losing body text is worse than leaving a teaser in.
    """
    from corpus_tools.tailindex import TailIndex, band_warning
    from corpus_tools.teasers import Teasers, TeasersOptions

    if min_words > max_words:
        raise ConfigError(f"--min-words ({min_words}) is greater than --max-words ({max_words})")
    options = TeasersOptions(
        min_words=min_words,
        max_words=max_words,
        heading_max_words=heading_max_words,
        use_credits=use_credits,
        min_recurrence=min_recurrence,
        dry_run=dry_run,
    )
    tail_index = TailIndex.load(index) if index else None
    warning = band_warning(tail_index, min_words, max_words, index) if tail_index is not None and index else None
    if warning:
        typer.echo(warning, err=True)
    stream = StreamOptions(tuple(inputs or ()), output, text_field, on_error, rejects, quiet)
    run_steps(stream, [Teasers(options, tail_index)])


class _AddToIndex:
    """A step that only counts the record's paragraphs into an index."""

    name = "index"

    def __init__(self, index: TailIndex) -> None:
        self.index = index

    def process(self, record: Record, text_field: str) -> Record:
        self.index.add_text(record[text_field])
        return record


@app.command("index")
def index_command(
    inputs: Inputs = None,
    output: Annotated[str, typer.Option("-o", "--output", help="The index file to write (atomically).")] = "",
    text_field: TextField = "text",
    on_error: OnErrorOption = OnError.fail,
    rejects: RejectsOption = None,
    quiet: Quiet = False,
    input_format: InputFormatOption = InputFormat.auto,
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
