"""cox_zph and cox_residuals against R's cox.zph and residuals.coxph (survival 3.5).

Fixture: tests/reference/fixtures/zph.json from tests/reference/r/cox_zph.R (input data held in
the fixture, so R is not needed). Cases: lung, veteran (categorical celltype, karno's known PH
violation), veteran stratified, ovarian, fractional case weights, heavy ties with collapse by
pair, an aliased covariate; both tie methods; all four transforms; every residual type.

Tolerance, per quantity: relative 1e-6 elementwise, with an absolute floor of 1e-9 times the
largest magnitude of the same column, for residuals (Schoenfeld and martingale residuals are
differences that can be ~0 by cancellation, where a relative error means nothing; where R's
value is below 1e-12 times the column's largest, |ours - R's| must be too); relative
1e-6 for chi-square statistics, p-values, the transformed times and the variance matrices;
exact for df, times and strata. The largest errors found are printed by ``-s`` and are ~1e-13.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np
import pytest
from cox_fixtures import load, model_inputs, numbers

from rtoutcomes.stats import CoxInputError, CoxResult, cox, cox_residuals, cox_zph

FIXTURE = load("zph")
CASES = {case["name"]: case for case in FIXTURE["cases"]}
TIES = ["efron", "breslow"]
TRANSFORMS = ["km", "rank", "identity", "log"]
RTOL = 1e-6
FLOOR = 1e-9
ZERO_ABS = 1e-12  # residuals below this times the column's largest are zeros up to rounding
MATRIX_TYPES = ["score", "schoenfeld", "scaledsch", "dfbeta", "dfbetas"]
WORST: dict[str, float] = {}


def as_array(values: Any) -> np.ndarray:
    if isinstance(values, list) and values and isinstance(values[0], list):
        return np.array([numbers(row) for row in values])
    return numbers(values if isinstance(values, list) else [values])


def check(actual: Any, expected: Any, what: str, *, floor: bool = False) -> None:
    a = np.asarray(actual, dtype=float)
    e = as_array(expected)
    if a.ndim == 2 and e.ndim == 1:  # R drops a one-column matrix to a vector
        e = e.reshape(a.shape)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != R's {e.shape}"
    assert np.array_equal(np.isnan(a), np.isnan(e)), f"{what}: NaN pattern differs from R"
    ok = ~np.isnan(e)
    column_max = np.abs(np.nan_to_num(e)).max(axis=0, keepdims=True) * np.ones_like(e)
    if floor:  # a residual that is 0 up to rounding (x minus the mean of a one-row risk set)
        tiny = ok & (np.abs(e) <= ZERO_ABS * column_max)
        assert np.all(np.abs(a - e)[tiny] <= ZERO_ABS * column_max[tiny]), f"{what}: zeros"
        ok &= ~tiny
    scale = np.abs(e) if not floor else np.maximum(np.abs(e), FLOOR * column_max)
    with np.errstate(divide="ignore", invalid="ignore"):
        err = np.where(ok, np.abs(a - e) / np.where(scale > 0, scale, 1.0), 0.0)
    worst = float(err.max()) if err.size else 0.0
    key = what.split(":")[0]
    WORST[key] = max(WORST.get(key, 0.0), worst)
    assert worst <= RTOL, f"{what}: max relative error {worst:.3g}"


def fitted(case: str, ties: str) -> CoxResult:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return cox(**model_inputs(CASES[case]), ties=ties)  # type: ignore[arg-type]


@pytest.mark.parametrize("ties", TIES)
@pytest.mark.parametrize("case", sorted(CASES))
def test_zph_matches_r(case: str, ties: str) -> None:
    fit = fitted(case, ties)
    r = CASES[case][ties]
    check(np.where(np.isnan(fit.coef), np.nan, fit.coef), r["coef"], "coef")
    for transform in TRANSFORMS:
        z = cox_zph(fit, transform)  # type: ignore[arg-type]
        expected = r["zph"][transform]
        label = f"{case}/{ties}/{transform}"
        assert [*z.terms, "GLOBAL"] == expected["terms"], label
        check([*z.statistic, z.global_test.statistic], expected["chisq"], f"chisq: {label}")
        check([*z.p, z.global_test.p], expected["p"], f"p: {label}")
        assert [*z.df.tolist(), z.global_test.df] == list(expected["df"]), label
        check(z.x, expected["x"], f"transformed time: {label}")
        np.testing.assert_array_equal(z.time, numbers(expected["time"]))
        check(z.y, expected["y"], f"scaled Schoenfeld (zph): {label}", floor=True)
        check(z.var, expected["var"], f"zph var: {label}")
        if expected["strata"] is None:
            assert z.strata is None
        else:
            np.testing.assert_array_equal(z.strata, expected["strata"])
    columns = cox_zph(fit, terms=False)
    check(
        [*columns.statistic, columns.global_test.statistic],
        r["zph_columns"]["chisq"],
        f"chisq: {case}/{ties}/columns",
    )
    check(
        columns.y,
        r["zph_columns"]["y"],
        f"scaled Schoenfeld (zph): {case}/{ties}/columns",
        floor=True,
    )


@pytest.mark.parametrize("ties", TIES)
@pytest.mark.parametrize("case", sorted(CASES))
def test_residuals_match_r(case: str, ties: str) -> None:
    fit = fitted(case, ties)
    r = CASES[case][ties]
    sets = [("residuals", None)]
    if "weighted_residuals" in r:
        sets.append(("weighted_residuals", True))
    for key, weighted in sets:
        for rtype, expected in r[key].items():
            res = cox_residuals(fit, rtype, weighted=weighted)
            check(res.values, expected, f"{rtype}: {case}/{ties}/{key}", floor=True)
    schoenfeld = cox_residuals(fit, "schoenfeld")
    np.testing.assert_array_equal(schoenfeld.time, numbers(r["schoenfeld_time"]))


@pytest.mark.parametrize("ties", TIES)
def test_collapsed_residuals_match_r(ties: str) -> None:
    case = CASES["synthetic_ties"]
    fit = fitted("synthetic_ties", ties)
    r = case[ties]["collapsed"]
    ids = numbers(case["data"]["id"])
    for rtype in ("martingale", "deviance", "score", "dfbeta"):
        res = cox_residuals(fit, rtype, collapse=ids)  # type: ignore[arg-type]
        np.testing.assert_array_equal(res.labels, numbers(r["labels"]))
        check(res.values, r[rtype], f"{rtype} collapsed: {ties}", floor=True)


def test_karno_violates_proportional_hazards() -> None:
    """The textbook case: karno in veteran is flagged, and the global test with it."""
    z = cox_zph(fitted("veteran", "efron"))
    frame = z.to_frame()
    assert frame.loc["karno", "p"] < 0.001
    assert frame.loc["GLOBAL", "p"] < 0.001
    assert frame.loc["celltype", "df"] == 3


def test_zph_rejects_bad_input() -> None:
    fit = fitted("lung", "efron")
    with pytest.raises(CoxInputError, match="transform"):
        cox_zph(fit, "sqrt")  # type: ignore[arg-type]
    with pytest.raises(CoxInputError, match="type"):
        cox_residuals(fit, "pearson")  # type: ignore[arg-type]
    with pytest.raises(CoxInputError, match="collapse"):
        cox_residuals(fit, "score", collapse=[1, 2, 3])
    zero = model_inputs(CASES["lung"])
    zero["time"] = zero["time"].copy()
    zero["time"][0] = 0.0
    with pytest.raises(CoxInputError, match="log transform"):
        cox_zph(cox(**zero), "log")


def test_terms_mapping_groups_columns_as_a_design_does() -> None:
    """A plain matrix fit with a terms mapping gives the same joint test as R's factor term."""
    inputs = model_inputs(CASES["veteran"])
    design = inputs.pop("X")
    plain = cox(design.matrix, **inputs, names=list(design.names))
    z = cox_zph(plain, terms={"celltype": [0, 1, 2], "karno": [3]})
    expected = CASES["veteran"]["efron"]["zph"]["km"]
    check([*z.statistic, z.global_test.statistic], expected["chisq"], "chisq: terms mapping")
    check(z.y, expected["y"], "scaled Schoenfeld (zph): terms mapping", floor=True)
    with pytest.raises(CoxInputError, match="exactly once"):
        cox_zph(plain, terms={"celltype": [0, 1], "karno": [3]})


