"""``corpus-tools explain``: render :mod:`corpus_tools.explain`'s rows as a rich table, plain lines or JSON."""

from __future__ import annotations

import contextlib
import enum
import io
import sys
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import orjson
import typer

from corpus_tools.cli.app import (
    Config,
    InputFormat,
    InputFormatOption,
    Inputs,
    OnErrorOption,
    Output,
    Quiet,
    RejectsOption,
    StorageOptions,
    TextField,
    check_rejects_option,
    given,
    report_rejects,
)
from corpus_tools.cli.steps import plan_from, with_pipeline_options
from corpus_tools.errors import ConfigError, RecordError
from corpus_tools.io import open_output, read_items
from corpus_tools.pipeline import OnError
from corpus_tools.records import check_record

if TYPE_CHECKING:
    # The labelling library (credits' regexes) and rich load when explain runs, not with every command.
    from rich.console import Console
    from rich.text import Text

    from corpus_tools.explain import Explanation, Row

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


class ExplainFormat(str, enum.Enum):
    auto = "auto"
    table = "table"
    plain = "plain"
    json = "json"


_DOC = """Show each line with what `clean` does to it (body, or the kind a step cut: byline, bio, translator,
teaser, ...) and why: the step and its rule. Nothing is written.

explain runs clean's own pipeline, with clean's step options, --config and corpus passes, so what it shows is what
clean cuts. A record a step drops is shown with the drop's reason.

On a terminal: a coloured table per document. Piped (--format plain): one tab-separated line per non-blank line,
`ID  INDEX  KIND  STEP  RULE  TEXT` (`-` for body's step and rule), and for a dropped record one more,
`ID  -  dropped  STEP  REASON  DETAILS` (the drop's details as JSON). --format json: one object per document.
INDEX counts lines of the text (blank ones included) as it came in, as in metadata.cuts.
"""


#: Step options that name a file the step writes: explain writes nothing, so given as a flag they are refused
#: (from a --config file shared with clean they are left unused, as the file is clean's).
WRITES = {("dedup", "save_index")}


def explain(ctx: typer.Context, **kwargs: Any) -> None:
    from corpus_tools import engine as engines

    inputs = tuple(kwargs["inputs"] or ())
    for flag in explain.step_flags:  # type: ignore[attr-defined]
        if (flag.step, flag.spec.name) in WRITES and given(ctx, flag.param):
            raise ConfigError(f"explain writes nothing: {flag.spec.flag} is for clean and {flag.step}")
    check_rejects_option(kwargs["on_error"], kwargs["rejects"])
    fmt = _format(kwargs)
    plan = plan_from(ctx, kwargs, explain.step_flags)  # type: ignore[attr-defined]
    engine = engines.LocalEngine(1)
    try:
        states = engines.corpus_states(plan, inputs, engine, None, lambda line: typer.echo(line, err=True))
    finally:
        engine.close()
    pipeline = plan.pipeline(states)
    with open_output(kwargs["output"]) as raw:
        out = io.TextIOWrapper(raw, encoding="utf-8", newline="\n") if kwargs["output"] else sys.stdout
        stats = _run(inputs, pipeline, kwargs, fmt, out)
        if kwargs["output"]:
            out.flush()
            out.detach()
    report_rejects(stats, kwargs["rejects"])


def _format(kwargs: dict[str, Any]) -> ExplainFormat:
    fmt: ExplainFormat = kwargs["format"]
    for old, value in (("json_output", ExplainFormat.json), ("plain", ExplainFormat.plain)):
        if kwargs[old]:
            flag = "--json" if old == "json_output" else "--plain"
            typer.echo(f"warning: {flag} is deprecated, use --format {value.value}", err=True)
            fmt = value
    return fmt


