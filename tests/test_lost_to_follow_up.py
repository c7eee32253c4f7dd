"""Lost to follow-up in the flow chart: patients alive at a last contact more than
``endpoint_rules.lost_to_follow_up_after`` (default 12 months) before the data cut-off, counted
per endpoint among its censored patients or lesions; unknown without a data cut-off; the rule in
the methods paragraph."""

from __future__ import annotations

from typing import Any

import pytest

from clinical_registry import build_registry
from rtoutcomes.report.flow_chart import analysed_from_results, flow_chart_figure, flow_problems
from rtoutcomes.report.methods import lost_sentence
from rtoutcomes.study import parse_study
from rtoutcomes.study.cohort import lost_patients, lost_to_follow_up
from rtoutcomes.study.errors import StudyFileError
from rtoutcomes.study.registry_table import build_registry_data, endpoint_tables

STUDY: dict[str, Any] = {
    "title": "department",
    "db": "sqlite:///unused.db",
    "endpoints": {"LC": {}, "OS": {}, "PFS": {}},
}
DAYS_PER_MONTH = 30.4375


def _lost(months: float | None, tables: Any = None) -> dict[str, int] | None:
    rules = {} if months is None else {"endpoint_rules": {"lost_to_follow_up_after": months}}
    study = parse_study({**STUDY, **rules})
    data = build_registry_data(tables if tables is not None else build_registry(), study)
    return lost_to_follow_up(
        data, endpoint_tables(study, data), study.endpoints, study.lost_after * DAYS_PER_MONTH
    )


def test_alive_patients_not_seen_for_a_year_before_the_cut_off() -> None:
    # cut-off 2017-12-31: P5 alive, last contact 2016-05-01 (609 days before), P6 alive, last
    # contact 2016-09-01 (486 days); P4's contact after the cut-off is censored at it (0 days);
    # P1-P3 died. PFS: P5 progressed (new lesions), so only P6 is censored for it. LC: lesions
    # L5 and L6 of P5 and P6 are censored.
    assert _lost(None) == {"LC": 2, "OS": 2, "PFS": 1}
    assert parse_study(STUDY).lost_after == 12


def test_the_interval_comes_from_the_study_file() -> None:
    assert _lost(15.9) == {"LC": 2, "OS": 2, "PFS": 1}  # 484 days: P6 (486) still lost
    assert _lost(16) == {"LC": 1, "OS": 1, "PFS": 0}  # 487 days: P5 (609) only
    assert _lost(19.9) == {"LC": 1, "OS": 1, "PFS": 0}  # 606 days
    assert _lost(20.1) == {"LC": 0, "OS": 0, "PFS": 0}  # 612 days: nobody
    with pytest.raises(StudyFileError, match="lost_to_follow_up_after"):
        parse_study({**STUDY, "endpoint_rules": {"lost_to_follow_up_after": -1}})


def test_unknown_without_a_data_cut_off() -> None:
    tables = build_registry()
    meta = tables["registry_meta"]
    tables["registry_meta"] = meta[meta["key"] != "data_cutoff_date"].reset_index(drop=True)
    study = parse_study(STUDY)
    data = build_registry_data(tables, study)
    assert lost_patients(data, 365.25) is None
    assert _lost(None, tables) is None


def test_flow_chart_and_methods_show_it() -> None:
    results: dict[str, Any] = {
        "study": {"time_unit": "months", "lost_to_follow_up_after": 12.0},
        "endpoints": {"LC": {"n": 7, "unit": "lesion"}, "OS": {"n": 6, "unit": "patient"}},
        "cohort": {"flow": {"lost_to_follow_up": {"LC": 2, "OS": 2}}},
    }
    analysed = analysed_from_results(results)  # type: ignore[arg-type]
    assert [a.note for a in analysed] == ["Lost to follow-up:\u00a02"] * 2
    fig = flow_chart_figure(8, {"other": 2}, 6, 7, analysed)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert sum("Lost to follow-up" in t for t in texts) == 2
    assert flow_problems(fig) == []
    sentence = lost_sentence(results)  # type: ignore[arg-type]
    assert "more than 12 months before the data cut-off" in sentence
    del results["cohort"]["flow"]["lost_to_follow_up"]  # no data cut-off: neither is shown
    assert lost_sentence(results) == ""  # type: ignore[arg-type]
    assert [a.note for a in analysed_from_results(results)] == ["", ""]  # type: ignore[arg-type]
