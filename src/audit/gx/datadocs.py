"""Data Docs for one run that open offline, rendered from its stored GX validation results.

``audit run`` keeps each pair's ``ExpectationSuiteValidationResult`` as JSON under
``OUT_DIR/gx/``. This module renders them, with Jinja templates of the package
(``audit/reporting/templates/data_docs_*.j2``), into ``OUT_DIR/data_docs/``:
``index.html`` lists every validation (suite, pair, verdict, expectations passed and
failed) and ``validations/<slug>.html`` shows each expectation in GX's own words
(:mod:`audit.gx.docs_words`), its severity and result, the rows it judged and a few
unexpected values side by side (:mod:`audit.gx.docs_view`).

Why not GX's own site builder: its pages load Bootstrap, jQuery, fonts and the script
that fills the index's list of validations from public CDNs, so offline the index lists
nothing and the pages are unstyled. These pages carry their styles inline and need no
script and no network; every link in them is relative.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from audit.errors import InputError
from audit.gx.docs_view import ValidationView, validation_view
from audit.reporting.run_data import GxResult

__all__ = ["DOCS_DIR", "DataDocs", "build_data_docs", "render_index", "render_page"]

DOCS_DIR = "data_docs"
PAGES_DIR = "validations"
INDEX_TEMPLATE = "data_docs_index.html.j2"
PAGE_TEMPLATE = "data_docs_page.html.j2"


@dataclass(frozen=True)
class DataDocs:
    """Where the built Data Docs are, relative to OUT_DIR (POSIX paths, for links)."""

    index: str
    pages: dict[str, str]  # validation result file stem (pair slug) -> page


def build_data_docs(out_dir: Path, results: tuple[GxResult, ...]) -> DataDocs:
    """Render ``results`` as offline Data Docs under ``OUT_DIR/data_docs``.

    The directory is rebuilt whole (written beside it, then swapped in), so no page of a
    result that is no longer in ``gx/`` survives and no reader sees half a site.

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
        A stored result whose content cannot be read as a validation result (the
        message names the file).
    """
    out_dir = Path(out_dir)
    views = [_view(result) for result in results]
    files = {f"{PAGES_DIR}/{_file_name(v.slug)}": v for v in views}
    staging = out_dir / f".{DOCS_DIR}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    (staging / PAGES_DIR).mkdir(parents=True)
    links = {v.slug: page for page, v in files.items()}
    (staging / "index.html").write_text(render_index(views, links), encoding="utf-8")
    for page, view in files.items():
        (staging / page).write_text(render_page(view), encoding="utf-8")
    target = out_dir / DOCS_DIR
    shutil.rmtree(target, ignore_errors=True)
    staging.replace(target)
    return DataDocs(index=f"{DOCS_DIR}/index.html", pages={slug: f"{DOCS_DIR}/{p}" for slug, p in links.items()})


def _view(result: GxResult) -> ValidationView:
    try:
        return validation_view(result.slug, result.suite_name, result.raw)
    except (AttributeError, TypeError, ValueError) as exc:
        raise InputError(f"{result.file}: cannot be read as a GX validation result: {exc}") from None


def _file_name(slug: str) -> str:
    """A page name for a result's slug: letters, digits, ``.``, ``-`` and ``_`` only."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", slug) + ".html"


def _environment():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("audit.reporting", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_index(views: list[ValidationView], pages: dict[str, str]) -> str:
    """The index page: one row per validation, linking ``pages[slug]`` (relative to it)."""
    return _environment().get_template(INDEX_TEMPLATE).render(views=views, pages=pages)


def render_page(view: ValidationView) -> str:
    """The page of one validation (it lives in ``validations/``, one level below the index)."""
    return _environment().get_template(PAGE_TEMPLATE).render(v=view, index="../index.html")
