"""``corpus-tools normalize``.

Each parameter is named after the :class:`NormalizeOptions` field it sets (``clean`` reuses these flags).
"""

from __future__ import annotations

from typing import Annotated

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
from corpus_tools.pipeline import OnError

# The defaults and forms below are NormalizeOptions' and normalize.FORMS, spelled out so that starting the CLI does
# not import the step (ftfy and its tables); tests/test_cli.py checks that they agree.
FORMS = ("NFC", "NFKC", "NFD", "NFKD", "none")


def _check_form(value: str) -> str:
    if value not in FORMS:
        raise typer.BadParameter(f"must be one of {', '.join(FORMS)}")
    return value


@app.command()
def normalize(
    inputs: Inputs = None,
    output: Output = None,
    text_field: TextField = "text",
    on_error: OnErrorOption = OnError.fail,
    rejects: RejectsOption = None,
    quiet: Quiet = False,
    input_format: InputFormatOption = InputFormat.auto,
    straighten_quotes: Annotated[
        bool,
        typer.Option(
            "--straighten-quotes/--no-straighten-quotes", help="Turn curly quotes into straight ones (kept by default)."
        ),
    ] = False,
    unicode_form: Annotated[
        str,
        typer.Option(
            "--form",
            callback=_check_form,
            help=f"Unicode normalization form: {', '.join(FORMS)}. NFKC also folds compatibility characters "
            "(² -> 2, NBSP -> space).",
        ),
    ] = "NFC",
    unescape_html: Annotated[
        bool, typer.Option("--entities/--no-entities", help="Decode HTML entities (&amp; &#8217;).")
    ] = True,
    fix_encoding: Annotated[bool, typer.Option("--mojibake/--no-mojibake", help="Repair mojibake (â€™ -> ’).")] = True,
    fix_latin_ligatures: Annotated[
        bool, typer.Option("--ligatures/--no-ligatures", help="Take Latin ligatures apart (ﬁ -> fi).")
    ] = True,
    fix_character_width: Annotated[
        bool,
        typer.Option(
            "--width/--no-width",
            help="Make fullwidth/halfwidth characters standard width (Ａ -> A; also fullwidth CJK punctuation).",
        ),
    ] = True,
    whitespace: Annotated[
        bool,
        typer.Option(
            "--whitespace/--no-whitespace",
            help="Odd spaces to spaces, runs collapsed, line ends trimmed, blank-line runs collapsed.",
        ),
    ] = True,
    punctuation: Annotated[
        bool,
        typer.Option("--punctuation/--no-punctuation", help="Fix doubled full stops (Taiwan..) and en dashes (––)."),
    ] = True,
) -> None:
    """Repair text exactly as ftfy would (mojibake, entities, control characters, line breaks, NFC), fast;
    then fix odd spaces, blank lines, doubled full stops and doubled dashes. Curly quotes and em dashes are kept.

    metadata.normalize counts the changes by kind (every kind always present, 0 when unused).
    """
    from corpus_tools.normalize import Normalize, NormalizeOptions

    options = NormalizeOptions(
        unescape_html=unescape_html,
        fix_encoding=fix_encoding,
        fix_latin_ligatures=fix_latin_ligatures,
        fix_character_width=fix_character_width,
        straighten_quotes=straighten_quotes,
        unicode_form=unicode_form,
        whitespace=whitespace,
        punctuation=punctuation,
    )
    stream = StreamOptions(tuple(inputs or ()), output, text_field, on_error, rejects, quiet)
    run_steps(stream, (Normalize(options),))
