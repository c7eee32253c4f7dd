"""Best response (RECIST 1.1 categories, ORR/DCR with exact limits checked against R's
binom.test), and the forest, swimmer and waterfall plots: every one checked for clipped and
overlapping text and for legends on the data; hostile labels stay text."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

import pandas as pd
import pytest

from rtoutcomes.report.figure_layout import layout_problems
from rtoutcomes.report.figures import render
from rtoutcomes.report.forest import ForestRow, forest_figure
from rtoutcomes.report.response_plots import swimmer_figure, waterfall_figure
from rtoutcomes.report.response_report import best_response_table
from rtoutcomes.study.response import best_responses, exact_interval

FIXTURES = Path(__file__).parent / "reference" / "fixtures"


def test_exact_intervals_equal_r_binom_test() -> None:
    cases = json.loads((FIXTURES / "binom_test.json").read_text())["intervals"]
    assert len(cases) == 24
    for case in cases:
        got = exact_interval(case["events"], case["n"], case["conf_level"])
        assert got["lower"] == pytest.approx(case["lower"], abs=1e-12), case
        assert got["upper"] == pytest.approx(case["upper"], abs=1e-12), case
    assert exact_interval(0, 0, 0.95)["estimate"] is None


def _scans(rows: list[tuple[str, str, str, float | None, bool]]) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["lesion_id", "role", "response", "change_from_baseline_pct", "local_failure"]
    ).assign(
        longest_diameter_mm=lambda d: d["change_from_baseline_pct"].map(
            lambda c: None if c is None else 10.0
        )
    )


def test_best_response_stops_at_the_first_local_failure() -> None:
    scans = _scans(
        [
            ("A", "baseline", "baseline", None, False),
            ("A", "follow-up", "SD", -10.0, False),
            ("A", "follow-up", "PD", 40.0, True),
            ("A", "follow-up", "PR", -50.0, False),
            ("B", "baseline", "baseline", None, False),
            ("B", "follow-up", "PR", -35.0, False),
            ("B", "follow-up", "SD", -20.0, False),
            ("C", "baseline", "baseline", None, False),
            ("C", "follow-up", "NE", None, False),
            ("D", "baseline", "baseline", None, False),
            ("D", "follow-up", "CR", -100.0, False),
        ]
    )
    best = best_responses(scans).set_index("lesion_id")
    assert best["best_response"].to_dict() == {"A": "SD", "B": "PR", "C": "NE", "D": "CR"}
    assert best.loc["A", "best_change_pct"] == -10.0  # the -50 % after the failure is not used
    assert pd.isna(best.loc["C", "best_change_pct"])


def test_best_response_table_adds_up() -> None:
    counts = {"CR": 0, "PR": 16, "SD": 35, "PD": 4, "NE": 3}
    table = best_response_table(
        {
            "lesions": [],
            "counts": counts,
            "conf_level": 0.95,
            "orr": exact_interval(16, 58, 0.95),
            "dcr": exact_interval(51, 58, 0.95),
        }
    )
    cells = dict(r.cells for r in table.rows)
    assert cells["Objective response rate (CR + PR)"] == "16/58: 27.6% (16.7\u201340.9)"
    assert cells["Disease control rate (CR + PR + SD)"] == "51/58: 87.9% (76.7\u201395.0)"
    shares = [
        float(c.split("(")[1].rstrip("%)"))
        for k, c in cells.items()
        if "(" in k and "rate" not in k
    ]
    assert sum(shares) == pytest.approx(100.0)


HOSTILE = '=HYPERLINK("x") $\\frac{a}{b}$ <b>'


def test_forest_plot_layout_and_inert_labels() -> None:
    rows = [
        ForestRow("Histological grade", heading=True),
        ForestRow("G2-G3", "33 / 10", reference=True),
        ForestRow("G1", "25 / 9", 0.35, 0.11, 1.19, 0.09),
        ForestRow(HOSTILE, heading=True),
        ForestRow("a", "", reference=True),
        ForestRow("b", "", 14.0, 0.9, 210.0, 0.06),
        ForestRow("c", "", None, None, None, None),
    ]
    fig = forest_figure(rows, title="LC: multivariate Cox model")
    assert layout_problems(fig) == []
    shown = [t.get_text() for t in fig.texts]
    assert HOSTILE in shown and "not estimable" in shown
    svg = render(fig, ("svg",)).svg
    root = ElementTree.fromstring(svg)  # well-formed: the label cannot break out of its comment
    assert not [e for e in root.iter() if e.tag.endswith("}b") or e.tag == "b"]
    assert b"<b>" not in svg and b"&lt;b&gt;" in svg  # matplotlib's comment, escaped
    assert all(not t.get_usetex() for t in fig.texts)


def _lanes(n: int) -> list[dict[str, object]]:
    lanes = []
    for i in range(n):
        end = 3.0 + (i * 7.3) % 120
        lanes.append(
            {
                "lesion_id": f"L{i}",
                "patient_id": f"P{i // 2}",
                "end": end,
                "courses": [0.0],
                "scans": [t for t in (3.0, 6.0, 12.0, 24.0) if t < end],
                "local_failure": end * 0.6 if i % 3 == 0 else None,
                "progression": end * 0.4 if i % 4 == 0 else None,
                "death": end if i % 2 == 0 else None,
                "alive": i % 2 == 1,
            }
        )
    return lanes


@pytest.mark.parametrize("n", [1, 12, 58, 120])
def test_swimmer_layout(n: int) -> None:
    fig = swimmer_figure(_lanes(n), time_unit="months")  # type: ignore[arg-type]
    assert layout_problems(fig) == []
    assert len(fig.legends) == 1 and len(fig.legends[0].get_texts()) >= 3


@pytest.mark.parametrize(
    "changes",
    [
        [31.0, 30.0, 5.0, -10.0, -35.0, -60.0, -100.0],
        [float(x) for x in range(-95, 60, 3)],
        [250.0, -5.0],
        [-40.0] * 30,
    ],
)
def test_waterfall_layout(changes: list[float]) -> None:
    def category(c: float) -> str:
        return "PD" if c >= 20 else "CR" if c <= -100 else "PR" if c <= -30 else "SD"

    lesions = [
        {
            "lesion_id": f"L{i}",
            "patient_id": "P",
            "best_response": category(c),
            "best_change_pct": c,
        }
        for i, c in enumerate(changes)
    ]
    lesions.append(
        {"lesion_id": "X", "patient_id": "P", "best_response": "NE", "best_change_pct": None}
    )
    fig = waterfall_figure(lesions)  # type: ignore[arg-type]
    assert layout_problems(fig) == []
    assert len(fig.axes[0].patches) == len(changes)
