"""The decisions CSV: a person's choice of the side that wins, row by row.

Its rows name a mismatch by pair, keys and properties (:data:`ROW_KEY`), repeat the two
values the person saw, and hold the ``decision`` (``source``, ``target``, ``skip`` or
empty: the policy decides).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from audit.errors import ConfigError
from audit.writeback.direction import DECISIONS

__all__ = ["DECISION_COLUMNS", "ROW_KEY", "check_decisions", "decisions_by_row", "read_decisions"]

DECISION_COLUMNS = (
    "pair",
    "source_key",
    "target_key",
    "source_property",
    "target_property",
    "source_value",
    "target_value",
    "decision",
)
#: The columns that name the mismatch a row decides.
ROW_KEY = ("pair", "source_key", "target_key", "source_property", "target_property")


def read_decisions(path: str | Path) -> pl.DataFrame:
    """Read and check a decisions CSV (as ``Investigation.decisions_template`` writes it).

    Raises
    ------
    ConfigError
        The file is missing or not a readable UTF-8 CSV, lacks a column, or has a decision
        other than ``source``, ``target``, ``skip`` or empty (the message names the file and
        the CSV line).
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such decisions file")
    try:
        frame = pl.read_csv(path, glob=False, infer_schema_length=0, missing_utf8_is_empty_string=True)
    except (pl.exceptions.PolarsError, UnicodeDecodeError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"{path}: not a readable UTF-8 CSV ({first})") from None
    return check_decisions(frame, where=str(path))


def check_decisions(frame: pl.DataFrame, where: str = "decisions CSV") -> pl.DataFrame:
    """Validate a decisions table (all columns text) and return it.

    Raises
    ------
    ConfigError
        A missing column, or a decision other than ``source``, ``target``, ``skip`` or empty;
        the message names ``where`` and the CSV line (the header is line 1).
    """
    missing = [c for c in DECISION_COLUMNS if c not in frame.columns]
    if missing:
        raise ConfigError(f"{where}: lacks column(s) {', '.join(missing)}")
    frame = frame.select([pl.col(c).cast(pl.String).fill_null("") for c in DECISION_COLUMNS])
    allowed = pl.col("decision").str.strip_chars().str.to_lowercase().is_in([*DECISIONS, ""])
    bad = frame.with_row_index("_row").filter(~allowed)
    if bad.height:
        row = bad.row(0, named=True)
        raise ConfigError(
            f"{where}:{row['_row'] + 2}: decision {row['decision']!r} for {row['pair']} "
            f"{row['source_key']}/{row['target_key']} {row['source_property']}; "
            f"use {', '.join(DECISIONS)} or leave it empty"
        )
    return frame


def decisions_by_row(decisions: pl.DataFrame | None) -> dict[tuple[str, ...], dict[str, str]]:
    """The checked decisions keyed by :data:`ROW_KEY` (a later row of one key wins)."""
    if decisions is None:
        return {}
    return {tuple(row[k] for k in ROW_KEY): row for row in check_decisions(decisions).iter_rows(named=True)}
