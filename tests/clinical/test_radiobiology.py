"""BED / EQD2 / EQDx and LQ-L against hand-worked and published values."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtoutcomes.clinical.radiobiology import (
    BED,
    AlphaBetaMismatchError,
    RadiobiologyError,
    bed,
    bed_gy,
    bed_of_fractions,
    eqd2,
    eqdx,
    eqdx_gy,
)


def test_feng_2022_table2_bed10_median_and_maximum() -> None:
    # Table 2: median BED10 85.5 Gy (45 Gy/5 Fx), maximum 187.5 Gy (75 Gy/5 Fx)
    assert bed(45, 5, 10).gy == pytest.approx(85.5, abs=1e-12)
    assert bed(75, 5, 10).gy == pytest.approx(187.5, abs=1e-12)


def test_feng_2022_table2_bed10_minimum_is_27_gy_in_3() -> None:
    # 27 Gy/3 Fx: 27 * (1 + 9/10) = 51.3 Gy, the table's minimum
    assert bed(27, 3, 10).gy == pytest.approx(51.3, abs=1e-12)


@pytest.mark.parametrize(
    ("total", "n", "expected"),
    [
        (60, 3, 180.0),  # RTOG 0236 peripheral lung SBRT, BED10 180 Gy
        (54, 3, 151.2),  # Timmerman 54 Gy/3 Fx, BED10 151.2 Gy
        (48, 4, 105.6),  # JCOG 0403, BED10 105.6 Gy
        (50, 5, 100.0),  # 10 Gy x 5: BED10 100 Gy
        (34, 1, 149.6),  # RTOG 0915 single fraction, BED10 149.6 Gy
    ],
)
def test_published_bed10_of_lung_sbrt_schedules(total: float, n: int, expected: float) -> None:
    assert bed(total, n, 10).gy == pytest.approx(expected, rel=1e-12)


def test_prostate_sbrt_eqd2_at_alpha_beta_1_5() -> None:
    # 36.25 Gy/5 Fx at alpha/beta 1.5 Gy: 36.25 * (7.25 + 1.5) / (2 + 1.5) = 90.625 Gy
    assert eqd2(36.25, 5, 1.5) == pytest.approx(90.625, rel=1e-12)


@pytest.mark.parametrize("alpha_beta", [1.5, 3.0, 10.0, 2.0, 0.5])
@pytest.mark.parametrize("n", [1, 5, 25, 39])
def test_eqd2_equals_physical_dose_at_2_gy_per_fraction(alpha_beta: float, n: int) -> None:
    assert eqd2(2.0 * n, n, alpha_beta) == pytest.approx(2.0 * n, rel=1e-12)


def test_eqdx_equals_physical_dose_at_x_gy_per_fraction() -> None:
    assert eqdx(30, 10, 3.0, 3.0) == pytest.approx(30.0, rel=1e-12)
    # 45 Gy/5 Fx in 9 Gy fractions is itself; in 3 Gy fractions at a/b 3: 45*(1+3)/(1+1) = 90
    assert eqdx(45, 5, 3.0, 3.0) == pytest.approx(90.0, rel=1e-12)


def test_unequal_fractions_are_summed_fraction_by_fraction() -> None:
    # 3 x 2 Gy + 1 x 8 Gy at a/b 3: 3*2*(1+2/3) + 8*(1+8/3) = 10 + 29.333...
    value = bed_of_fractions([2, 2, 2, 8], 3.0)
    assert value.gy == pytest.approx(10.0 + 8 * (1 + 8 / 3), rel=1e-12)
    # equal list = equal-fraction formula
    assert bed_of_fractions([9.0] * 5, 10).gy == pytest.approx(bed(45, 5, 10).gy, rel=1e-12)
    # unequal fractions of the same total give a larger BED than equal ones (convexity)
    assert bed_of_fractions([5, 13], 10).gy > bed(18, 2, 10).gy


def test_bed_is_vectorised() -> None:
    values = bed_gy([30, 45, 50], [3, 5, 5], 10)
    assert values.tolist() == pytest.approx([60.0, 85.5, 100.0], rel=1e-12)
    assert eqdx_gy(values, 2.0, 10).tolist() == pytest.approx([50.0, 71.25, 250 / 3], rel=1e-12)


def test_lql_equals_lq_at_and_below_the_transition_dose() -> None:
    for d in (1.0, 3.0, 6.0):
        assert bed(5 * d, 5, 10, transition_dose_gy=6.0).gy == pytest.approx(
            bed(5 * d, 5, 10).gy, rel=1e-12
        )
    assert bed_of_fractions([2, 4, 6], 3, transition_dose_gy=6.0).gy == pytest.approx(
        bed_of_fractions([2, 4, 6], 3).gy, rel=1e-12
    )


def test_lql_worked_value_above_the_transition_dose() -> None:
    # d = 10 Gy, a/b = 10, d_T = 6 Gy: 6*(1+0.6) + (1+1.2)*(10-6) = 9.6 + 8.8 = 18.4 Gy/fraction
    assert bed(30, 3, 10, transition_dose_gy=6.0).gy == pytest.approx(3 * 18.4, rel=1e-12)
    # LQ would give 20 Gy/fraction: LQ-L is lower above d_T
    assert bed(30, 3, 10).gy == pytest.approx(60.0, rel=1e-12)


def test_lql_is_continuous_and_smooth_at_the_transition() -> None:
    eps = 1e-6
    below = bed_of_fractions([6.0 - eps], 3, transition_dose_gy=6.0).gy
    above = bed_of_fractions([6.0 + eps], 3, transition_dose_gy=6.0).gy
    assert above - below == pytest.approx(2 * eps * (1 + 2 * 6 / 3), rel=1e-5)


def test_lql_eqd2_divides_by_the_lql_bed_of_the_reference_fraction() -> None:
    # reference fraction 2 Gy < d_T: the ordinary EQD2 denominator
    assert eqd2(30, 3, 10, transition_dose_gy=6.0) == pytest.approx(3 * 18.4 / 1.2, rel=1e-12)


@settings(derandomize=True, max_examples=200, deadline=None)
@given(
    d1=st.floats(0, 100),
    extra=st.floats(0, 50),
    n=st.integers(1, 40),
    alpha_beta=st.floats(0.5, 20),
    transition=st.one_of(st.none(), st.floats(1, 20)),
)
def test_bed_never_decreases_with_dose(
    d1: float, extra: float, n: int, alpha_beta: float, transition: float | None
) -> None:
    low = bed(d1, n, alpha_beta, transition_dose_gy=transition).gy
    high = bed(d1 + extra, n, alpha_beta, transition_dose_gy=transition).gy
    assert high >= low
    assert low >= d1 * (1 - 1e-12)  # BED is never below the physical dose


@settings(derandomize=True, max_examples=100, deadline=None)
@given(
    doses=st.lists(st.floats(0, 30), min_size=1, max_size=10),
    which=st.integers(0, 9),
    extra=st.floats(0, 10),
    alpha_beta=st.floats(0.5, 20),
)
def test_bed_of_fractions_never_decreases_when_one_fraction_grows(
    doses: list[float], which: int, extra: float, alpha_beta: float
) -> None:
    grown = list(doses)
    grown[which % len(doses)] += extra
    assert bed_of_fractions(grown, alpha_beta).gy >= bed_of_fractions(doses, alpha_beta).gy


def test_bed_type_adds_same_alpha_beta_and_refuses_different() -> None:
    course = bed(50, 25, 10)
    boost = bed(16, 8, 10)
    assert (course + boost).gy == pytest.approx(60.0 + 19.2, rel=1e-12)
    assert sum([course, boost]).gy == pytest.approx(79.2, rel=1e-12)  # type: ignore[union-attr]
    with pytest.raises(AlphaBetaMismatchError, match=r"BED10 .* BED3"):
        _ = course + bed(16, 8, 3)
    with pytest.raises(AlphaBetaMismatchError):
        _ = course < bed(16, 8, 3)
    assert bed(16, 8, 10) < course
    assert str(bed(45, 5, 10)) == "BED10 = 85.50 Gy"
    assert BED(85.5, 10).eqd2() == pytest.approx(71.25, rel=1e-12)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: bed(-1, 5, 10), "total dose"),
        (lambda: bed(45, 0, 10), "whole number"),
        (lambda: bed(45, 2.5, 10), "whole number"),  # type: ignore[arg-type]
        (lambda: bed(45, 5, 0), "alpha/beta"),
        (lambda: bed(45, 5, float("nan")), "alpha/beta"),
        (lambda: bed(45, 5, 10, transition_dose_gy=-2), "transition"),
        (lambda: bed_of_fractions([], 10), "at least one"),
        (lambda: bed_of_fractions([2, -1], 10), "fraction dose"),
        (lambda: eqdx(45, 5, 10, 0), "reference dose"),
        (lambda: BED(-1, 10), ">= 0"),
    ],
)
def test_impossible_input_is_refused(call: object, message: str) -> None:
    with pytest.raises(RadiobiologyError, match=message):
        call()  # type: ignore[operator]
