"""A Cox model stratified by centre from the centres' sums equals the pooled stratified fit.

Pooled: ``cox(X, time, event, strata=centre [, cluster=patient])`` on all rows. From pieces:
each centre builds a ``CoxPiece`` on its own rows and only sums cross the centre boundary
(``cox_from_pieces``). Same Newton iterates, so equal to rounding: 1e-10 relative.
"""

from __future__ import annotations

import numpy as np
import pytest

from rtoutcomes.stats import cox
from rtoutcomes.stats._cox._pieces import CoxPiece, cox_from_pieces, pooled_scaling

RTOL = 1e-10


def _data() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(20221130)  # fixed: the same data every run
    n = 600
    centre = rng.integers(0, 3, n)
    x = np.column_stack([rng.normal(size=n), rng.integers(0, 2, n), rng.normal(60, 10, n)])
    hazard = np.exp(0.5 * x[:, 0] - 0.7 * x[:, 1] + 0.02 * x[:, 2] + 0.4 * centre)
    t = np.round(rng.exponential(1 / hazard) * 24, 0)  # months, with many ties
    c = rng.uniform(0, 36, n).round()
    patient = np.array([f"P{centre[i]}-{i // 2}" for i in range(n)])  # two rows per patient
    return {
        "x": x,
        "time": np.minimum(t, c),
        "event": (t <= c).astype(float),
        "centre": centre,
        "patient": patient,
    }


def _from_pieces(d: dict[str, np.ndarray], ties: str, clustered: bool):
    names = ["a", "b", "c"]
    pieces = [
        CoxPiece.of(
            d["x"][rows],
            d["time"][rows],
            d["event"][rows],
            names=names,
            ties=ties,
            cluster=d["patient"][rows] if clustered else None,
        )
        for rows in (d["centre"] == k for k in range(3))
    ]
    sums = [piece.column_sums() for piece in pieces]
    means, scale = pooled_scaling(
        sum(s for s, _ in sums),
        sum(r for _, r in sums),
        lambda m: sum(piece.absolute_deviations(m) for piece in pieces),
    )

    def evaluate_sum(beta):
        parts = [piece.evaluate(beta, means, scale) for piece in pieces]
        return (sum(p[0] for p in parts), sum(p[1] for p in parts), sum(p[2] for p in parts))

    def robust(beta):
        parts = [piece.robust_sums(beta, means, scale) for piece in pieces]
        return tuple(sum(p[i] for p in parts) for i in range(4))

    def conc(coef):
        parts = [piece.concordance_counts(coef) for piece in pieces]
        return tuple(sum(p[i] for p in parts) for i in range(5))

    n = int(sum(r for _, r in sums))
    return cox_from_pieces(
        evaluate_sum,
        names=names,
        terms={k: (j,) for j, k in enumerate(names)},
        means=means,
        scale=scale,
        counts=(n, 0, int(d["event"].sum())),
        ties=ties,
        robust_sums=robust if clustered else None,
        concordance_sums=conc,
    )


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("clustered", [False, True])
def test_pieces_equal_pooled_stratified_fit(ties: str, clustered: bool) -> None:
    d = _data()
    pooled = cox(
        d["x"],
        d["time"],
        d["event"],
        names=["a", "b", "c"],
        ties=ties,
        strata=d["centre"],
        cluster=d["patient"] if clustered else None,
    )
    ours = _from_pieces(d, ties, clustered)
    for what in ("coef", "se", "naive_se", "hr", "lower", "upper", "p"):
        np.testing.assert_allclose(
            getattr(ours, what), getattr(pooled, what), rtol=RTOL, err_msg=what
        )
    for test in ("lr_test", "wald_test", "score_test"):
        assert getattr(ours, test).statistic == pytest.approx(
            getattr(pooled, test).statistic, rel=RTOL
        )
    if clustered:
        assert ours.robust_score_test is not None and pooled.robust_score_test is not None
        assert ours.robust_score_test.statistic == pytest.approx(
            pooled.robust_score_test.statistic, rel=RTOL
        )
        assert ours.n_clusters == pooled.n_clusters
    assert ours.loglik == pytest.approx(pooled.loglik, rel=1e-13)
    assert ours.loglik_null == pytest.approx(pooled.loglik_null, rel=1e-13)
    assert ours.iterations == pooled.iterations
    assert ours.c_index == pytest.approx(pooled.concordance.concordance, rel=1e-13)
    assert (ours.n, ours.n_events) == (pooled.n, pooled.n_events)


def test_pieces_are_not_the_unstratified_fit() -> None:
    """Negative control: the pooled fit *without* the centre strata differs, so the test above
    would catch a protocol that lost the stratification."""
    d = _data()
    unstratified = cox(d["x"], d["time"], d["event"], names=["a", "b", "c"])
    ours = _from_pieces(d, "efron", False)
    assert not np.allclose(ours.coef, unstratified.coef, rtol=1e-4)
