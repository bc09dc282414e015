"""Benchmark ``audit run`` against datacompy and a bare polars floor, side by side.

For each size (records per entity) the harness

1. generates demo tenants with :func:`audit.demo.generator.generate`, cached under
   ``bench/data/demo-n<N>-s<seed>-<format>/`` (reused when its ``manifest.json`` exists);
2. derives, with the audit's own path resolution and policy, the *comparison plan* every
   tool follows: per flow pair the two entity files, the key each side links on (the
   merge rule's columns, else the ids) and the mapped property columns the audit compares
   (link keys and ``ignore`` properties left out, ``informational`` ones kept, since the
   audit compares them too);
3. runs each tool in its own fresh subprocess, one after the other, round-robin over
   ``--repeat`` rounds, and takes wall time and the child's peak RSS (``ru_maxrss`` from
   ``os.wait4``):

   ``audit``
       the real command line, ``python -m audit run ...``, writing every output;
   ``datacompy-polars`` / ``datacompy-pandas``
       per pair: read the same files with polars, flatten, keep the key and the mapped
       columns renamed to shared names, build ``PolarsCompare`` / ``PandasCompare``
       (``.to_pandas()`` for the latter) joined on the key, write ``report()``; a pair
       without merge rules is keyed by the one-to-one links of the demo's Sesam export,
       which each tool reads in its own timed run, as the audit reads ``--links``;
   ``floor``
       per pair: read with polars, flatten, keep the same columns, one full join on the
       key, count rows on one side only and differing cells per mapped column (as text).

datacompy and the floor drop the records whose id is duplicated in their file before
they compare (:func:`_load`): the audit compares no cells of them (``duplicate_id`` and
``ambiguous_link`` findings), and the other tools would each pair duplicate keys
differently, so all tools compare the same records.

After the audit run, its ``summary.json`` is checked against the plan: the columns the
audit resolved and compared must be exactly the plan's, so every tool compares the same
pairs, keys and columns.

Where the tools do different work (reported with the results): the audit parses each
file strictly (mixed-type detection, id checks), links transitively (ambiguous merge
keys become findings), normalises values by declared type and date, writes every finding
row (parquet and CSV), ``summary.json`` and one Great Expectations result per pair.
datacompy writes a text report with samples; the floor only counts.

Run ``python bench/bench_audit.py --help`` for the options; the results go to stdout
(a markdown table) and ``bench/out/results-<time>.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DEFAULT_FLOW = ROOT / "data" / "flows" / "powerofficego-powerofficego.rst"
TOOLS = ("audit", "datacompy-polars", "datacompy-pandas", "floor")
SUFFIXES = (".jsonl", ".json", ".parquet")


# =========================================================================== the parent
def dataset(size: int, seed: int, fmt: str, flow_path: Path, data_dir: Path) -> Path:
    """The cached demo tenants for ``size`` records per entity (generated when missing).

    Parameters
    ----------
    size, seed, fmt
        Records per entity, random seed and file format (``jsonl`` or ``parquet``).
    flow_path : Path
        The seed flow document.
    data_dir : Path
        Cache root (``bench/data``).

    Returns
    -------
    Path
        The directory holding ``source/``, ``target/`` and ``expected_findings.csv``.
    """
    out = data_dir / f"demo-n{size}-s{seed}-{fmt}"
    if (out / "manifest.json").is_file() and (out / "global-person.json").is_file():
        return out  # (a cache from before the demo had unrelated ids and its Sesam links is made again)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    started = time.perf_counter()
    # In a child process: Linux carries a process's peak memory over to the programs it
    # starts, so generating 1M records here would inflate every tool's measured peak.
    subprocess.run(
        [sys.executable, "-m", "audit", "demo-data", "--out", str(tmp), "--records", str(size),
         "--seed", str(seed), "--format", fmt, "--flow", str(flow_path)],  # fmt: skip
        cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
    )
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    print(f"generated {out} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return out


def _entity_file(directory: Path, entity: str) -> Path:
    from audit.flow.model import entity_file_stem

    stem = entity_file_stem(entity)
    for suffix in SUFFIXES:
        path = directory / f"{stem}{suffix}"
        if path.is_file():
            return path
    raise FileNotFoundError(f"{directory}: no file for entity {entity!r}")


def _columns_and_id(path: Path, sample: int) -> tuple[list[str], str]:
    """Flattened column names of an entity file (from its first ``sample`` records) and
    its id column."""
    import polars as pl

    from audit.core.snapshot import flatten

    if path.suffix == ".parquet":
        head = pl.read_parquet(path, n_rows=sample)
    elif path.suffix == ".jsonl":
        head = pl.read_ndjson(path, n_rows=sample, infer_schema_length=None)
    else:
        head = pl.DataFrame(json.loads(path.read_text(encoding="utf-8"))[:sample])
    columns = flatten(head).columns
    id_column = next((c for c in ("id", "Id") if c in columns), None)
    if id_column is None:
        id_column = next(c for c in columns if c.lower() == "id")
    return columns, id_column


def _key_map(flow, pair, links: Path) -> dict:
    """Where the other tools find the links of a pair without merge rules: the demo's Sesam
    export and the pair's two datasets. Each tool reads the export itself, in its timed
    run, as the audit does through ``--links`` (:func:`_export_links`)."""
    from audit.core.policy import default_policy

    source_ds, target_ds = default_policy().links.pair_datasets(flow, pair)
    return {"export": str(links), "source_dataset": source_ds, "target_dataset": target_ds}


def comparison_plan(
    flow_path: Path,
    source: Path,
    target: Path,
    sample: int = 20_000,
    links: Path | None = None,
    work: Path | None = None,
) -> dict:
    """The pairs, keys and columns every tool compares, resolved like the audit does.

    Parameters
    ----------
    flow_path : Path
        The flow document.
    source, target : Path
        Snapshot directories.
    sample : int
        Records read from each file to learn its columns (the demo files are uniform).
    links, work : Path, optional
        The demo's Sesam export, and where to write the key maps of the pairs linked by it.

    Returns
    -------
    dict
        ``{"pairs": [{"heading", "source_file", "target_file", "source_key",
        "target_key", "source_id", "target_id", "columns": [[source column, target
        column], ...]}]}``.
    """
    from audit.core.policy import default_policy, plan_pair
    from audit.flow.model import entity_file_stem
    from audit.flow.parser import parse_file
    from audit.flow.paths import resolve_path
    from audit.flow.profile import profiles_for

    flow = parse_file(flow_path)
    policy = default_policy()
    profiles = profiles_for(flow.source_system, flow.target_system)
    pairs = []
    for pair in flow.pairs:
        s_file, t_file = _entity_file(source, pair.source_entity), _entity_file(target, pair.target_entity)
        s_cols, s_id = _columns_and_id(s_file, sample)
        t_cols, t_id = _columns_and_id(t_file, sample)
        s_ent, t_ent = entity_file_stem(pair.source_entity), entity_file_stem(pair.target_entity)
        if pair.merge_rules:
            if len(pair.merge_rules) != 1:
                raise SystemExit(f"{pair.heading}: datacompy joins on one key; this pair has OR'ed rules")
            rule = pair.merge_rules[0]
            s_key = resolve_path(rule.source, s_cols, s_ent, s_id, profile=profiles.source).column
            t_key = resolve_path(rule.target, t_cols, t_ent, t_id, profile=profiles.target).column
        else:
            s_key, t_key = s_id, t_id
        key_map = None
        if not pair.merge_rules and links is not None:
            key_map = _key_map(flow, pair, links)
        columns = []
        for planned in plan_pair(pair, policy, profiles):
            if planned.mode == "ignore" or not planned.checks_equal:
                continue
            rs = resolve_path(planned.prop.source, s_cols, s_ent, s_id, profile=profiles.source)
            rt = resolve_path(planned.prop.target, t_cols, t_ent, t_id, profile=profiles.target)
            if rs.resolved and rt.resolved:
                columns.append([rs.column, rt.column])
        pairs.append(
            {
                "heading": pair.heading,
                "source_file": str(s_file),
                "target_file": str(t_file),
                "source_key": s_key,
                "target_key": t_key,
                "source_id": s_id,
                "target_id": t_id,
                "key_map": key_map,
                "columns": columns,
            }
        )
    return {"flow": str(flow_path), "pairs": pairs}


def check_plan_against_audit(plan: dict, summary_path: Path) -> list[str]:
    """Differences between the plan and what the audit resolved and compared (empty when
    the tools compare the same columns)."""
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    by_heading = {p["pair"]: p for p in summary["pairs"]}
    problems = []
    for planned in plan["pairs"]:
        got = by_heading.get(planned["heading"])
        if got is None:
            problems.append(f"{planned['heading']}: not in the audit summary")
            continue
        compared = [
            [e["source_resolution"]["column"], e["target_resolution"]["column"]]
            for e in got["properties"]
            if e["mode"] in ("compare", "informational")
            and e.get("source_resolution", {}).get("column")
            and e.get("target_resolution", {}).get("column")
        ]
        if compared != planned["columns"]:
            problems.append(f"{planned['heading']}: audit compared {compared}, plan {planned['columns']}")
        rules = got["link"]["merge_rules"]
        if rules:
            keys = [rules[0]["source_resolution"]["column"], rules[0]["target_resolution"]["column"]]
            if keys != [planned["source_key"], planned["target_key"]]:
                problems.append(f"{planned['heading']}: audit linked on {keys}")
    return problems


def _warm_page_cache(data: Path) -> None:
    """Read every input file once, so that no tool pays for reading from disk what the
    next one finds in the page cache."""
    for path in sorted(data.rglob("*")):
        if path.is_file():
            with path.open("rb") as fh:
                while fh.read(1 << 24):
                    pass


def run_child(argv: list[str], cwd: Path, env: dict, log: Path) -> dict:
    """Run one tool in a fresh process; wall seconds, peak RSS (MiB) and exit code."""
    started = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"wall_s": wall, "peak_mib": usage.ru_maxrss / 1024, "rc": proc.returncode}


def machine() -> dict:
    """nproc, RAM and CPU model of this machine."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "nproc": os.cpu_count(),
        "ram_gib": round(ram, 1),
        "cpu": model,
        "python": platform.python_version(),
        "load_avg_at_start": os.getloadavg(),
    }


