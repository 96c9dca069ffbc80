"""Shared pieces of the command modules: the Typer app, the two consoles and small helpers."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    from critparse.lexicon.resources import Resources

EXIT_CODES = (
    "Exit codes: 0 success; 1 bad data or configuration (an input, patient or table that cannot "
    "be read; with --strict, any bad record); 2 usage error (an unknown option or a bad option "
    "value)."
)
"""Every command's help ends with this, so the codes are where people look for them."""

app = typer.Typer(
    name="critparse",
    help="Turn clinical-trial eligibility criteria into structured, machine-checkable rules.",
    epilog=EXIT_CODES,
    no_args_is_help=True,
    add_completion=False,
    # Plain help: rich mode prints a type column that says `<bool>` next to every flag,
    # `--help` included.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

out = Console()
err = Console(stderr=True)


def plural(count: int, one: str, many: str | None = None) -> str:
    """'1 trial', '2 trials', '1 criterion', '3 criteria'."""
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _print_version(value: bool) -> None:
    if value:
        from critparse import __version__

        out.print(f"critparse {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", "-V", callback=_print_version,
                                 is_eager=True, help="Print the version and exit."),
) -> None:
    """Turn clinical-trial eligibility criteria into structured, machine-checkable rules."""


def parse_date(as_of: str | None) -> date | None:
    """`--as-of` as a date; a usage error (exit 2) when it is not YYYY-MM-DD."""
    if as_of is None:
        return None
    try:
        return date.fromisoformat(as_of)
    except ValueError:
        err.print(f"--as-of must be a date YYYY-MM-DD, not {as_of!r}", highlight=False)
        raise typer.Exit(2) from None


def screening_resources(uln_file: Path | None) -> Resources | None:
    """Resources with a lab's limits-of-normal table, loaded now so a bad table fails here."""
    if uln_file is None:
        return None
    from critparse.lexicon.resources import Resources

    resources = Resources(normal_limits=uln_file)
    resources.normal_limits  # noqa: B018 - load now, so a bad table is reported before any work
    return resources
