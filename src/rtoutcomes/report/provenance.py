"""Provenance: software versions and the SHA-256 of the study file and of the data."""

from __future__ import annotations

import platform
from importlib import metadata

from rtoutcomes.results.model import Provenance, RegistryStateData

PACKAGES = (
    "numpy",
    "scipy",
    "pandas",
    "matplotlib",
    "python-docx",
    "openpyxl",
    "PyYAML",
    "SQLAlchemy",
)


def versions() -> dict[str, str]:
    """Versions of rtoutcomes, Python and the libraries the numbers and files come from."""
    from rtoutcomes import __version__

    found = {"rtoutcomes": __version__, "python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def provenance(
    study_name: str, study_sha256: str, data_name: str, data_sha256: str,
    registry_state: RegistryStateData | None = None,
) -> Provenance:
    """The provenance block of results.json and the report (no dates, no absolute paths);
    ``registry_state``: the audit-trail state a registry study read."""
    block: Provenance = {
        "software": versions(),
        "study_file": {"name": study_name, "sha256": study_sha256},
        "data": {"name": data_name, "sha256": data_sha256},
    }
    if registry_state is not None:
        block["registry_state"] = registry_state
    return block
