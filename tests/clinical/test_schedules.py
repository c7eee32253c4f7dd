"""Schedule labels and the Table 2 grouping of Feng et al. 2022."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rtoutcomes.clinical.schedules import (
    FENG_2022_TABLE2,
    Schedule,
    ScheduleError,
    ScheduleGroup,
    ScheduleGrouping,
    format_schedule,
    parse_schedule,
)


@pytest.mark.parametrize(
    ("label", "total", "n"),
    [
        ("45 Gy/5 Fx", 45.0, 5),
        ("45Gy/5fx", 45.0, 5),
        ("37.5 Gy / 5 Fx", 37.5, 5),
        ("37,5 Gy/5 Fx", 37.5, 5),
        ("45 Gy in 5 fractions", 45.0, 5),
        ("60 Gy/3 fr", 60.0, 3),
        ("34 Gy/1 fraction", 34.0, 1),
        ("5 x 9 Gy", 45.0, 5),
        ("3 × 18 Gy", 54.0, 3),
    ],
)
def test_parse_clinical_spellings(label: str, total: float, n: int) -> None:
    schedule = parse_schedule(label)
    assert (schedule.total_dose_gy, schedule.fractions) == (total, n)


def test_format_round_trips() -> None:
    assert format_schedule(45, 5) == "45 Gy/5 Fx"
    assert format_schedule(37.5, 5) == "37.5 Gy/5 Fx"
    assert format_schedule(36.25, 5) == "36.25 Gy/5 Fx"
    for label in ("45 Gy/5 Fx", "37.5 Gy/5 Fx", "30 Gy/3 Fx"):
        assert parse_schedule(label).label == label
    assert Schedule(45, 5).dose_per_fraction_gy == 9.0


@pytest.mark.parametrize("label", ["45 Gy", "45/5", "Gy/5 Fx", "45 Gy/0 Fx", "45 Gy/2.5 Fx", ""])
def test_unreadable_labels_are_refused(label: str) -> None:
    with pytest.raises(ScheduleError):
        parse_schedule(label)


def test_group_label_ranges() -> None:
    group = ScheduleGroup.from_label("45-48 Gy/3-4 Fx")
    assert group.dose_range_gy == (45.0, 48.0)
    assert group.fraction_range == (3, 4)
    single = ScheduleGroup.from_label("40 Gy/5 Fx")
    assert single.dose_range_gy == (40.0, 40.0) and single.fraction_range == (5, 5)


@pytest.mark.parametrize(
    ("label", "group"),
    [
        ("30 Gy/3 Fx", "30 Gy/3 Fx"),
        ("45 Gy/3 Fx", "45-48 Gy/3-4 Fx"),
        ("48 Gy/4 Fx", "45-48 Gy/3-4 Fx"),
        ("46.5 Gy/3 Fx", "45-48 Gy/3-4 Fx"),
        ("54 Gy/3 Fx", "54-60 Gy/3 Fx"),
        ("60 Gy/3 Fx", "54-60 Gy/3 Fx"),
        ("40 Gy/5 Fx", "40 Gy/5 Fx"),
        ("45 Gy/5 Fx", "45 Gy/5 Fx"),
        ("50 Gy/5 Fx", "50 Gy/5 Fx"),
        ("75 Gy/5 Fx", "others"),
        ("30 Gy/5 Fx", "others"),
        ("49 Gy/4 Fx", "others"),
        ("60 Gy/4 Fx", "others"),
        ("27 Gy/3 Fx", "others"),
    ],
)
def test_feng_table2_grouping(label: str, group: str) -> None:
    assert FENG_2022_TABLE2.group_of(label) == group


def test_feng_table2_group_labels_are_the_papers(shared_dir: Path) -> None:
    facts = json.loads((shared_dir / "reference" / "feng-2022-facts.json").read_text())
    assert list(FENG_2022_TABLE2.labels) == list(facts["table2_lesions"]["schedules"])


def test_counts_keep_declared_order_and_zeros() -> None:
    counts = FENG_2022_TABLE2.counts(["45 Gy/5 Fx", "45 Gy/5 Fx", Schedule(75, 5)])
    assert list(counts) == list(FENG_2022_TABLE2.labels)
    assert counts["45 Gy/5 Fx"] == 2 and counts["others"] == 1 and counts["30 Gy/3 Fx"] == 0


def test_custom_grouping_and_overlap_refused() -> None:
    grouping = ScheduleGrouping.from_labels(["20-30 Gy/1-5 Fx"], other_label="rest")
    assert grouping.group_of("24 Gy/3 Fx") == "20-30 Gy/1-5 Fx"
    assert grouping.group_of("35 Gy/5 Fx") == "rest"
    with pytest.raises(ScheduleError, match="overlap"):
        ScheduleGrouping.from_labels(["45-48 Gy/3-4 Fx", "48 Gy/4 Fx"])
    with pytest.raises(ScheduleError, match="unique"):
        ScheduleGrouping.from_labels(["45 Gy/5 Fx"], other_label="45 Gy/5 Fx")
    with pytest.raises(ScheduleError, match="low <= high"):
        ScheduleGroup.from_label("48-45 Gy/3 Fx")
