"""``corpus-tools credits``."""

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

# The defaults below are CreditsOptions' own, spelled out so that starting the CLI does not import the step (its
# regexes compile at import); tests/test_cli.py checks that every one equals the options field it sets.


@app.command()
def credits(
    inputs: Inputs = None,
    output: Output = None,
    text_field: TextField = "text",
    on_error: OnErrorOption = OnError.fail,
    rejects: RejectsOption = None,
    quiet: Quiet = False,
    input_format: InputFormatOption = InputFormat.auto,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Fill metadata.authors and translators, cut nothing (so metadata.bylines stays empty)."
        ),
    ] = False,
    bylines: Annotated[bool, typer.Option("--bylines/--no-bylines", help="Detect a leading 'By NAME' line.")] = True,
    bios: Annotated[bool, typer.Option("--bios/--no-bios", help="Detect author bios in the bio position.")] = True,
    translators: Annotated[
        bool, typer.Option("--translators/--no-translators", help="Detect 'Translated by NAME' lines.")
    ] = True,
    max_bio_words: Annotated[
        int, typer.Option("--max-bio-words", min=1, help="A longer paragraph is never a bio.")
    ] = 80,
    role: Annotated[
        list[str] | None,
        typer.Option("--role", help="An extra word that marks a bio's role (repeatable), e.g. --role beekeeper."),
    ] = None,
) -> None:
    """Move bylines, author bios and translator credits out of the text into metadata.

    Sets metadata.authors, metadata.bylines (the removed lines, verbatim), metadata.translators and
    metadata.credit_cuts (rule, kind and line of each removed line), always present as lists. A bio counts
    only right before a translator credit, the teaser tail or the end.
    """
    from corpus_tools.credits import Credits, CreditsOptions

    options = CreditsOptions(
        bylines=bylines,
        bios=bios,
        translators=translators,
        max_bio_words=max_bio_words,
        extra_roles=tuple(r.lower() for r in role or ()),
        dry_run=dry_run,
    )
    run_steps(StreamOptions(tuple(inputs or ()), output, text_field, on_error, rejects, quiet), [Credits(options)])
