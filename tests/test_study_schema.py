"""The study file: the issue's vocabulary parses; every mistake is an error naming key and rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from rtoutcomes.study import StudyFileError, load_study, parse_study

DATA = Path(__file__).parent / "data"

ISSUE_EXAMPLE = """
title: SBRT for recurrent and oligometastatic STS
data: cohort.csv
time_unit: months
rates_at: [12, 24, 36]
km: {conf_type: log, conf_level: 0.95}
cox: {ties: efron}
endpoints:
  OS:  {time: os_time, event: os_status, event_values: [1]}
  LC:  {time: lc_time, event: lc_status, event_values: [1], cluster: patient_id}
covariates:
  grade: {column: grade, type: categorical, reference: "G2-G3", recode: {G1: [1], G2-G3: [2, 3]}}
  size:  {column: size_cm, type: binary, cut: 5, labels: ["<=5 cm", ">5 cm"]}
  age:   {column: age, type: continuous}
analyses:
  groups: [grade, size]
  univariate: [grade, size, age]
  multivariate: {OS: [grade, age], LC: [grade, size]}
  nested: {LC: [[grade], [grade, size], [grade, size, age]]}
"""


def _example() -> dict[str, Any]:
    parsed = yaml.safe_load(ISSUE_EXAMPLE)
    assert isinstance(parsed, dict)
    return parsed


def test_issue_example_parses(tmp_path: Path) -> None:
    path = tmp_path / "study.yaml"
    path.write_text(ISSUE_EXAMPLE)
    study = load_study(path)
    assert study.data == tmp_path / "cohort.csv"
    assert study.rates_at == (12.0, 24.0, 36.0)
    assert study.endpoints["LC"].cluster == "patient_id"
    assert study.endpoints["LC"].unit == "lesion"
    assert study.endpoints["OS"].event_values == ("1",)
    grade = study.covariates["grade"]
    assert grade.levels == ("G1", "G2-G3") and grade.reference == "G2-G3"
    assert grade.recode == (("G1", ("1",)), ("G2-G3", ("2", "3")))
    size = study.covariates["size"]
    assert size.cut == 5.0 and size.labels == ("<=5 cm", ">5 cm") and size.reference == "<=5 cm"
    assert study.analyses.nested["LC"][2] == ("grade", "size", "age")
    assert len(study.sha256) == 64


def test_lung_study_file_parses() -> None:
    study = load_study(DATA / "study_lung.yaml")
    assert study.time_unit == "days"
    assert study.covariates["ecog"].recode[2] == ("2-3", ("2", "3"))


def _error(change: dict[str, Any] | None = None, drop: tuple[str, ...] = (), **top: Any) -> str:
    parsed = _example()
    for dotted, value in (change or {}).items():
        *parents, last = dotted.split(".")
        node = parsed
        for key in parents:
            node = node[key]
        node[last] = value
    for dotted in drop:
        *parents, last = dotted.split(".")
        node = parsed
        for key in parents:
            node = node[key]
        del node[last]
    parsed.update(top)
    with pytest.raises(StudyFileError) as info:
        parse_study(parsed, source="s.yaml")
    return str(info.value)


@pytest.mark.parametrize(
    ("change", "drop", "top", "expected"),
    [
        ({}, (), {"conf_tipe": 1}, "key 'conf_tipe': unknown key"),
        (
            {"km.confType": "log"},
            (),
            {},
            "key 'km.confType': unknown key; did you mean 'conf_type'?",
        ),
        (
            {"km.conf_type": "loglog"},
            (),
            {},
            "key 'km.conf_type': must be one of plain, log, "
            "log-log, got 'loglog'; did you mean 'log-log'?",
        ),
        ({"km.conf_level": 95}, (), {}, "key 'km.conf_level': must be between 0 and 1"),
        ({"cox.ties": "exact"}, (), {}, "key 'cox.ties': must be one of efron, breslow"),
        ({"time_unit": "years"}, (), {}, "key 'time_unit': must be one of days, months"),
        ({"rates_at": [24, 12]}, (), {}, "key 'rates_at': times must be increasing"),
        ({}, ("endpoints.OS.time",), {}, "key 'endpoints.OS.time': is required"),
        (
            {"endpoints.OS.evnt": "x"},
            (),
            {},
            "key 'endpoints.OS.evnt': unknown key; did you mean 'event'?",
        ),
        (
            {"endpoints.OS.event_values": []},
            (),
            {},
            "key 'endpoints.OS.event_values': must be a non-empty list",
        ),
        (
            {"covariates.grade.reference": "G3"},
            (),
            {},
            "key 'covariates.grade.reference': 'G3' is not one of the recoded levels",
        ),
        (
            {"covariates.grade.recode": {"G1": [1], "G2": [1, 2]}},
            (),
            {},
            "key 'covariates.grade.recode.G2': value '1' is already in level 'G1'",
        ),
        (
            {"covariates.grade.type": "ordinal"},
            (),
            {},
            "key 'covariates.grade.type': must be one of categorical, binary, continuous",
        ),
        ({}, ("covariates.size.cut",), {}, "key 'covariates.size.cut': is required for a binary"),
        (
            {"covariates.size.labels": ["a", "b", "c"]},
            (),
            {},
            "key 'covariates.size.labels': must give exactly 2 labels",
        ),
        (
            {"covariates.age.cut": 60},
            (),
            {},
            "key 'covariates.age.cut': does not apply to a continuous covariate",
        ),
        (
            {"analyses.groups": ["grade", "sise"]},
            (),
            {},
            "key 'analyses.groups[1]': 'sise' is not a defined covariate; did you mean 'size'?",
        ),
        (
            {"analyses.groups": ["grade", "age"]},
            (),
            {},
            "key 'analyses.groups[1]': 'age' is "
            "continuous: Kaplan-Meier groups need a categorical or binary covariate",
        ),
        (
            {"analyses.multivariate": {"PFS": ["grade"]}},
            (),
            {},
            "key 'analyses.multivariate.PFS': unknown key",
        ),
        (
            {"analyses.nested": {"LC": [["grade", "size"], ["grade"]]}},
            (),
            {},
            "key 'analyses.nested.LC[1]': must contain every covariate of model 1",
        ),
        (
            {"analyses.univariate": ["grade", "grade"]},
            (),
            {},
            "key 'analyses.univariate': lists grade more than once",
        ),
        ({}, ("endpoints",), {}, "key 'endpoints': is required"),
        ({}, (), {"db": "sqlite:///r.db"}, "key 'db': give either 'data'"),
        ({"title": ["a"]}, (), {}, "key 'title': must be text, got a list"),
    ],
)
def test_errors_name_key_and_rule(
    change: dict[str, Any], drop: tuple[str, ...], top: dict[str, Any], expected: str
) -> None:
    message = _error(change, drop, **top)
    assert message.startswith("s.yaml: ")
    assert expected in message


def test_not_yaml(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("title: [unclosed\n")
    with pytest.raises(StudyFileError, match=r"bad\.yaml: not valid YAML"):
        load_study(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(StudyFileError, match="cannot read the study file"):
        load_study(tmp_path / "absent.yaml")


def test_registry_study_derives_endpoints_and_standard_covariates() -> None:
    study = parse_study(
        {
            "title": "t",
            "db": "sqlite:///r.db",
            "endpoints": {"OS": None, "LC": {}},
            "analyses": {"groups": ["grade"], "univariate": ["grade", "size", "bed10"]},
        }
    )
    assert study.source_mode == "registry"
    assert study.endpoints["LC"].cluster == "patient_id" and study.endpoints["LC"].derived
    assert study.endpoints["OS"].time == "os_time"
    with pytest.raises(StudyFileError, match="a registry derives only OS, PFS, LC"):
        parse_study({"title": "t", "db": "sqlite:///r.db", "endpoints": {"DFS": {}}})


def test_packaged_model_study_parses() -> None:
    from rtoutcomes.study.standard import model_study_path

    study = load_study(model_study_path())
    assert study.source_mode == "registry"
    assert list(study.endpoints) == ["LC", "OS", "PFS"]
    assert study.endpoints["LC"].cluster == "patient_id"
    assert study.analyses.nested["LC"][-1] == ("grade", "size", "setting", "lesions")
