"""`critparse schema`: the JSON Schema of an output record."""

from __future__ import annotations

import json
import sys

from critparse.cli.common import EXIT_CODES, app


@app.command("schema", epilog=EXIT_CODES)
def schema_command() -> None:
    """Print the JSON Schema of one output record of `critparse parse --format jsonl`."""
    from critparse.model import output_json_schema

    sys.stdout.write(json.dumps(output_json_schema(), indent=2) + "\n")
