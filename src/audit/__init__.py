"""Sync-audit toolkit: checks whether a Sesam Talk sync holds, record by record."""

__version__ = "0.1.0"
