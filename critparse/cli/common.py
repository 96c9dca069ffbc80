"""Shared pieces of the command modules: the Typer app and the two consoles."""

from __future__ import annotations

import typer
from rich.console import Console

app = typer.Typer(
    name="critparse",
    help=(
        "Turn clinical-trial eligibility criteria into structured, machine-checkable rules.\n\n"
        "Exit codes: 0 success, 1 bad data or configuration, 2 usage error."
    ),
    no_args_is_help=True,
    add_completion=False,
)

out = Console()
err = Console(stderr=True)
