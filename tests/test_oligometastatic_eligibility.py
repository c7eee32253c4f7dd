"""ESTRO/EORTC 2020 oligometastatic classes, the paper's rule, eligibility and flow counts."""

from __future__ import annotations

import pandas as pd
import pytest

from clinical_registry import build_registry
from rtoutcomes.clinical import eligibility, oligometastatic
from rtoutcomes.clinical.errors import ClinicalRuleError

DE_NOVO = {"prior_polymetastatic": False, "prior_oligometastatic": False}


def test_synchronous_limit_is_six_calendar_months() -> None:
    sync = oligometastatic.estro_eortc_class(
        "2015-01-31", "2015-07-31", on_systemic_therapy=False, **DE_NOVO
    )
    assert sync.state == "synchronous oligometastatic disease" and sync.timing == "synchronous"
    late = oligometastatic.estro_eortc_class(
        "2015-01-31", "2015-08-01", on_systemic_therapy=False, **DE_NOVO
    )
    assert late.state == "metachronous oligorecurrence"


@pytest.mark.parametrize(
    ("history", "on_therapy", "progressing", "state"),
    [
        (DE_NOVO, True, True, "metachronous oligoprogression"),
        (DE_NOVO, True, False, "unknown"),  # persistence is not defined for de-novo OMD
        (
            {"prior_polymetastatic": False, "prior_oligometastatic": True},
            True,
            False,
            "repeat oligopersistence",
        ),
        (
            {"prior_polymetastatic": False, "prior_oligometastatic": True},
            False,
            None,
            "repeat oligorecurrence",
        ),
        (
            {"prior_polymetastatic": True, "prior_oligometastatic": True},
            False,
            None,
            "induced oligorecurrence",
        ),
        (
            {"prior_polymetastatic": True, "prior_oligometastatic": False},
            True,
            True,
            "induced oligoprogression",
        ),
        (DE_NOVO, True, None, "unknown"),
        (DE_NOVO, None, None, "unknown"),
    ],
)
def test_decision_tree(
    history: dict[str, bool], on_therapy: bool | None, progressing: bool | None, state: str
) -> None:
    cls = oligometastatic.estro_eortc_class(
        "2010-01-01",
        "2015-01-01",
        on_systemic_therapy=on_therapy,
        progressing_on_therapy=progressing,
        **history,
    )
    assert cls.state == state, cls.reason


def test_unknown_history_says_why() -> None:
    cls = oligometastatic.estro_eortc_class("2010-01-01", "2015-01-01", on_systemic_therapy=False)
    assert cls.state == "unknown" and "history" in cls.reason
    assumed = oligometastatic.estro_eortc_class(
        "2010-01-01", "2015-01-01", on_systemic_therapy=False, assume_de_novo=True
    )
    assert assumed.state == "metachronous oligorecurrence" and "assumed de-novo" in assumed.reason
    with pytest.raises(ClinicalRuleError, match="before the primary"):
        oligometastatic.estro_eortc_class("2015-01-01", "2014-01-01", on_systemic_therapy=False)


def test_paper_rule() -> None:
    assert oligometastatic.feng_oligometastatic(3) and not oligometastatic.feng_oligometastatic(4)
    with pytest.raises(ClinicalRuleError):
        oligometastatic.feng_oligometastatic(0)


def test_registry_patients() -> None:
    reg = build_registry()
    patients = reg["patients"].copy()
    patients.loc[patients["patient_id"] == "P5", "lesions_at_first_sbrt"] = 4
    therapies = pd.DataFrame(
        {
            "therapy_id": ["S1", "S2", "S3"],
            "patient_id": ["P4", "P5", "P2"],
            "therapy_type": ["chemotherapy"] * 3,
            "start_date": pd.to_datetime(["2015-10-01", "2014-01-01", "2014-11-01"]),
            "end_date": pd.to_datetime(["2016-02-01", "2014-06-01", None]),
        }
    )
    out = oligometastatic.classify_patients(patients, therapies, assume_de_novo=True)
    out = out.set_index("patient_id")
    assert out.loc["P1", "estro_state"] == "not applicable"  # local recurrence
    assert out.loc["P2", "estro_state"] == "synchronous oligometastatic disease"
    assert out.loc["P4", "estro_state"] == "unknown"  # on chemotherapy: progression unknown
    assert "progression vs persistence" in out.loc["P4", "estro_reason"]
    assert out.loc["P5", "estro_state"] == "metachronous oligorecurrence"
    assert not out.loc["P5", "feng_oligometastatic"]
    assert out.loc["P5", "feng_reason"] == "4 lesion(s) > 3"
    assert out["feng_oligometastatic"].sum() == 5
    without = oligometastatic.classify_patients(patients).set_index("patient_id")
    assert without.loc["P5", "estro_state"] == "unknown"
    assert "systemic therapies not given" in without.loc["P5", "estro_reason"]


