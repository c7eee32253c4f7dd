"""Provenance: software versions, the git commit of the code and the SHA-256 of the study file
and of the data."""

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
    commit = git_commit()
    if commit is not None:
        found["rtoutcomes commit"] = commit
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def git_commit() -> str | None:
    """The git commit of the rtoutcomes code in use (``+dirty`` when it has uncommitted
    changes), or ``None`` when it is not a git checkout (an installed release: its version
    names it) or git is not available."""
    import subprocess
    from pathlib import Path

    here = Path(__file__).resolve().parents[1]
    try:
        run = [
            subprocess.run(
                ["git", "-C", str(here), *args],
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
            ).stdout.strip()
            for args in (["rev-parse", "HEAD"], ["status", "--porcelain", "--", "."])
        ]
    except (OSError, subprocess.SubprocessError):
        return None
    commit, changes = run
    if len(commit) != 40:
        return None
    return commit + ("+dirty" if changes else "")


def provenance(
    study_name: str,
    study_sha256: str,
    data_name: str,
    data_sha256: str,
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
