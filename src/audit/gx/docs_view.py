"""A stored GX validation result as what the offline Data Docs show (:mod:`audit.gx.datadocs`).

Plain data, no HTML: per validation its suite, what it validated, the verdict and counts;
per expectation its sentence (:mod:`audit.gx.docs_words`), severity, result, counts and a
few unexpected values as a small table.

Counts and percentages
----------------------
GX's ``unexpected_percent`` is over the *non-null* rows an expectation looked at
(``element_count - missing_count``), while ``element_count`` counts every row of the
batch; quoting the one "of" the other gave "11 unexpected, ≈1.111% of 1010 rows". Here
the percentage is always ``unexpected_count / checked`` with ``checked`` the rows the
expectation judged, and both numbers are shown next to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from audit.gx.docs_words import Part, describe, format_value

__all__ = ["SAMPLE_ROWS", "Counts", "ExpectationView", "Sample", "ValidationView", "percent", "validation_view"]

#: Unexpected values shown per expectation, at most.
SAMPLE_ROWS = 10


def percent(part: int, whole: int) -> str:
    """``part / whole`` as a percentage for people: ``–`` when nothing was checked, two
    decimals at most (``1.02%``, ``80%``), ``<0.01%`` rather than a rounded zero."""
    if not whole:
        return "–"
    value = 100.0 * part / whole
    if 0 < value < 0.01:
        return "<0.01%"
    return f"{value:.2f}".rstrip("0").rstrip(".") + "%"


@dataclass(frozen=True)
class Counts:
    """The rows one expectation saw: all of them, those it skipped as null, those it judged
    (``checked``) and those that failed it (``unexpected``)."""

    rows: int
    missing: int | None
    unexpected: int

    @property
    def checked(self) -> int:
        return self.rows - (self.missing or 0)

    @property
    def percent(self) -> str:
        return percent(self.unexpected, self.checked)


@dataclass(frozen=True)
class Sample:
    """A few unexpected values as a table: ``headers`` and ``rows`` (cells are text,
    ``None`` for null), ``keys`` how many leading columns are record keys;
    the rows stand for ``shown`` of the ``total`` unexpected values."""

    headers: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    keys: int
    shown: int
    total: int | None


@dataclass(frozen=True)
class ExpectationView:
    """One expectation of a validation with its result."""

    type: str
    words: tuple[Part, ...]
    words_from: str
    severity: str
    success: bool
    counts: Counts | None
    observed: str | None
    sample: Sample | None
    error: str | None
    details: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ValidationView:
    """One stored validation result (``gx/<slug>.json``)."""

    slug: str
    suite_name: str
    subject: str
    success: bool
    run_time: str | None
    gx_version: str | None
    expectations: tuple[ExpectationView, ...]

    def _count(self, success: bool, severity: str | None = None) -> int:
        return sum(
            1 for e in self.expectations if e.success is success and (severity is None or e.severity == severity)
        )

    @property
    def passed(self) -> int:
        return self._count(True)

    @property
    def failed(self) -> int:
        return self._count(False)

    @property
    def failed_critical(self) -> int:
        return self._count(False, "critical")

    @property
    def failed_other(self) -> int:
        return self.failed - self.failed_critical


def validation_view(slug: str, suite_name: str, raw: dict[str, Any]) -> ValidationView:
    """The view of one stored ``ExpectationSuiteValidationResult`` (JSON data)."""
    items = tuple(expectation_view(item) for item in raw.get("results") or ())
    meta = raw.get("meta") or {}
    run = meta.get("run_id") or {}
    return ValidationView(
        slug=slug,
        suite_name=suite_name,
        subject=_subject(raw, suite_name),
        success=bool(raw.get("success")),
        run_time=_when(run.get("run_time") or (meta.get("batch_markers") or {}).get("ge_load_time")),
        gx_version=meta.get("great_expectations_version"),
        expectations=items,
    )


def _when(stamp: Any) -> str | None:
    """GX's run time or batch load time (ISO 8601, also the basic ``20240501T020304.1Z``)
    as ``2024-05-01 02:03:04 UTC``; anything else as written."""
    from datetime import datetime, timezone

    if not stamp:
        return None
    try:
        moment = datetime.fromisoformat(str(stamp))
    except ValueError:
        return str(stamp)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _subject(raw: dict[str, Any], fallback: str) -> str:
    """What was validated: the pair (or entity) every expectation's meta names, else the
    suite name."""
    for key in ("pair", "entity"):
        named = {((r.get("expectation_config") or {}).get("meta") or {}).get(key) for r in raw.get("results") or ()}
        if len(named) == 1 and None not in named:
            return str(named.pop())
    return fallback


def expectation_view(item: dict[str, Any]) -> ExpectationView:
    """The view of one ``ExpectationValidationResult`` (JSON data)."""
    config = item.get("expectation_config") or {}
    result = item.get("result") or {}
    words, origin = describe(config)
    info = item.get("exception_info") or {}
    error = info.get("exception_message") if info.get("raised_exception") else None
    observed = result.get("observed_value")
    return ExpectationView(
        type=str(config.get("type") or ""),
        words=words,
        words_from=origin,
        severity=str(config.get("severity") or "critical"),
        success=bool(item.get("success")),
        counts=_counts(result),
        observed=None if observed is None else format_value(observed),
        sample=sample(config.get("kwargs") or {}, result),
        error=error or None,
        details=_details(config),
    )


def _counts(result: dict[str, Any]) -> Counts | None:
    if "element_count" not in result or "unexpected_count" not in result:
        return None
    missing = result.get("missing_count")
    return Counts(
        rows=int(result["element_count"] or 0),
        missing=None if missing is None else int(missing),
        unexpected=int(result["unexpected_count"] or 0),
    )


def _details(config: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """The configuration's description, notes and meta, as ``(name, text)``."""
    out = [(k, format_value(config[k])) for k in ("description", "notes") if config.get(k)]
    out += [(str(k), format_value(v)) for k, v in (config.get("meta") or {}).items() if v not in (None, "", [], {})]
    return tuple(out)


