"""CTCAE terms, grade limits, synonyms, acute/late phase and the toxicity table."""

from __future__ import annotations

import pandas as pd
import pytest

from clinical_registry import build_registry
from rtoutcomes.clinical import ctcae
from rtoutcomes.clinical.errors import ClinicalRuleError


@pytest.mark.parametrize("version", ["4.03", "5.0"])
@pytest.mark.parametrize(
    ("term", "lowest", "highest"),
    [
        ("Fatigue", 1, 3),
        ("Pneumonitis", 1, 5),
        ("Dermatitis radiation", 1, 5),
        ("Nausea", 1, 3),
        ("Chest wall pain", 1, 3),
        ("Myelitis", 1, 5),
        ("Alopecia", 1, 2),
        ("Hypoxia", 2, 5),
        ("Hepatic failure", 3, 5),
        ("Brachial plexopathy", 1, 3),
    ],
)
def test_grade_limits(version: str, term: str, lowest: int, highest: int) -> None:
    assert ctcae.check_grade(term, highest, version) == highest
    assert ctcae.check_grade(term, lowest, version) == lowest
    with pytest.raises(ClinicalRuleError, match=f"graded {lowest}-{highest}"):
        ctcae.check_grade(term, highest + 1, version)
    with pytest.raises(ClinicalRuleError, match=f"graded {lowest}-{highest}"):
        ctcae.check_grade(term, lowest - 1, version)


def test_fatigue_grade_4_suggests_the_highest_grade() -> None:
    with pytest.raises(ClinicalRuleError) as info:
        ctcae.check_grade("fatigue", 4, "4.03", table="toxicities", row="T9")
    message = str(info.value)
    assert "table toxicities, row T9, column grade: value 4" in message
    assert "did you mean '3'" in message
    with pytest.raises(ClinicalRuleError, match="graded 1-3"):
        ctcae.check_grade("Fatigue", 2.5, "4.03")
    with pytest.raises(ClinicalRuleError, match="graded 1-3"):
        ctcae.check_grade("Fatigue", "two", "4.03")


@pytest.mark.parametrize(
    ("reported", "term"),
    [
        ("radiation pneumonitis", "Pneumonitis"),
        ("Radiation Dermatitis", "Dermatitis radiation"),
        ("radiation enteritis", "Enterocolitis"),
        ("radiation  proctitis", "Proctitis"),
        ("diarrhoea", "Diarrhea"),
        ("rib fracture", "Fracture"),
    ],
)
def test_synonyms_map_to_terms_and_say_so(reported: str, term: str) -> None:
    match = ctcae.resolve_term(reported, "4.03")
    assert match.term.term == term and match.via == "synonym"
    assert match.as_reported == reported
    with pytest.raises(ClinicalRuleError, match="a synonym, not a CTCAE term") as info:
        ctcae.resolve_term(reported, "4.03", allow_synonyms=False)
    assert info.value.suggestion == term


def test_terms_match_regardless_of_case_and_spacing() -> None:
    match = ctcae.resolve_term("  CHEST   wall pain ", "5.0")
    assert match.term.term == "Chest wall pain" and match.via == "term"


@pytest.mark.parametrize(
    ("wrong", "suggestion"),
    [
        ("enteritis", "Enterocolitis"),
        ("pneumonits", "Pneumonitis"),
        ("fatique", "Fatigue"),
        ("pain chest wall", "Chest wall pain"),
    ],
)
def test_unknown_terms_are_refused_with_a_suggestion(wrong: str, suggestion: str) -> None:
    with pytest.raises(ClinicalRuleError, match="not a CTCAE term") as info:
        ctcae.resolve_term(wrong, "4.03")
    assert info.value.suggestion == suggestion
    assert f"did you mean {suggestion!r}" in str(info.value)


def test_no_suggestion_for_nonsense() -> None:
    with pytest.raises(ClinicalRuleError) as info:
        ctcae.resolve_term("qwertyuiop", "5.0")
    assert info.value.suggestion is None


def test_versions_differ_where_ctcae_renamed_a_term() -> None:
    assert ctcae.resolve_term("Avascular necrosis", "4.03").via == "term"
    assert ctcae.resolve_term("Osteonecrosis", "5.0").via == "term"
    with pytest.raises(ClinicalRuleError, match="a synonym"):
        ctcae.resolve_term("Avascular necrosis", "5.0", allow_synonyms=False)
    with pytest.raises(ClinicalRuleError, match="unknown CTCAE version"):
        ctcae.resolve_term("Fatigue", "3.0")
    assert ctcae.resolve_term("Fatigue", "v5").term.version == "5.0"


