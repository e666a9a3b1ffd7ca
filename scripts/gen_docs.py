"""Regenerate the generated blocks of the docs pages, so the reference cannot drift from the code (as sqlite-utils
does with cog).

A generated block sits between two HTML comments, which Markdown does not render::

    <!-- [[[gen:help clean]]] -->
    ...generated, do not edit...
    <!-- [[[end]]] -->

Kinds of block:

- ``help COMMAND``: ``corpus-tools COMMAND --help`` as a text block (``help`` alone: ``corpus-tools --help``),
  rendered in a subprocess at a fixed width (``WIDTH``, 120 columns) without colour, so the output is the same
  everywhere.
- ``options STEP``: a table of the step's options dataclass (the ``[STEP]`` table of ``config.tables()``): option
  (flag), config key, default, description.

``python scripts/gen_docs.py`` rewrites every stale page (``docs/**/*.md`` and ``README.md``);
``python scripts/gen_docs.py --check`` rewrites nothing and exits 1 naming the stale pages (tests/test_docs.py
runs it). The logic is in :func:`run`, which the tests call.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WIDTH = 120  # the help's layout (corpus_tools/cli/help_layout.py) cuts nothing at any width; 120 reads well

BLOCK = re.compile(
    r"(?P<start><!-- \[\[\[gen:(?P<kind>[\w-]+)(?: (?P<arg>[^\]]*?))? *\]\]\] -->\n)"
    r"(?P<body>.*?)"
    r"(?P<end><!-- \[\[\[end\]\]\] -->)",
    re.DOTALL,
)
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# Environment variables that change how click, typer and rich draw help (width, colour, terminal detection).
_RENDERING_VARS = (
    "COLUMNS",
    "LINES",
    "TERMINAL_WIDTH",
    "FORCE_COLOR",
    "PY_COLORS",
    "CLICOLOR_FORCE",
    "GITHUB_ACTIONS",
    "TTY_COMPATIBLE",
    "TTY_INTERACTIVE",
    "JUPYTER_COLUMNS",
    "JUPYTER_LINES",
)


# --------------------------------------------------------------------------------------------- help blocks


# Run in one fresh process for all the help blocks: the CLI's own entry point (``main``), its stdout captured.
_HELP_SCRIPT = """
import contextlib, io, json, sys
from corpus_tools.cli import main
out = {}
for name in json.loads(sys.argv[1]):
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = main([*name.split(), "--help"])
    out[name] = [code, buffer.getvalue()]
sys.stdout.write(json.dumps(out))
"""


def help_texts(commands: Sequence[str], width: int = WIDTH) -> dict[str, str]:
    """``corpus-tools COMMAND --help`` for each of ``commands`` (``""``: ``corpus-tools --help``) as printed at
    ``width`` columns without colour, trailing spaces stripped. Rendered in a subprocess with a clean environment,
    so the terminal this runs in changes nothing."""
    env = {k: v for k, v in os.environ.items() if k not in _RENDERING_VARS and not k.startswith("_TYPER")}
    env.update(
        COLUMNS=str(width),
        TERMINAL_WIDTH=str(width),
        NO_COLOR="1",
        TERM="dumb",
        _TYPER_FORCE_DISABLE_TERMINAL="1",
        PYTHONIOENCODING="utf-8",
    )
    args = [sys.executable, "-c", _HELP_SCRIPT, json.dumps(list(commands))]
    result = subprocess.run(args, capture_output=True, env=env, cwd=ROOT, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"rendering --help failed ({result.returncode}): {result.stderr.decode()}")
    texts = {}
    for name, (code, text) in json.loads(result.stdout).items():
        if code != 0:
            raise RuntimeError(f"corpus-tools {name} --help exited with {code}")
        lines = [line.rstrip() for line in _ANSI.sub("", text).splitlines()]
        texts[name] = "\n".join(lines).strip("\n")
    return texts


def help_text(command: str | None = None, width: int = WIDTH) -> str:
    """``corpus-tools [COMMAND] --help``, as :func:`help_texts` renders it."""
    return help_texts([command or ""], width)[command or ""]


# ------------------------------------------------------------------------------------------ options tables


def _rst_to_md(text: str) -> str:
    text = re.sub(r":\w+:`~?([^`]+)`", r"`\1`", text)  # :class:`ConfigError` -> `ConfigError`
    return text.replace("``", "`")


def _comment_help(cls: type) -> dict[str, str]:
    """Per-field help from the comments right above each field in the class body (``#:`` or ``#`` lines)."""
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):
        return {}
    lines = source.splitlines()
    found: dict[str, str] = {}
    for node in ast.parse(source).body[0].body:  # type: ignore[attr-defined]
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            comments: list[str] = []
            i = node.lineno - 2
            while i >= 0 and lines[i].strip().startswith("#"):
                comments.insert(0, lines[i].strip().lstrip("#").lstrip(":").strip())
                i -= 1
            if comments:
                found[node.target.id] = " ".join(comments)
    return found


def _docstring_help(cls: type) -> dict[str, str]:
    """Per-field help from the class docstring's lines that start with ``name``: (or ``a``/``b``: for several)."""
    found: dict[str, str] = {}
    names: list[str] = []
    parts: list[str] = []

    def flush() -> None:
        for name in names:
            found.setdefault(name, " ".join(parts))

    for line in inspect.cleandoc(cls.__doc__ or "").splitlines():
        head = re.match(r"((?:``\w+``/?)+):\s*(.*)", line)
        if head:
            flush()
            names, parts = re.findall(r"``(\w+)``", head.group(1)), [head.group(2)]
        elif names and line.strip():
            parts.append(line.strip())
        else:
            flush()
            names, parts = [], []
    flush()
    return found


