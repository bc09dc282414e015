"""The command line: one module per command group, printing in :mod:`audit.cli.output`."""

from audit.cli.app import main

__all__ = ["main"]