def _candidates() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "candidate_id": ["C1", "C2", "C3", "C4", "C5", "C6"],
            "lesion_count": [1, 4, 2, 5, 3, None],
            "histology_subtype": [
                "leiomyosarcoma",
                "angiosarcoma",
                None,
                "myxofibrosarcoma",
                "synovial sarcoma",
                "leiomyosarcoma",
            ],
            "imaging_clear": ["yes", "yes", "yes", "no", "yes", "yes"],
            "plan_complete": [True, True, True, True, False, True],
        }
    )


def test_rules_give_every_reason_and_counts() -> None:
    result = eligibility.apply_rules(_candidates())
    verdicts = result.candidates.set_index("candidate_id")
    assert list(verdicts["eligible"]) == [True, False, False, False, False, False]
    assert verdicts.loc["C4", "reasons"] == (
        "multiple metastases (more than 3 lesions); unclear imaging data"
    )
    assert verdicts.loc["C4", "primary_reason"] == "multiple metastases (more than 3 lesions)"
    assert verdicts.loc["C6", "primary_reason"] == "multiple metastases (more than 3 lesions)"
    assert (result.screened, result.excluded, result.enrolled_patients) == (6, 5, 1)
    assert result.excluded_by_reason == {
        "multiple metastases (more than 3 lesions)": 3,
        "incomplete treatment plan": 1,
        "unclear pathological type": 1,
    }
    assert result.treated_lesions == 1
    flow = result.to_frame().set_index("step")["n"]
    assert flow["screened"] == 6 and flow["excluded: unclear pathological type"] == 1


def test_custom_rule_and_missing_column() -> None:
    adults = eligibility.EligibilityRule("adult", "other", lambda c: c["age"] < 18, ("age",))
    frame = pd.DataFrame({"candidate_id": ["a", "b"], "age": [17, 18]})
    result = eligibility.apply_rules(frame, [adults], lesions_column=None)
    assert list(result.candidates["eligible"]) == [False, True]
    assert result.treated_lesions is None
    with pytest.raises(ClinicalRuleError, match="column lesion_count"):
        eligibility.apply_rules(frame)


def test_registry_flow_counts() -> None:
    reg = build_registry()
    flow = eligibility.registry_flow(reg)
    assert (flow.screened, flow.excluded, flow.enrolled_patients, flow.treated_lesions) == (
        8,
        2,
        6,
        7,
    )
    assert flow.excluded_by_reason == {
        "multiple metastases (more than 3 lesions)": 1,
        "unclear imaging data": 1,
    }
    # the registry layer reads yes/no as a pandas boolean column
    reg["screened_candidates"]["eligible"] = (
        reg["screened_candidates"]["eligible"].map({"yes": True, "no": False}).astype("boolean")
    )
    assert eligibility.registry_flow(reg).enrolled_patients == 6


def test_cross_check_against_the_registry() -> None:
    reg = build_registry()
    enrolled = eligibility.candidates_from_registry(reg)
    assert list(enrolled["candidate_id"]) == ["S1", "S2", "S3", "S4", "S5", "S6"]
    verdicts = eligibility.apply_rules(enrolled)
    issues = eligibility.cross_check(reg["screened_candidates"], verdicts)
    # P6's only lesion was never imaged: the registry enrolled a patient the rules exclude
    assert list(issues["candidate_id"]) == ["S6"]
    assert "unclear imaging data" in issues["issue"].iloc[0]

    log = pd.DataFrame(
        {
            "candidate_id": ["S7", "S8"],
            "lesion_count": [5, 1],
            "histology_subtype": ["leiomyosarcoma", "leiomyosarcoma"],
            "imaging_clear": [True, True],
            "plan_complete": [True, False],
        }
    )
    issues = eligibility.cross_check(reg["screened_candidates"], eligibility.apply_rules(log))
    assert list(issues["candidate_id"]) == ["S8"]
    assert "'unclear imaging data' is not among" in issues["issue"].iloc[0]
