"""The run history store: recording runs, the trend, and what is new or fixed since the last run."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from outdir_factory import HEADER, PAIR, SUPPLIER, summary, table, write_outdir

from audit.errors import InputError
from audit.reporting import history
from audit.reporting.history import HistoryError

RUN_1 = f"""
{HEADER}
{PAIR} | 1 | 11 | city | mailAddress.city | mismatch | Oslo | Bergen
{PAIR} | 2 | 12 | city | mailAddress.city | mismatch | Tromsø | null
{PAIR} | 3 | null | null | null | missing_in_target | null | null
"""
RUN_2 = f"""
{HEADER}
{PAIR} | 1 | 11 | city | mailAddress.city | mismatch | Oslo | Trondheim
{PAIR} | 3 | null | null | null | missing_in_target | null | null
{PAIR} | 4 | null | null | null | missing_in_target | null | null
{SUPPLIER} | 7 | 70 | MailAddress.City | city | mismatch | Bodø | -
"""
RUN_3 = f"""
{HEADER}
{PAIR} | null | 19 | null | null | missing_in_source | null | null
"""


def _run(tmp_path: Path, name: str, findings: str, day: int, **kw) -> Path:
    started = f"2024-05-{day:02d}T02:00:00+00:00"
    return write_outdir(tmp_path / name, table(findings), summary(started_at=started, **kw))


def _three_runs(tmp_path: Path, store: Path) -> None:
    history.record_run(_run(tmp_path, "r1", RUN_1, 1, failing_city=2), store)
    history.record_run(_run(tmp_path, "r2", RUN_2, 2, failing_city=1), store)
    history.record_run(_run(tmp_path, "r3", RUN_3, 3, failing_city=0, success=True), store)


def _identities(frame: pl.DataFrame) -> set[tuple]:
    return set(frame.select(history.IDENTITY_COLUMNS).iter_rows())


def test_trend_has_one_row_per_run_oldest_first_with_counts_per_status(tmp_path):
    store = tmp_path / "store"
    _three_runs(tmp_path, store)

    t = history.trend(store)

    assert t["run_time"].dt.day().to_list() == [1, 2, 3]
    assert t["success"].to_list() == [False, False, True]
    assert t["findings_total"].to_list() == [3, 4, 1]
    assert t["mismatch"].to_list() == [2, 2, 0]
    assert t["missing_in_target"].to_list() == [1, 2, 0]
    assert t["missing_in_source"].to_list() == [0, 0, 1]
    assert t["source"].unique().to_list() == ["tenant-a"]


def test_trend_mismatch_rate_is_failing_over_checked_of_all_pairs(tmp_path):
    store = tmp_path / "store"
    _three_runs(tmp_path, store)

    # Checked per run: 8 + 8 + 0 (Contactperson) + 4 (Supplier) = 20; failing: city + 1 supplier.
    assert history.trend(store)["mismatch_rate"].to_list() == pytest.approx([3 / 20, 2 / 20, 1 / 20])


def test_pair_trend_gives_rate_and_coverage_per_run_and_pair(tmp_path):
    store = tmp_path / "store"
    _three_runs(tmp_path, store)

    pt = history.pair_trend(store).filter(pl.col("pair") == PAIR)

    assert pt["mismatch_rate"].to_list() == pytest.approx([2 / 16, 1 / 16, 0 / 16])
    assert pt["link_coverage"].to_list() == pytest.approx([0.8, 0.8, 0.8])


def test_trend_keeps_only_the_flow_and_tenants_asked_for(tmp_path):
    store = tmp_path / "store"
    _three_runs(tmp_path, store)
    history.record_run(_run(tmp_path, "other", RUN_1, 4, target="tenant-c"), store)

    assert history.trend(store, source="tenant-a", target="tenant-b").height == 3
    assert history.trend(store, target="tenant-c")["findings_total"].to_list() == [3]
    assert history.trend(store, flow="data/flows/another.rst").is_empty()


def test_recording_the_same_run_twice_keeps_one_entry(tmp_path):
    store = tmp_path / "store"
    out = _run(tmp_path, "r1", RUN_1, 1)

    first = history.record_run(out, store)
    again = history.record_run(out, store)

    assert first.created and not again.created
    assert again.run_id == first.run_id
    assert history.trend(store).height == 1


def test_record_stores_identities_not_values(tmp_path):
    store = tmp_path / "store"
    record = history.record_run(_run(tmp_path, "r1", RUN_1, 1), store)

    stored = pl.read_parquet(record.file)
    names = {f.name for f in stored.schema["findings"].inner.fields}

    assert names == set(history.IDENTITY_COLUMNS)
    assert "Oslo" not in str(stored.to_dicts())


def test_diff_last_lists_new_and_fixed_identities(tmp_path):
    store = tmp_path / "store"
    history.record_run(_run(tmp_path, "r1", RUN_1, 1), store)
    history.record_run(_run(tmp_path, "r2", RUN_2, 2), store)

    new, fixed = history.diff_last(store)

    assert _identities(new) == {
        (PAIR, "4", None, None, None, "missing_in_target"),
        (SUPPLIER, "7", "70", "MailAddress.City", "city", "mismatch"),
    }
    # Key 1 still mismatches (with another target value): neither new nor fixed.
    assert _identities(fixed) == {(PAIR, "2", "12", "city", "mailAddress.city", "mismatch")}


def test_diff_last_compares_with_the_previous_run_of_the_same_flow_and_tenants(tmp_path):
    store = tmp_path / "store"
    history.record_run(_run(tmp_path, "r1", RUN_1, 1), store)
    history.record_run(_run(tmp_path, "x", RUN_3, 2, target="tenant-c"), store)
    history.record_run(_run(tmp_path, "r2", RUN_1, 3), store)

    diff = history.compare_last(store, source="tenant-a", target="tenant-b")

    assert diff.previous_run_id == history.run_id_for(tmp_path / "r1")
    assert diff.new.is_empty() and diff.fixed.is_empty()


def test_diff_last_of_a_named_earlier_run(tmp_path):
    store = tmp_path / "store"
    _three_runs(tmp_path, store)

    new, fixed = history.diff_last(store, run_id=history.run_id_for(tmp_path / "r2"))

    assert new.height == 2 and fixed.height == 1


def test_first_run_has_nothing_to_compare_with(tmp_path):
    store = tmp_path / "store"
    history.record_run(_run(tmp_path, "r1", RUN_1, 1), store)

    diff = history.compare_last(store)

    assert diff.previous_run_id is None
    assert diff.new.is_empty() and diff.fixed.is_empty()


def test_corrupt_run_file_is_named_and_no_history_is_lost(tmp_path):
    store = tmp_path / "store"
    _three_runs(tmp_path, store)
    files = sorted((store / "runs").glob("*.parquet"))
    files[1].write_bytes(b"PAR1 this is not a parquet file")
    before = {f: f.read_bytes() for f in files}

    with pytest.raises(HistoryError) as err:
        history.trend(store)
    assert files[1].name in str(err.value)

    # Recording goes on beside the damaged file and changes no earlier file.
    history.record_run(_run(tmp_path, "r4", RUN_1, 4), store)
    assert {f: f.read_bytes() for f in files} == before
    assert len(list((store / "runs").glob("*.parquet"))) == 4


def test_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    store = tmp_path / "store"
    history.record_run(_run(tmp_path, "r1", RUN_1, 1), store)
    before = sorted(p.name for p in (store / "runs").iterdir())

    def disk_full(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pl.DataFrame, "write_parquet", disk_full)
    with pytest.raises(OSError):
        history.record_run(_run(tmp_path, "r2", RUN_2, 2), store)

    assert sorted(p.name for p in (store / "runs").iterdir()) == before
    monkeypatch.undo()
    assert history.trend(store).height == 1


def test_store_that_is_a_file_is_an_error_naming_it(tmp_path):
    store = tmp_path / "history"
    store.write_text("not a directory")

    with pytest.raises(HistoryError, match="history: not a directory"):
        history.record_run(_run(tmp_path, "r1", RUN_1, 1), store)
    assert store.read_text() == "not a directory"


def test_run_without_summary_is_an_input_error_naming_the_file(tmp_path):
    out = _run(tmp_path, "r1", RUN_1, 1)
    (out / "summary.json").unlink()

    with pytest.raises(InputError, match="summary.json: missing"):
        history.record_run(out, tmp_path / "store")
    assert not (tmp_path / "store").exists()


def test_empty_store_gives_an_empty_trend(tmp_path):
    t = history.trend(tmp_path / "nothing-yet")

    assert t.is_empty()
    assert list(t.columns[: len(history.TREND_COLUMNS)]) == list(history.TREND_COLUMNS)
