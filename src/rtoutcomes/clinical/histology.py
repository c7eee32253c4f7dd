"""Soft tissue sarcoma histology: subtype as the pathologist wrote it -> WHO 2020 family.

The table (``registry.who_table``: ``registry/data/who2020_soft_tissue.csv``) follows the WHO
Classification of Tumours, 5th ed., Soft Tissue and Bone Tumours (IARC 2020): each intermediate
or malignant soft tissue subtype with its family (chapter), plus synonyms and older names
("malignant fibrous histiocytoma", "haemangiopericytoma"). Family names are the registry's
``who_family`` values.

Two groupings (``scheme``):

* ``"who2020"`` (default): WHO 2020 as printed. Undifferentiated sarcomas (spindle cell,
  pleomorphic, round cell, epithelioid) are listed by WHO 2020 under *tumours of uncertain
  differentiation* (the 2013 edition had them as a separate group), so the model study agrees
  with WHO there. Endometrial stromal sarcoma (WHO Female Genital Tumours) and pleural
  "mesothelial sarcoma" (sarcomatoid mesothelioma, WHO Thoracic Tumours) are not soft tissue
  tumours in WHO 2020 and go to ``others``.
* ``"feng2022"``: the model study's Table 1 (Feng et al. 2022), which counts endometrial stromal
  sarcoma and pleural mesothelial sarcoma among tumours of uncertain differentiation, so that its
  family counts (8 uncertain differentiation, 2 others) can be reproduced.

Matching ignores case, spacing, punctuation, "NOS" and British/American spelling (tumour/tumor,
haem-/hem-, oesophag-/esophag-).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from rtoutcomes.clinical.errors import ClinicalRuleError
from rtoutcomes.registry.spec import WHO_FAMILIES
from rtoutcomes.registry.who_table import (
    TABLE_PATH,
    HistologyEntry,
    Scheme,
    normalise_histology,
    table_entries,
)

if TYPE_CHECKING:
    import pandas as pd

SCHEMES: tuple[Scheme, ...] = ("who2020", "feng2022")


@dataclass(frozen=True)
class HistologyMatch:
    """A classified histology text: the subtype, its family in ``scheme`` and how it matched."""

    as_written: str
    subtype: str
    family: str
    scheme: Scheme
    via: Literal["subtype", "synonym"]
    note: str


def entries() -> list[HistologyEntry]:
    """Every subtype and synonym of the table (in file order)."""
    return list(table_entries().values())


def subtypes(family: str | None = None, scheme: Scheme = "who2020") -> list[str]:
    """The subtypes (no synonyms) of one family, or of all families, in ``scheme``."""
    return [
        e.subtype
        for e in table_entries().values()
        if e.kind == "subtype" and (family is None or e.family_in(scheme) == family)
    ]


def classify_histology(
    text: str, scheme: Scheme = "who2020", *, table: str | None = None, row: object = None
) -> HistologyMatch:
    """The subtype and family of a histology text; unknown text raises with a suggestion."""
    if scheme not in SCHEMES:
        raise ClinicalRuleError(f"scheme is one of {', '.join(SCHEMES)}", value=scheme)
    known = table_entries()
    key = normalise_histology(text)
    entry = known.get(key)
    if entry is None:
        close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.75)
        raise ClinicalRuleError(
            "not a soft tissue sarcoma subtype of the WHO 2020 table "
            f"(add it to {TABLE_PATH} if it is one)",
            table=table,
            row=row,
            column="histology_subtype",
            value=text,
            suggestion=known[close[0]].subtype if close else None,
        )
    return HistologyMatch(
        as_written=str(text),
        subtype=entry.subtype,
        family=entry.family_in(scheme),
        scheme=scheme,
        via=entry.kind,
        note=entry.note,
    )


def who_family(text: str, scheme: Scheme = "who2020") -> str:
    """The family of a histology text (see :func:`classify_histology`)."""
    return classify_histology(text, scheme).family


def check_who_families(patients: pd.DataFrame, scheme: Scheme = "who2020") -> pd.DataFrame:
    """Patients whose recorded ``who_family`` differs from the family of their subtype.

    Returns ``patient_id``, ``histology_subtype``, ``recorded_family``, ``derived_family``
    (empty when the subtype is not in the table) and ``issue``; an empty frame when all agree.
    """
    import pandas as pd

    rows: list[tuple[Any, Any, Any, str | None, str]] = []
    for pid, text, family in zip(
        patients["patient_id"],
        patients["histology_subtype"],
        patients["who_family"],
        strict=True,
    ):
        if family not in WHO_FAMILIES:
            issue = f"'{family}' is not a WHO family of the registry format"
            derived: str | None = None
        else:
            try:
                derived = classify_histology(text, scheme).family
            except ClinicalRuleError as error:
                rows.append((pid, text, family, None, str(error)))
                continue
            if derived == family:
                continue
            issue = f"{scheme} puts '{text}' in {derived}"
        rows.append((pid, text, family, derived, issue))
    return pd.DataFrame(
        rows,
        columns=["patient_id", "histology_subtype", "recorded_family", "derived_family", "issue"],
    )
