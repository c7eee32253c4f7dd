"""One implementation of each rule: yes/no parsing and the flow chart, whoever asks."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from clinical_registry import build_registry
from lung_study import lung_covariates
from rtoutcomes.clinical import eligibility, oligometastatic, recist
from rtoutcomes.io.yes_no import YesNoError, is_yes, parse_yes_no, yes_no
from rtoutcomes.registry.cells import CellError, parse_cell
from rtoutcomes.registry.spec import TABLE_BY_NAME
from rtoutcomes.study.cohort import flow
from rtoutcomes.study.registry_table import RegistryData


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("yes", True),
        (" YES ", True),
        ("y", True),
        ("True", True),
        (True, True),
        (np.bool_(True), True),
        ("no", False),
        ("N", False),
        ("false", False),
        (False, False),
        (None, None),
        (float("nan"), None),
        (pd.NA, None),
        ("", None),
        ("NA", None),
        ("n/a", None),
    ],
)
def test_the_vocabulary(value: object, expected: bool | None) -> None:
    assert parse_yes_no(value) is expected


@pytest.mark.parametrize("value", ["1", "0", 1, 0, 1.0, "maybe", "oui", "yes please"])
def test_everything_else_is_refused_naming_the_value(value: object) -> None:
    with pytest.raises(YesNoError, match="is not yes or no"):
        parse_yes_no(value)


def test_every_reader_uses_it() -> None:
    """The registry import, the RECIST new-lesion flag, eligibility, the oligometastatic
    flags and the study's registry table agree on "Y" and all refuse "1"."""
    column = next(c for c in TABLE_BY_NAME["patients"].columns if c.name == "adjuvant_chemotherapy")
    assert parse_cell("Y", column, None) is True
    with pytest.raises(CellError, match="yes or no"):
        parse_cell("1", column, None)
    assert yes_no(pd.Series(["Y", None])).tolist() == [True, None]
    with pytest.raises(YesNoError, match="flag, row 7"):
        is_yes(pd.Series(["yes", "1"], index=[6, 7], name="flag"))
    reg = build_registry()
    scans = reg["assessments"].assign(new_lesions="1")
    with pytest.raises(YesNoError, match="new_lesions"):
        recist.patient_progression(
            recist.assess_lesions(scans), reg["lesions"].set_index("lesion_id")["patient_id"]
        )
    screened = reg["screened_candidates"].assign(eligible="1")
    with pytest.raises(YesNoError, match="eligible"):
        eligibility.registry_flow({**reg, "screened_candidates": screened})
    with pytest.raises(YesNoError, match="prior_polymetastatic"):
        oligometastatic.classify_patients(reg["patients"].assign(prior_polymetastatic="1"))


def _with_unexplained_exclusion() -> dict[str, pd.DataFrame]:
    reg = build_registry()
    extra = pd.DataFrame(
        [{"candidate_id": "SCX", "eligible": "no", "exclusion_reason": None, "patient_id": None}]
    )
    reg["screened_candidates"] = pd.concat([reg["screened_candidates"], extra], ignore_index=True)
    return reg


def test_one_flow_chart() -> None:
    """The report's flow chart is clinical.eligibility.registry_flow: an ineligible candidate
    without a reason is counted (as "not recorded") by both (it was 31 vs 30 on the demo)."""
    reg = _with_unexplained_exclusion()
    chart = eligibility.registry_flow(reg)
    data = RegistryData(tables=reg, patients=reg["patients"], lesions=reg["lesions"])
    reported = flow(reg, data)
    assert reported["excluded"] == chart.excluded_by_reason
    assert sum(reported["excluded"].values()) == chart.excluded
    assert reported["excluded"][eligibility.NOT_RECORDED] == 1
    assert (reported["screened"], reported["enrolled"], reported["lesions"]) == (
        chart.screened,
        chart.enrolled_patients,
        chart.treated_lesions,
    )