def _domain(kwargs: dict[str, Any]) -> list[str]:
    """The columns an expectation judges, in its own order."""
    if "column_A" in kwargs and "column_B" in kwargs:
        return [str(kwargs["column_A"]), str(kwargs["column_B"])]
    if "column" in kwargs:
        return [str(kwargs["column"])]
    return [str(c) for c in kwargs.get("column_list") or ()]


def sample(kwargs: dict[str, Any], result: dict[str, Any]) -> Sample | None:
    """A few unexpected values: record keys and values when GX returned an unexpected
    index (``result_format`` COMPLETE/SUMMARY with ``unexpected_index_column_names``), else
    the value pairs of a column-pair expectation side by side, else each distinct value
    with its count. Only the first :data:`SAMPLE_ROWS` are looked at, so a COMPLETE
    result of a million rows costs no more than GX's partial list."""
    total = result.get("unexpected_count")
    domain = _domain(kwargs)
    indexed = (result.get("partial_unexpected_index_list") or result.get("unexpected_index_list") or [])[:SAMPLE_ROWS]
    if indexed and all(isinstance(r, dict) for r in indexed):
        keys = [str(k) for k in result.get("unexpected_index_column_names") or ()]
        return _table(keys, domain, indexed, total)
    values = result.get("partial_unexpected_list") or result.get("unexpected_list") or []
    head = values[:SAMPLE_ROWS]
    if len(domain) == 2 and head and all(isinstance(v, (list, tuple)) and len(v) == 2 for v in head):
        return _rows(tuple(domain), [tuple(v) for v in head], 0, total)
    if head and all(isinstance(v, dict) for v in head):
        return _table([], domain, head, total)
    name = domain[0] if len(domain) == 1 else "value"
    counted = result.get("partial_unexpected_counts")
    if counted and all(isinstance(c, dict) and "value" in c for c in counted):
        return _rows((name, "count"), [(c["value"], c.get("count")) for c in counted], 0, total, counts=True)
    if values:
        return _rows((name, "count"), _tally(values), 0, total, counts=True)
    return None


def _tally(values: list[Any]) -> list[tuple[Any, int]]:
    """Each distinct value of GX's sample once, with how often the sample holds it, in
    the order first seen (``[0, 0, 0]`` is one row ``0 | 3``)."""
    seen: dict[str, list[Any]] = {}
    for value in values:
        key = repr(value)
        if key in seen:
            seen[key][1] += 1
        else:
            seen[key] = [value, 1]
    return [(value, count) for value, count in seen.values()]


def _table(keys: list[str], domain: list[str], records: list[dict], total: int | None) -> Sample:
    """Dict rows as a table: key columns first, then the judged columns, then the rest."""
    headers = list(dict.fromkeys(keys))
    headers += [c for c in domain if c not in headers]
    for record in records:
        headers += [str(k) for k in record if str(k) not in headers]
    rows = [tuple(record.get(h) for h in headers) for record in records]
    return _rows(tuple(headers), rows, len(dict.fromkeys(keys)), total)


def _rows(headers: tuple[str, ...], rows: list[tuple], keys: int, total: int | None, counts: bool = False) -> Sample:
    """The first :data:`SAMPLE_ROWS` rows as text; with ``counts`` the last cell of a row
    is how many unexpected values it stands for."""
    head = rows[:SAMPLE_ROWS]
    shown = sum(int(r[-1] or 0) for r in head) if counts else len(head)
    cells = tuple(tuple(None if c is None else format_value(c) for c in row) for row in head)
    return Sample(headers=headers, rows=cells, keys=keys, shown=shown, total=total)
