"""Swimmer and waterfall plots at registry scale: the swimmer plot draws at most
``figures.swimmer_lanes`` lanes, chosen evenly through the lesions ordered by follow-up, and says
so in its y label, caption and the methods; every lane stays in results.json and
analysis/swimmer.csv. The waterfall keeps every bar, drawn as a few step polygons beyond
``OUTLINED_BARS``. Small registries (the demo) are drawn as before."""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from rtoutcomes.report.figure_layout import layout_problems
from rtoutcomes.report.methods import methods_paragraph
from rtoutcomes.report.response_plots import (
    OUTLINED_BARS,
    SWIMMER_LANES,
    swimmer_figure,
    swimmer_selection,
    waterfall_figure,
)
from rtoutcomes.study.errors import StudyFileError
from rtoutcomes.study.run import study_summary
from rtoutcomes.study.schema import parse_study

STORED_DEMO = Path(__file__).parent / "data" / "stored_outputs" / "demo" / "results.json"


def lanes(n: int) -> list[dict[str, Any]]:
    """``n`` lanes whose follow-up (``end``) is a shuffled 1..n months."""
    return [
        {
            "lesion_id": f"L{i:05d}",
            "patient_id": f"P{i // 2}",
            "end": float((i * 7919) % n + 1),
            "courses": [0.0],
            "scans": [3.0],
            "local_failure": None,
            "progression": None,
            "death": float((i * 7919) % n + 1) if i % 2 else None,
            "alive": i % 2 == 0,
        }
        for i in range(n)
    ]


def test_selection_keeps_every_lane_up_to_the_cap_in_plot_order() -> None:
    given = lanes(40)
    chosen = swimmer_selection(given, 40)  # type: ignore[arg-type]
    assert [lane["end"] for lane in chosen] == sorted((lane["end"] for lane in given), reverse=True)


@pytest.mark.parametrize(("n", "cap"), [(101, 100), (5800, 100), (1000, 7), (250, 2), (9, 1)])
def test_selection_spans_the_whole_follow_up_evenly(n: int, cap: int) -> None:
    ordered = sorted(lanes(n), key=lambda lane: (-lane["end"], lane["lesion_id"]))
    chosen = swimmer_selection(lanes(n), cap)  # type: ignore[arg-type]
    assert len(chosen) == cap
    ranks = [ordered.index(lane) for lane in chosen]
    assert ranks[0] == 0  # the longest follow-up
    if cap > 1:
        assert ranks[-1] == n - 1  # and the shortest
        gaps = {b - a for a, b in itertools.pairwise(ranks)}
        assert min(gaps) >= 1 and max(gaps) - min(gaps) <= 1  # evenly spaced, no repeat
        assert ranks == [round(i * (n - 1) / (cap - 1) + 1e-9) for i in range(cap)]


def test_swimmer_figure_at_registry_scale_is_one_page_and_says_what_it_shows() -> None:
    fig = swimmer_figure(lanes(5800), time_unit="months")  # type: ignore[arg-type]
    assert fig.get_size_inches()[1] == pytest.approx(SWIMMER_LANES * 0.085 + 1.25)
    assert fig.axes[0].get_ylabel() == f"Lesions ({SWIMMER_LANES} of 5800)"
    assert len(fig.axes[0].patches) == SWIMMER_LANES  # one lane bar each
    assert layout_problems(fig) == []
    small = swimmer_figure(lanes(58), time_unit="months")  # type: ignore[arg-type]
    assert small.axes[0].get_ylabel() == "Lesions (n = 58)"
    assert len(small.axes[0].patches) == 58


def _responses(n: int) -> list[dict[str, Any]]:
    def category(change: float) -> str:
        return "PD" if change >= 20 else "CR" if change <= -100 else "PR" if change <= -30 else "SD"

    changes = [60.0 - 170.0 * ((i * 7919) % n) / n for i in range(n)]
    return [
        {
            "lesion_id": f"L{i}",
            "patient_id": "P",
            "best_response": category(c),
            "best_change_pct": c,
        }
        for i, c in enumerate(changes)
    ]


