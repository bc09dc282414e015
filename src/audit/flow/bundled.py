"""The dataflow documents shipped inside the package, so an installed ``audit`` needs no clone.

``data/flows/*.rst`` of the repository are copied to ``audit/data/flows/`` (a test keeps
the copies identical). A flow argument that is not a file names a bundled flow by its
stem (``powerofficego-powerofficego``), its file name, or its path in the clone
(``data/flows/powerofficego-powerofficego.rst``), which then works from any folder.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

#: Where the bundled flows live inside the installed package.
BUNDLED_FLOWS = Path(str(files("audit") / "data" / "flows"))

#: The folder of the flows in a clone of the repository.
CLONE_FLOWS = Path("data/flows")


def bundled_flows() -> list[Path]:
    """Every bundled dataflow document, by name."""
    return sorted(BUNDLED_FLOWS.glob("*.rst"))


def bundled_flow(name: str | Path) -> Path | None:
    """The bundled document ``name`` names (stem, file name or clone path), or ``None``."""
    path = Path(name)
    if path.parent not in (Path("."), CLONE_FLOWS):
        return None
    candidate = BUNDLED_FLOWS / (path.name if path.suffix == ".rst" else f"{path.name}.rst")
    return candidate if candidate.is_file() else None


def resolve_flow(name: str | Path) -> Path:
    """``name`` itself when it is a file, else the bundled flow it names, else ``name``."""
    path = Path(name)
    if path.exists():
        return path
    return bundled_flow(path) or path
