"""rtoutcomes.plot: the report's drawing code from Python, returning matplotlib objects."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from rtoutcomes import plot
from rtoutcomes.report import figures
from rtoutcomes.stats import cox, cox_zph, cumulative_incidence, kaplan_meier, predict_survival

RNG = np.random.default_rng(7)
N = 120
TIME = RNG.exponential(20, N).round(1) + 0.1
EVENT = (RNG.random(N) < 0.7).astype(int)
ARM = np.where(RNG.random(N) < 0.5, "A", "B")
STATUS = EVENT * RNG.integers(1, 3, N)


def _steps(line: object) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)  # type: ignore[attr-defined]


def test_km_figure_draws_each_group_curve_with_numbers_at_risk() -> None:
    fits = kaplan_meier(TIME, EVENT, group=ARM)
    fig = plot.km(fits, p_text="log-rank p = 0.5")
    assert isinstance(fig, Figure)
    (plot_ax,) = fig.axes  # the numbers at risk are texts of the figure
    curves = [line for line in plot_ax.lines if not str(line.get_label()).startswith("_")]
    assert [str(c.get_label()) for c in curves] == [
        f"{level} (n={fits[level].n})" for level in fits.levels
    ]
    for line, level in zip(curves, fits.levels, strict=True):
        _, y = _steps(line)
        fit = fits[level]
        # the step curve's values after each jump are the Kaplan-Meier estimates
        np.testing.assert_allclose(y[2::2][: fit.time.shape[0]], fit.survival)
    counts = [t.get_text() for t in fig.texts if t.get_label() == figures.RISK_COUNT]
    first = fits["A"].at([0.0], extend=True).n_risk[0]
    assert str(int(first)) in counts
    assert figures.render(fig).png[:4] == b"\x89PNG"


def test_km_on_a_given_axes_returns_it() -> None:
    fig = figures.new_figure(4, 3)
    ax = fig.add_axes((0.15, 0.35, 0.8, 0.55))
    assert plot.km(kaplan_meier(TIME, EVENT), ax=ax) is ax
    assert ax.lines and ax.child_axes  # curve and the risk table below it


def test_cif_forest_zph_and_predicted_curves() -> None:
    ci = cumulative_incidence(TIME, STATUS, group=ARM)
    fig = plot.cif(ci, cause=1)
    assert isinstance(fig, Figure) and "Gray's test" in " ".join(
        t.get_text() for t in fig.axes[0].texts
    )
    fit = cox(
        np.column_stack([ARM == "B", RNG.normal(size=N)]).astype(float),
        TIME,
        EVENT,
        names=["B", "z"],
    )
    forest = plot.forest(fit)
    assert isinstance(forest, Figure)
    ax = forest.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["B", "z"]
    np.testing.assert_allclose(sorted(ax.lines[0].get_xdata()), sorted(fit.hr))
    assert isinstance(plot.zph(cox_zph(fit), "z"), Figure)
    with pytest.raises(ValueError, match="term"):
        plot.zph(cox_zph(fit), "nope")
    assert isinstance(plot.km(predict_survival(fit, [[0.0, 0.0], [1.0, 0.0]])), Figure)
