"""Errors of the study layer: a bad study file or an analysis table that does not fit it."""

from __future__ import annotations

from rtoutcomes.errors import RtOutcomesError


class StudyFileError(RtOutcomesError):
    """The study file is invalid; the message names the file, the key path and the rule."""

    exit_code = 2


class AnalysisTableError(RtOutcomesError):
    """The analysis table does not fit the study file (missing column, bad value...)."""

    exit_code = 2


def sheet_row(position: int) -> int:
    """The row number a spreadsheet shows for the 0-based data row ``position``: the header
    is row 1, so the first data row is row 2 (the numbering of the registry import)."""
    return position + 2
