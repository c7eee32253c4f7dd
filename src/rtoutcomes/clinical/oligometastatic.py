"""Oligometastatic disease: the ESTRO/EORTC 2020 classification and the model study's rule.

ESTRO/EORTC (Guckenberger et al., Lancet Oncol 2020;21:e18-e28) classify oligometastatic disease
(OMD) by a decision tree:

1. a history of polymetastatic disease -> *induced* OMD; else a history of OMD -> *repeat* OMD;
   else *de-novo* OMD;
2. de-novo OMD diagnosed within 6 months of the primary cancer's diagnosis is *synchronous*
   OMD, later is *metachronous*;
3. metachronous, repeat and induced OMD are *oligorecurrence* when diagnosed off active systemic
   therapy, *oligoprogression* when metastases progress during systemic therapy, and
   *oligopersistence* when they persist without progression during systemic therapy
   (persistence is not defined for de-novo metachronous OMD).

The registry records no history of earlier (oligo/poly)metastatic disease and no imaging
response on therapy, so those come as optional columns (``prior_polymetastatic``,
``prior_oligometastatic``, ``progressing_on_therapy``); without them the class is ``unknown``
and the reason names what is missing (``assume_de_novo=True`` treats a missing history as none,
and says so). The OMD diagnosis date is the patient's ``recurrence_date``; "within 6 months" is
on or before the same calendar day 6 months after ``diagnosis_date``. Active systemic therapy at
OMD diagnosis: a ``systemic_therapies`` row with ``start_date`` on or before and ``end_date`` on
or after that date (a missing end date with an earlier start leaves it unknown).

The model study (Feng et al. 2022) called a patient oligometastatic with progression in at most 3
metastatic sites; :func:`feng_oligometastatic` applies that rule to ``lesions_at_first_sbrt``.
Patients with ``disease_setting = recurrence`` (local recurrence) are not classified by ESTRO/EORTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rtoutcomes.clinical.errors import ClinicalRuleError
from rtoutcomes.io.yes_no import parse_yes_no

if TYPE_CHECKING:
    import pandas as pd

SYNCHRONOUS_MONTHS = 6
FENG_MAX_LESIONS = 3


@dataclass(frozen=True)
class OmdClass:
    """One patient's ESTRO/EORTC class: ``state`` (e.g. "metachronous oligorecurrence" or
    "unknown"), its parts (``genesis``, ``timing``, ``therapy``) and the ``reason``."""

    state: str
    genesis: str
    timing: str
    therapy: str
    reason: str


def _missing(value: Any) -> bool:
    import pandas as pd

    return value is None or bool(pd.isna(value))


def _timing(diagnosis: Any, omd: Any) -> tuple[str, str]:
    import pandas as pd

    if _missing(diagnosis) or _missing(omd):
        return "unknown", "OMD diagnosis date (recurrence_date) not recorded"
    dx = pd.Timestamp(diagnosis)
    limit = dx + pd.DateOffset(months=SYNCHRONOUS_MONTHS)
    when = pd.Timestamp(omd)
    if when < dx:
        raise ClinicalRuleError(
            "OMD diagnosis before the primary's diagnosis",
            column="recurrence_date",
            value=str(when.date()),
        )
    kind = "synchronous" if when <= limit else "metachronous"
    months = (when - dx).days / 30.4375
    return kind, f"OMD {months:.1f} months after diagnosis ({kind}: limit {limit.date()})"


def estro_eortc_class(
    diagnosis_date: Any,
    omd_date: Any,
    *,
    on_systemic_therapy: bool | None,
    progressing_on_therapy: bool | None = None,
    prior_polymetastatic: bool | None = None,
    prior_oligometastatic: bool | None = None,
    assume_de_novo: bool = False,
) -> OmdClass:
    """ESTRO/EORTC 2020 class of one patient's OMD (``None`` = not recorded)."""
    reasons: list[str] = []
    if _missing(prior_polymetastatic) or _missing(prior_oligometastatic):
        if assume_de_novo:
            genesis = "de-novo"
            reasons.append("no history of metastatic disease recorded: assumed de-novo")
        else:
            genesis = "unknown"
            reasons.append("history of poly-/oligometastatic disease not recorded")
    elif prior_polymetastatic:
        genesis = "induced"
    elif prior_oligometastatic:
        genesis = "repeat"
    else:
        genesis = "de-novo"
    timing, why = _timing(diagnosis_date, omd_date)
    reasons.append(why)
    if _missing(on_systemic_therapy):
        therapy = "unknown"
        reasons.append("systemic therapy at OMD diagnosis unknown")
    elif not on_systemic_therapy:
        therapy = "oligorecurrence"
    elif _missing(progressing_on_therapy):
        therapy = "unknown"
        reasons.append("on systemic therapy, but progression vs persistence not recorded")
    else:
        therapy = "oligoprogression" if progressing_on_therapy else "oligopersistence"

    if genesis == "de-novo" and timing == "synchronous":
        state = "synchronous oligometastatic disease"
    elif genesis == "de-novo" and timing == "metachronous" and therapy != "unknown":
        if therapy == "oligopersistence":
            state = "unknown"
            reasons.append("oligopersistence is not defined for de-novo metachronous OMD")
        else:
            state = f"metachronous {therapy}"
    elif genesis in ("repeat", "induced") and therapy != "unknown":
        state = f"{genesis} {therapy}"
    else:
        state = "unknown"
    return OmdClass(state, genesis, timing, therapy, "; ".join(reasons))