def _versions() -> dict:
    from importlib.metadata import version

    out = {}
    for name in ("polars", "pandas", "pyarrow", "datacompy", "great_expectations"):
        try:
            out[name] = version(name)
        except Exception:  # not installed
            out[name] = None
    return out


def _median(values: list[float]) -> float:
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def markdown(results: dict) -> str:
    """The results as a markdown table (median over rounds)."""
    tools = results["tools"]
    lines = [
        "| records/entity | tool | wall s | peak MiB | audit/tool time | audit/tool mem | cells differing |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for size, runs in results["sizes"].items():
        audit = runs.get("audit")
        for tool in tools:
            r = runs.get(tool)
            if r is None:
                continue
            ratio_t = ratio_m = ""
            if audit and tool != "audit" and r["ok"] and audit["ok"]:
                ratio_t = f"{audit['wall_s'] / r['wall_s']:.2f}"
                ratio_m = f"{audit['peak_mib'] / r['peak_mib']:.2f}"
            wall = f"{r['wall_s']:.1f}" if r["ok"] else f"failed (rc {r['rc']})"
            lines.append(
                f"| {int(size):,} | {tool} | {wall} | {r['peak_mib']:,.0f} | {ratio_t} | {ratio_m} "
                f"| {r.get('cells_differing', '')} |"
            )
    return "\n".join(lines) + "\n"


def _audit_differing(summary_path: Path) -> int:
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    total = 0
    for pair in summary["pairs"]:
        for e in pair["properties"]:
            total += int(e.get("mismatch", 0) or 0) + int(e.get("differing", 0) or 0)
    return total


def main(argv: list[str] | None = None) -> int:
    """Command line of the harness (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--tools", nargs="+", default=list(TOOLS), choices=TOOLS)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--format", dest="fmt", default="jsonl", choices=("jsonl", "parquet"))
    parser.add_argument("--repeat", type=int, default=1, help="rounds per size (median reported)")
    parser.add_argument("--flow", type=Path, default=DEFAULT_FLOW)
    parser.add_argument("--data", type=Path, default=BENCH / "data", help="cache of demo tenants")
    parser.add_argument("--out", type=Path, default=BENCH / "out", help="logs, outputs and results")
    parser.add_argument(
        "--reader",
        default="arrow",
        choices=("arrow", "polars", "polars-head"),
        help="JSON Lines reader of datacompy and the floor (the audit always uses its own)",
    )
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT / "src"))
    args.data.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    run_dir = args.out / stamp
    run_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "GX_ANALYTICS_ENABLED": "False",
        "BENCH_READER": args.reader,
    }
    results: dict = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": machine(),
        "versions": _versions(),
        "tools": args.tools,
        "repeat": args.repeat,
        "reader": args.reader,
        "sizes": {},
    }
    for size in args.sizes:
        data = dataset(size, args.seed, args.fmt, args.flow, args.data)
        plan = comparison_plan(
            args.flow, data / "source", data / "target", links=data / "global-person.json", work=run_dir
        )
        plan_path = run_dir / f"plan-{size}.json"
        plan_path.write_text(json.dumps(plan, indent=2), encoding="utf-8")
        _warm_page_cache(data)
        samples: dict[str, list[dict]] = {t: [] for t in args.tools}
        for round_ in range(args.repeat):
            order = args.tools[round_ % len(args.tools) :] + args.tools[: round_ % len(args.tools)]
            for tool in order:
                out = run_dir / f"{tool}-{size}-r{round_}"
                shutil.rmtree(out, ignore_errors=True)
                out.mkdir(parents=True)
                if tool == "audit":
                    cmd = [sys.executable, "-m", "audit", "run", "--flow", str(args.flow),
                           "--source", str(data / "source"), "--target", str(data / "target"),
                           "--links", str(data / "global-person.json"), "--out", str(out)]  # fmt: skip
                else:
                    cmd = [sys.executable, str(Path(__file__).resolve()), "_worker", tool,
                           str(plan_path), str(out)]  # fmt: skip
                r = run_child(cmd, ROOT, env, out / "log.txt")
                r["ok"] = r["rc"] in ((0, 1) if tool == "audit" else (0,))
                if r["ok"] and tool == "audit":
                    problems = check_plan_against_audit(plan, out / "summary.json")
                    if problems:
                        raise SystemExit(
                            "the tools would not compare the same columns:\n" + "\n".join(problems)
                        )
                    r["cells_differing"] = _audit_differing(out / "summary.json")
                    r["finding_rows"] = json.loads((out / "summary.json").read_text())["findings"]
                elif r["ok"]:
                    counts = json.loads((out / "counts.json").read_text())
                    r["cells_differing"] = counts["cells_differing"]
                    r["phases"] = counts["phases"]
                samples[tool].append(r)
                print(f"{size:>9,} {tool:<17} round {round_}: {r['wall_s']:7.2f} s "
                      f"{r['peak_mib']:8,.0f} MiB rc={r['rc']}", file=sys.stderr)  # fmt: skip
        results["sizes"][str(size)] = {
            tool: {
                **runs[-1],
                "wall_s": _median([r["wall_s"] for r in runs]),
                "peak_mib": _median([r["peak_mib"] for r in runs]),
                "ok": all(r["ok"] for r in runs),
                "walls": [round(r["wall_s"], 3) for r in runs],
            }
            for tool, runs in samples.items()
        }
    table = markdown(results)
    (args.out / f"results-{stamp}.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    (args.out / f"results-{stamp}.md").write_text(table, encoding="utf-8")
    print(table)
    return 0


# =========================================================================== the workers
# Each worker runs in its own process and imports only what its tool needs (not the
# audit package), so its time and peak memory are its own.
def _load(path: str, key: str, columns: list[str], id_column: str, key_map: str | None = None):
    """Read an entity file, flatten nested objects into dotted columns, drop the records
    whose id (``id_column``) another record shares, keep the key (as text, the way the
    audit keys records) and ``columns`` renamed ``c00, c01, ...`` in plan order (so both
    sides share names).

    Dropping duplicated ids makes every tool compare the same records: the audit reports
    them as ``duplicate_id`` findings and their link as ``ambiguous_link`` (no cells
    compared), while datacompy and the floor would each pair duplicate keys their own way.

    JSON Lines are read by ``BENCH_READER``: ``arrow`` (default; pyarrow's multithreaded
    reader, one pass, the fastest reader here that reads every record's types, as the
    audit does; it reads ISO date strings as timestamps, which only makes the comparison
    cheaper), ``polars`` (``pl.read_ndjson`` inferring from every record, as the polars
    documentation suggests for sparse fields) or ``polars-head`` (``pl.read_ndjson`` as
    written in its simplest form: types inferred from the first 100 records, which these
    files happen to allow; a later record of another type becomes text, null or an error).
    """
    import polars as pl

    if path.endswith(".parquet"):
        frame = pl.read_parquet(path)
    elif path.endswith(".jsonl") and os.environ.get("BENCH_READER", "arrow") == "polars":
        frame = pl.read_ndjson(path, infer_schema_length=None)
    elif path.endswith(".jsonl") and os.environ.get("BENCH_READER") == "polars-head":
        frame = pl.read_ndjson(path)
    elif path.endswith(".jsonl"):
        import pyarrow.json as pj

        frame = pl.from_arrow(pj.read_json(path))
    else:
        frame = pl.read_json(path)
    while any(isinstance(dt, pl.Struct) for dt in frame.dtypes):
        exprs = []
        for name, dtype in frame.schema.items():
            if isinstance(dtype, pl.Struct):
                exprs += [pl.col(name).struct.field(f.name).alias(f"{name}.{f.name}") for f in dtype.fields]
            else:
                exprs.append(pl.col(name))
        frame = frame.select(exprs)
    keyed = frame.filter(~pl.col(id_column).is_duplicated()).select(
        pl.col(key).cast(pl.String).alias("key"),
        *[pl.col(c).alias(f"c{i:02d}") for i, c in enumerate(columns)],
    )
    if key_map is None:
        return keyed
    # the target's records under the key of the source record they are linked to
    links = _export_links(**key_map)
    return keyed.join(links, left_on="key", right_on="target_id", how="left").select(
        pl.col("source_id").alias("key"), pl.exclude("key", "source_id")
    )


_EXPORTS: dict = {}


def _export_links(export: str, source_dataset: str, target_dataset: str):
    """The one-to-one links ``source_id, target_id`` of two datasets in a Sesam export:
    read once per process with DuckDB's JSON reader (the fastest reader here, the one the
    audit uses), live entities' ``$ids`` split into dataset and record id."""
    import duckdb
    import polars as pl

    if export not in _EXPORTS:
        query = """SELECT row_number() OVER () AS entity, unnest("$ids") AS ni
                   FROM read_json(?, format = 'array', columns = {'$ids': 'VARCHAR[]', '_deleted': 'BOOLEAN'})
                   WHERE NOT coalesce(_deleted, false)"""
        con = duckdb.connect()
        raw = con.sql(query, params=[export]).pl()
        parts = raw.with_columns(pl.col("ni").str.extract_groups(r"^~:([^:]+):(.+)$").alias("g"))
        _EXPORTS[export] = parts.select(
            "entity", pl.col("g").struct.field("1").alias("dataset"), pl.col("g").struct.field("2").alias("id")
        )
    ids = _EXPORTS[export]
    s = ids.filter(pl.col("dataset") == source_dataset).select("entity", pl.col("id").alias("source_id"))
    t = ids.filter(pl.col("dataset") == target_dataset).select("entity", pl.col("id").alias("target_id"))
    edges = s.join(t, on="entity").select("source_id", "target_id").unique()
    one = (pl.len().over("source_id") == 1) & (pl.len().over("target_id") == 1)
    return edges.filter(one)


