"""JSON with numbers exactly as written: decimals read as :class:`~decimal.Decimal` and
written back with the same digits (``150.50`` stays ``150.50``), never through binary floats.

The write-back reads records from the API, compares their values with the value model
(:mod:`audit.core.values`), writes them back (v1 posts the whole record it read) and
re-audits what it read (:func:`audit.core.snapshot.frame_from_records`), so a decimal
must survive each round trip: ``json`` reads it with ``parse_float=Decimal``, and
:func:`dumps` writes a :class:`~decimal.Decimal` as its own text, which the standard
encoder cannot do (it knows only ``int`` and ``float``; a ``default`` hook may return
only values it then quotes). Integers of any length are exact in Python already.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from decimal import Decimal
from typing import Any

__all__ = ["dumps", "loads"]


def loads(text: str | bytes) -> Any:
    """``json.loads`` with every decimal number as a :class:`~decimal.Decimal`."""
    return json.loads(text, parse_float=Decimal)


def dumps(value: Any, *, default: Callable[[Any], Any] = str, **kwargs: Any) -> str:
    """``json.dumps`` writing each finite :class:`~decimal.Decimal` as a JSON number with
    its own digits (``Decimal("150.50")`` -> ``150.50``, ``Decimal("1.5E+3")`` -> ``1.5E+3``).

    ``default`` handles the other values ``json`` cannot write (text, as the plan and the
    journal always did); a non-finite decimal goes there too (JSON has no NaN).
    Each decimal is written as a quoted marker first (a random token the text cannot hold
    by chance) and the markers are then replaced by the numbers' texts.
    """
    token = secrets.token_hex(8)
    numbers: list[str] = []

    def hook(o: Any) -> Any:
        if isinstance(o, Decimal) and o.is_finite():
            numbers.append(str(o))
            return f"{token}#{len(numbers) - 1}"
        return default(o)

    text = json.dumps(value, default=hook, **kwargs)
    if not numbers:
        return text
    return re.sub(f'"{token}#([0-9]+)"', lambda m: numbers[int(m.group(1))], text)