def _run(inputs: tuple[str, ...], pipeline: Any, kwargs: dict[str, Any], fmt: ExplainFormat, out: TextIO) -> Any:
    from corpus_tools.explain import explain_record
    from corpus_tools.pipeline import Rejects, RunStats, Verdicts, reject

    verdicts = Verdicts(pipeline.ordered) if pipeline.ordered else None  # dedup: what the records before say

    stats = RunStats()
    on_error: OnError = kwargs["on_error"]
    with contextlib.ExitStack() as stack:
        rejects = Rejects(stack.enter_context(open_output(kwargs["rejects"])) if kwargs["rejects"] else None)
        console = None
        if fmt is ExplainFormat.table or (fmt is ExplainFormat.auto and out.isatty()):
            from rich.console import Console

            console = Console(file=out)
        for item in read_items(inputs, text_field=pipeline.text_field, stdin_is_text=False):
            stats.read += 1
            reason = item.error
            if reason is None:
                try:
                    check_record(item.record, pipeline.text_field)
                    doc = explain_record(item.record, pipeline, verdicts)
                except RecordError as exc:
                    reason = exc.reason
            if reason is not None:
                reject(item, reason, stats, on_error, rejects)
                continue
            if fmt is ExplainFormat.json:
                out.write(orjson.dumps(doc.to_json()).decode() + "\n")
            elif console is not None:
                render_rich(doc, console, full=kwargs["full"])
            else:
                write_plain(doc, out)
    return stats


def build() -> Any:
    """explain, with clean's step switches and options (built when explain runs or help lists it)."""
    own = [
        ("inputs", Inputs, None),
        ("output", Output, None),
        ("config", Config, None),
        (
            "format",
            Annotated[
                ExplainFormat,
                typer.Option(
                    "--format", case_sensitive=False, help="auto: a table on a terminal, plain lines when piped."
                ),
            ],
            ExplainFormat.auto,
        ),
        (
            "full",
            Annotated[bool, typer.Option("--full", help="In the table, wrap whole lines instead of cutting them.")],
            False,
        ),
        (
            "corpus_aware",
            Annotated[
                bool,
                typer.Option(
                    "--corpus-aware/--no-corpus-aware",
                    help="Run the steps' corpus passes over the inputs first, as clean does (files only).",
                ),
            ],
            True,
        ),
        (
            "index",
            Annotated[
                str | None,
                typer.Option(
                    "--index", help="A prebuilt corpus index (`corpus-tools index`) for the teasers' recurrence signal."
                ),
            ],
            None,
        ),
        ("text_field", TextField, "text"),
        ("input_format", InputFormatOption, InputFormat.auto),
        ("storage_option", StorageOptions, None),
        ("on_error", OnErrorOption, OnError.fail),
        ("rejects", RejectsOption, None),
        ("quiet", Quiet, False),
        ("json_output", Annotated[bool, typer.Option("--json", hidden=True, help="Deprecated: --format json.")], False),
        ("plain", Annotated[bool, typer.Option("--plain", hidden=True, help="Deprecated: --format plain.")], False),
    ]
    return with_pipeline_options(explain, own, _DOC)


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
    if doc.dropped:  # one more line: `ID  -  dropped  STEP  REASON  {details}`
        from corpus_tools.check import id_text

        details = {k: v for k, v in doc.dropped.items() if k not in ("step", "reason")}
        detail_text = orjson.dumps(details).decode() if details else "-"
        fields = (id_text(doc.id) or "", "-", "dropped", doc.dropped["step"], doc.dropped["reason"], detail_text)
        out.write("\t".join(fields) + "\n")


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

    text = Text(f"{len(doc.rows)} paragraphs: ")
    parts = [(kind, n) for kind, n in doc.counts().items() if n]
    for j, (kind, n) in enumerate(parts):
        if j:
            text.append(" · ", style="dim")
        text.append(f"{n} {kind}", style=STYLES.get(kind, "bold"))
    cut = sum(n for kind, n in parts if kind != BODY)
    text.append(f"  → {cut} would be cut", style="bold" if cut else "dim")
    if doc.dropped:
        text.append(f"  (dropped by {doc.dropped['step']}: {doc.dropped['reason']})", style="bold red")
    return text
