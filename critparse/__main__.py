"""`python -m critparse` runs the command line."""

from critparse.cli import app

app()
