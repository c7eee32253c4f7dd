"""tables.xlsx written without openpyxl: the bytes openpyxl writes, or openpyxl itself."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from rtoutcomes.report import tabular_files
from rtoutcomes.report.table import Table
from rtoutcomes.report.tabular_files import write_xlsx, write_xlsx_openpyxl

TEXTS = [
    "",
    " ",
    "  indented",
    "trailing ",
    "plain",
    "a & b < c > d \" ' quote",
    "\u00e9\u4e2d\U0001f600 unicode",
    "tab\there",
    "line\nbreak",
    "=SUM(A1)",
    "+1",
    "-2.5",
    "@user",
    "0.05",
    "HR (95% CI)",
    "<0.001",
    "x" * 300,
    "\x00 control \x1b",
    "]]>",
    "=",
]
# texts openpyxl stores otherwise (an error value, a character reference): openpyxl writes them
EXOTIC = ["#N/A", "carriage\rreturn"]


def text(rng: random.Random) -> str:
    return rng.choice(EXOTIC if rng.random() < 0.001 else TEXTS)


def random_tables(rng: random.Random) -> list[Table]:
    tables = []
    for index in range(rng.randint(1, 5)):
        width = rng.randint(1, 30)  # beyond Z: AA, AB...
        table = Table(
            key=rng.choice([f"table{index}_x", f"t{index}", f"table{index}_" + "k" * 40]),
            title=text(rng) or "title",
            columns=[text(rng) for _ in range(width)],
        )
        for _ in range(rng.randint(0, 6)):
            if rng.random() < 0.2:
                table.section(text(rng))
            else:
                table.add(*(text(rng) for _ in range(width)))
        table.notes = [text(rng) for _ in range(rng.randint(0, 2))]
        tables.append(table)
    return tables


def both(tables: list[Table], folder: Path) -> tuple[bytes, bytes]:
    write_xlsx(tables, folder / "fast.xlsx")
    write_xlsx_openpyxl(tables, folder / "openpyxl.xlsx")
    return (folder / "fast.xlsx").read_bytes(), (folder / "openpyxl.xlsx").read_bytes()


@pytest.mark.parametrize("seed", range(40))
def test_same_bytes_as_openpyxl(seed: int, tmp_path: Path) -> None:
    fast, reference = both(random_tables(random.Random(seed)), tmp_path)
    assert fast == reference


def test_most_random_tables_take_the_fast_path() -> None:
    """The comparison above is not only openpyxl against itself."""
    rng = random.Random(0)
    simple = sum(tabular_files._simple_sheets(random_tables(rng)) is not None for _ in range(200))
    assert simple > 20


def test_the_report_tables_take_the_fast_path(tmp_path: Path) -> None:
    table = Table(key="table3_univariate", title="Table 3. Univariate", columns=["", "HR"])
    table.section("grade")
    table.add("  G2-G3 vs G1", "1.25 (1.10-1.40)")
    table.notes = ["HR: hazard ratio; CI: confidence interval."]
    assert tabular_files._simple_sheets([table]) is not None
    fast, reference = both([table], tmp_path)
    assert fast == reference


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("#N/A", "an error code"),
        ("carriage\rreturn", "a character reference"),
        ("x" * 40000, "cut"),
    ],
)
def test_what_openpyxl_stores_otherwise_goes_through_openpyxl(text: str, why: str) -> None:
    table = Table(key="t", title="T", columns=["a"])
    table.add(text)
    assert tabular_files._simple_sheets([table]) is None, why


def test_negative_control_a_wrong_style_is_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = Table(key="t", title="T", columns=["a", "b"])
    table.add("1", " 2")
    original = tabular_files._sheet_xml
    monkeypatch.setattr(
        tabular_files, "_sheet_xml", lambda rows: original(rows).replace(' s="1"', "", 1)
    )
    fast, reference = both([table], tmp_path)
    assert fast != reference
