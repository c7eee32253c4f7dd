"""One cell -> one typed value, or the rule it breaks (``CellError``).

Driven by the column specification: the kind (text, date, yes/no, integer, number), the allowed
values and the range. Missing values: an empty cell, ``NA`` or ``N/A``. Codes that people use for
"unknown" (``999``, ``-99``, ``.``...) are refused with a request to leave the cell empty, so
that a code is never analysed as a measurement.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re

from rtoutcomes.io.outputs import FORMULA_PREFIXES, xml_safe
from rtoutcomes.io.tabular import excel_serial_to_date
from rtoutcomes.io.yes_no import YesNoError, parse_yes_no
from rtoutcomes.registry.spec import ColumnSpec

MISSING_TOKENS = frozenset({"", "NA", "N/A"})
TEXT_MISSING_CODES = frozenset({".", "-", "--", "?", "..."})
NUMERIC_MISSING_CODES = frozenset({-9.0, -99.0, -999.0, -9999.0, 999.0, 9999.0, 99999.0})
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2100, 12, 31)

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$", re.ASCII)
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$", re.ASCII)
_WITH_UNIT = re.compile(r"^([+-]?\d+(?:[.,]\d+)?)\s*([A-Za-z%]+\d?)$", re.ASCII)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
_DIGITS = re.compile(r"^\d+(\.0+)?$", re.ASCII)


class CellError(ValueError):
    """The cell breaks ``rule`` (a sentence, with a hint to fix it when there is one)."""

    def __init__(self, rule: str) -> None:
        super().__init__(rule)
        self.rule = rule


MISSING = None


def shown(cell: object) -> str:
    """A cell as the user wrote it, for messages."""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, dt.datetime) and cell.time() == dt.time(0):
        return cell.date().isoformat()
    return str(cell)


def parse_cell(cell: object, column: ColumnSpec, date_system: int | None) -> object:
    """The typed value of ``cell`` in ``column`` (``None`` if missing), or raise ``CellError``.

    ``date_system``: 1900 or 1904 for a workbook's numeric date cells; ``None`` for CSV, where a
    number in a date column is refused (it is probably an Excel serial exported as a number).
    Required-ness is not checked here (see ``validation``).
    """
    if isinstance(cell, str):
        cell = cell.strip()
        if cell.upper() in MISSING_TOKENS:
            return MISSING
        if cell in TEXT_MISSING_CODES:
            raise CellError(
                f"{cell!r} looks like a code for a missing value; leave the cell empty instead"
            )
    elif cell is None:
        return MISSING
    if column.kind == "date":
        return _parse_date(cell, date_system)
    if column.kind == "yes/no":
        return _parse_yes_no(cell)
    if column.kind in ("integer", "number"):
        return _check_range(_parse_number(cell, column), column)
    text = _check_choice(_parse_text(cell), column)
    if column.name.endswith("_id"):
        check_identifier(text)
    elif xml_safe(text) != text:
        bad = next(c for c in text if xml_safe(c) != c)
        raise CellError(f"a control character ({_named(bad)}) in the text: remove it")
    return text


_IDENTIFIER = re.compile(r"^[!-~]+( [!-~]+)*$")  # printable ASCII, single inner spaces


def plain_identifier(text: str) -> bool:
    """``text`` is an identifier that ``parse_cell`` returns as it is in a text column without
    choices whose name ends in ``_id`` (printable ASCII with single inner spaces, not a missing
    value's token or code, no export apostrophe to undo): each of the tens of thousands of ids
    of a whole-registry import is checked by this one test (``validation._check_rows``);
    tests/registry/test_cells.py checks that it implies ``parse_cell``'s answer."""
    return (
        _IDENTIFIER.match(text) is not None
        and text[0] != "'"
        and text.upper() not in MISSING_TOKENS
        and text not in TEXT_MISSING_CODES
    )


def identifier_column(column: ColumnSpec) -> bool:
    """``parse_cell`` checks ``column``'s texts as identifiers (``plain_identifier``)."""
    return column.kind == "text" and not column.choices and column.name.endswith("_id")


def _named(char: str) -> str:
    import unicodedata

    return f"U+{ord(char):04X} {unicodedata.name(char, 'control character')}"


def check_identifier(text: str) -> None:
    """An identifier (``patient_id``, ``lesion_id``...) is printable ASCII with single spaces.

    Invisible characters (zero-width or no-break space, NUL) and look-alike letters from other
    scripts (Cyrillic 'а' for Latin 'a') would make two ids that print the same but differ:
    refused here; ids that differ only by case are refused by the uniqueness check.
    """
    if _IDENTIFIER.match(text):
        return
    bad = next((c for c in text if not ("!" <= c <= "~" or c == " ")), None)
    if bad is None:
        raise CellError("an identifier with a double space; write single spaces")
    raise CellError(
        f"an identifier may hold printable ASCII characters only; found {_named(bad)} "
        "(invisible or look-alike characters make ids that print the same but differ)"
    )


def _parse_text(cell: object) -> str:
    if isinstance(cell, bool):
        raise CellError("a yes/no (boolean) cell where text is expected")
    if isinstance(cell, dt.date | dt.time):
        raise CellError(
            "the spreadsheet turned this cell into a date or time; format the column as text"
        )
    if isinstance(cell, float):
        return shown(cell) if cell.is_integer() else repr(cell)
    text = str(cell)
    if text.startswith("'") and text[1:2] and text[1] in FORMULA_PREFIXES:
        # Undo the apostrophe that export puts before = + - @ (CSV-injection defence).
        text = text[1:]
    return text


def _check_choice(text: str, column: ColumnSpec) -> str:
    if not column.choices:
        return text
    for choice in column.choices:
        if text.casefold() == choice.casefold() or _same_number(text, choice):
            return choice
    allowed = ", ".join(repr(c) for c in column.choices)
    close = difflib.get_close_matches(text.lower(), [c.lower() for c in column.choices], n=1)
    hint = ""
    if close:
        hint = f"; did you mean {next(c for c in column.choices if c.lower() == close[0])!r}?"
    raise CellError(f"not an allowed value; allowed: {allowed}{hint}")


def _same_number(text: str, choice: str) -> bool:
    """``5`` matches the choice ``5.0`` (a spreadsheet stores a version number as a number)."""
    if not (_NUMBER.match(text) and _NUMBER.match(choice)):
        return False
    return float(text) == float(choice)


def _parse_yes_no(cell: object) -> bool:
    try:
        value = parse_yes_no(cell)
    except YesNoError:
        value = None
    if value is None:  # missing cells never get here: anything else is not yes or no
        raise CellError("write yes or no")
    return value


def _parse_number(cell: object, column: ColumnSpec) -> float | int:
    if isinstance(cell, bool):
        raise CellError("a yes/no (boolean) cell where a number is expected")
    if isinstance(cell, dt.date | dt.time):
        raise CellError(
            "the spreadsheet turned this cell into a date; format the column as a number"
        )
    if isinstance(cell, int | float):
        value = float(cell)
    else:
        text = str(cell)
        if _NUMBER.match(text):
            if column.kind == "integer" and not _DIGITS.match(text.lstrip("+-")):
                raise CellError(
                    "not a whole number written with digits only (no exponent, no decimals)"
                )
            value = float(text)
        elif _DECIMAL_COMMA.match(text):
            raise CellError(f"decimal comma; write {text.replace(',', '.')} with a point")
        elif match := _WITH_UNIT.match(text):
            unit = f" ({column.unit})" if column.unit else ""
            raise CellError(
                f"write the number alone, without {match.group(2)!r}: the column's unit{unit} "
                "is fixed by its name"
            )
        else:
            raise CellError("not a number")
    if not math.isfinite(value):
        raise CellError("not a finite number")
    in_range = column.range is None or column.range.contains(value)
    if value in NUMERIC_MISSING_CODES or (value in (99.0, -1.0) and not in_range):
        raise CellError(
            f"{shown(value)} looks like a code for a missing value; leave the cell empty when "
            "the value is unknown"
        )
    if column.kind == "integer":
        if not value.is_integer():
            raise CellError("not a whole number")
        return int(value)
    return value


def _check_range(value: float | int, column: ColumnSpec) -> float | int:
    bounds = column.range
    if bounds is None or bounds.contains(value):
        return value
    rule = f"must be {bounds.describe(column.unit)}"
    if column.unit == "cm" and bounds.high is not None and value > bounds.high:
        rule += (
            f"; {shown(value)} cm is implausible: if the value is in millimetres, "
            f"write {shown(value / 10)} (cm)"
        )
    elif column.unit == "Gy" and bounds.high is not None and bounds.contains(value / 100):
        rule += f"; this looks like cGy: {shown(value)} cGy = {shown(value / 100)} Gy"
    raise CellError(rule)


def _parse_date(cell: object, date_system: int | None) -> dt.date:
    if isinstance(cell, dt.datetime):
        if cell.time() != dt.time(0):
            raise CellError("a date with a time of day; give the date only")
        return _check_date_bounds(cell.date())
    if isinstance(cell, dt.date):
        return _check_date_bounds(cell)
    if isinstance(cell, bool):
        raise CellError("a yes/no (boolean) cell where a date is expected")
    if isinstance(cell, int | float):
        if date_system is None:  # pragma: no cover - only workbooks store numbers
            raise CellError("a number where a date is expected")
        try:
            return _check_date_bounds(excel_serial_to_date(cell, date_system))
        except ValueError as error:
            raise CellError(f"Excel date serial: {error}") from None
    text = str(cell)
    if _DIGITS.match(text):
        raise CellError(_serial_hint(float(text)))
    if _NUMBER.match(text) and float(text) in NUMERIC_MISSING_CODES:
        raise CellError(f"{text} looks like a code for a missing value; leave the cell empty")
    if not _ISO_DATE.match(text):
        raise CellError("not a date written YYYY-MM-DD")
    try:
        value = dt.date.fromisoformat(text)
    except ValueError:
        raise CellError("not a real calendar date") from None
    return _check_date_bounds(value)


def _serial_hint(serial: float) -> str:
    if serial in NUMERIC_MISSING_CODES:
        return f"{shown(serial)} looks like a code for a missing value; leave the cell empty"
    readings = []
    for system in (1900, 1904):
        try:
            readings.append(
                f"{excel_serial_to_date(serial, system).isoformat()} "
                f"in Excel's {system} date system"
            )
        except (ValueError, OverflowError):
            readings.append(f"no date in Excel's {system} date system")
    return (
        "a number where a date is expected; it looks like an Excel date serial, which would be "
        + " or ".join(readings)
        + ": write the date as YYYY-MM-DD"
    )


def _check_date_bounds(value: dt.date) -> dt.date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise CellError(f"{value.isoformat()} is outside {EARLIEST_DATE.year}..{LATEST_DATE.year}")
    return value
