"""The analysis table's CSV reader (pandas' C parser, delimiter sniffed from the header line)
gives the same table as pandas' Python parser with a sniffed delimiter (the reader it replaced),
and a row with too many cells is refused with its spreadsheet row number."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from rtoutcomes.study import AnalysisTableError
from rtoutcomes.study.table import read_table

HERE = Path(__file__).parent

CASES = {
    "comma": "id,time,status,grade\nP1,12.5,1,2\nP2,3,0,\nP3,7.25,1,3\n",
    "semicolon": "id;time;status;size\nP1;12.5;1;2,5\nP2;3;0;NA\n",
    "bom_crlf": "\ufeffid,time,status\r\nP1,1,1\r\nP2,2,0\r\n",
    "quoted": 'id,note,time\nP1,"a, b",1\nP2,"say ""hi""",2\nP3,"two\nlines",3\n',
    "blank_rows": "id,time\nP1,1\n\nP2,2\n\n",
    "missing_codes": "id,time,x\nP1,1,NA\nP2,2,N/A\nP3,3,\nP4,4,null\nP5,5,1\n",
    "float_digits": "id,time\nP1,0.1\nP2,1e-310\nP3,123456789.123456789\nP4,2.675\n"
    "P5,0.30000000000000004\nP6,1.7976931348623157e308\nP7,5e-324\n",
    "int_and_text": "id,code,flag\n1,007,TRUE\n2,12,false\n3,x,True\n",
    "spaces": "id , time ,grade\n P1 , 1.5 , G1\nP2,2, G2 \n",
    "semicolon_in_quotes": 'id,note\nP1,"a;b;c"\nP2,d\n',
    "dates": "id,date\nP1,2020-01-02\nP2,2021-12-31\n",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_table_as_the_python_parser(tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.csv"
    path.write_bytes(CASES[name].encode("utf-8"))
    expected = pd.read_csv(path, sep=None, engine="python", encoding="utf-8-sig")
    ours = read_table(path)
    pd.testing.assert_frame_equal(ours, expected, check_exact=True)
    assert list(ours.dtypes) == list(expected.dtypes)


def test_lung_fixture_identical(tmp_path: Path) -> None:
    path = HERE / "reference" / "fixtures" / "study_lung.csv"
    expected = pd.read_csv(path, sep=None, engine="python", encoding="utf-8-sig")
    pd.testing.assert_frame_equal(read_table(path), expected, check_exact=True)


def test_one_column_table(tmp_path: Path) -> None:
    # the Python parser's sniffer cannot find a delimiter in a one-column file
    path = tmp_path / "one.csv"
    path.write_text("time\n1\n2\n", encoding="utf-8")
    assert read_table(path)["time"].tolist() == [1, 2]


def test_row_with_extra_cells_named_by_spreadsheet_row(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("id,time,status\nP1,1,1\n\nP2,2,0,oops\n", encoding="utf-8")
    with pytest.raises(AnalysisTableError) as info:
        read_table(path)
    assert str(info.value) == (
        f"{path}: cannot read the analysis table: row 4 has 4 cells where the header has 3; "
        "a text with an unquoted delimiter splits into extra cells"
    )


def test_not_utf8_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("id,name\nP1,Jos\xe9\n".encode("latin-1"))
    with pytest.raises(AnalysisTableError, match="cannot read the analysis table"):
        read_table(path)
