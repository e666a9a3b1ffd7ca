"""How ``--help`` lays out the options: every option name whole, at any width.

typer draws an option as four columns (long name, short name, ``--no-`` name, its short form), then the value type
and the help, and rich shrinks every column alike when they do not fit: at 80 or 100 columns ``clean``'s long names
came out as stubs (``--residue-listin…`` three times), and a wrapped help line that ended one cell too wide lost its
last word to an ellipsis (``fullwidt…``), even at 120. Here an option's names share one column that never shrinks
(the ``--no-`` form on its own line), the value type and the help wrap, and nothing is cut with an ellipsis.

:func:`install` puts :func:`_options_panel` in place of typer's own; if a typer release changes what it reads, the
panel falls back to typer's drawing (help still prints, as before).
"""

from __future__ import annotations

from typing import Any


def install() -> None:
    """Draw the options panels of every ``--help`` with :func:`_options_panel` (once; typer's own as fallback)."""
    try:
        from typer import rich_utils
    except ImportError:  # pragma: no cover - typer without rich: plain click help, which wraps and never cuts
        return
    original = getattr(rich_utils, "_print_options_panel", None)
    if original is None or getattr(original, "corpus_tools", False):
        return

    def panel(*, name: str, params: Any, ctx: Any, markup_mode: Any, console: Any) -> None:
        try:
            drawn = _options_panel(
                rich_utils, name=name, params=params, ctx=ctx, markup_mode=markup_mode, width=console.width
            )
        except (AttributeError, TypeError):  # a typer whose internals differ: its own layout
            original(name=name, params=params, ctx=ctx, markup_mode=markup_mode, console=console)
            return
        if drawn is not None:
            console.print(drawn)

    panel.corpus_tools = True  # type: ignore[attr-defined]
    rich_utils._print_options_panel = panel


#: Fewest columns the help may wrap in beside the names; narrower, each option's help goes below its names.
MIN_HELP_WIDTH = 24


def _options_panel(rich_utils: Any, *, name: str, params: Any, ctx: Any, markup_mode: Any, width: int = 80) -> Any:
    """The panel of ``params`` (options or arguments): names | value type | help, or ``None`` for no params; on
    a terminal too narrow for that, each option's names and type on a line, its help indented below."""
    from rich.console import Group
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    rows = []
    for param in params:
        names, negatives = _names(param)
        label = rich_utils.highlighter(", ".join(names))
        if negatives:
            label.append("\n")
            label.append_text(rich_utils.negative_highlighter(", ".join(negatives)))
        types = Text(style=rich_utils.STYLE_TYPES, overflow="fold")
        shown = param.display_type_rich(ctx=ctx)
        if shown is not None:
            types.append(shown)
        span = param._get_number_range_help_str()
        if span:
            types.append(rich_utils.RANGE_STRING.format(span))
        help_parts = rich_utils._get_parameter_help(param=param, ctx=ctx, markup_mode=markup_mode)
        # one part a line (typer's Columns can cut the last word of a wrapped line with an ellipsis)
        required = Text(rich_utils.REQUIRED_SHORT_STRING, style=rich_utils.STYLE_REQUIRED_SHORT)
        rows.append(
            (
                required if param.required else Text(""),
                label,
                rich_utils.types_highlighter(types),
                Group(*getattr(help_parts, "renderables", [help_parts])),
            )
        )
    if not rows:
        return None
    table = Table(
        highlight=True,
        show_header=False,
        expand=True,
        box=None,
        show_lines=rich_utils.STYLE_OPTIONS_TABLE_SHOW_LINES,
        leading=rich_utils.STYLE_OPTIONS_TABLE_LEADING,
        pad_edge=rich_utils.STYLE_OPTIONS_TABLE_PAD_EDGE,
        padding=rich_utils.STYLE_OPTIONS_TABLE_PADDING,
    )
    with_required = any(row[0].plain for row in rows)
    widest = max(len(line) for row in rows for line in row[1].plain.split("\n"))
    types_width = max(row[2].cell_len for row in rows)
    # panel border and padding (4), the gaps between columns (2 each), the required marker's column
    beside = width - 4 - widest - types_width - (2 if types_width else 0) - 2 - (2 if with_required else 0)
    if beside < MIN_HELP_WIDTH:
        table.add_column(overflow="fold", ratio=1)
        for required, label, types, help_ in rows:
            head = Text.assemble(required, " " if required.plain else "", label)
            if types.plain:
                head.append("  ")
                head.append_text(types)
            table.add_row(Group(head, Padding(help_, (0, 0, 0, 4))))
    else:
        if with_required:
            table.add_column(no_wrap=True)
        table.add_column(no_wrap=True, min_width=widest)  # the names: never shrunk, never cut
        table.add_column(overflow="fold")  # the value type: may wrap
        table.add_column(overflow="fold", ratio=1)  # the help: takes the rest, wraps
        for row in rows:
            table.add_row(*(row if with_required else row[1:]))
    from rich.panel import Panel

    return Panel(
        table,
        border_style=rich_utils.STYLE_OPTIONS_PANEL_BORDER,
        title=name,
        title_align=rich_utils.ALIGN_OPTIONS_PANEL,
    )


def _names(param: Any) -> tuple[list[str], list[str]]:
    """An option's names (long ones first) and its ``--no-`` names; an argument's display name."""
    if getattr(param, "param_type_name", "") != "option":
        shown = param.display_name_raw if hasattr(param, "display_name_raw") else param.human_readable_name
        if param.metavar is None and param.nargs != 1:
            shown += "..."
        return [shown], []

    def ordered(opts: Any) -> list[str]:
        return [o for o in opts if o.startswith("--")] + [o for o in opts if not o.startswith("--")]

    return ordered(param.opts), ordered(param.secondary_opts)
