"""What `critparse --help` and `--version` say: the exit codes, no type noise, true help texts."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import critparse
from critparse.cli import app

runner = CliRunner()
COMMANDS = ["parse", "parse-trials", "screen", "report", "evaluate", "schema"]


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_cli_version(flag: str) -> None:
    result = runner.invoke(app, [flag])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"critparse {critparse.__version__}"


@pytest.mark.parametrize("command", [[], *[[c] for c in COMMANDS]])
def test_cli_help_lists_exit_codes_without_type_noise(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "Exit codes: 0 success; 1 bad data" in text and "2 usage error" in text
    assert "<bool>" not in result.stdout


@pytest.mark.parametrize("command", [c for c in COMMANDS if c != "schema"])
def test_cli_help_short_flag(command: str) -> None:
    assert runner.invoke(app, [command, "-h"]).exit_code == 0


@pytest.mark.parametrize("command", ["parse", "parse-trials"])
def test_cli_help_workers_says_what_runs(command: str) -> None:
    text = " ".join(runner.invoke(app, [command, "--help"], terminal_width=200).stdout.split())
    assert "n_process" not in text
    assert "worker processes" in text.lower()


def test_cli_no_arguments_shows_help() -> None:
    result = runner.invoke(app, [])
    assert "Commands:" in result.output and "report" in result.output
