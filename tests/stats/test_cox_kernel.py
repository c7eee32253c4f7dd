"""The Cox likelihood kernel against a plain per-time computation, and its layout's pieces.

``evaluate`` works on sorted, blocked, transposed covariates with cumulative sums and segment
sums; the reference below follows the textbook formula one event time at a time (Therneau and
Grambsch 2000, section 3.3): risk set, its sums S0, S1, S2 and the event sums, Efron's
sub-steps. Agreement to ~1e-12 on data with ties, strata, case weights and (start, stop]
intervals, with more rows than one block of the kernel, means the fast layout computes the same
function (the R fixtures then pin that function to R's coxph).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from rtoutcomes.stats._cox._likelihood import evaluate
from rtoutcomes.stats._cox._risksets import BLOCK, K_CHUNK, _segments, _stable_argsort, build

FloatArray = Any


def reference(
    x: FloatArray,
    time: FloatArray,
    event: FloatArray,
    weights: FloatArray,
    strata: FloatArray,
    start: FloatArray | None,
    beta: FloatArray,
    efron: bool,
) -> tuple[float, FloatArray, FloatArray]:
    """Log partial likelihood, score and information, one event time of one stratum at a time."""
    p = x.shape[1]
    eta = x @ beta
    risk = weights * np.exp(eta)
    loglik, score, info = 0.0, np.zeros(p), np.zeros((p, p))
    for s in np.unique(strata):
        for t in np.unique(time[(strata == s) & (event == 1)]):
            at_risk = (strata == s) & (time >= t)
            if start is not None:
                at_risk &= start < t
            dead = (strata == s) & (time == t) & (event == 1)
            xr, rr = x[at_risk], risk[at_risk]
            xd, rd, wd = x[dead], risk[dead], weights[dead]
            s0, s1, s2 = rr.sum(), rr @ xr, (xr * rr[:, None]).T @ xr
            d0, d1, d2 = rd.sum(), rd @ xd, (xd * rd[:, None]).T @ xd
            loglik += float(wd @ eta[dead])
            score += wd @ xd
            d = int(dead.sum())
            steps = [k / d for k in range(d)] if efron else [0.0]
            m = wd.mean() if efron else wd.sum()
            for f in steps:
                den = s0 - f * d0
                a = (s1 - f * d1) / den
                loglik -= m * np.log(den)
                score -= m * a
                info += m * ((s2 - f * d2) / den - np.outer(a, a))
    return loglik, score, info


def data(n: int, seed: int, *, weighted: bool, counting: bool, n_strata: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3)) * [1.0, 3.0, 0.5] + [0.0, 50.0, -2.0]
    x[:, 2] = rng.integers(0, 2, n)  # a binary covariate
    stop = rng.integers(1, 40, n).astype(np.float64)  # few distinct times: many ties
    start = None
    if counting:
        start = np.floor(stop * rng.random(n))
        start[rng.random(n) < 0.5] = 0.0
    return {
        "x": x,
        "time": stop,
        "event": (rng.random(n) < 0.6).astype(np.float64),
        "weights": rng.uniform(0.5, 2.0, n) if weighted else np.ones(n),
        "strata": rng.integers(0, n_strata, n),
        "start": start,
    }


CASES = [
    # (rows, weighted, counting, strata, ties)
    (60, False, False, 1, "efron"),
    (60, True, False, 3, "efron"),
    (60, False, True, 2, "breslow"),
    (60, True, True, 2, "efron"),
    (4 * BLOCK + 123, True, True, 2, "efron"),  # blocks end inside segments; several chunks
    (4 * BLOCK + 123, False, False, 1, "breslow"),
]


@pytest.mark.parametrize(("n", "weighted", "counting", "n_strata", "ties"), CASES)
def test_evaluation_equals_the_per_time_formula(
    n: int, weighted: bool, counting: bool, n_strata: int, ties: str
) -> None:
    d = data(n, seed=n + 7 * n_strata, weighted=weighted, counting=counting, n_strata=n_strata)
    rs = build(
        d["x"],
        d["time"],
        d["event"] == 1,
        d["weights"] if weighted else None,
        d["strata"] if n_strata > 1 else None,
        efron=ties == "efron",
        start=d["start"],
    )
    if n > 4 * BLOCK and ties == "efron":  # Efron's sums run in more than one chunk
        assert rs.k_frac.shape[0] > K_CHUNK and rs.k_chunks.shape[0] > 2
    xs = (d["x"] - rs.means) * rs.scale  # the kernel's units
    for beta in (np.zeros(3), np.array([0.3, -0.2, 0.5])):
        ev = evaluate(rs, beta)
        loglik, score, info = reference(
            xs, d["time"], d["event"], d["weights"], d["strata"], d["start"], beta, ties == "efron"
        )
        np.testing.assert_allclose(ev.loglik, loglik, rtol=1e-12)
        np.testing.assert_allclose(ev.score, score, rtol=1e-9, atol=1e-9 * np.abs(score).max())
        np.testing.assert_allclose(ev.information, info, rtol=1e-11)


def test_centring_and_scaling_are_rs_means_and_mean_absolute_deviations() -> None:
    d = data(500, seed=3, weighted=True, counting=False, n_strata=1)
    w = d["weights"]
    rs = build(d["x"], d["time"], d["event"] == 1, w, None, efron=True)
    means = w @ d["x"] / w.sum()
    np.testing.assert_allclose(rs.means, means, rtol=1e-13)
    np.testing.assert_allclose(rs.scale, w.sum() / (w @ np.abs(d["x"] - means)), rtol=1e-13)
    expected = ((d["x"] - means) * rs.scale)[rs.order]
    np.testing.assert_allclose(rs.x, expected, rtol=0, atol=1e-13 * np.abs(expected).max())


def test_column_major_and_row_major_covariates_give_the_same_layout() -> None:
    d = data(3 * BLOCK // 2, seed=5, weighted=False, counting=False, n_strata=1)
    by_row = build(d["x"], d["time"], d["event"] == 1, None, None, efron=True)
    by_column = build(np.asfortranarray(d["x"]), d["time"], d["event"] == 1, None, None, efron=True)
    np.testing.assert_allclose(by_column.xt, by_row.xt, rtol=0, atol=1e-13)  # sums' order
    given = build(
        d["x"],
        d["time"],
        d["event"] == 1,
        None,
        None,
        efron=True,
        means=by_row.means,
        scale=by_row.scale,
    )
    assert np.array_equal(given.xt, by_row.xt)


@pytest.mark.parametrize("top", [2**8, 2**16, 2**20, 2**40])
def test_stable_argsort_is_numpys_stable_argsort(top: int) -> None:
    key = np.random.default_rng(top % 1000).integers(0, top, 5000).astype(np.int64)
    assert np.array_equal(_stable_argsort(key), np.argsort(key, kind="stable"))


@pytest.mark.parametrize("n_strata", [3, 200])
def test_segments_are_the_runs_of_the_sorted_keys(n_strata: int) -> None:
    """Few strata: segments counted by bincount; 200 strata x 300 days x 2 is beyond a few
    keys per row, so they are read off the sorted keys."""
    rng = np.random.default_rng(n_strata)
    n = 4000
    days = rng.integers(0, 300, n).astype(np.float64)
    event = rng.random(n) < 0.5
    strata = rng.integers(0, n_strata, n)
    order, seg_key, seg_len, n_times = _segments(days, event, strata)
    assert np.array_equal(order, np.lexsort((event, days, strata)))
    key = (strata * n_times + (days - days.min()).astype(np.int64)) * 2 + event
    runs, lengths = np.unique(key, return_counts=True)
    assert np.array_equal(seg_key, runs) and np.array_equal(seg_len, lengths)
