"""Structure names as exported, mapped to AAPM TG-263 standard names where the name maps.

TG-263 (Mayo et al., "American Association of Physicists in Medicine Task Group 263:
Standardizing Nomenclatures in Radiation Oncology", IJROBP 2018;100:1057) fixes organ-at-risk
names (``Lung_L``, ``SpinalCord``, ``External``...) and target prefixes (``PTV``, ``CTV``,
``GTV``, ``ITV``). A name maps when, ignoring case, spaces, ``-`` and ``_`` runs, it is a
standard name or one of the common synonyms listed in ``data/tg263_names.csv``; a target whose
name starts with a standard prefix keeps its name with the prefix in capitals. Anything else
(``Breast`` without laterality, ``Tumor Bed``) does not map: ``None``, never a guess.
"""

from __future__ import annotations

import csv
import re
from functools import cache
from importlib import resources

__all__ = ["TARGET_PREFIXES", "tg263_name"]

TARGET_PREFIXES = ("PTV", "CTV", "GTV", "ITV")
_TARGET = re.compile(r"^(PTV|CTV|GTV|ITV)(?![a-z])", re.IGNORECASE)


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]+", " ", name.strip().lower())


@cache
def _synonyms() -> dict[str, str]:
    table: dict[str, str] = {}
    text = (
        resources.files("rtoutcomes.clinical")
        .joinpath("data/tg263_names.csv")
        .read_text(encoding="utf-8")
    )
    for row in csv.DictReader(text.splitlines()):
        standard = row["tg263_name"]
        table[_key(standard)] = standard
        for synonym in row["synonyms"].split(";"):
            if synonym.strip():
                table[_key(synonym)] = standard
    return table


def tg263_name(name: str) -> str | None:
    """The TG-263 name of a structure called ``name``, or None when it does not map."""
    standard = _synonyms().get(_key(name))
    if standard is not None:
        return standard
    match = _TARGET.match(name.strip())
    if match:
        return match.group(1).upper() + name.strip()[len(match.group(1)) :]
    return None