def _default(field: dataclasses.Field) -> Any:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return dataclasses.MISSING


def _toml(value: Any) -> str:
    """A default as it is written in a TOML config file."""
    if value is dataclasses.MISSING:
        return "(required)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (tuple, list, frozenset, set)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if value is None:
        return "(none)"
    return str(getattr(value, "value", value))


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def options_table(cls: type, flags: Mapping[str, str] | None = None, helps: Mapping[str, str] | None = None) -> str:
    """A Markdown table of the options dataclass ``cls``: option (flag), config key, default, description.

    A field's flag and help come from its metadata (``field(metadata={"flag": "--min-words", "help": "..."})``)
    when present; otherwise the help comes from the comment above the field or the class docstring's
    ```name``: ...`` line, then from ``helps``, and the flag from ``flags`` (field name -> flag); else the cell
    is empty (an empty flag may mean the option is set in a config file only).
    """
    from corpus_tools.step import option_specs

    comments, documented = _comment_help(cls), _docstring_help(cls)
    declared = {spec.name: spec for spec in option_specs(cls)}  # fields declared with step.option()
    rows = ["| option | config key | default | description |", "| --- | --- | --- | --- |"]
    for field in dataclasses.fields(cls):
        if not field.init:
            continue
        spec = declared.get(field.name)
        flag = (spec.cli_flag if spec and spec.cli else "") if spec else (flags or {}).get(field.name, "")
        help_ = (
            field.metadata.get("help")
            or comments.get(field.name)
            or documented.get(field.name)
            or (helps or {}).get(field.name, "")
        )
        help_ = _rst_to_md(help_)
        default = _toml(_default(field))
        row = (f"`{flag}`" if flag else "", f"`{field.name}`", f"`{default}`", help_[:1].upper() + help_[1:])
        rows.append("|" + "".join(f" {_cell(c)} |" if c else " |" for c in row))
    return "\n".join(rows)


def _cli_options(command: str) -> tuple[dict[str, str], dict[str, str]]:
    """The flags and help texts of ``command``'s parameters, keyed by parameter name (the options field it sets)."""
    import typer

    from corpus_tools.cli.app import app_for

    click_command = typer.main.get_command(app_for([command])).commands.get(command)  # type: ignore[attr-defined]
    flags: dict[str, str] = {}
    helps: dict[str, str] = {}
    for param in getattr(click_command, "params", ()):
        if param.name and getattr(param, "opts", None) and param.opts[0].startswith("-"):
            flags[param.name] = "/".join([*param.opts[:1], *param.secondary_opts[:1]])
            helps[param.name] = getattr(param, "help", None) or ""
    return flags, helps


def options_block(step: str) -> str:
    from corpus_tools.config import tables

    cls = tables()[step]
    flags, helps = _cli_options(step)
    return options_table(cls, flags, helps)


# ---------------------------------------------------------------------------------------------- the pages


def render(kind: str, arg: str | None, helps: Mapping[str, str] | None = None) -> str:
    """The body of a ``[[[gen:KIND ARG]]]`` block (without the markers); ``helps`` holds help texts already
    rendered (:func:`help_texts`)."""
    if kind == "help":
        name = arg or ""
        text = helps[name] if helps and name in helps else help_text(name)
        return "```text\n" + text + "\n```"
    if kind == "options":
        if not arg:
            raise ValueError("gen:options needs a step name")
        return options_block(arg)
    raise ValueError(f"unknown generated block kind {kind!r}")


def pages(root: Path = ROOT) -> list[Path]:
    """Every page that may hold generated blocks: ``docs/**/*.md`` and ``README.md``."""
    found = sorted((root / "docs").rglob("*.md"))
    readme = root / "README.md"
    return [*found, readme] if readme.exists() else found


def generate(text: str, renderer: Callable[[str, str | None], str] = render) -> str:
    """``text`` with every generated block's body replaced by what ``renderer`` gives for it."""
    return BLOCK.sub(
        lambda m: m["start"] + renderer(m["kind"], m["arg"]).rstrip("\n") + "\n" + m["end"],
        text,
    )


def run(root: Path = ROOT, check: bool = False, files: Sequence[Path] | None = None) -> list[Path]:
    """Regenerate the blocks of ``files`` (default: :func:`pages`); return the pages that were stale. With
    ``check``, write nothing."""
    files = list(files) if files is not None else pages(root)
    texts = {path: path.read_text(encoding="utf-8") for path in files}
    wanted = {(m["kind"], m["arg"]) for text in texts.values() for m in BLOCK.finditer(text)}
    commands = sorted({arg or "" for kind, arg in wanted if kind == "help"})
    helps = help_texts(commands) if commands else {}  # one process for all of them
    bodies = {key: render(*key, helps=helps) for key in wanted}
    stale = []
    for path, text in texts.items():
        new = generate(text, lambda kind, arg: bodies[(kind, arg)])
        if new != text:
            stale.append(path)
            if not check:
                path.write_text(new, encoding="utf-8")
    return stale


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="rewrite nothing; exit 1 if a page is stale")
    parser.add_argument("--root", type=Path, default=ROOT, help="the project folder (default: this script's)")
    args = parser.parse_args(argv)
    stale = run(args.root, check=args.check)
    for path in stale:
        where = path.relative_to(args.root)
        print(f"{where}: generated blocks are stale" if args.check else f"{where}: regenerated", file=sys.stderr)
    if args.check and stale:
        print("run: python scripts/gen_docs.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
