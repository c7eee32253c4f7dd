"""Read a flat analysis table (CSV or XLSX) and pull an endpoint's time and event out of it."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rtoutcomes.study.covariates import codes_of, numeric_column
from rtoutcomes.study.errors import AnalysisTableError, sheet_row
from rtoutcomes.study.spec import Endpoint

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV (``,`` or ``;``, UTF-8 with or without BOM) or the first sheet of an XLSX.

    CSV: the delimiter is sniffed from the header line (``io.tabular.sniff_delimiter``, as for
    registry files) and the file read by pandas' C parser with its default float conversion
    (the one its Python parser uses) and whole-column type inference (``_read_csv``), so the
    table is the one the Python parser with a sniffed delimiter gave before, in a fraction of
    the time and memory (tests/test_study_table_read.py compares the two).
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise AnalysisTableError(f"{path}: analysis table not found")
    suffix = path.suffix.lower()
    errors: tuple[type[Exception], ...] = (UnicodeDecodeError, pd.errors.ParserError)
    if suffix in (".xlsx", ".xlsm"):  # openpyxl (~0.25 s to import) only for a workbook
        from rtoutcomes.io.tabular import workbook_errors

        errors = (*workbook_errors(), *errors)
    try:
        if suffix in (".xlsx", ".xlsm"):
            return pd.read_excel(path, sheet_name=0, engine="openpyxl")
        if suffix in (".csv", ".txt"):
            return _read_csv(path, _delimiter(path))
    except pd.errors.EmptyDataError:
        raise AnalysisTableError(f"{path}: the analysis table is empty (no header row)") from None
    except errors as error:
        raise AnalysisTableError(
            f"{path}: cannot read the analysis table: {_reading_problem(error)}"
        ) from None
    raise AnalysisTableError(f"{path}: analysis table must be .csv or .xlsx, got '{suffix}'")


# A cell holding an integer zero written with a minus sign ("-0", "-000", quoted or padded):
# parsed as an integer it is 0, as a float -0.0 (see ``_read_csv``).
_MINUS_ZERO = re.compile(rb'(?:^|[,;])[ \t"]*-0+[ \t"]*(?=[,;\r\n]|$)', re.MULTILINE)


def _read_csv(path: Path, delimiter: str) -> pd.DataFrame:
    """The CSV as pandas' C parser reads it with whole-column type inference
    (``low_memory=False``), read in chunks when that gives the same table (about half the time
    and memory at a million rows).

    In chunks (pandas' default), each chunk of rows infers its own types and the chunks are
    joined. That is the whole-column table except where the chunks disagreed: pandas warns
    (``DtypeWarning``) when they joined as mixed objects (numbers in one chunk, text in
    another), and joins integer chunks with float chunks silently as floats, converting the
    integers, whereas the whole-column reading parses every cell as a float. The two floats
    differ only for an integer beyond 2**53 (rounded differently) and for ``-0`` (0 as an
    integer, -0.0 as a float). In any of these cases, or if the file might hold such a cell,
    the file is read again as a whole (tests/test_study_table_read.py builds each case across
    a chunk boundary).
    """
    import warnings

    import numpy as np
    import pandas as pd

    def whole() -> pd.DataFrame:
        return pd.read_csv(path, sep=delimiter, engine="c", low_memory=False, encoding="utf-8-sig")

    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.DtypeWarning)
        try:
            table = pd.read_csv(path, sep=delimiter, engine="c", encoding="utf-8-sig")
        except pd.errors.DtypeWarning:
            return whole()
    for _, values in table.items():
        if values.dtype == np.float64 and bool((np.abs(values.to_numpy()) >= 2.0**53).any()):
            return whole()
    if any(values.dtype == np.float64 for _, values in table.items()):
        data = path.read_bytes()
        if b"-0" in data and _MINUS_ZERO.search(data):
            return whole()
    return table


def _delimiter(path: Path) -> str:
    """The delimiter of the header line (the file's first line)."""
    from rtoutcomes.io.tabular import sniff_delimiter

    with open(path, encoding="utf-8-sig", errors="replace", newline="") as f:
        return sniff_delimiter(f.readline())


def _reading_problem(error: Exception) -> str:
    """The parser's message, a row with too many cells said with its spreadsheet row number."""
    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(error))
    if found is None:
        return str(error)
    expected, line, saw = found.groups()
    return (
        f"row {line} has {saw} cells where the header has {expected}; a text with an "
        "unquoted delimiter splits into extra cells"
    )


def sha256_of(path: str | Path) -> str:
    """SHA-256 of a file's bytes (the provenance block reports it)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@dataclass(frozen=True)
class EndpointData:
    """Time, event (0/1) and optional cluster codes of the rows usable for one endpoint.

    ``usable`` marks rows of the table with a time and an event; the arrays hold those rows.
    """

    time: np.ndarray
    event: np.ndarray
    cluster: np.ndarray | None
    usable: np.ndarray


def usable_rows(table: pd.DataFrame, data: EndpointData) -> pd.DataFrame:
    """The rows an endpoint is analysed on, numbered from 0: ``table`` itself when that is
    every row of it already numbered so (the copy costs ~0.17 CPU s at 1e6 rows; the
    analyses read the rows, never write them)."""
    import pandas as pd

    index = table.index
    if (
        bool(data.usable.all())
        and isinstance(index, pd.RangeIndex)
        and index.start == 0
        and index.step == 1
    ):
        return table
    return table.loc[data.usable].reset_index(drop=True)


def endpoint_data(table: pd.DataFrame, endpoint: Endpoint) -> EndpointData:
    """Extract an endpoint; negative times and unknown event codes are errors naming the row."""

    what = f"endpoint '{endpoint.name}'"
    time = numeric_column(table, endpoint.time, what)
    if endpoint.event not in table.columns:
        raise AnalysisTableError(f"{what}: column '{endpoint.event}' is not in the analysis table")
    raw = table[endpoint.event]
    codes = codes_of(raw)
    present = codes.notna()
    negative = (time < 0).to_numpy()
    if negative.any():
        row = int(negative.nonzero()[0][0])
        raise AnalysisTableError(
            f"{what}: column '{endpoint.time}', row {sheet_row(row)}: "
            f"time {float(time.iloc[row])!r} is negative"
        )
    usable = (time.notna() & present).to_numpy()
    cluster = None
    if endpoint.cluster is not None:
        if endpoint.cluster not in table.columns:
            raise AnalysisTableError(
                f"{what}: cluster column '{endpoint.cluster}' is not in the analysis table"
            )
        cluster_raw = table[endpoint.cluster]
        # a new array, not &=: pandas 3's to_numpy() can return a read-only view
        usable = usable & cluster_raw.notna().to_numpy()
        cluster = cluster_raw.astype(str).to_numpy()[usable]
    is_event = codes.isin(list(endpoint.event_values))
    if present.any() and not is_event.any():
        found = sorted(set(codes.dropna()))
        shown = ", ".join(found[:10]) + (", ..." if len(found) > 10 else "")
        raise AnalysisTableError(
            f"{what}: column '{endpoint.event}': no value matches event_values "
            f"[{', '.join(endpoint.event_values)}] (values found: {shown}); every row would be "
            "censored. Event values are compared as written (case matters)"
        )
    _refuse_undeclared_codes(codes, is_event, endpoint, what)
    event = is_event.to_numpy(dtype=float)
    return EndpointData(
        time=time.to_numpy(dtype=float)[usable], event=event[usable], cluster=cluster, usable=usable
    )


def _refuse_undeclared_codes(
    codes: pd.Series, is_event: pd.Series, endpoint: Endpoint, what: str
) -> None:
    """A status code that is neither an event nor a declared censoring code would be counted
    as censored without a word: with ``censor_values`` every other code is refused; without,
    one censoring code is taken and a second one refused (``0``, ``1`` and a stray ``7``)."""
    others = codes.notna() & ~is_event
    if not others.any():
        return
    declared = endpoint.censor_values
    censoring = list(declared) if declared is not None else [str(codes[others].iloc[0])]
    unknown = (others & ~codes.isin(censoring)).to_numpy()
    if not unknown.any():
        return
    row = int(unknown.nonzero()[0][0])
    source = "censor_values" if declared is not None else "the censoring code of the rows above"
    raise AnalysisTableError(
        f"{what}: column '{endpoint.event}', row {sheet_row(row)}: value "
        f"{str(codes.iloc[row])!r} is neither an event value "
        f"[{', '.join(endpoint.event_values)}] nor censored ({source}: "
        f"{', '.join(censoring)}); list every censoring code in the endpoint's censor_values"
    )


def strata_labels(table: pd.DataFrame, columns: tuple[str, ...], what: str) -> np.ndarray:
    """Each row's stratum: the values of ``columns`` as text (several columns joined as R's
    ``strata(a, b)`` labels them, ``a=x, b=y``); ``None`` where any of them is missing."""
    import numpy as np

    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise AnalysisTableError(
            f"{what}: stratification column '{missing[0]}' is not in the analysis table"
        )
    present = table[list(columns)].notna().all(axis=1).to_numpy()
    if len(columns) == 1:
        # a new object array (pandas 3's string columns give arrays that refuse None)
        text = np.array(table[columns[0]].astype(str).tolist(), dtype=object)
    else:
        text = np.array(
            [
                ", ".join(f"{c}={v}" for c, v in zip(columns, row, strict=True))
                for row in table[list(columns)].astype(str).itertuples(index=False)
            ],
            dtype=object,
        )
    text[~present] = None
    return text
