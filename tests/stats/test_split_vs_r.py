"""split_follow_up against R's survSplit (lung split at 180, 365, 730 days), and the Cox fit on
the split rows equal to the unsplit fit (R's and ours)."""

from __future__ import annotations

import numpy as np
import pytest
from cox_fixtures import load, numbers

from rtoutcomes.stats import SurvivalInputError, cox, split_follow_up

FIXTURE = load("survsplit_lung")


def test_rows_match_survsplit() -> None:
    data = FIXTURE["input"]
    split = split_follow_up(numbers(data["time"]), numbers(data["event"]), FIXTURE["cut"])
    r = FIXTURE["split"]
    ids = numbers(data["id"])
    np.testing.assert_array_equal(ids[split.row], numbers(r["id"]))
    np.testing.assert_array_equal(split.start, numbers(r["start"]))
    np.testing.assert_array_equal(split.stop, numbers(r["stop"]))
    np.testing.assert_array_equal(split.event, numbers(r["event"]) == 1)
    np.testing.assert_array_equal(split.episode, numbers(r["episode"]))


def test_cox_on_split_rows_is_the_unsplit_fit() -> None:
    data = FIXTURE["input"]
    time, event, age = (numbers(data[k]) for k in ("time", "event", "age"))
    split = split_follow_up(time, event, FIXTURE["cut"])
    whole = cox(age[:, None], time, event, names=["age"])
    pieces = cox(age[split.row][:, None], (split.start, split.stop), split.event, names=["age"])
    np.testing.assert_allclose(pieces.coef, FIXTURE["coef_split"], rtol=1e-10)
    np.testing.assert_allclose(whole.coef, FIXTURE["coef_unsplit"], rtol=1e-10)
    np.testing.assert_allclose(pieces.coef, whole.coef, rtol=1e-10)
    np.testing.assert_allclose(pieces.loglik, whole.loglik, rtol=1e-12)


def test_cut_at_start_or_stop_does_not_split_and_bad_intervals_are_refused() -> None:
    split = split_follow_up([5.0, 10.0], [1, 0], [5.0, 7.0], start=[0.0, 5.0])
    assert split.start.tolist() == [0.0, 5.0, 7.0] and split.stop.tolist() == [5.0, 7.0, 10.0]
    assert split.event.tolist() == [True, False, False]
    assert split.episode.tolist() == [1, 2, 3]
    with pytest.raises(SurvivalInputError, match="start: row 0"):
        split_follow_up([5.0], [1], [2.0], start=[5.0])