def _pair_frames(pair: dict):
    s_cols = [c[0] for c in pair["columns"]]
    t_cols = [c[1] for c in pair["columns"]]
    return (
        _load(pair["source_file"], pair["source_key"], s_cols, pair["source_id"]),
        _load(pair["target_file"], pair["target_key"], t_cols, pair["target_id"], pair.get("key_map")),
    )


def _floor_pair(pair: dict, phases: dict) -> int:
    import polars as pl

    t0 = time.perf_counter()
    s, t = _pair_frames(pair)
    t1 = time.perf_counter()
    names = [f"c{i:02d}" for i in range(len(pair["columns"]))]
    joined = s.join(t, on="key", how="full", suffix="__t")
    both = pl.col("key").is_not_null() & pl.col("key__t").is_not_null()
    counts = joined.select(
        pl.col("key__t").is_null().sum().alias("source_only"),
        pl.col("key").is_null().sum().alias("target_only"),
        *[
            (both & pl.col(c).cast(pl.String).ne_missing(pl.col(f"{c}__t").cast(pl.String))).sum().alias(c)
            for c in names
        ],
    ).row(0, named=True)
    t2 = time.perf_counter()
    phases["read"] += t1 - t0
    phases["compare"] += t2 - t1
    return sum(counts[c] for c in names)


