"""Plan quality indices: definitions, worked values, impossible input."""

from __future__ import annotations

import pytest

from rtoutcomes.clinical.dosimetric_indices import (
    DosimetricIndexError,
    ci_rtog,
    coverage,
    gradient_index,
    hi_icru83,
    hi_rtog,
    nci,
    paddick_ci,
    target_indices,
)


def test_worked_example() -> None:
    # TV 10 cm3, PIV 12 cm3 of which 9 cm3 inside the target
    assert coverage(10, 9) == pytest.approx(0.9, rel=1e-12)
    assert ci_rtog(12, 10) == pytest.approx(1.2, rel=1e-12)
    assert paddick_ci(10, 12, 9) == pytest.approx(81 / 120, rel=1e-12)
    assert nci(10, 12, 9) == pytest.approx(120 / 81, rel=1e-12)
    assert hi_rtog(60, 45) == pytest.approx(4 / 3, rel=1e-12)
    assert hi_icru83(52, 44, 48) == pytest.approx(8 / 48, rel=1e-12)
    assert gradient_index(36, 12) == pytest.approx(3.0, rel=1e-12)


def test_nci_is_inverse_of_paddick_and_ideal_plan_scores_one() -> None:
    assert nci(7.3, 9.1, 6.2) * paddick_ci(7.3, 9.1, 6.2) == pytest.approx(1.0, rel=1e-12)
    assert paddick_ci(5, 5, 5) == 1.0 and nci(5, 5, 5) == 1.0 and ci_rtog(5, 5) == 1.0


def test_feng_table2_relation_nci_is_at_least_ci() -> None:
    # nCI = CI / coverage^2 >= CI: matches Table 2 (median CI 1.13, nCI 1.42)
    tv, piv, tv_piv = 20.0, 22.6, 17.8
    assert nci(tv, piv, tv_piv) == pytest.approx(ci_rtog(piv, tv) / coverage(tv, tv_piv) ** 2)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: coverage(10, 11), "cannot exceed TV"),
        (lambda: paddick_ci(10, 8, 9), "cannot exceed PIV"),
        (lambda: nci(10, 12, 0), "undefined"),
        (lambda: ci_rtog(12, 0), "TV"),
        (lambda: coverage(-1, 0), "TV"),
        (lambda: hi_rtog(60, 0), "prescription"),
        (lambda: hi_icru83(40, 44, 48), "D98 <= D50 <= D2"),
        (lambda: gradient_index(10, 12), "smaller than PIV"),
        (lambda: ci_rtog(float("nan"), 10), "PIV"),
    ],
)
def test_impossible_input_is_refused(call: object, message: str) -> None:
    with pytest.raises(DosimetricIndexError, match=message):
        call()  # type: ignore[operator]


def test_target_indices_bundle() -> None:
    indices = target_indices(
        tv_cc=10,
        piv_cc=12,
        tv_piv_cc=9,
        v50_cc=36,
        dmax_gy=60,
        d2_gy=52,
        d50_gy=48,
        d98_gy=44,
        prescription_gy=45,
    )
    assert indices.coverage == pytest.approx(0.9)
    assert indices.gradient_index == pytest.approx(3.0)
    assert indices.as_dict()["nci"] == pytest.approx(120 / 81)
    missed = target_indices(
        tv_cc=10,
        piv_cc=0,
        tv_piv_cc=0,
        v50_cc=1,
        dmax_gy=20,
        d2_gy=19,
        d50_gy=15,
        d98_gy=10,
        prescription_gy=45,
    )
    assert missed.nci is None and missed.gradient_index is None and missed.paddick_ci == 0.0
