"""Cell parsing: missing values, codes, yes/no, choices, numbers, dates."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtoutcomes.io.tabular import sniff_delimiter
from rtoutcomes.registry.cells import CellError, identifier_column, parse_cell, plain_identifier
from rtoutcomes.registry.spec import TABLE_BY_NAME, TABLES, ColumnSpec


def col(table: str, name: str) -> ColumnSpec:
    return TABLE_BY_NAME[table].column(name)


@pytest.mark.parametrize("cell", ["", "  ", "NA", "na", "N/A", "n/a", None])
def test_missing_values(cell: object) -> None:
    assert parse_cell(cell, col("lesions", "size_cm"), None) is None


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("yes", True),
        ("Yes", True),
        ("Y", True),
        ("true", True),
        (True, True),
        ("no", False),
        ("N", False),
        ("FALSE", False),
        (False, False),
    ],
)
def test_yes_no(cell: object, expected: bool) -> None:
    assert parse_cell(cell, col("patients", "adjuvant_chemotherapy"), None) is expected


@pytest.mark.parametrize("cell", ["1", "0", "maybe", 1])
def test_yes_no_refused(cell: object) -> None:
    with pytest.raises(CellError, match="yes or no"):
        parse_cell(cell, col("patients", "adjuvant_chemotherapy"), None)


def test_choices_ignore_case_and_store_canonical() -> None:
    assert parse_cell("Female", col("patients", "sex"), None) == "female"
    assert parse_cell("ct", col("assessments", "modality"), None) == "CT"
    assert parse_cell("5", col("toxicities", "ctcae_version"), None) == "5.0"
    with pytest.raises(CellError, match="did you mean 'PET-CT'"):
        parse_cell("PETCT", col("assessments", "modality"), None)


def test_code_99_refused_only_where_out_of_range() -> None:
    with pytest.raises(CellError, match="code for a missing value"):
        parse_cell("99", col("toxicities", "grade"), None)
    assert parse_cell("99", col("sbrt_courses", "isodose_line_pct"), None) == 99.0
    assert parse_cell("99", col("assessments", "longest_diameter_mm"), None) == 99.0
    with pytest.raises(CellError, match="code for a missing value"):
        parse_cell("-1", col("lesions", "size_cm"), None)


@pytest.mark.parametrize("code", ["999", "9999", "-9", "-99", "-999", ".", "-", "?"])
def test_missing_value_codes(code: str) -> None:
    for column in (col("lesions", "size_cm"), col("sbrt_courses", "start_date")):
        with pytest.raises(CellError, match="code for a missing value"):
            parse_cell(code, column, None)


def test_numbers() -> None:
    dose = col("sbrt_courses", "total_dose_gy")
    assert parse_cell(" 40 ", dose, None) == 40.0
    assert parse_cell("4.5e1", dose, None) == 45.0
    assert parse_cell(27, dose, None) == 27.0
    assert parse_cell("5.0", col("sbrt_courses", "fractions"), None) == 5
    for bad, message in (
        ("inf", "not a number"),
        ("forty", "not a number"),
        ("150.5", r"must be > 0 and <= 150 Gy"),
        ("-5", "must be > 0"),
    ):
        with pytest.raises(CellError, match=message):
            parse_cell(bad, dose, None)


def test_dates() -> None:
    start = col("sbrt_courses", "start_date")
    assert parse_cell("2019-01-07", start, None) == dt.date(2019, 1, 7)
    assert parse_cell(dt.datetime(2019, 1, 7), start, 1900) == dt.date(2019, 1, 7)
    assert parse_cell(43472, start, 1900) == dt.date(2019, 1, 7)
    assert parse_cell(43472 - 1462, start, 1904) == dt.date(2019, 1, 7)
    with pytest.raises(CellError, match="2019-01-07 in Excel's 1900 date system"):
        parse_cell("43472", start, None)
    with pytest.raises(CellError, match="not a real calendar date"):
        parse_cell("2023-02-29", start, None)
    assert parse_cell("2024-02-29", start, None) == dt.date(2024, 2, 29)


def test_text_undoes_export_neutralisation() -> None:
    detail = col("lesions", "site_detail")
    assert parse_cell("'=A1", detail, None) == "=A1"
    assert parse_cell("'-left", detail, None) == "-left"
    assert parse_cell("'quoted'", detail, None) == "'quoted'"


def test_sniff_delimiter() -> None:
    assert sniff_delimiter("a;b;c") == ";"
    assert sniff_delimiter("a,b,c") == ","
    assert sniff_delimiter('"x;y",b,c') == ","
    assert sniff_delimiter("single") == ","


_ID_TEXT = st.text(
    alphabet=st.sampled_from(list("aZ09 -'=+@.?/Nn\t\u00a0\u0430\x00")), max_size=8
) | st.sampled_from(["NA", "n/a", "N/A", "na", ".", "--", "...", "'=1", "'x", "A  B", " A", "A "])


@settings(max_examples=500, deadline=None)
@given(_ID_TEXT)
def test_a_plain_identifier_is_what_parse_cell_returns(text: str) -> None:
    """validation._check_rows takes a plain identifier as it is, without parse_cell."""
    column = next(c for s in TABLES for c in s.columns if identifier_column(c))
    if plain_identifier(text):
        assert parse_cell(text, column, None) == text


def test_what_is_not_a_plain_identifier() -> None:
    # negative controls: each would be wrong taken as it is (missing, a code, an undone
    # apostrophe, spaces, invisible or look-alike characters)
    for text in ("NA", "n/a", ".", "?", "'=1", " A", "A ", "A  B", "A\u00a0B", "\u0430", "A\x00"):
        assert not plain_identifier(text), text
    assert plain_identifier("P-001 b") and plain_identifier("n/a-1")
    assert [c.name for s in TABLES for c in s.columns if identifier_column(c)]
