"""Fine-Gray regression against R's cmprsk::crr (fixture fine_gray.json, from competing_risks.R).

Cases: the simulated competing-risks set (cause 1, cause 2, two censoring groups), survival's
mgus2 (13 rows with missing hgb dropped, as crr's na.omit; progression and death), KMsurv's bmt
(with censoring groups). Tolerances (relative): coefficients, sandwich and naive standard errors,
z, p and the hazard-ratio limits 1e-6 (the issue's contract for Cox estimates); log-likelihoods
1e-9. The implementation follows crr's iterations step by step and agrees to ~1e-12.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rtoutcomes.stats import SurvivalInputError, cox, fine_gray

RTOL = 1e-6
RTOL_LOGLIK = 1e-9
FIXTURE = Path(__file__).resolve().parents[1] / "reference" / "fixtures" / "fine_gray.json"
CASES: list[dict[str, Any]] = json.loads(FIXTURE.read_text())["cases"]

Close = Callable[[Any, Any, float, str], float]


def matrix(rows: list[list[Any]]) -> np.ndarray:
    return np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=float)


def fit_case(case: dict[str, Any]) -> Any:
    data = case["data"]
    return fine_gray(
        matrix(data["cov"]),
        data["time"],
        data["status"],
        cause=case["failcode"],
        censoring_group=data.get("cengroup"),
        names=data["names"],
    )


@pytest.mark.parametrize("case", CASES, ids=[c["label"] for c in CASES])
def test_fine_gray_matches_crr(case: dict[str, Any], assert_close: Close) -> None:
    fit = fit_case(case)
    assert fit.converged is case["converged"]
    assert fit.n == case["n"] and fit.n_dropped == case["n_missing"]
    assert list(fit.names) == case["data"]["names"]
    assert_close(fit.coef, case["coef"], RTOL, "coef")
    assert_close(fit.se, case["se"], RTOL, "se (sandwich)")
    assert_close(fit.var, matrix(case["var"]), RTOL, "var")
    assert_close(fit.naive_se, case["naive_se"], RTOL, "naive se")
    assert_close(fit.information, matrix(case["inf"]), RTOL, "information")
    assert_close(fit.z, case["z"], RTOL, "z")
    assert_close(fit.p, case["p"], RTOL, "p")
    lower, upper = fit.limits()
    assert_close(lower, case["lower"], RTOL, "lower")
    assert_close(upper, case["upper"], RTOL, "upper")
    assert_close(fit.loglik, case["loglik"], RTOL_LOGLIK, "loglik")
    assert_close(fit.loglik_null, case["loglik_null"], RTOL_LOGLIK, "loglik null")
    assert_close(fit.lr_statistic, case["logtest"], RTOL, "LR statistic")
    # crr's score at the final estimate is tiny: compare on the scale of the information.
    scale = np.abs(np.diag(matrix(case["inf"])))
    assert np.all(np.abs(fit.score - np.array(case["score"])) <= 1e-9 * scale)


def test_without_competing_events_it_is_breslow_cox() -> None:
    """No competing events and one censoring group: the risk sets are Cox's (Breslow ties)."""
    case = CASES[0]
    data = case["data"]
    status = np.array(data["status"])
    keep = status != 2
    x = matrix(data["cov"])[keep]
    time = np.array(data["time"])[keep]
    fg = fine_gray(x, time, status[keep])
    ph = cox(x, time, status[keep], ties="breslow")
    np.testing.assert_allclose(fg.coef, ph.coef, rtol=1e-6)
    np.testing.assert_allclose(fg.naive_var, ph.naive_var, rtol=1e-5)
    np.testing.assert_allclose(fg.loglik, ph.loglik, rtol=1e-9)


def test_rows_order_and_covariate_shift_change_nothing() -> None:
    case = CASES[5]  # bmt
    data = case["data"]
    x, time, status = matrix(data["cov"]), np.array(data["time"]), np.array(data["status"])
    base = fine_gray(x, time, status)
    perm = np.random.default_rng(20261127).permutation(time.shape[0])
    moved = fine_gray(x[perm] + np.array([0.0, 5.0, -40.0]), time[perm], status[perm])
    np.testing.assert_allclose(moved.coef, base.coef, rtol=1e-9)
    np.testing.assert_allclose(moved.var, base.var, rtol=1e-8)


def test_bad_input() -> None:
    x = np.array([[1.0], [0.0], [1.0], [0.0]])
    with pytest.raises(SurvivalInputError, match="no failure from the cause"):
        fine_gray(x, [1, 2, 3, 4], [2, 0, 2, 0])
    with pytest.raises(SurvivalInputError, match="singular"):
        fine_gray(np.ones((4, 1)), [1, 2, 3, 4], [1, 0, 2, 1])
    with pytest.raises(SurvivalInputError, match="time: expected 4 values"):
        fine_gray(x, [1, 2, 3], [1, 0, 2])
    with pytest.raises(SurvivalInputError, match="no complete rows"):
        fine_gray(np.full((2, 1), np.nan), [1, 2], [1, 0])
    with pytest.raises(SurvivalInputError, match="at least one covariate"):
        fine_gray(np.zeros((2, 0)), [1, 2], [1, 0])
    fit = fine_gray(x, [1, 2, 3, 4], [1, 0, 2, 1], names=["arm"])
    frame = fit.to_frame()
    assert list(frame.index) == ["arm"]
    assert list(frame.columns) == [
        "coef",
        "hr",
        "se",
        "naive_se",
        "z",
        "p",
        "lower 95%",
        "upper 95%",
    ]


def test_categorical_design_gives_the_dummy_columns() -> None:
    """A design_matrix with a categorical is the same model as hand-made dummies (bmt groups)."""
    from rtoutcomes.stats import categorical, design_matrix

    case = CASES[5]
    data = case["data"]
    x = matrix(data["cov"])
    group = np.where(x[:, 0] == 1, "AML low", np.where(x[:, 1] == 1, "AML high", "ALL"))
    design = design_matrix(
        {
            "group": categorical(
                group, reference="ALL", name="group", levels=["ALL", "AML low", "AML high"]
            ),
            "age": x[:, 2],
        }
    )
    fit = fine_gray(design, data["time"], data["status"])
    assert fit.names == ("group[AML low vs ALL]", "group[AML high vs ALL]", "age")
    np.testing.assert_allclose(fit.coef, case["coef"], rtol=1e-9)
    np.testing.assert_allclose(fit.se, case["se"], rtol=1e-9)
