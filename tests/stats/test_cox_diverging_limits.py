"""A diverging Cox coefficient (monotone likelihood) has limits 0 and inf, as R reports them,
without an overflow warning (warnings are errors in the tests)."""

from __future__ import annotations

import numpy as np
import pytest
from cox_fixtures import load, model_inputs

from rtoutcomes.stats import MonotoneLikelihoodWarning, cox


def test_limits_of_a_diverging_coefficient_are_zero_and_infinity() -> None:
    with pytest.warns(MonotoneLikelihoodWarning):
        model = cox(**model_inputs(load("cox_separation")))
    assert model.infinite == ("g",)
    # R: exp(-20.97 -/+ 1.96 * 10262) = 0 and Inf; exp() must not warn on the way
    assert model.lower[0] == 0.0
    assert model.upper[0] == np.inf
    assert 0 < model.hr[0] < 1e-8
    assert np.isfinite(model.lower[1]) and np.isfinite(model.upper[1])