def test_local_failure_rules_are_named_and_worded_once() -> None:
    """The study file's names, the rules applied and the methods' words come from
    clinical.local_failure: a changed threshold changes the words."""
    from dataclasses import replace

    from rtoutcomes.clinical.local_failure import LOCAL_FAILURE_RULES, RECIST_1_1
    from rtoutcomes.study.spec import LOCAL_FAILURE_RULES as STUDY_FILE_NAMES

    assert (
        STUDY_FILE_NAMES
        == tuple(LOCAL_FAILURE_RULES)
        == ("RECIST 1.1", "RECIST 1.1 confirmed", "Feng 2022")
    )
    assert recist.RECIST_1_1 is RECIST_1_1 is LOCAL_FAILURE_RULES["RECIST 1.1"]
    assert RECIST_1_1.definition() == (
        "an increase of the longest diameter of at least 20% and 5 mm over the nadir"
    )
    assert (
        "at least 25% and 4 mm"
        in replace(RECIST_1_1, min_increase_fraction=0.25, min_increase_mm=4).definition()
    )
    assert (
        LOCAL_FAILURE_RULES["RECIST 1.1 confirmed"]
        .definition()
        .endswith(", confirmed by the next measured scan")
    )


def test_methods_paragraph_reads_the_thresholds() -> None:
    import copy

    from rtoutcomes.report.methods import methods_paragraph
    from test_report_render import results

    changed = copy.deepcopy(results())
    changed["study"]["thresholds"] = {"events_per_variable": 12, "ph_alpha": 0.01}
    text = methods_paragraph(changed)  # type: ignore[arg-type]
    assert "fewer than 12 events per estimated coefficient" in text
    assert "fewer than 10 events" not in text


def test_derive_endpoints_assesses_the_scans_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from rtoutcomes.clinical import endpoints

    calls = []
    real = endpoints.assess_lesions

    def counted(*args: object, **kwargs: object) -> pd.DataFrame:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(endpoints, "assess_lesions", counted)
    endpoints.derive_endpoints(build_registry())
    assert len(calls) == 1


def test_each_lesions_first_course_is_chosen_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The study's lesion table takes each lesion's first course from derive_endpoints (its
    time zero) instead of choosing it again."""
    from rtoutcomes.clinical import endpoints
    from rtoutcomes.study import parse_study
    from rtoutcomes.study.registry_table import build_registry_data

    calls = []
    real = endpoints.first_courses

    def counted(*args: object, **kwargs: object) -> pd.DataFrame:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(endpoints, "first_courses", counted)
    study = parse_study({"title": "t", "db": "sqlite:///unused.db", "endpoints": {"LC": {}}})
    data = build_registry_data(build_registry(), study)
    assert len(calls) == 1
    chosen = endpoints.derive_endpoints(build_registry()).lesions.set_index("lesion_id")
    assert (data.lesions.set_index("lesion_id")["course_id"] == chosen["course_id"]).all()


def test_each_group_curve_and_log_rank_is_computed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The univariate model's log-rank test is the group analysis' one (not computed again),
    and each level's Kaplan-Meier curve is fitted once: lung OS with groups sex and ecog and
    univariate models of sex, ecog (both grouped) and age65 (not grouped)."""
    from pathlib import Path

    from rtoutcomes.study import parse_study, summaries
    from rtoutcomes.study.analysis import run_analyses
    from rtoutcomes.study.table import read_table

    here = Path(__file__).resolve().parent
    study = parse_study(
        {
            "title": "lung",
            "data": "lung.csv",
            "time_unit": "days",
            "rates_at": [365],
            "endpoints": {"OS": {"time": "time", "event": "status", "event_values": [2]}},
            "covariates": lung_covariates("sex", "ecog", "age65"),
            "analyses": {"groups": ["sex", "ecog"], "univariate": ["sex", "ecog", "age65"]},
        }
    )
    calls = {"km": 0, "logrank": 0}
    for name, key in (("km_summary", "km"), ("logrank_summary", "logrank")):
        real = getattr(summaries, name)

        def counted(*args: object, _real: Any = real, _key: str = key, **kwargs: object) -> Any:
            calls[_key] += 1
            return _real(*args, **kwargs)

        monkeypatch.setattr(summaries, name, counted)
    table = read_table(here / "reference" / "fixtures" / "study_lung.csv")
    results = run_analyses(study, {"OS": table})
    assert calls == {"km": 1 + 2 + 3, "logrank": 3}
    univariate = results["OS"]["univariate"]
    assert univariate["sex"]["logrank"] is results["OS"]["groups"]["sex"]["logrank"]
    assert univariate["age65"]["logrank"] is not None