@pytest.mark.parametrize("version", ["4.03", "5.0"])
def test_term_table_is_consistent(version: str) -> None:
    terms = ctcae.terms(version)
    assert len(terms) >= 80
    names = {t.term for t in terms}
    for required in (
        "Fatigue",
        "Pneumonitis",
        "Dermatitis radiation",
        "Enterocolitis",
        "Diarrhea",
        "Proctitis",
        "Nausea",
        "Vomiting",
        "Chest wall pain",
        "Back pain",
        "Pain in extremity",
        "Myelitis",
        "Fracture",
        "Esophagitis",
        "Mucositis oral",
        "Skin ulceration",
        "Radiation recall reaction (dermatologic)",
        "Anorexia",
        "Cough",
        "Dyspnea",
        "Pulmonary fibrosis",
        "Neuralgia",
        "Brachial plexopathy",
        "Cystitis noninfective",
        "Colitis",
        "Gastritis",
        "Rectal hemorrhage",
    ):
        assert required in names
    for t in terms:
        assert 1 <= t.min_grade <= t.max_grade <= 5, t
    for synonym, term in ctcae.synonyms(version).items():
        assert term in names, (synonym, term)
        assert synonym not in {n.lower() for n in names}


def _classified(**kwargs: object) -> pd.DataFrame:
    reg = build_registry()
    tox = ctcae.normalise_toxicities(reg["toxicities"])
    return ctcae.classify_phase(tox, reg["sbrt_courses"], reg["lesions"], **kwargs)  # type: ignore[arg-type]


def test_acute_late_boundary_is_day_90_inclusive() -> None:
    tox = _classified().set_index("toxicity_id")
    assert tox.loc["T01", "days_from_reference"] == 90 and tox.loc["T01", "phase"] == "acute"
    assert tox.loc["T02", "days_from_reference"] == 91 and tox.loc["T02", "phase"] == "late"
    # T05 is measured from its own course C2b (90 days), not from the patient's first (104)
    assert tox.loc["T05", "days_from_reference"] == 90 and tox.loc["T05", "phase"] == "acute"
    assert tox.loc["T07", "phase"] == "late"


def test_acute_late_from_sbrt_end_and_other_cutoff() -> None:
    tox = _classified(reference="sbrt_end").set_index("toxicity_id")
    assert tox.loc["T02", "days_from_reference"] == 87 and tox.loc["T02", "phase"] == "acute"
    tox = _classified(cutoff_days=60).set_index("toxicity_id")
    assert tox.loc["T01", "phase"] == "late"


def test_onset_before_sbrt_is_refused() -> None:
    reg = build_registry()
    tox = reg["toxicities"].copy()
    tox.loc[0, "onset_date"] = pd.Timestamp("2014-12-01")
    with pytest.raises(ClinicalRuleError, match=r"row T01, column onset_date.*before SBRT start"):
        ctcae.classify_phase(tox, reg["sbrt_courses"], reg["lesions"])


def test_registry_terms_are_strict() -> None:
    reg = build_registry()
    tox = reg["toxicities"].copy()
    tox.loc[3, "term"] = "radiation pneumonitis"
    with pytest.raises(ClinicalRuleError, match="row T04, column term"):
        ctcae.normalise_toxicities(tox)
    lenient = ctcae.normalise_toxicities(tox, allow_synonyms=True).set_index("toxicity_id")
    assert lenient.loc["T04", "ctcae_term"] == "Pneumonitis"
    assert lenient.loc["T04", "term_via"] == "synonym"


def test_worst_grades_and_summary_table() -> None:
    summary = ctcae.toxicity_summary(_classified(), n_patients=6)
    worst = summary.worst.set_index(["patient_id", "phase", "term"])["worst_grade"]
    assert worst[("P1", "acute", "Fatigue")] == 1
    assert worst[("P1", "late", "Fatigue")] == 2
    assert worst[("P2", "acute", "Fatigue")] == 2
    assert worst[("P2", "acute", "any")] == 2
    assert worst[("P3", "late", "any")] == 3
    by_grade = summary.by_grade.set_index(["phase", "term", "grade"])
    assert by_grade.loc[("acute", "Fatigue", 1), "patients"] == 1
    assert by_grade.loc[("acute", "Fatigue", 2), "patients"] == 1
    assert by_grade.loc[("acute", "any", 1), "patients"] == 2
    assert by_grade.loc[("late", "Dermatitis radiation", 3), "pct"] == pytest.approx(100 / 6)
    overview = summary.overview.set_index(["phase", "term"])
    assert overview.loc[("acute", "Fatigue"), "grades"] == "1-2"
    assert overview.loc[("acute", "Fatigue"), "patients"] == 2
    assert overview.loc[("late", "Dermatitis radiation"), "grades"] == "3"
    assert summary.to_frame() is summary.by_grade


def test_summary_percentages_as_in_the_paper() -> None:
    # Feng 2022: acute grade 1-2 fatigue in 8 of 37 patients = 21.6 %
    rows = [
        {"patient_id": f"P{i}", "phase": "acute", "ctcae_term": "Fatigue", "grade": 1 + i % 2}
        for i in range(8)
    ]
    summary = ctcae.toxicity_summary(pd.DataFrame(rows), n_patients=37)
    fatigue = summary.overview.set_index("term").loc["Fatigue"]
    assert fatigue["grades"] == "1-2" and fatigue["patients"] == 8
    assert round(fatigue["pct"], 1) == 21.6
    with pytest.raises(ClinicalRuleError, match="n_patients"):
        ctcae.toxicity_summary(pd.DataFrame(rows), n_patients=5)
