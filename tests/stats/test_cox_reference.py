"""Cox models against R's coxph (survival 3.x): every quantity, both tie methods.

Fixtures come from tests/reference/r/cox.R; they hold the input data, so R is not needed here.
Tolerances are relative and per quantity (the issue's contract is 1e-6 for Cox estimates and
errors; the implementation agrees with R to ~1e-13, so most bounds are far tighter).
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
import pytest
from cox_fixtures import COX_CASES, load, model_inputs, numbers

from rtoutcomes.stats import CoxResult, MonotoneLikelihoodWarning, cox, lr_test

RTOL = {
    "coef": 1e-6,  # for the separation case the coefficient is where iteration 20 stopped
    "se": 1e-6,  # naive and robust; also the variance matrices
    "loglik": 1e-9,
    "test": 1e-6,  # LR, Wald, score, robust score statistics and their p-values
    "concordance": 1e-9,  # C and its standard error
    "counts": 1e-12,  # weighted pair counts (exact for whole-number weights)
}
TIES = ["efron", "breslow"]


def close(actual: Any, expected: Any, quantity: str) -> None:
    np.testing.assert_allclose(
        np.ravel(np.asarray(actual, dtype=float)),
        numbers(np.ravel(expected).tolist()),
        rtol=RTOL[quantity],
        atol=0,
        err_msg=quantity,
    )


def fit(case: str, ties: str) -> tuple[CoxResult, dict[str, Any], list[str]]:
    fixture = load(f"cox_{case}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = cox(**model_inputs(fixture), ties=ties)
    return model, fixture, [str(w.message) for w in caught]


def r_warnings(expected: dict[str, Any]) -> list[str]:
    found = expected["warnings"]
    return [found] if isinstance(found, str) else list(found or [])


@pytest.mark.parametrize("ties", TIES)
@pytest.mark.parametrize("case", COX_CASES)
def test_estimates_match_r(case: str, ties: str) -> None:
    model, fixture, _ = fit(case, ties)
    r = fixture[ties]
    assert (model.n, model.n_events, model.n_dropped) == (r["n"], r["nevent"], r["n_dropped"])
    close(model.coef, r["coef"], "coef")
    close(model.naive_se, r["se"], "se")
    close(model.naive_var, r["naive_var"], "se")
    if r["robust_se"] is None:
        assert model.robust_se is None
    else:
        assert model.robust_se is not None
        close(model.robust_se, r["robust_se"], "se")
        close(model.robust_var, r["robust_var"], "se")
        close(model.se, r["robust_se"], "se")  # inference uses the robust errors, as R
    close([model.loglik_null, model.loglik], r["loglik"], "loglik")


@pytest.mark.parametrize("ties", TIES)
@pytest.mark.parametrize("case", COX_CASES)
def test_global_tests_match_r(case: str, ties: str) -> None:
    model, fixture, _ = fit(case, ties)
    r = fixture[ties]
    pairs = [(model.lr_test, r["lr"]), (model.wald_test, r["wald"]), (model.score_test, r["score"])]
    if r["robust_score"] is not None:
        assert model.robust_score_test is not None
        pairs.append((model.robust_score_test, r["robust_score"]))
    else:
        assert model.robust_score_test is None
    for ours, theirs in pairs:
        close(ours.statistic, theirs["statistic"], "test")
        assert ours.df == theirs["df"]
        close(ours.p, theirs["p"], "test")


@pytest.mark.parametrize("ties", TIES)
@pytest.mark.parametrize("case", COX_CASES)
def test_concordance_matches_r(case: str, ties: str) -> None:
    model, fixture, _ = fit(case, ties)
    r = fixture[ties]["concordance"]
    c = model.concordance
    close(c.concordance, r["concordance"], "concordance")
    close(c.std, r["std"], "concordance")
    close(
        [c.concordant, c.discordant, c.tied_x, c.tied_y, c.tied_xy],
        [r["concordant"], r["discordant"], r["tied.x"], r["tied.y"], r["tied.xy"]],
        "counts",
    )


@pytest.mark.parametrize("ties", TIES)
@pytest.mark.parametrize("case", COX_CASES)
def test_coefficient_names_follow_r_terms(case: str, ties: str) -> None:
    model, fixture, _ = fit(case, ties)
    expected = []
    for item in fixture["spec"]:
        if item["type"] == "numeric":
            expected.append((item["name"], item["name"]))
        elif item["type"] == "categorical":
            ref = item["reference"]
            expected += [
                (f"{item['name']}[{level} vs {ref}]", f"{item['name']}{level}")
                for level in item["levels"]
                if level != ref
            ]
    assert list(model.names) == [ours for ours, _ in expected]
    r_names = fixture[ties]["names"]  # jsonlite unboxes a single name
    r_names = [r_names] if isinstance(r_names, str) else r_names
    assert r_names == [theirs for _, theirs in expected]


@pytest.mark.parametrize("ties", TIES)
@pytest.mark.parametrize("case", COX_CASES)
def test_infinite_coefficients_flagged_as_r(case: str, ties: str) -> None:
    model, fixture, caught = fit(case, ties)
    flagged = []
    for text in r_warnings(fixture[ties]):
        found = re.search(r"Loglik converged before variable\s+([\d,\s]+);", text)
        if found:
            flagged += [model.names[int(v) - 1] for v in found.group(1).replace(" ", "").split(",")]
    assert list(model.infinite) == flagged
    assert bool(model.warnings) == bool(flagged)
    assert sum("coefficient may be infinite" in text for text in caught) == (1 if flagged else 0)


def test_separation_warns_with_a_dedicated_class() -> None:
    inputs = model_inputs(load("cox_separation"))
    with pytest.warns(MonotoneLikelihoodWarning, match=r"variable\(s\) g;.*infinite"):
        model = cox(**inputs)
    assert model.infinite == ("g",)
    assert model.coef[0] < -15  # where the iterations stopped: a diverging coefficient


@pytest.mark.parametrize("ties", TIES)
def test_lr_test_matches_anova(ties: str) -> None:
    fixture = load("cox_lr_test")
    data = fixture["data"]

    def model(columns: list[str]) -> CoxResult:
        x = np.column_stack([numbers(data[c]) for c in columns])
        return cox(x, numbers(data["time"]), numbers(data["event"]), names=columns, ties=ties)

    result = lr_test(model(fixture["smaller"]), model(fixture["larger"]))
    r = fixture[ties]
    close(result.loglik, r["loglik"], "loglik")
    close(result.statistic, r["chisq"], "test")
    close(result.p, r["p"], "test")
    assert result.df == r["df"]
    assert result.added == ("ph_ecog", "wt_loss")
