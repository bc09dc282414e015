"""A nightly job's link source read from a Sesam node before its audit.

In the nightly file a job names its links either as a file or directory, or as a node
and a dataset::

    links: {node: https://datahub-1234.sesam.cloud, dataset: global-person}

The runner then reads the dataset with :func:`audit.systems.sesam.client.read_dataset`
(``GET <node>/api/datasets/<dataset>/entities`` in pages, with retries; the JWT from
``SESAM_JWT`` in the environment or ``.env``, never from the nightly file or a notebook
parameter) into ``<run folder>/links/<dataset>.json``, and the audit notebook reads that
file as ``--links`` would. A read that fails ends the job before the notebook runs, with
the error's exit code (2 no JWT or no such dataset, 3 the node refused or failed).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["SesamLinks", "export_path", "fetch_links"]


class SesamLinks(BaseModel):
    """A Sesam dataset whose ``$ids`` link the job's pairs, read at run time."""

    model_config = ConfigDict(extra="forbid")

    node: str = Field(pattern=r"^https?://\S+$")
    dataset: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")


def export_path(spec: SesamLinks, run_dir: Path) -> Path:
    """Where the job's export is written: ``<run folder>/links/<dataset>.json``."""
    return run_dir / "links" / f"{spec.dataset.replace(':', '_')}.json"


def fetch_links(spec: SesamLinks, run_dir: Path) -> Path:
    """Read the dataset ``spec`` names into the run folder; the export file's path.

    Raises
    ------
    ConfigError
        ``SESAM_JWT`` unset, or the node has no such dataset (exit 2).
    ExternalError
        The node refused the JWT, failed after retries, or never answered (exit 3).
    """
    from audit.systems.sesam.client import read_dataset

    out = export_path(spec, run_dir)
    read_dataset(spec.node, spec.dataset, out)
    return out
