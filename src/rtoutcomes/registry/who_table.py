"""The WHO 2020 soft tissue sarcoma table that the registry's ``histology_subtype`` is coded
against (``data/who2020_soft_tissue.csv``): each subtype and synonym with its family.

The registry reads it (de-identification keeps a histology text only when it is an entry) and
``clinical.histology`` classifies with it; the table lives here, below both, so that the data
flows one way. Matching ignores case, spacing, punctuation, "NOS" and British/American spelling
(tumour/tumor, haem-/hem-, oesophag-/esophag-).
"""

from __future__ import annotations

import csv
import functools
import re
from dataclasses import dataclass
from importlib import resources
from typing import Literal

Scheme = Literal["who2020", "feng2022"]
"""A grouping of subtypes into families (see ``clinical.histology``)."""

TABLE_PATH = "rtoutcomes/registry/data/who2020_soft_tissue.csv"
"""Where the table is in the source tree (for messages that ask to extend it)."""

_SPELLING = (
    (r"tumours?\b", "tumor"),
    (r"\btumors\b", "tumor"),
    (r"haem", "hem"),
    (r"oesophag", "esophag"),
    (r"\bnot otherwise specified\b", ""),
    (r"\bnos\b", ""),
)


def normalise_histology(text: str) -> str:
    """The matching key of a histology text: lower case, American spelling, no punctuation/NOS."""
    key = str(text).lower()
    key = re.sub(r"[-‐‑–—,;:/().]", " ", key)
    for pattern, replacement in _SPELLING:
        key = re.sub(pattern, replacement, key)
    return " ".join(key.split())


@dataclass(frozen=True)
class HistologyEntry:
    """One row of the table: a subtype or a synonym of one."""

    name: str
    kind: Literal["subtype", "synonym"]
    subtype: str
    family: str
    feng2022_family: str
    note: str

    def family_in(self, scheme: Scheme) -> str:
        return (self.feng2022_family or self.family) if scheme == "feng2022" else self.family


@functools.lru_cache(maxsize=1)
def table_entries() -> dict[str, HistologyEntry]:
    """Every subtype and synonym of the table (in file order), by matching key
    (``normalise_histology``). Read once; do not modify the returned dict."""
    text = (
        resources.files("rtoutcomes.registry")
        .joinpath("data/who2020_soft_tissue.csv")
        .read_text(encoding="utf-8")
    )
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    entries: dict[str, HistologyEntry] = {}
    for row in rows:
        entry = HistologyEntry(
            name=row["name"],
            kind="subtype" if row["kind"] == "subtype" else "synonym",
            subtype=row["canonical"],
            family=row["family"],
            feng2022_family=row["feng2022_family"],
            note=row["note"],
        )
        entries[normalise_histology(row["name"])] = entry
    return entries


def is_table_entry(text: str) -> bool:
    """``text`` names a subtype or synonym of the WHO table (up to case, spacing, punctuation,
    "NOS" and spelling: ``normalise_histology``)."""
    return normalise_histology(text) in table_entries()
