"""Docs that cannot rot: every command has help text and a docs page; the generated reference (``--help`` blocks,
option tables) is current; the site builds strictly; the README stays a front page whose set-up is what CI runs."""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from conftest import ROOT
from corpus_tools.cli.app import app_for
from corpus_tools.config import tables

TABLES = tables()
app = app_for(["--help"])  # every command registered, the generated ones too
README = (ROOT / "README.md").read_text(encoding="utf-8")
MKDOCS = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
INDEX = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
COMMANDS = sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]

_spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "scripts" / "gen_docs.py")
assert _spec is not None and _spec.loader is not None
gen_docs = importlib.util.module_from_spec(_spec)
sys.modules["gen_docs"] = gen_docs  # dataclasses and typing look modules up by name
_spec.loader.exec_module(gen_docs)


def test_every_expected_command_is_registered():
    expected = {"ingest", "normalize", "credits", "teasers", "index", "explain", "clean", "check", "stats", "steps"}
    assert expected <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_command_has_help_and_a_docs_page(cli, name):
    result = cli([name, "--help"])
    assert result.exit_code == 0
    command = typer.main.get_command(app).commands[name]  # type: ignore[attr-defined]
    assert (command.help or "").strip(), f"{name} has no help text"
    page = ROOT / "docs" / "commands" / f"{name}.md"
    assert page.is_file(), f"no docs page for {name}: add docs/commands/{name}.md and a line in mkdocs.yml's nav"
    text = page.read_text(encoding="utf-8")
    assert text.startswith(f"# {name}\n"), f"{page.name} must start with '# {name}'"
    assert f"<!-- [[[gen:help {name}]]] -->" in text, f"{page.name} has no generated --help block"
    assert f"commands/{name}.md" in MKDOCS, f"mkdocs.yml's nav does not list commands/{name}.md"
    assert f"docs/commands/{name}.md" in README, f"the README does not link to docs/commands/{name}.md"
    assert f"](commands/{name}.md)" in INDEX, f"docs/index.md's command table does not link to commands/{name}.md"


@pytest.mark.parametrize("step", sorted(TABLES))
def test_every_config_table_has_an_option_table_on_its_page(step):
    page = ROOT / "docs" / "commands" / f"{step}.md"
    assert f"<!-- [[[gen:options {step}]]] -->" in page.read_text(encoding="utf-8"), f"{page.name}: no option table"


@pytest.mark.slow  # over 0.3 s: out of the quick loop (pytest -m 'not slow')
def test_generated_pages_are_not_stale():
    stale = gen_docs.run(ROOT, check=True)
    assert not stale, (
        f"stale generated blocks in {[str(p.relative_to(ROOT)) for p in stale]}: run python scripts/gen_docs.py"
    )


def test_check_mode_names_the_stale_page_and_the_rewrite_fixes_it(tmp_path: Path, capsys):
    (tmp_path / "docs").mkdir()
    page = tmp_path / "docs" / "stats.md"
    stale = "# stats\n\n<!-- [[[gen:options stats]]] -->\nold table\n<!-- [[[end]]] -->\n\nprose stays\n"
    page.write_text(stale, encoding="utf-8")
    assert gen_docs.main(["--check", "--root", str(tmp_path)]) == 1
    assert "docs/stats.md" in capsys.readouterr().err
    assert page.read_text(encoding="utf-8") == stale  # --check writes nothing
    assert gen_docs.main(["--root", str(tmp_path)]) == 0
    text = page.read_text(encoding="utf-8")
    assert "old table" not in text and "| `--top` | `top` | `10` |" in text and text.endswith("\nprose stays\n")
    assert gen_docs.main(["--check", "--root", str(tmp_path)]) == 0


@pytest.mark.slow  # over 0.3 s: out of the quick loop (pytest -m 'not slow')
def test_help_blocks_do_not_depend_on_the_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")
    monkeypatch.setenv("TERMINAL_WIDTH", "40")
    monkeypatch.setenv("FORCE_COLOR", "1")
    text = gen_docs.help_text("stats")
    assert "\x1b[" not in text
    assert max(len(line) for line in text.splitlines()) == gen_docs.WIDTH
    assert text.lstrip().startswith("Usage: corpus-tools stats")