def test_waterfall_beyond_the_outlined_bars_is_a_few_step_polygons() -> None:
    from matplotlib.collections import PolyCollection

    fig = waterfall_figure(_responses(5000))  # type: ignore[arg-type]
    ax = fig.axes[0]
    assert len(ax.patches) == 0  # no patch per bar
    polygons = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert 1 <= sum(len(c.get_paths()) for c in polygons) <= 4  # one run per category
    heights = [max(min(r["best_change_pct"], 200.0), -100.0) for r in _responses(5000)]
    area = 0.0  # the bars' tops: horizontal edges of the step outlines, width x |height|
    for collection in polygons:
        for path in collection.get_paths():
            (x0, y0), (x1, y1) = path.vertices[:-1].T, path.vertices[1:].T
            top = y0 == y1
            area += float((abs(y0[top]) * abs(x1[top] - x0[top])).sum())
    assert area == pytest.approx(sum(abs(h) for h in heights))
    assert layout_problems(fig) == []
    few = waterfall_figure(_responses(OUTLINED_BARS))  # type: ignore[arg-type]
    assert len(few.axes[0].patches) == OUTLINED_BARS  # outlined bars, as before


def _study(figures: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": "t",
        "db": "sqlite:///r.db",
        "time_unit": "months",
        "endpoints": {"LC": {}, "OS": {}},
        "figures": figures,
    }


def test_the_cap_is_a_study_file_setting_recorded_only_when_given() -> None:
    default = parse_study(_study({}), source="s.yaml")
    assert default.figures.swimmer_lanes is None
    assert "swimmer_lanes" not in study_summary(default)["figures"]
    given = parse_study(_study({"swimmer_lanes": 250}), source="s.yaml")
    assert study_summary(given)["figures"]["swimmer_lanes"] == 250
    for bad in (0, -3, 2.5, "all", True):
        with pytest.raises(StudyFileError, match=r"figures\.swimmer_lanes"):
            parse_study(_study({"swimmer_lanes": bad}), source="s.yaml")


def test_caption_and_methods_state_the_selection_only_when_it_applies() -> None:
    from rtoutcomes.report.response_report import response_figures

    demo = json.loads(STORED_DEMO.read_text(encoding="utf-8"))
    count = len(demo["cohort"]["swimmer"])
    assert 1 < count <= SWIMMER_LANES  # the demo draws every lane, as before
    assert "swimmer plot shows" not in methods_paragraph(demo)
    swimmer = next(f for f in response_figures(demo) if f.key == "swimmer")
    assert swimmer.caption.startswith(f"Course of each of the {count} treated lesions")
    capped = copy.deepcopy(demo)
    capped["study"]["figures"]["swimmer_lanes"] = 10
    sentence = (
        f"With {count} lesions, the swimmer plot shows 10 lanes (study file "
        "figures.swimmer_lanes) evenly spaced through the lesions ordered by follow-up"
    )
    assert sentence in methods_paragraph(capped)
    swimmer = next(f for f in response_figures(capped) if f.key == "swimmer")
    assert swimmer.caption.startswith(f"Course of 10 of the {count} treated lesions")
    assert sentence in swimmer.caption and "analysis/swimmer.csv" in swimmer.caption


def test_analysis_swimmer_csv_holds_every_lane() -> None:
    from rtoutcomes.study.response import swimmer_table

    given = lanes(300)
    given[0]["scans"] = [0.5, 2.25, 12.0]
    given[1]["local_failure"] = 4.5
    table = swimmer_table(given)  # type: ignore[arg-type]
    assert list(table["lesion_id"]) == [lane["lesion_id"] for lane in given]
    assert table.loc[0, "scans"] == "0.5 2.25 12"
    assert table.loc[1, "local_failure"] == 4.5 and table.loc[0, "alive"] == "yes"
    assert list(table["end"]) == [lane["end"] for lane in given]
