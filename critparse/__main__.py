"""`python -m critparse` runs the command line."""

from critparse.cli.app import app

app()