def test_fit_without_its_data_is_refused() -> None:
    fit = dataclasses.replace(fitted("lung", "efron"), data=None)
    with pytest.raises(CoxInputError, match="does not hold the data"):
        cox_zph(fit)
    with pytest.raises(CoxInputError, match="does not hold the data"):
        cox_residuals(fit)


def test_zero_martingale_sum_and_schoenfeld_sum() -> None:
    """Martingale residuals sum to 0 and Schoenfeld residuals to the score (0 at the MLE)."""
    fit = fitted("veteran_strata", "efron")
    assert abs(cox_residuals(fit, "martingale").values.sum()) < 1e-9
    assert np.abs(cox_residuals(fit, "schoenfeld").values.sum(axis=0)).max() < 1e-6


def test_report_worst_errors() -> None:  # runs last in this module: prints the table
    print("\nmax relative error vs R per quantity:")
    for key, value in sorted(WORST.items()):
        print(f"  {key:32s} {value:.2e}")


@pytest.mark.parametrize("ties", TIES)
def test_row_order_changes_nothing(ties: str) -> None:
    """Permuting the input rows permutes the per-row residuals and changes no test."""
    inputs = model_inputs(CASES["synthetic_ties"])
    perm = np.random.default_rng(20261127).permutation(len(inputs["time"]))
    design = inputs["X"]
    shuffled = cox(
        design.matrix[perm],
        inputs["time"][perm],
        inputs["event"][perm],
        names=list(design.names),
        ties=ties,
    )  # type: ignore[arg-type]
    fit = fitted("synthetic_ties", ties)
    a, b = cox_zph(fit, "rank"), cox_zph(shuffled, "rank")
    np.testing.assert_allclose(b.statistic, a.statistic, rtol=1e-10)
    np.testing.assert_allclose(b.global_test.statistic, a.global_test.statistic, rtol=1e-10)
    np.testing.assert_array_equal(np.sort(b.x), np.sort(a.x))
    for rtype in ("martingale", "dfbeta"):
        ours = cox_residuals(fit, rtype).values  # type: ignore[arg-type]
        theirs = cox_residuals(shuffled, rtype).values  # type: ignore[arg-type]
        np.testing.assert_allclose(theirs, ours[perm], rtol=1e-9, atol=1e-13)
