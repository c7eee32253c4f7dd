"""Study summaries label Kaplan-Meier rates by time, whatever order the times come in."""

from __future__ import annotations

import numpy as np

from rtoutcomes.stats import kaplan_meier
from rtoutcomes.study.spec import KMOptions
from rtoutcomes.study.summaries import km_summary

TIME = np.array([3.0, 5.0, 8.0, 12.0, 14.0, 20.0, 22.0, 30.0])
EVENT = np.array([1, 1, 0, 1, 0, 1, 1, 0])


def test_rates_are_labelled_by_time_not_by_request_order() -> None:
    # .at() sorts the times (as R's summary.survfit): reading its rows by the position of an
    # unsorted request would give 24 months the 6-month rate.
    fit = kaplan_meier(TIME, EVENT)
    expected = {t: float(fit.at([t]).survival[0]) for t in (6.0, 24.0)}
    assert expected[6.0] != expected[24.0]
    rates = km_summary(TIME, EVENT, KMOptions(), (24.0, 6.0))["rates"]
    assert {r["time"]: r["estimate"] for r in rates} == expected
    assert [r["time"] for r in rates] == [6.0, 24.0]
