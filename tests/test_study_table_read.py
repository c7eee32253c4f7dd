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


# More rows than one chunk of pandas' chunked (low_memory) reading of a two-column table, so
# that the first row and the last are inferred in different chunks.
CHUNKED_ROWS = 300_000


def _two_chunk_table(path: Path, first: str, last: str) -> None:
    """An integer column whose first cell is ``first`` and last ``last``: the first chunk
    integers, the last chunk inferring its own type."""
    body = "".join(f"{i},{i % 1000}\n" for i in range(CHUNKED_ROWS))
    path.write_text(f"id,x\n0,{first}\n{body}1,{last}\n", encoding="utf-8")


def _whole_column(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, engine="c", low_memory=False, encoding="utf-8-sig")


@pytest.mark.parametrize(
    ("first", "last"),
    [
        ("-0", "2.5"),  # integer 0 in the first chunk, -0.0 when the column is read as floats
        ('"-000"', "2.5"),
        ("8766926462095796700", "2.5"),  # rounded differently as an integer converted to float
        ("7", "text"),  # numbers and text: joined as mixed objects (pandas' DtypeWarning)
        ("1", ""),  # integers, then a missing cell: floats either way
        ("True", ""),
    ],
)
def test_chunks_inferring_different_types_give_the_whole_column_table(
    tmp_path: Path, first: str, last: str
) -> None:
    path = tmp_path / "chunks.csv"
    _two_chunk_table(path, first, last)
    expected = _whole_column(path)
    ours = read_table(path)
    pd.testing.assert_frame_equal(ours, expected, check_exact=True)
    x, expected_x = ours["x"].to_numpy(), expected["x"].to_numpy()
    if x.dtype.kind == "f":  # -0.0 == 0.0: compare the bits too
        assert x.tobytes() == expected_x.tobytes()


# pandas 2 converts the big integer of an integer chunk joined with a float chunk to a different
# float than the whole-column reading; pandas 3 (checked with 3.1.1) gives the same bits either
# way, so there this case cannot show the boundary (rtoutcomes' re-read is then only redundant)
_PANDAS_3 = int(pd.__version__.split(".")[0]) >= 3


@pytest.mark.parametrize(
    ("first", "last"),
    [
        ("-0", "2.5"),
        pytest.param(
            "8766926462095796700",
            "2.5",
            marks=pytest.mark.skipif(_PANDAS_3, reason="pandas 3 reads it the same in chunks"),
        ),
    ],
)
def test_the_chunked_reading_alone_would_differ(tmp_path: Path, first: str, last: str) -> None:
    # negative control: the cases above do reach a chunk boundary, where the chunked reading
    # differs from the whole-column one in the bits of the first cell
    path = tmp_path / "chunks.csv"
    _two_chunk_table(path, first, last)
    chunked = pd.read_csv(path, engine="c", encoding="utf-8-sig")["x"].to_numpy()
    assert chunked[:1].tobytes() != _whole_column(path)["x"].to_numpy()[:1].tobytes()


def test_minus_zero_cells_found() -> None:
    from rtoutcomes.study.table import _MINUS_ZERO

    found = [b"-0", b"a,-0\n", b'a;"-00";b', b"1, -0 ,2", b"x\r\n-0\r\n"]
    not_found = [b"-0.5", b"2020-01-02", b"a,-01", b"x-0", b"-05,1", b"a,0"]
    assert all(_MINUS_ZERO.search(text) for text in found)
    assert not any(_MINUS_ZERO.search(text) for text in not_found)


def test_usable_rows_are_the_table_itself_only_when_nothing_is_dropped() -> None:
    from rtoutcomes.study.spec import Endpoint
    from rtoutcomes.study.table import endpoint_data, usable_rows

    endpoint = Endpoint(name="OS", time="t", event="e", event_values=("1",))
    whole = pd.DataFrame({"t": [1.0, 2.0, 3.0], "e": [1, 0, 1], "x": ["a", "b", "c"]})
    assert usable_rows(whole, endpoint_data(whole, endpoint)) is whole
    gap = whole.assign(t=[1.0, None, 3.0])
    rows = usable_rows(gap, endpoint_data(gap, endpoint))
    assert list(rows["x"]) == ["a", "c"] and list(rows.index) == [0, 1]
    shifted = whole.set_axis([5, 6, 7])  # not numbered from 0: renumbered, not the same
    rows = usable_rows(shifted, endpoint_data(shifted, endpoint))
    assert rows is not shifted and list(rows.index) == [0, 1, 2]