def _datacompy_pair(pair: dict, phases: dict, flavour: str, out: Path, index: int) -> int:
    import datacompy
    import polars as pl

    t0 = time.perf_counter()
    s, t = _pair_frames(pair)
    # a column that is text on one side and numbers on the other (the demo's zip codes
    # stored as JSON numbers) reaches datacompy as text on both, as the floor compares it
    # (datacompy would otherwise call every row of it unequal, ``1473`` against ``"1473"``)
    types = {c: {s.schema[c], t.schema[c]} for c in s.columns if c != "key"}
    mixed = [c for c, both in types.items() if len(both) == 2 and pl.String in both]
    s, t = s.with_columns(pl.col(mixed).cast(pl.String)), t.with_columns(pl.col(mixed).cast(pl.String))
    if flavour == "pandas":
        # datacompy 1.1.0's PandasCompare calls every row of a datetime column unequal
        # as soon as one row differs (the demo's offset dates make one differ): it gets
        # them as ISO text, which it compares row by row like the floor does
        as_text = pl.col(pl.Datetime).dt.to_string("%Y-%m-%dT%H:%M:%S%.f")
        s, t = s.with_columns(as_text).to_pandas(), t.with_columns(as_text).to_pandas()
    t1 = time.perf_counter()
    cls = datacompy.PandasCompare if flavour == "pandas" else datacompy.PolarsCompare
    cmp = cls(s, t, join_columns="key", df1_name="source", df2_name="target")
    t2 = time.perf_counter()
    (out / f"report-{index}.txt").write_text(cmp.report(), encoding="utf-8")
    t3 = time.perf_counter()
    phases["read"] += t1 - t0
    phases["compare"] += t2 - t1
    phases["report"] += t3 - t2
    return sum(int(c["unequal_cnt"]) for c in cmp.column_stats if c["column"] != "key")


def worker(tool: str, plan_path: str, out_dir: str) -> int:
    """Run one non-audit tool over every pair of the plan; write ``counts.json``."""
    plan = json.loads(Path(plan_path).read_text(encoding="utf-8"))
    out = Path(out_dir)
    phases = {"read": 0.0, "compare": 0.0, "report": 0.0}
    differing = 0
    for index, pair in enumerate(plan["pairs"]):
        if tool == "floor":
            differing += _floor_pair(pair, phases)
        else:
            differing += _datacompy_pair(pair, phases, tool.split("-", 1)[1], out, index)
    (out / "counts.json").write_text(
        json.dumps({"cells_differing": differing, "phases": phases}), encoding="utf-8"
    )
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_worker":
        sys.exit(worker(*sys.argv[2:5]))
    sys.exit(main())