def test_generated_help_blocks_cut_nothing():
    """rich ends a cell that does not fit with an ellipsis: no help block in the docs may have one."""
    for page in gen_docs.pages(ROOT):
        for block in gen_docs.BLOCK.finditer(page.read_text(encoding="utf-8")):
            if block["kind"] == "help":
                assert "…" not in block["body"], f"{page.relative_to(ROOT)}: help {block['arg']} is cut"


@pytest.mark.slow  # over 0.3 s: out of the quick loop (pytest -m 'not slow')
@pytest.mark.parametrize("width", [60, 80, 100])
def test_help_at_narrow_widths_shows_every_option_name_whole(width):
    """At 80 or 100 columns, long option names (clean's residue options) were cut into stubs (--residue-listin…)."""
    names = ["clean", "explain", "normalize", "check"]
    texts = gen_docs.help_texts(names, width=width)
    for name in names:
        text = texts[name]
        assert "…" not in text, name
        assert max(len(line) for line in text.splitlines()) <= width
        command = typer.main.get_command(app).commands[name]  # type: ignore[attr-defined]
        for param in command.params:
            if getattr(param, "hidden", False):
                continue
            for flag in [*param.opts, *param.secondary_opts]:
                if flag.startswith("-"):
                    assert re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", text), f"{name} {width}: {flag}"


def test_options_table_reads_flag_and_help_from_field_metadata():
    @dataclasses.dataclass(frozen=True)
    class ToyOptions:
        """Toy.

        ``documented``: from the docstring,
        over two lines.
        """

        min_words: int = dataclasses.field(default=5, metadata={"help": "Shortest | record.", "flag": "--min-words"})
        # from the comment above
        commented: bool = True
        documented: tuple[str, ...] = ("a",)
        bare: str = "x"

    rows = gen_docs.options_table(ToyOptions, flags={"bare": "--bare"}).splitlines()
    assert rows[0] == "| option | config key | default | description |"
    assert rows[2:] == [
        "| `--min-words` | `min_words` | `5` | Shortest \\| record. |",
        "| | `commented` | `true` | From the comment above |",
        '| | `documented` | `["a"]` | From the docstring, over two lines. |',
        '| `--bare` | `bare` | `"x"` | |',
    ]


@pytest.mark.parametrize("step", sorted(TABLES))
def test_every_option_is_described(step):
    rows = gen_docs.options_block(step).splitlines()[2:]
    assert len(rows) == len(dataclasses.fields(TABLES[step]))
    for row in rows:
        assert not row.endswith("| |"), f"{step}: an option without a description: {row}"


@pytest.mark.slow
def test_the_docs_site_builds_strictly(tmp_path: Path):
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"), "-d", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "commands" / "clean" / "index.html").is_file()


def test_readme_is_a_front_page_under_12_kb():
    size = len(README.encode("utf-8"))
    assert size < 12 * 1024, f"README.md is {size} bytes: move the detail into docs/"


def test_readme_links_to_docs_pages_that_exist():
    links = re.findall(r"\]\((docs/[^)#]+)(?:#[^)]*)?\)", README)
    assert links
    for link in links:
        assert (ROOT / link).is_file(), link


def test_readme_setup_commands_are_what_ci_runs():
    blocks = re.findall(r"```bash\n(.*?)```", README.split("## Set up", 1)[1], re.DOTALL)
    commands = [line for line in blocks[0].splitlines() if line and not line.startswith("#")]
    assert len(commands) == 2
    install_and_run, install_and_test = commands
    assert "corpus-tools clean seeds/" in install_and_run
    test_command = install_and_test.split("&& ", 2)[-1]  # after the venv creation and activation
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert ci.rstrip().splitlines()[-1] == test_command


def test_changelog_has_an_unreleased_section():
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [Unreleased]" in changelog
