"""Great Expectations' counts on the bundled demo agree exactly with the findings."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from audit.core.engine import run_audit

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo():
    return run_audit(
        ROOT / "data" / "flows" / "powerofficego-powerofficego.rst",
        ROOT / "data" / "demo" / "source",
        ROOT / "data" / "demo" / "target",
        links_dir=ROOT / "data" / "demo" / "global-person.json",
        expectations_dir=ROOT / "expectations",
    )


def _findings(result, pair: str, statuses, **equal) -> int:
    frame = result.findings.filter((pl.col("pair") == pair) & pl.col("status").is_in(list(statuses)))
    for column, value in equal.items():
        frame = (
            frame.filter(pl.col(column) == value) if value is not None else frame.filter(pl.col(column).is_not_null())
        )
    return frame.height


def _expected(result, pair: str, meta: dict) -> int | None:
    """What the findings say the expectation's unexpected count must be (None: no count)."""
    check, statuses = meta.get("check"), meta.get("statuses") or []
    props = {"source_property": meta.get("source_property"), "target_property": meta.get("target_property")}
    if check in ("values_agree", "target_type") and statuses:
        return _findings(result, pair, statuses, **props)
    if check in ("id_unique", "id_present"):
        return _findings(result, pair, statuses, **{f"{meta['side']}_property": None})
    if check == "link_coverage":
        return _findings(result, pair, statuses)
    if check == "link_coverage_strict":  # only "linked" is expected: every other status counts
        return _findings(result, pair, ("missing_in_target", "missing_in_source", "ambiguous_link"))
    return None


def test_every_counted_expectation_agrees_with_the_findings(demo):
    compared = 0
    for pair_result in demo.pairs:
        for item in demo.gx_results[pair_result.slug]["results"]:
            meta = item["expectation_config"].get("meta") or {}
            if meta.get("origin") == "user" or (item.get("exception_info") or {}).get("raised_exception"):
                continue
            want = _expected(demo, pair_result.heading, meta)
            if want is not None:
                assert item["result"]["unexpected_count"] == want, (pair_result.heading, meta)
                compared += 1
    assert compared >= 20


def test_the_demo_s_mismatches_are_failing_gx_expectations_with_real_values(demo):
    pair_result = next(p for p in demo.pairs if p.heading.endswith("Contactperson to PowerOfficeGo Customer"))
    items = demo.gx_results[pair_result.slug]["results"]
    zip_check = next(
        i
        for i in items
        if i["expectation_config"]["type"] == "expect_column_pair_values_to_be_equal"
        and i["expectation_config"]["kwargs"]["column_B"] == "target.mailAddress.zipCode"
    )
    rows = demo.findings.filter(
        (pl.col("pair") == pair_result.heading)
        & (pl.col("status") == "mismatch")
        & (pl.col("target_property") == "mailAddress.zipCode")
    )
    assert zip_check["success"] is False
    assert sorted(map(tuple, zip_check["result"]["partial_unexpected_list"])) == sorted(
        rows.select("source_value", "target_value").rows()
    )


def _verdicts(result: dict) -> list[tuple]:
    rows = []
    for item in result["results"]:
        config = item["expectation_config"]
        kwargs = {k: v for k, v in config["kwargs"].items() if k != "batch_id"}
        rows.append(
            (config["type"], repr(sorted(kwargs.items())), item["success"], item["result"].get("unexpected_count"))
        )
    return rows


def test_id_expectations_validated_first_give_what_the_whole_suite_gives_at_once(demo):
    """A run validates each pair's id expectations on the two entity files while the pair
    is linked, and the rest after; validating the whole suite on the pair's frame at once
    gives the same verdicts and counts, in the same order."""
    from audit.core.link_sources import open_link_source
    from audit.core.pair import finish_pair, prepare_pair
    from audit.core.policy import default_policy
    from audit.core.snapshot import read_snapshot
    from audit.flow.parser import parse_file
    from audit.gx.user_suites import user_suite_path

    flow = parse_file(ROOT / "data" / "flows" / "powerofficego-powerofficego.rst")
    policy = default_policy()
    source, target = (read_snapshot(ROOT / "data" / "demo" / side) for side in ("source", "target"))
    links = open_link_source(ROOT / "data" / "demo" / "global-person.json", flow, None)
    for pair, pair_result in zip(flow.pairs, demo.pairs, strict=True):
        se, te = source.entity(pair.source_entity), target.entity(pair.target_entity)
        own = user_suite_path(ROOT / "expectations", flow, pair)
        prepared = prepare_pair(flow, pair, se, te, policy, links.for_pair(flow, pair, policy.links), own)
        at_once = finish_pair(prepared)  # nothing validated first: the whole suite at once
        in_run = demo.gx_results[pair_result.slug]
        assert at_once.slug == pair_result.slug
        assert _verdicts(in_run) == _verdicts(at_once.gx_result)
        assert (
            in_run["statistics"]["unsuccessful_expectations"]
            == at_once.gx_result["statistics"]["unsuccessful_expectations"]
        )
        assert any(
            item["expectation_config"]["type"] == "expect_column_values_to_be_unique" for item in in_run["results"]
        )
