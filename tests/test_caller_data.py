"""The caller's data is never modified: every public function that takes a Series or DataFrame
leaves its arguments exactly as they were (values, dtypes, index and its type), here on the
hand-built registry of tests/clinical_registry.py. The Series given with an integer index is
the case that was broken (recist rewrote it to text ids)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from clinical_registry import build_registry
from rtoutcomes.clinical import ctcae, eligibility, histology, oligometastatic, recist
from rtoutcomes.clinical.endpoints import derive_endpoints, first_courses
from rtoutcomes.io.yes_no import is_yes, yes_no
from rtoutcomes.stats import cox, cumulative_incidence, kaplan_meier, logrank

REG = build_registry()


def _int_scans() -> pd.DataFrame:
    scans = REG["assessments"].copy()
    lesions = {lid: i for i, lid in enumerate(sorted(scans["lesion_id"].unique()), start=1)}
    return scans.assign(lesion_id=scans["lesion_id"].map(lesions))


def _starts_by_int_lesion() -> pd.Series:
    return pd.Series({i: pd.Timestamp("2015-01-05") for i in range(1, 8)})


def _patients_by_int_lesion() -> pd.Series:
    return pd.Series({i: f"P{i}" for i in range(1, 8)})


def _assessed() -> pd.DataFrame:
    return recist.assess_lesions(_int_scans(), _starts_by_int_lesion())


def _screened_with_candidates() -> tuple[pd.DataFrame, Any]:
    candidates = eligibility.candidates_from_registry(REG)
    return REG["screened_candidates"], eligibility.apply_rules(candidates)


def _survival() -> tuple[pd.Series, pd.Series, pd.Series]:
    time = pd.Series([5.0, 8.0, 3.0, 9.0, 12.0, 4.0], index=[10, 11, 12, 13, 14, 15])
    event = pd.Series([1, 0, 1, 1, 0, 1], index=time.index)
    group = pd.Series(["a", "b", "a", "b", "a", "b"], index=time.index)
    return time, event, group


CALLS: dict[str, tuple[Callable[..., Any], Callable[[], tuple[Any, ...]]]] = {
    "recist.assess_lesions": (recist.assess_lesions,
                              lambda: (_int_scans(), _starts_by_int_lesion())),
    "recist.summarise_local_failure": (recist.summarise_local_failure,
                                       lambda: (_assessed(), recist.RECIST_1_1)),
    "recist.patient_progression": (recist.patient_progression,
                                   lambda: (_assessed(), _patients_by_int_lesion(),
                                            pd.Series({f"P{i}": pd.Timestamp("2015-01-05")
                                                       for i in range(1, 8)}))),
    "endpoints.derive_endpoints": (derive_endpoints, lambda: (build_registry(),)),
    "endpoints.first_courses": (first_courses, lambda: (REG["sbrt_courses"].copy(),)),
    "ctcae.normalise_toxicities": (ctcae.normalise_toxicities,
                                   lambda: (REG["toxicities"].copy(),)),
    "ctcae.classify_phase": (ctcae.classify_phase,
                             lambda: (ctcae.normalise_toxicities(REG["toxicities"]),
                                      REG["sbrt_courses"].copy(), REG["lesions"].copy())),
    "ctcae.worst_grades": (ctcae.worst_grades, lambda: (ctcae.classify_phase(
        ctcae.normalise_toxicities(REG["toxicities"]), REG["sbrt_courses"], REG["lesions"]),)),
    "eligibility.apply_rules": (eligibility.apply_rules,
                                lambda: (eligibility.candidates_from_registry(REG),)),
    "eligibility.registry_flow": (eligibility.registry_flow, lambda: (build_registry(),)),
    "eligibility.candidates_from_registry": (eligibility.candidates_from_registry,
                                             lambda: (build_registry(),)),
    "eligibility.cross_check": (eligibility.cross_check, _screened_with_candidates),
    "oligometastatic.classify_patients": (oligometastatic.classify_patients,
                                          lambda: (REG["patients"].copy(),)),
    "histology.check_who_families": (histology.check_who_families,
                                     lambda: (REG["patients"].copy(),)),
    "yes_no.yes_no": (yes_no, lambda: (pd.Series(["yes", "N", None], index=[3, 1, 2]),)),
    "yes_no.is_yes": (is_yes, lambda: (pd.Series(["yes", "N", None], index=[3, 1, 2]),)),
    "stats.kaplan_meier": (kaplan_meier, lambda: _survival()[:2]),
    "stats.logrank": (logrank, _survival),
    "stats.cumulative_incidence": (cumulative_incidence, lambda: _survival()[:2]),
    "stats.cox": (cox, lambda: (pd.DataFrame({"x": [0.3, 1.0, 0.0, 2.0, 1.5, 0.1]},
                                             index=_survival()[0].index), *_survival()[:2])),
}


def _same(before: Any, after: Any) -> None:
    if isinstance(before, pd.DataFrame):
        pd.testing.assert_frame_equal(after, before, check_exact=True)
        assert after.index.dtype == before.index.dtype
    elif isinstance(before, pd.Series):
        pd.testing.assert_series_equal(after, before, check_exact=True)
        assert after.index.dtype == before.index.dtype
    elif isinstance(before, dict):
        assert list(after) == list(before)
        for key in before:
            _same(before[key], after[key])
    elif isinstance(before, np.ndarray):
        np.testing.assert_array_equal(after, before)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_arguments_are_left_as_they_were(name: str) -> None:
    function, make_args = CALLS[name]
    args = make_args()
    before = copy.deepcopy(args)
    function(*args)
    for was, now in zip(before, args, strict=True):
        _same(was, now)


def test_an_integer_indexed_series_keeps_its_index() -> None:
    """The bug: patient_progression and assess_lesions turned an int index into text."""
    ids = _patients_by_int_lesion()
    recist.patient_progression(_assessed(), ids)
    assert ids.index.tolist() == list(range(1, 8))
    starts = _starts_by_int_lesion()
    recist.assess_lesions(_int_scans(), starts)
    assert starts.index.dtype == np.int64


def test_negative_control_a_modification_is_seen() -> None:
    frame = pd.DataFrame({"a": [1, 2]})
    before = copy.deepcopy(frame)
    frame.index = frame.index.astype(str)
    with pytest.raises(AssertionError):
        _same(before, frame)
