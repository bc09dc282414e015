"""Exceptions of the toolkit, and the exit code each one means.

::

    AuditError                  (exit 2 unless a subclass says otherwise)
    +-- InputError              bad input or configuration: exit 2
    |   +-- DocumentError       a dataflow document that cannot be parsed (file, line)
    |   +-- SnapshotError       a snapshot file that cannot be read (file, line, record)
    |   +-- ConfigError         a configuration or parameter that is not valid
    +-- ExternalError           an outside system failed: exit 3
        +-- ApiError            the API answered with an error after retries
        |   +-- AuthError       keys or token refused
        +-- ApiUnreachable      the API could not be reached after retries

Exit code 1 ("the audit ran and found drift") is not an exception; it is the result of a
run that worked.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_DRIFT = 1
EXIT_INPUT = 2
EXIT_EXTERNAL = 3


class AuditError(Exception):
    """Base of every error the toolkit raises on purpose."""

    exit_code = EXIT_INPUT


class InputError(AuditError):
    """Bad input or configuration."""

    exit_code = EXIT_INPUT


class DocumentError(InputError):
    """A dataflow document that cannot be parsed; the message names the file and line."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None):
        self.file = file
        self.line = line
        self.reason = message
        where = file or "<document>"
        if line is not None:
            where = f"{where}:{line}"
        super().__init__(f"{where}: {message}")


class SnapshotError(InputError):
    """A snapshot file or record that cannot be used."""


class ConfigError(InputError):
    """A configuration file or parameter that is not valid."""


class ExternalError(AuditError):
    """An outside system failed."""

    exit_code = EXIT_EXTERNAL


class ApiError(ExternalError):
    """The API answered with an error that retries did not cure."""


class AuthError(ApiError):
    """The API refused the keys or the token."""


class ApiUnreachable(ExternalError):
    """The API could not be reached after retries."""
