"""The `critparse` command: a thin Typer layer over library calls.

Exit codes: 0 success, 1 bad data or configuration, 2 usage error.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="critparse",
    help="Turn clinical-trial eligibility criteria into structured threshold rules.",
    no_args_is_help=True,
    add_completion=False,
)

# --- parse / evaluate / schema (core parser) -------------------------------------------------

# --- screen (patient screening) --------------------------------------------------------------

# --- parse-trials (whole trials, batch) ------------------------------------------------------


def main() -> None:  # pragma: no cover - console entry point
    app()