def _on_therapy(
    patient_id: str, omd: Any, therapies: pd.DataFrame | None
) -> tuple[bool | None, str]:
    import pandas as pd

    if therapies is None or _missing(omd):
        return None, "systemic therapies not given"
    rows = therapies[therapies["patient_id"].astype(str) == patient_id]
    when = pd.Timestamp(omd)
    unknown = False
    for start, end in zip(rows["start_date"], rows["end_date"], strict=True):
        if _missing(start) or pd.Timestamp(start) > when:
            continue
        if _missing(end):
            unknown = True
        elif pd.Timestamp(end) >= when:
            return True, ""
    if unknown:
        return None, "a systemic therapy began before OMD diagnosis with no end date"
    return False, ""


def feng_oligometastatic(lesions: Any, max_lesions: int = FENG_MAX_LESIONS) -> bool:
    """The model study's rule: oligometastatic when there are at most ``max_lesions`` lesions."""
    if _missing(lesions) or int(lesions) < 1:
        raise ClinicalRuleError(
            "the number of lesions is a whole number >= 1",
            column="lesions_at_first_sbrt",
            value=lesions,
        )
    return int(lesions) <= max_lesions


def classify_patients(
    patients: pd.DataFrame,
    systemic_therapies: pd.DataFrame | None = None,
    *,
    assume_de_novo: bool = False,
    max_lesions: int = FENG_MAX_LESIONS,
) -> pd.DataFrame:
    """ESTRO/EORTC class and the model study's rule for every patient of the registry.

    ``patients`` per docs/registry-format.md, optionally with ``prior_polymetastatic``,
    ``prior_oligometastatic`` and ``progressing_on_therapy`` (yes/no or booleans). Returns
    ``patient_id``, ``feng_oligometastatic`` (bool), ``feng_reason``, ``estro_state``,
    ``estro_genesis``, ``estro_timing``, ``estro_therapy``, ``estro_reason``.
    """
    import pandas as pd

    def flag(row: Any, column: str) -> bool | None:
        return parse_yes_no(row.get(column), column)

    out = []
    for row in patients.to_dict("records"):
        pid = str(row["patient_id"])
        lesions = row["lesions_at_first_sbrt"]
        feng = feng_oligometastatic(lesions, max_lesions)
        feng_reason = f"{int(lesions)} lesion(s) {'<=' if feng else '>'} {max_lesions}"
        if str(row.get("disease_setting")) == "recurrence":
            cls = OmdClass(
                "not applicable",
                "",
                "",
                "",
                "disease setting is local recurrence, not metastatic disease",
            )
        else:
            on_therapy, why = _on_therapy(pid, row.get("recurrence_date"), systemic_therapies)
            cls = estro_eortc_class(
                row.get("diagnosis_date"),
                row.get("recurrence_date"),
                on_systemic_therapy=on_therapy,
                progressing_on_therapy=flag(row, "progressing_on_therapy"),
                prior_polymetastatic=flag(row, "prior_polymetastatic"),
                prior_oligometastatic=flag(row, "prior_oligometastatic"),
                assume_de_novo=assume_de_novo,
            )
            if why:
                cls = OmdClass(
                    cls.state, cls.genesis, cls.timing, cls.therapy, f"{cls.reason}; {why}"
                )
        out.append(
            (pid, feng, feng_reason, cls.state, cls.genesis, cls.timing, cls.therapy, cls.reason)
        )
    return pd.DataFrame(
        out,
        columns=[
            "patient_id",
            "feng_oligometastatic",
            "feng_reason",
            "estro_state",
            "estro_genesis",
            "estro_timing",
            "estro_therapy",
            "estro_reason",
        ],
    )
