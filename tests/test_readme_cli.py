"""The README documents every command and every option of the CLI, and stays so.

As sqlite-utils' test_docs.py does: the parser is the source of truth, and a command or option
added without a line in README.md's command table fails here.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from rtoutcomes.cli import build_parser

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("the CLI has no subcommands")


def _command_rows() -> dict[str, str]:
    """README command-table rows keyed by command name."""
    rows: dict[str, str] = {}
    for line in README.splitlines():
        match = re.match(r"\| `rtoutcomes ([\w-]+)([^`]*)`", line)
        if match:
            rows[match.group(1)] = match.group(2)
    return rows


COMMANDS = sorted(_subcommands())


def test_there_are_commands() -> None:
    assert {"demo", "init", "import", "validate", "export", "dosimetry", "run", "analyze"} <= set(
        COMMANDS
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_command_is_in_readme_table(command: str) -> None:
    assert command in _command_rows(), f"README's command table has no row for `{command}`"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_option_is_in_readme(command: str) -> None:
    row = _command_rows().get(command, "")
    options = [
        opt
        for action in _subcommands()[command]._actions
        for opt in action.option_strings
        if opt.startswith("--") and opt != "--help"
    ]
    missing = [opt for opt in options if opt not in row]
    assert not missing, f"`rtoutcomes {command}` options not in README's command table: {missing}"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    parser = _subcommands()[command]
    assert parser.description or parser.format_usage()
    for action in parser._actions:
        if action.option_strings and action.help is None:
            pytest.fail(f"`rtoutcomes {command} {action.option_strings[0]}` has no help text")
