"""Errors of the study layer: a bad study file or an analysis table that does not fit it."""

from __future__ import annotations

from rtoutcomes.errors import RtOutcomesError


class StudyFileError(RtOutcomesError):
    """The study file is invalid; the message names the file, the key path and the rule."""

    exit_code = 2


class AnalysisTableError(RtOutcomesError):
    """The analysis table does not fit the study file (missing column, bad value...)."""

    exit_code = 2
