"""Number formatting for journal tables: p-values, HRs with limits, n (%), median (range)."""

from __future__ import annotations

import math
from collections.abc import Sequence

DASH = "\u2013"  # en dash, as journals print ranges and intervals
NOT_REACHED = "NR"


def p_value(p: float | None) -> str:
    """Two decimals from 0.01, three below, "<0.001" under that (common journal style)."""
    if p is None or not math.isfinite(p):
        return "NA"
    if p < 0.001:
        return "<0.001"
    if p < 0.01:
        return f"{p:.3f}"
    return f"{p:.2f}" if round(p, 2) < 1 else "1.00"


def p_statement(p: float | None) -> str:
    """ "p = 0.04" or "p < 0.001" (never "p = <0.001")."""
    text = p_value(p)
    return f"p {text[0]} {text[1:]}" if text.startswith("<") else f"p = {text}"


def estimate(value: float | None, digits: int = 2) -> str:
    if value is None or not math.isfinite(value):
        return NOT_REACHED
    return f"{value:.{digits}f}"


def with_limits(
    value: float | None, lower: float | None, upper: float | None, digits: int = 2
) -> str:
    """ "0.18 (0.08–0.43)"; a missing limit prints NR (not reached), as R's survfit shows NA."""
    return f"{estimate(value, digits)} ({estimate(lower, digits)}{DASH}{estimate(upper, digits)})"


def ratio(value: float | None, digits: int = 3) -> str:
    """A hazard ratio or one of its limits: ``digits`` decimals, but never a printed zero.

    Below the smallest value the decimals can show it prints "<0.001" (for 3 digits), above
    1000 ">1000", as journals print ratios from sparse data: "0.000" would read as an
    impossible ratio of zero and "123456.789" as a precise one. Not finite prints "NA".
    """
    if value is None or not math.isfinite(value):
        return "NA"
    smallest = 10.0**-digits
    if value < smallest:
        return f"<{smallest:.{digits}f}"
    if value > RATIO_CEILING:
        return f">{RATIO_CEILING:g}"
    return f"{value:.{digits}f}"


#: ratios above this print as ">1000" (``ratio``)
RATIO_CEILING = 1000.0


def ratio_with_limits(
    value: float | None, lower: float | None, upper: float | None, digits: int = 3
) -> str:
    """ "0.183 (0.077–0.436)", each number by ``ratio`` ("<0.001 (<0.001–0.004)")."""
    return f"{ratio(value, digits)} ({ratio(lower, digits)}{DASH}{ratio(upper, digits)})"


def percent(value: float | None, digits: int = 1) -> str:
    if value is None or not math.isfinite(value):
        return "NA"
    return f"{100 * value:.{digits}f}"


def largest_remainder(counts: Sequence[int], digits: int = 1) -> list[float]:
    """Percentages of ``counts`` rounded to ``digits`` so that they add up to exactly 100.

    Hamilton's method: round down, then give the remaining units to the largest remainders
    (ties to the earlier category, so the result is deterministic).
    """
    total = sum(counts)
    if total == 0:
        return [0.0 for _ in counts]
    scale = 10**digits
    exact = [100 * scale * c / total for c in counts]
    floors = [math.floor(e) for e in exact]
    missing = 100 * scale - sum(floors)
    order = sorted(range(len(counts)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:missing]:
        floors[i] += 1
    return [f / scale for f in floors]


def n_percent(counts: Sequence[int], digits: int = 1) -> list[str]:
    """ "n (p%)" per category with percentages that add up (largest remainder)."""
    shares = largest_remainder(counts, digits)
    return [f"{c} ({s:.{digits}f}%)" for c, s in zip(counts, shares, strict=True)]


def median_range(
    median: float | None, low: float | None, high: float | None, digits: int = 1, unit: str = ""
) -> str:
    """ "5.5 (1.6–20.0) cm"."""
    suffix = f" {unit}" if unit else ""
    low_high = f"{estimate(low, digits)}{DASH}{estimate(high, digits)}"
    return f"{estimate(median, digits)} ({low_high}){suffix}"
