"""The study file: one YAML file wired from registry or analysis table to report."""

from rtoutcomes.study.errors import AnalysisTableError, StudyFileError
from rtoutcomes.study.schema import load_study, parse_study
from rtoutcomes.study.spec import Study

__all__ = ["AnalysisTableError", "Study", "StudyFileError", "load_study", "parse_study"]
