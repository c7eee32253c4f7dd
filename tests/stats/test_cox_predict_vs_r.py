"""predict_survival (R's survfit.coxph with newdata) and baseline_hazard (basehaz) against R.

Fixtures from tests/reference/r/cox_counting.R: lung (three covariate rows), veteran stratified
by cell type (each row in its own stratum), heart (counting-process data), both tie methods.
Curves: times, numbers at risk/events/censored exactly; survival, cumulative hazard, its
standard error and the log limits to 1e-8 relative (found: ~1e-13, docs/predict-survival.md).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from cox_fixtures import load, model_inputs, numbers

from rtoutcomes.stats import CoxInputError, baseline_hazard, cox, predict_survival

CASES = ["lung", "veteran_strata", "heart"]
TIES = ["efron", "breslow"]


def fitted(case: str, ties: str) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    fixture = load(f"predict_{case}")
    return cox(**model_inputs(fixture), ties=ties), fixture, fixture[ties]


def new_rows(fixture: dict[str, Any], names: tuple[str, ...]) -> np.ndarray:
    return np.column_stack([numbers(fixture["newdata"][name]) for name in names])


@pytest.mark.parametrize("ties", TIES)
@pytest.mark.parametrize("case", CASES)
def test_curves_match_survfit(case: str, ties: str) -> None:
    fit, fixture, r = fitted(case, ties)
    np.testing.assert_allclose(fit.coef, numbers(r["coef"]), rtol=1e-10)
    strata = fixture["newdata"].get("celltype")
    pred = predict_survival(fit, new_rows(fixture, fit.names), strata=strata)
    assert len(pred) == len(r["curves"])
    for curve, expected in zip(pred, r["curves"], strict=True):
        np.testing.assert_array_equal(curve.time, numbers(expected["time"]))
        for mine, theirs in (
            (curve.n_risk, "n_risk"),
            (curve.n_event, "n_event"),
            (curve.n_censor, "n_censor"),
        ):
            np.testing.assert_array_equal(mine, numbers(expected[theirs]), err_msg=theirs)
        for mine, theirs in (
            (curve.survival, "surv"),
            (curve.cumulative_hazard, "cumhaz"),
            (curve.std_err_log, "std_err"),
            (curve.lower, "lower"),
            (curve.upper, "upper"),
        ):
            np.testing.assert_allclose(
                mine, numbers(expected[theirs]), rtol=1e-8, atol=0, err_msg=theirs
            )


@pytest.mark.parametrize("ties", TIES)
@pytest.mark.parametrize("case", ["lung", "heart"])
def test_baseline_hazard_matches_basehaz(case: str, ties: str) -> None:
    fit, _, r = fitted(case, ties)
    frame = baseline_hazard(fit)
    np.testing.assert_array_equal(frame["time"], numbers(r["basehaz"]["time"]))
    np.testing.assert_allclose(frame["hazard"], numbers(r["basehaz"]["hazard"]), rtol=1e-8)


def test_bad_rows_and_strata_are_refused() -> None:
    fit, fixture, _ = fitted("veteran_strata", "efron")
    rows = new_rows(fixture, fit.names)
    with pytest.raises(CoxInputError, match="stratified"):
        predict_survival(fit, rows)
    with pytest.raises(CoxInputError, match="'nope' is not a stratum"):
        predict_survival(fit, rows, strata=["adeno", "squamous", "nope"])
    with pytest.raises(CoxInputError, match="3 columns"):
        predict_survival(fit, np.ones((1, 3)), strata=["adeno"])
    at = predict_survival(fit, rows, strata=["adeno", "squamous", "large"]).at([30, 90])
    assert list(at["curve"]) == [0, 0, 1, 1, 2, 2] and at["survival"].between(0, 1).all()


def test_adjusted_curves_match_averaged_survfit() -> None:
    """Direct standardisation on lung by sex: R's survfit(fit, newdata = every row with sex set)
    averaged over rows; as a numeric term and as a categorical one (same model)."""
    from rtoutcomes.stats import adjusted_survival, categorical, design_matrix

    fixture = load("predict_adjusted_lung")
    d = {k: numbers(v) for k, v in fixture["data"].items()}
    numeric = cox(
        np.column_stack([d["age"], d["sex"], d["ph_ecog"]]),
        d["time"],
        d["event"],
        names=["age", "sex", "ph_ecog"],
    )
    design = design_matrix(
        {
            "age": d["age"],
            "sex": categorical(d["sex"].astype(int), reference="1", name="sex"),
            "ph_ecog": d["ph_ecog"],
        }
    )
    coded = cox(design, d["time"], d["event"])
    by_number = adjusted_survival(numeric, "sex", [1, 2])
    by_level = adjusted_survival(coded, "sex")
    assert by_level.levels == ("1", "2")
    for k, expected in enumerate(fixture["curves"]):
        np.testing.assert_array_equal(by_number.time, numbers(expected["time"]))
        np.testing.assert_allclose(by_number.survival[:, k], numbers(expected["surv"]), rtol=1e-8)
        np.testing.assert_allclose(by_level.survival[:, k], numbers(expected["surv"]), rtol=1e-8)
    with pytest.raises(CoxInputError, match="'3' is not a level"):
        adjusted_survival(coded, "sex", ["3"])
