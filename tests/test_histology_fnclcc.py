"""WHO 2020 soft tissue families and FNCLCC grading (Trojani 1984; Coindre 2006)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from clinical_registry import build_registry
from rtoutcomes.clinical import fnclcc, histology
from rtoutcomes.clinical.errors import ClinicalRuleError
from rtoutcomes.registry.spec import WHO_FAMILIES


def test_the_papers_grouping_is_reproducible(shared_dir: Path) -> None:
    facts = json.loads((shared_dir / "reference" / "feng-2022-facts.json").read_text())
    table1 = facts["table1_patients"]
    feng: Counter[str] = Counter()
    who: Counter[str] = Counter()
    for family, subtypes in table1["histology_subtypes"].items():
        for subtype, n in subtypes.items():
            assert histology.who_family(subtype, "feng2022") == family, subtype
            feng[family] += n
            who[histology.who_family(subtype)] += n
    for family in feng:
        assert feng[family] == table1["histology_family"][family]
    # WHO 2020 moves endometrial stromal sarcoma and pleural mesothelial sarcoma to "others"
    assert who["tumours of uncertain differentiation"] == 6 and who["others"] == 2


@pytest.mark.parametrize(
    ("written", "subtype", "family"),
    [
        (
            "Solitary Fibrous Tumor, malignant",
            "solitary fibrous tumour malignant",
            "fibroblastic and myofibroblastic tumours",
        ),
        ("fibrosarcoma, NOS", "fibrosarcoma", "fibroblastic and myofibroblastic tumours"),
        (
            "EPITHELIOID HEMANGIOENDOTHELIOMA",
            "epithelioid haemangioendothelioma",
            "vascular tumours",
        ),
        ("Myxoid/round cell liposarcoma", "myxoid liposarcoma", "adipocytic tumours"),
        ("leiomyosarcoma", "leiomyosarcoma", "smooth muscle tumours"),
        ("alveolar rhabdomyosarcoma", "alveolar rhabdomyosarcoma", "skeletal muscle tumours"),
        ("Angiosarcoma", "angiosarcoma", "vascular tumours"),
        (
            "malignant fibrous histiocytoma",
            "pleomorphic sarcoma undifferentiated",
            "tumours of uncertain differentiation",
        ),
        ("MPNST", "malignant peripheral nerve sheath tumour", "peripheral nerve sheath tumours"),
        ("Ewing sarcoma", "ewing sarcoma", "undifferentiated small round cell sarcomas"),
        ("GIST", "gastrointestinal stromal tumour", "gastrointestinal stromal tumour"),
    ],
)
def test_subtypes_and_synonyms(written: str, subtype: str, family: str) -> None:
    match = histology.classify_histology(written)
    assert (match.subtype, match.family) == (subtype, family)


def test_synonym_is_marked() -> None:
    assert histology.classify_histology("malignant fibrous histiocytoma").via == "synonym"
    assert histology.classify_histology("myxofibrosarcoma").via == "subtype"


def test_unknown_histology_is_refused_with_a_suggestion() -> None:
    with pytest.raises(ClinicalRuleError, match="did you mean 'myxofibrosarcoma'"):
        histology.classify_histology("myxofibrosarkoma")
    with pytest.raises(ClinicalRuleError, match="not a soft tissue sarcoma subtype"):
        histology.classify_histology("adenocarcinoma of the colon")
    with pytest.raises(ClinicalRuleError, match="scheme"):
        histology.classify_histology("leiomyosarcoma", "who2013")  # type: ignore[arg-type]


def test_table_is_consistent() -> None:
    entries = histology.entries()
    subtypes = {e.subtype: e for e in entries if e.kind == "subtype"}
    for e in entries:
        assert e.family in WHO_FAMILIES, e
        assert e.feng2022_family in ("", *WHO_FAMILIES), e
        assert e.subtype in subtypes, e  # a synonym names a subtype of the table
        assert subtypes[e.subtype].family == e.family, e
    assert set(histology.subtypes("smooth muscle tumours")) >= {"leiomyosarcoma"}


def test_registry_families_are_checked() -> None:
    patients = build_registry()["patients"]
    assert histology.check_who_families(patients).empty
    patients.loc[0, "who_family"] = "smooth muscle tumours"
    patients.loc[1, "histology_subtype"] = "leiomyosarcma"
    issues = histology.check_who_families(patients).set_index("patient_id")
    assert list(issues.index) == ["P1", "P2"]
    assert issues.loc["P1", "derived_family"] == "fibroblastic and myofibroblastic tumours"
    assert "did you mean 'leiomyosarcoma'" in issues.loc["P2", "issue"]


@pytest.mark.parametrize(
    ("scores", "total", "grade"),
    [
        ((1, 1, 0), 2, 1),
        ((1, 1, 1), 3, 1),
        ((2, 1, 1), 4, 2),
        ((1, 2, 2), 5, 2),
        ((2, 2, 2), 6, 3),
        ((3, 3, 1), 7, 3),
        ((3, 3, 2), 8, 3),
        ((3, 1, 0), 4, 2),
        ((2, 1, 0), 3, 1),
    ],
)
def test_fnclcc_sums(scores: tuple[int, int, int], total: int, grade: int) -> None:
    result = fnclcc.fnclcc_grade(*scores)
    assert (result.total, result.grade, result.label) == (total, grade, f"G{grade}")


@pytest.mark.parametrize(
    "scores",
    [
        (0, 1, 0),
        (4, 1, 0),
        (1, 0, 0),
        (1, 4, 0),
        (1, 1, 3),
        (1, 1, -1),
        (2.5, 1, 0),
        (True, 1, 0),
        ("2", 1, 0),
    ],
)
def test_fnclcc_refuses_impossible_scores(scores: tuple[object, object, object]) -> None:
    with pytest.raises(ClinicalRuleError, match=r"FNCLCC .* score is a whole number"):
        fnclcc.fnclcc_grade(*scores)  # type: ignore[arg-type]


def test_component_scores() -> None:
    assert [fnclcc.mitotic_count_score(x) for x in (0, 9, 9.5, 10, 19, 20, 60)] == [
        1,
        1,
        1,
        2,
        2,
        3,
        3,
    ]
    assert [fnclcc.necrosis_score(x) for x in (0, 0.5, 49.9, 50, 100)] == [0, 1, 1, 2, 2]
    with pytest.raises(ClinicalRuleError):
        fnclcc.necrosis_score(120)
    with pytest.raises(ClinicalRuleError):
        fnclcc.mitotic_count_score(-1)


def test_differentiation_scores() -> None:
    assert fnclcc.differentiation_score("well differentiated liposarcoma") == 1
    assert fnclcc.differentiation_score("Myxoid liposarcoma") == 2
    assert fnclcc.differentiation_score("dedifferentiated liposarcoma") == 3
    assert fnclcc.differentiation_score("synovial sarcoma") == 3
    with pytest.raises(ClinicalRuleError, match="score it from the tumour"):
        fnclcc.differentiation_score("low-grade fibromyxoid sarcoma")
    with pytest.raises(ClinicalRuleError, match="does not apply"):
        fnclcc.differentiation_score("alveolar soft part sarcoma")


@pytest.mark.parametrize(
    ("written", "category"),
    [
        ("desmoid-type fibromatosis", "intermediate tumour"),
        ("dermatofibrosarcoma protuberans", "intermediate tumour"),
        ("solitary fibrous tumour, malignant", "own risk model"),
        ("alveolar soft part sarcoma", "not recommended"),
        ("embryonal rhabdomyosarcoma", "high grade by definition"),
        ("endometrial stromal sarcoma", "not a soft tissue sarcoma"),
    ],
)
def test_fnclcc_refused_where_it_does_not_apply(written: str, category: str) -> None:
    check = fnclcc.fnclcc_applicability(written)
    assert not check.applies and check.category == category
    with pytest.raises(ClinicalRuleError, match=f"does not apply \\({category}\\)"):
        fnclcc.fnclcc_grade(2, 2, 1, histology=written)


def test_fnclcc_applies_to_common_sarcomas() -> None:
    for written in (
        "myxofibrosarcoma",
        "leiomyosarcoma",
        "dedifferentiated liposarcoma",
        "fibrosarcomatous dermatofibrosarcoma protuberans",
        "synovial sarcoma",
    ):
        assert fnclcc.fnclcc_applicability(written).applies, written
    assert fnclcc.fnclcc_grade(2, 2, 1, histology="myxofibrosarcoma").grade == 2


def test_fnclcc_tables_name_known_subtypes() -> None:
    known = {e.subtype for e in histology.entries() if e.kind == "subtype"}
    assert set(fnclcc.NOT_APPLICABLE) <= known
    assert set(fnclcc.DIFFERENTIATION_SCORES) <= known
    assert not set(fnclcc.NOT_APPLICABLE) & set(fnclcc.DIFFERENTIATION_SCORES)
