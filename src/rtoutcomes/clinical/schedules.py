"""Fractionation schedules as clinicians write them ("45 Gy/5 Fx") and groupings of schedules.

A :class:`Schedule` is a total dose (Gy) in a number of equal fractions. Labels are parsed from
the usual spellings ("45 Gy/5 Fx", "45Gy/5fx", "45 Gy in 5 fractions", "5 x 9 Gy") and
formatted back in one canonical form ("45 Gy/5 Fx", "37.5 Gy/5 Fx").

A :class:`ScheduleGroup` is a rectangle of total doses and fraction numbers written the same
way with ranges ("45-48 Gy/3-4 Fx": 45 to 48 Gy in 3 or 4 fractions, both ends included). A
:class:`ScheduleGrouping` is an ordered, declared list of groups plus a label for the rest;
:data:`FENG_2022_TABLE2` is the grouping of Table 2 of Feng et al. 2022 (World J Surg Oncol
20:322), and any other grouping is declared the same way with
``ScheduleGrouping.from_labels([...], other_label=...)``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rtoutcomes.errors import RtOutcomesError

__all__ = [
    "FENG_2022_TABLE2",
    "Schedule",
    "ScheduleError",
    "ScheduleGroup",
    "ScheduleGrouping",
    "format_schedule",
    "parse_schedule",
]

#: doses that differ by less than this (Gy) are the same dose (labels carry at most 2 decimals)
_DOSE_ATOL_GY = 1e-6

_NUMBER = r"(\d+(?:[.,]\d+)?)"
_GY = r"\s*(?:gy|gray)"
_FX = r"\s*(?:fx|fxs|fr|frs|fractions?|f)\.?"
_SEP = r"\s*(?:/|in)\s*"
_RANGE = rf"{_NUMBER}(?:\s*[-–]\s*{_NUMBER})?"
_TOTAL_PER_FRACTIONS = re.compile(rf"^\s*{_NUMBER}{_GY}{_SEP}{_NUMBER}{_FX}\s*$", re.IGNORECASE)
_FRACTIONS_TIMES_DOSE = re.compile(rf"^\s*{_NUMBER}\s*[x×*]\s*{_NUMBER}{_GY}\s*$", re.IGNORECASE)
_GROUP = re.compile(rf"^\s*{_RANGE}{_GY}{_SEP}{_RANGE}{_FX}\s*$", re.IGNORECASE)


class ScheduleError(RtOutcomesError, ValueError):
    """A schedule label or grouping that cannot be read or does not make sense."""


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def _whole(value: float, label: str) -> int:
    if value != int(value) or value < 1:
        raise ScheduleError(f"schedule {label!r}: fractions must be a whole number >= 1")
    return int(value)


def _fmt(value: float) -> str:
    """Dose as written by hand: no trailing zeros (45, 37.5, 7.25)."""
    return f"{round(value, 2):g}"


@dataclass(frozen=True)
class Schedule:
    """``total_dose_gy`` (Gy) delivered in ``fractions`` equal fractions."""

    total_dose_gy: float
    fractions: int

    def __post_init__(self) -> None:
        if not self.total_dose_gy > 0:
            raise ScheduleError(f"total dose must be > 0 Gy, got {self.total_dose_gy!r}")
        n = self.fractions
        if isinstance(n, bool) or int(n) != n or n < 1:
            raise ScheduleError(f"fractions must be a whole number >= 1, got {self.fractions!r}")

    @property
    def dose_per_fraction_gy(self) -> float:
        return self.total_dose_gy / self.fractions

    @property
    def label(self) -> str:
        return format_schedule(self.total_dose_gy, self.fractions)

    def __str__(self) -> str:
        return self.label


def parse_schedule(label: str) -> Schedule:
    """Read "45 Gy/5 Fx" (also "45Gy/5fx", "45 Gy in 5 fractions", "5 x 9 Gy")."""
    match = _TOTAL_PER_FRACTIONS.match(label)
    if match:
        total, n = _number(match[1]), _number(match[2])
        return Schedule(total, _whole(n, label))
    match = _FRACTIONS_TIMES_DOSE.match(label)
    if match:
        n, per_fraction = _number(match[1]), _number(match[2])
        return Schedule(round(n * per_fraction, 10), _whole(n, label))
    raise ScheduleError(
        f"cannot read schedule {label!r}: expected 'TOTAL Gy/N Fx' (e.g. '45 Gy/5 Fx') "
        "or 'N x DOSE Gy' (e.g. '5 x 9 Gy')"
    )


def format_schedule(total_dose_gy: float, fractions: int) -> str:
    """Canonical label: ``format_schedule(45, 5) == "45 Gy/5 Fx"``."""
    return f"{_fmt(total_dose_gy)} Gy/{int(fractions)} Fx"


@dataclass(frozen=True)
class ScheduleGroup:
    """Total doses ``dose_range_gy`` (inclusive) in ``fraction_range`` (inclusive) fractions."""

    label: str
    dose_range_gy: tuple[float, float]
    fraction_range: tuple[int, int]

    def __post_init__(self) -> None:
        lo, hi = self.dose_range_gy
        flo, fhi = self.fraction_range
        if not 0 < lo <= hi:
            raise ScheduleError(f"group {self.label!r}: dose range must be 0 < low <= high Gy")
        if not 1 <= flo <= fhi:
            raise ScheduleError(f"group {self.label!r}: fraction range must be 1 <= low <= high")

    @classmethod
    def from_label(cls, label: str) -> ScheduleGroup:
        """Read "45-48 Gy/3-4 Fx", "54-60 Gy/3 Fx" or a single schedule "40 Gy/5 Fx"."""
        match = _GROUP.match(label)
        if match is None:
            raise ScheduleError(
                f"cannot read schedule group {label!r}: expected e.g. '45-48 Gy/3-4 Fx'"
            )
        d_lo = _number(match[1])
        d_hi = _number(match[2]) if match[2] else d_lo
        f_lo = _whole(_number(match[3]), label)
        f_hi = _whole(_number(match[4]), label) if match[4] else f_lo
        return cls(label.strip(), (d_lo, d_hi), (f_lo, f_hi))

    def contains(self, schedule: Schedule) -> bool:
        lo, hi = self.dose_range_gy
        return (
            lo - _DOSE_ATOL_GY <= schedule.total_dose_gy <= hi + _DOSE_ATOL_GY
            and self.fraction_range[0] <= schedule.fractions <= self.fraction_range[1]
        )

    def overlaps(self, other: ScheduleGroup) -> bool:
        (a_lo, a_hi), (b_lo, b_hi) = self.dose_range_gy, other.dose_range_gy
        (fa_lo, fa_hi), (fb_lo, fb_hi) = self.fraction_range, other.fraction_range
        return (
            a_lo <= b_hi + _DOSE_ATOL_GY
            and b_lo <= a_hi + _DOSE_ATOL_GY
            and (fa_lo <= fb_hi and fb_lo <= fa_hi)
        )


@dataclass(frozen=True)
class ScheduleGrouping:
    """Declared, ordered schedule groups; a schedule in none of them gets ``other_label``.

    Groups must not overlap, so that a schedule's group never depends on the order.
    """

    groups: tuple[ScheduleGroup, ...]
    other_label: str = "others"

    def __post_init__(self) -> None:
        labels = [g.label for g in self.groups]
        if self.other_label in labels or len(set(labels)) != len(labels):
            raise ScheduleError(f"schedule group labels must be unique, got {labels!r}")
        for i, first in enumerate(self.groups):
            for second in self.groups[i + 1 :]:
                if first.overlaps(second):
                    raise ScheduleError(
                        f"schedule groups {first.label!r} and {second.label!r} overlap"
                    )

    @classmethod
    def from_labels(cls, labels: Iterable[str], *, other_label: str = "others") -> ScheduleGrouping:
        return cls(tuple(ScheduleGroup.from_label(label) for label in labels), other_label)

    @property
    def labels(self) -> tuple[str, ...]:
        """Group labels in declared order, the 'other' label last."""
        return (*(g.label for g in self.groups), self.other_label)

    def group_of(self, schedule: Schedule | str) -> str:
        """Label of the group ``schedule`` (a Schedule or a label) belongs to."""
        if isinstance(schedule, str):
            schedule = parse_schedule(schedule)
        for group in self.groups:
            if group.contains(schedule):
                return group.label
        return self.other_label

    def counts(self, schedules: Sequence[Schedule | str]) -> dict[str, int]:
        """Number of schedules per group, every group listed in declared order (zeros kept)."""
        result = dict.fromkeys(self.labels, 0)
        for schedule in schedules:
            result[self.group_of(schedule)] += 1
        return result


#: Table 2 of Feng et al. 2022: the schedules rows of the SBRT lesion table.
FENG_2022_TABLE2 = ScheduleGrouping.from_labels(
    [
        "30 Gy/3 Fx",
        "45-48 Gy/3-4 Fx",
        "54-60 Gy/3 Fx",
        "40 Gy/5 Fx",
        "45 Gy/5 Fx",
        "50 Gy/5 Fx",
    ],
    other_label="others",
)
