"""The `cvis` command line."""

import os

# typer's Rich help (boxes, colours) costs ~0.15 s of start-up, half of `cvis --help`, for
# Rich's console and markdown: help and usage errors are click's plain text unless
# TYPER_USE_RICH=1 asks for the boxes. Read by typer when imported, so set first.
os.environ.setdefault("TYPER_USE_RICH", "0")
