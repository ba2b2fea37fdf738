"""The README never drifts from the CLI: every command and subcommand is documented."""

from __future__ import annotations

from pathlib import Path

import click

from radpulse.cli.main import cli

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def command_paths(command: click.Command, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = [path] if path else []
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            out += command_paths(command.get_command(ctx, name), (*path, name))
    return out


def test_every_cli_command_is_documented_in_the_readme():
    missing = [" ".join(p) for p in command_paths(cli) if f"radpulse {' '.join(p)}" not in README]
    assert not missing, f"undocumented in README.md: {missing}"


def test_readme_names_the_two_setup_commands_and_ci_uses_one():
    assert "make demo" in README and "make test" in README
    ci = (Path(__file__).resolve().parents[2] / ".ci" / "run").read_text()
    assert "make test" in ci
