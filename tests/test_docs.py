"""Docs that cannot rot: every command has help text and a README section; the README's set-up is what CI runs."""

from __future__ import annotations

import re

import pytest
import typer

from conftest import ROOT
from corpus_tools.cli import app

README = (ROOT / "README.md").read_text(encoding="utf-8")
COMMANDS = sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


def test_every_expected_command_is_registered():
    expected = {"ingest", "normalize", "credits", "teasers", "index", "explain", "clean", "check", "stats"}
    assert expected <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_command_has_help_and_a_readme_section(cli, name):
    result = cli([name, "--help"])
    assert result.exit_code == 0
    command = typer.main.get_command(app).commands[name]  # type: ignore[attr-defined]
    assert (command.help or "").strip(), f"{name} has no help text"
    assert re.search(rf"^### {re.escape(name)}\b", README, re.MULTILINE), f"README has no '### {name}' section"


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
