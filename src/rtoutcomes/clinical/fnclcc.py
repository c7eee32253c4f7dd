"""FNCLCC histological grade of soft tissue sarcoma, and where it does not apply.

The French Federation of Cancer Centers Sarcoma Group grade (Trojani et al., Int J Cancer
1984;33:37-42; updated by Guillou et al., J Clin Oncol 1997;15:350-362; reviewed in Coindre,
Arch Pathol Lab Med 2006;130:1448-1453) is the sum of three scores:

* tumour differentiation 1-3 (1: closely resembling normal adult mesenchymal tissue; 2: histologic
  type certain; 3: embryonal and undifferentiated sarcomas, synovial sarcoma, sarcomas of doubtful
  type); the per-type score table is Coindre 2006 Table 2 (:func:`differentiation_score`);
* mitotic count 1-3 (0-9, 10-19, >= 20 mitoses per 10 high-power fields of 0.1734 mm2);
* tumour necrosis 0-2 (none, < 50 %, >= 50 % of the tumour).

Total 2-3 is grade 1, 4-5 grade 2, 6-8 grade 3.

Where FNCLCC does not apply (:func:`fnclcc_applicability`), a grade is refused with the reason:
intermediate (locally aggressive or rarely metastasising) tumours are not graded (WHO 2020);
solitary fibrous tumour and GIST have their own risk models (WHO 2020: Demicco et al., Mod Pathol
2017;30:1433-1442; Miettinen & Lasota, Semin Diagn Pathol 2006;23:70-83); Coindre 2006 advises
against grading MPNST, angiosarcoma, extraskeletal myxoid chondrosarcoma, alveolar soft part
sarcoma, clear cell sarcoma and epithelioid sarcoma (grade is not prognostic there) and notes that
embryonal and alveolar rhabdomyosarcoma and Ewing-family (small round cell) sarcomas are high grade
by definition; endometrial stromal sarcoma and mesothelioma are graded or classified by their own
WHO volumes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from rtoutcomes.clinical.errors import ClinicalRuleError
from rtoutcomes.clinical.histology import classify_histology

Category = Literal[
    "applies",
    "intermediate tumour",
    "own risk model",
    "not recommended",
    "high grade by definition",
    "not a soft tissue sarcoma",
]

# subtype (as in the WHO 2020 table) -> (category, reason)
NOT_APPLICABLE: dict[str, tuple[Category, str]] = {
    "desmoid-type fibromatosis": (
        "intermediate tumour",
        "locally aggressive, non-metastasising (WHO 2020): not graded",
    ),
    "dermatofibrosarcoma protuberans": (
        "intermediate tumour",
        "rarely metastasising (WHO 2020): not graded unless fibrosarcomatous",
    ),
    "inflammatory myofibroblastic tumour": (
        "intermediate tumour",
        "rarely metastasising (WHO 2020): not graded",
    ),
    "kaposi sarcoma": ("intermediate tumour", "locally aggressive (WHO 2020): not graded"),
    "kaposiform haemangioendothelioma": (
        "intermediate tumour",
        "locally aggressive (WHO 2020): not graded",
    ),
    "retiform haemangioendothelioma": (
        "intermediate tumour",
        "rarely metastasising (WHO 2020): not graded",
    ),
    "pseudomyogenic haemangioendothelioma": (
        "intermediate tumour",
        "rarely metastasising (WHO 2020): not graded",
    ),
    "composite haemangioendothelioma": (
        "intermediate tumour",
        "rarely metastasising (WHO 2020): not graded",
    ),
    "tenosynovial giant cell tumour": (
        "intermediate tumour",
        "locally aggressive (WHO 2020): not graded",
    ),
    "plexiform fibrohistiocytic tumour": (
        "intermediate tumour",
        "rarely metastasising (WHO 2020): not graded",
    ),
    "giant cell tumour of soft parts": (
        "intermediate tumour",
        "rarely metastasising (WHO 2020): not graded",
    ),
    "solitary fibrous tumour": (
        "own risk model",
        "WHO 2020 uses the metastatic risk model (Demicco 2017)",
    ),
    "solitary fibrous tumour malignant": (
        "own risk model",
        "WHO 2020 uses the metastatic risk model (Demicco 2017)",
    ),
    "gastrointestinal stromal tumour": (
        "own risk model",
        "risk by size, site and mitoses (Miettinen & Lasota 2006)",
    ),
    "malignant peripheral nerve sheath tumour": (
        "not recommended",
        "grade is not prognostic in MPNST (Coindre 2006)",
    ),
    "epithelioid malignant peripheral nerve sheath tumour": (
        "not recommended",
        "grade is not prognostic in MPNST (Coindre 2006)",
    ),
    "angiosarcoma": ("not recommended", "grade is not prognostic in angiosarcoma (Coindre 2006)"),
    "extraskeletal myxoid chondrosarcoma": (
        "not recommended",
        "grade is not prognostic (Coindre 2006)",
    ),
    "alveolar soft part sarcoma": (
        "not recommended",
        "grade is not prognostic (Coindre 2006); a high-grade sarcoma",
    ),
    "clear cell sarcoma of soft tissue": (
        "not recommended",
        "grade is not prognostic (Coindre 2006); a high-grade sarcoma",
    ),
    "epithelioid sarcoma": ("not recommended", "grade is not prognostic (Coindre 2006)"),
    "embryonal rhabdomyosarcoma": (
        "high grade by definition",
        "rhabdomyosarcoma of the embryonal type (Coindre 2006)",
    ),
    "alveolar rhabdomyosarcoma": (
        "high grade by definition",
        "rhabdomyosarcoma of the alveolar type (Coindre 2006)",
    ),
    "ewing sarcoma": ("high grade by definition", "Ewing sarcoma (Coindre 2006; WHO 2020)"),
    "round cell sarcoma with ewsr1-non-ets fusions": (
        "high grade by definition",
        "undifferentiated small round cell sarcoma (WHO 2020)",
    ),
    "cic-rearranged sarcoma": (
        "high grade by definition",
        "undifferentiated small round cell sarcoma (WHO 2020)",
    ),
    "sarcoma with bcor genetic alterations": (
        "high grade by definition",
        "undifferentiated small round cell sarcoma (WHO 2020)",
    ),
    "desmoplastic small round cell tumour": (
        "high grade by definition",
        "a small round cell sarcoma (WHO 2020)",
    ),
    "extrarenal rhabdoid tumour": ("high grade by definition", "rhabdoid tumour (WHO 2020)"),
    "endometrial stromal sarcoma": (
        "not a soft tissue sarcoma",
        "low- or high-grade by WHO Female Genital Tumours 2020, not FNCLCC",
    ),
    "pleural mesothelial sarcoma": (
        "not a soft tissue sarcoma",
        "a mesothelioma (WHO Thoracic Tumours 2021)",
    ),
}

# Coindre 2006, Table 2: differentiation score of the conventional form of each type
DIFFERENTIATION_SCORES: dict[str, int] = {
    "well-differentiated liposarcoma": 1,
    "atypical lipomatous tumour": 1,
    "myxoid liposarcoma": 2,
    "dedifferentiated liposarcoma": 3,
    "pleomorphic liposarcoma": 3,
    "myxoid pleomorphic liposarcoma": 3,
    "leiomyosarcoma": 2,
    "fibrosarcoma": 2,
    "adult fibrosarcoma": 2,
    "myxofibrosarcoma": 2,
    "pleomorphic rhabdomyosarcoma": 3,
    "spindle cell sclerosing rhabdomyosarcoma": 3,
    "rhabdomyosarcoma": 3,
    "synovial sarcoma": 3,
    "extraskeletal osteosarcoma": 3,
    "mesenchymal chondrosarcoma": 3,
    "undifferentiated sarcoma": 3,
    "spindle cell sarcoma undifferentiated": 3,
    "pleomorphic sarcoma undifferentiated": 3,
    "round cell sarcoma undifferentiated": 3,
    "epithelioid sarcoma undifferentiated": 3,
}


@dataclass(frozen=True)
class FnclccApplicability:
    """Whether FNCLCC grading applies to a histology, and why not when it does not."""

    subtype: str
    applies: bool
    category: Category
    reason: str


@dataclass(frozen=True)
class FnclccGrade:
    """An FNCLCC grade (1-3) with its total score (2-8) and the three component scores."""

    grade: int
    total: int
    differentiation: int
    mitotic_count: int
    necrosis: int

    @property
    def label(self) -> str:
        return f"G{self.grade}"


def fnclcc_applicability(histology: str) -> FnclccApplicability:
    """Does FNCLCC apply to this histology text (see the module doc for the list)?"""
    subtype = classify_histology(histology).subtype
    if subtype in NOT_APPLICABLE:
        category, reason = NOT_APPLICABLE[subtype]
        return FnclccApplicability(subtype, False, category, reason)
    return FnclccApplicability(subtype, True, "applies", "FNCLCC grading applies")


def _score(value: Any, name: str, low: int, high: int) -> int:
    ok = (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and float(value) == int(value)
    )
    if not ok or not low <= int(value) <= high:
        raise ClinicalRuleError(
            f"the FNCLCC {name.replace('_', ' ')} score is a whole number {low}-{high}",
            column=name,
            value=value,
        )
    return int(value)


def fnclcc_grade(
    differentiation: int, mitotic_count: int, necrosis: int, *, histology: str | None = None
) -> FnclccGrade:
    """FNCLCC grade from differentiation (1-3), mitotic count (1-3) and necrosis (0-2) scores.

    With ``histology``, a type FNCLCC does not apply to is refused with the reason.
    """
    if histology is not None:
        check = fnclcc_applicability(histology)
        if not check.applies:
            raise ClinicalRuleError(
                f"FNCLCC grading does not apply ({check.category}): {check.reason}",
                column="histology_subtype",
                value=histology,
            )
    d = _score(differentiation, "differentiation", 1, 3)
    m = _score(mitotic_count, "mitotic_count", 1, 3)
    n = _score(necrosis, "necrosis", 0, 2)
    total = d + m + n
    grade = 1 if total <= 3 else 2 if total <= 5 else 3
    return FnclccGrade(grade, total, d, m, n)


def mitotic_count_score(mitoses_per_10_hpf: float) -> int:
    """Mitotic count score: 1 for 0-9, 2 for 10-19, 3 for >= 20 mitoses per 10 HPF."""
    if not isinstance(mitoses_per_10_hpf, int | float) or not mitoses_per_10_hpf >= 0:
        raise ClinicalRuleError(
            "mitoses per 10 HPF must be a number >= 0",
            column="mitoses_per_10_hpf",
            value=mitoses_per_10_hpf,
        )
    return 1 if mitoses_per_10_hpf < 10 else 2 if mitoses_per_10_hpf < 20 else 3


def necrosis_score(necrosis_pct: float) -> int:
    """Necrosis score: 0 for none, 1 for < 50 %, 2 for >= 50 % of the tumour."""
    if not isinstance(necrosis_pct, int | float) or not 0 <= necrosis_pct <= 100:
        raise ClinicalRuleError(
            "necrosis must be 0-100 % of the tumour", column="necrosis_pct", value=necrosis_pct
        )
    return 0 if necrosis_pct == 0 else 1 if necrosis_pct < 50 else 2


def differentiation_score(histology: str) -> int:
    """Differentiation score of the conventional form of a type (Coindre 2006, Table 2).

    Well- or poorly differentiated variants (e.g. a well-differentiated leiomyosarcoma, 1) are
    scored by the pathologist; types without a table entry are refused.
    """
    check = fnclcc_applicability(histology)
    if not check.applies:
        raise ClinicalRuleError(
            f"FNCLCC grading does not apply ({check.category}): {check.reason}",
            column="histology_subtype",
            value=histology,
        )
    if check.subtype not in DIFFERENTIATION_SCORES:
        raise ClinicalRuleError(
            "no differentiation score in Coindre 2006 Table 2 for this type; score it from the "
            "tumour (1: resembling adult tissue, 2: type certain, 3: embryonal/undifferentiated)",
            column="histology_subtype",
            value=histology,
        )
    return DIFFERENTIATION_SCORES[check.subtype]
