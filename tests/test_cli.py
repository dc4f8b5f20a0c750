from __future__ import annotations

from typer.testing import CliRunner

from oneenglish.cli import app


def test_help_lists_the_commands() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("serve", "migrate", "stack", "run"):
        assert command in result.output


def test_stack_help_lists_up_down_status() -> None:
    result = CliRunner().invoke(app, ["stack", "--help"])
    assert result.exit_code == 0
    for command in ("up", "down", "status"):
        assert command in result.output
