"""The `critparse` command: one thin module per command over library calls.

Exit codes: 0 success, 1 bad data or configuration, 2 usage error.
"""

from __future__ import annotations

from critparse.cli import evaluate, export, parse, report, schema, screen, trials  # noqa: F401 - registers commands
from critparse.cli.common import app

__all__ = ["app"]
