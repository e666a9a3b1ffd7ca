"""``corpus-tools explain``: render :mod:`corpus_tools.explain`'s rows as a rich table, plain lines or JSON."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, TextIO

import orjson
import typer

from corpus_tools.cli.app import InputFormat, InputFormatOption, Inputs, TextField, app
from corpus_tools.errors import InputError, RecordError
from corpus_tools.io import read_items
from corpus_tools.records import check_record

if TYPE_CHECKING:
    # The labelling library (credits' regexes) and rich load when explain runs, not with every command.
    from rich.console import Console
    from rich.text import Text

    from corpus_tools.explain import ExplainOptions, Explanation, Row

#: labels.BODY, spelled out so that the CLI does not import the labelling library to start (tests/test_cli.py
#: checks the two agree).
BODY = "body"

# One style per kind: what stays is quiet, what a step would cut stands out.
STYLES = {
    BODY: "dim",
    "heading": "bold cyan",
    "byline": "bold green",
    "bio": "bold magenta",
    "translator": "bold yellow",
    "teaser": "bold red",
}
TEXT_STYLES = {
    BODY: "",
    "heading": "cyan",
    "teaser": "red",
    "byline": "green",
    "bio": "magenta",
    "translator": "yellow",
}


@app.command()
def explain(
    inputs: Inputs = None,
    text_field: TextField = "text",
    input_format: InputFormatOption = InputFormat.auto,
    json_output: Annotated[bool, typer.Option("--json", help="One JSON object per document (JSON lines).")] = False,
    plain: Annotated[
        bool, typer.Option("--plain", help="Plain tab-separated lines even on a terminal (the piped format).")
    ] = False,
    full: Annotated[
        bool, typer.Option("--full", help="On a terminal, wrap whole paragraphs instead of cutting them.")
    ] = False,
    normalize: Annotated[
        bool,
        typer.Option("--normalize/--no-normalize", help="Label the text as `clean` sees it, after normalize."),
    ] = True,
    index: Annotated[
        str | None, typer.Option("--index", help="A tail index (`corpus-tools index`) for the recurrence signal.")
    ] = None,
) -> None:
    """Show each paragraph with the label every step gives it (body, heading, byline, bio, translator, teaser)
    and why. Nothing is cut.

    On a terminal: a coloured table per document. Piped: one tab-separated line per non-blank paragraph,
    `ID  INDEX  KIND  STEP  REASON  TEXT` (`-` for body's step and reason). --json: one object per document.
    INDEX counts lines of the text (blank ones included), as in metadata.cuts.
    """
    from corpus_tools.explain import ExplainOptions

    tail_index = None
    if index:
        from corpus_tools.tailindex import TailIndex, band_warning
        from corpus_tools.teasers import TeasersOptions

        tail_index = TailIndex.load(index)
        # The teaser labels use the default band: the same warning as `teasers --index` when the index misses part.
        band = TeasersOptions()
        warning = band_warning(tail_index, band.min_words, band.max_words, index)
        if warning:
            typer.echo(warning, err=True)
    options = ExplainOptions(normalize=normalize)
    docs = _explanations(tuple(inputs or ()), text_field, options, tail_index)
    out = sys.stdout
    if json_output:
        for doc in docs:
            out.write(orjson.dumps(doc.to_json()).decode() + "\n")
    elif plain or not out.isatty():
        for doc in docs:
            write_plain(doc, out)
    else:
        from rich.console import Console

        console = Console()
        for doc in docs:
            render_rich(doc, console, full=full)


def _explanations(
    inputs: tuple[str, ...], text_field: str, options: ExplainOptions, index: object
) -> Iterator[Explanation]:
    from corpus_tools.explain import explain_record

    for item in read_items(inputs, text_field=text_field, stdin_is_text=False):
        if item.error is not None:
            raise InputError(item.error, item.source, item.line)
        record = item.record
        try:
            check_record(record, text_field)
        except RecordError as exc:
            raise InputError(exc.reason, item.source, item.line) from None
        yield explain_record(record, text_field, options=options, index=index)


def plain_line(doc: Explanation, row_index: int) -> str:
    """``ID\\tINDEX\\tKIND\\tSTEP\\tREASON\\tTEXT`` for one row, always one line of valid UTF-8: tabs in the
    text are shown as spaces (so the columns stay put), other control characters and lone surrogates are spelled
    out (``\\r``, ``\\udcff``); the id as :func:`corpus_tools.check.id_text` writes it (``\\t`` for a tab, compact
    JSON for an id that is not a string, empty when there is none)."""
    from corpus_tools.check import id_text, one_line

    row = doc.rows[row_index]
    text = one_line(row.text.replace("\t", " "))
    fields = (id_text(doc.id) or "", str(row.index), row.kind, row.step or "-", row.reason or "-", text)
    return "\t".join(fields)


def write_plain(doc: Explanation, out: TextIO) -> None:
    for i in range(len(doc.rows)):
        out.write(plain_line(doc, i) + "\n")


def render_rich(doc: Explanation, console: Console, *, full: bool = False) -> None:
    """A table per document: index, label, the step and its reason, words, the paragraph (one line unless
    ``full``), then a one-line summary coloured like the labels (which doubles as the legend)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from corpus_tools.check import id_text, one_line

    title = Text.assemble(
        (id_text(doc.id) or "(no id)", "bold"), ("  " + one_line(doc.source), "dim") if doc.source else ""
    )
    if doc.normalized:
        title.append(f"  (normalized: {sum(doc.normalize_counts.values())} changes)", style="dim")
    table = Table(
        title=title,
        title_justify="left",
        caption=_summary(doc),
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        expand=True,
        show_edge=False,
        pad_edge=False,
        header_style="bold",
    )
    whys = [_why(row) for row in doc.rows]
    table.add_column("#", justify="right", style="dim", no_wrap=True, min_width=2)
    table.add_column("label", no_wrap=True, min_width=6)
    table.add_column("why", no_wrap=True, min_width=max((len(w.plain) for w in whys), default=3))
    table.add_column("words", justify="right", style="dim", no_wrap=True)
    table.add_column("paragraph", ratio=1, no_wrap=not full, overflow="fold" if full else "ellipsis")
    for row, why in zip(doc.rows, whys, strict=True):
        kind = row.kind
        table.add_row(
            str(row.index),
            Text(kind, style=STYLES.get(kind, "bold")),
            why,
            str(row.words),
            Text(row.text, style=TEXT_STYLES.get(kind, "")),
        )
    console.print(table)
    console.print()


def _why(row: Row) -> Text:
    """``credits bio_before_tail`` (the step dim, the reason plain); every label when steps disagree."""
    from rich.text import Text

    text = Text()
    for j, label in enumerate(row.labels):
        if j:
            text.append(f" + {label.kind} ", style=STYLES.get(label.kind, "bold"))
        text.append(label.step + " ", style="dim")
        text.append(label.reason)
    return text


def _summary(doc: Explanation) -> Text:
    """``20 paragraphs: 14 body · 1 bio · 1 translator · 4 teaser  → 6 would be cut``, in the labels' colours."""
    from rich.text import Text

    from corpus_tools.explain import CUT_KINDS

    text = Text(f"{len(doc.rows)} paragraphs: ")
    parts = [(kind, n) for kind, n in doc.counts().items() if n]
    for j, (kind, n) in enumerate(parts):
        if j:
            text.append(" · ", style="dim")
        text.append(f"{n} {kind}", style=STYLES.get(kind, "bold"))
    cut = sum(n for kind, n in parts if kind in CUT_KINDS)
    text.append(f"  → {cut} would be cut", style="bold" if cut else "dim")
    return text
