"""Great Expectations Data Docs for one run, built from its stored validation results.

``audit run`` keeps each pair's ``ExpectationSuiteValidationResult`` as JSON under
``OUT_DIR/gx/``. This module loads them back into GX objects, puts them in the
validation-results store of a throw-away in-memory data context whose only Data Docs
site writes to ``OUT_DIR/data_docs/``, and lets GX's own site builder render them. The
pages are GX's renderers' output for exactly the stored results, not an imitation.

Note that GX's Data Docs pages load Bootstrap, jQuery and fonts from public CDNs; opened
offline they show their content unstyled. The audit's own ``report.html`` does not
depend on them.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from audit.errors import InputError
from audit.reporting.run_data import GxResult

DOCS_DIR = "data_docs"
SITE_NAME = "audit"


@dataclass(frozen=True)
class DataDocs:
    """Where the built Data Docs are, relative to OUT_DIR (POSIX paths, for links)."""

    index: str
    pages: dict[str, str]  # validation result file stem (pair slug) -> page


def build_data_docs(out_dir: Path, results: tuple[GxResult, ...]) -> DataDocs:
    """Render ``results`` as a GX Data Docs site under ``OUT_DIR/data_docs``.

    Parameters
    ----------
    out_dir
        The ``audit run`` output directory.
    results
        The validation results read by :func:`audit.reporting.rundir.read_gx_results`.

    Returns
    -------
    DataDocs
        The index page and one validation page per result, relative to ``out_dir``.

    Raises
    ------
    InputError
        A stored result that GX cannot load back (the message names the file).
    """
    out_dir = Path(out_dir).resolve()
    site_dir = out_dir / DOCS_DIR
    # A rebuild must not keep pages of results that are no longer in gx/.
    shutil.rmtree(site_dir / "validations", ignore_errors=True)
    context = _context(site_dir)
    keys = {result.slug: _store_result(context, result) for result in results}
    context.build_data_docs(site_names=[SITE_NAME])
    pages = {}
    for slug, key in keys.items():
        urls = context.get_docs_sites_urls(resource_identifier=key, site_name=SITE_NAME, only_if_exists=True)
        page = urls[0].get("site_url") if urls else None
        if page:
            pages[slug] = _relative(page, out_dir)
    return DataDocs(index=f"{DOCS_DIR}/index.html", pages=pages)


def _context(site_dir: Path):
    """A throw-away in-memory GX context whose one Data Docs site writes to ``site_dir``."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import DataContextConfig, InMemoryStoreBackendDefaults

    site = {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(site_dir)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    }
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        data_docs_sites={SITE_NAME: site},
    )
    return gx.get_context(project_config=config, mode="ephemeral")


def _store_result(context, result: GxResult):
    """Load one stored result back into GX and put it in the context's store; its key."""
    from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResultSchema
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    try:
        loaded = ExpectationSuiteValidationResultSchema().load(result.raw)
        meta = result.raw.get("meta") or {}
        run = meta.get("run_id") or {}
        batch = (meta.get("active_batch_definition") or {}).get("data_asset_name") or result.slug
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=result.suite_name),
            run_id=RunIdentifier(run_name=run.get("run_name") or result.slug, run_time=run.get("run_time")),
            batch_identifier=batch,
        )
        context.validation_results_store.set(key, loaded)
    except Exception as exc:  # GX raises marshmallow and its own errors alike
        raise InputError(f"{result.file}: cannot be loaded as a GX validation result: {exc}") from None
    return key


def _relative(url: str, base: Path) -> str:
    from urllib.parse import unquote, urlparse

    path = Path(unquote(urlparse(url).path))
    return path.relative_to(base).as_posix()
