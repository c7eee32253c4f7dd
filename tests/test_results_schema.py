"""results.json against its model: the published JSON Schema is the one generated from the
TypedDicts and every study's results.json validates against it. (That the outputs equal those
of the previous version, apart from provenance and schema_version, is
tests/test_study_determinism.py's stored-outputs test.)"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from rtoutcomes.results import SCHEMA_VERSION
from rtoutcomes.results.schema import results_schema, schema_text

DOCS = Path(__file__).resolve().parents[1] / "docs"
SCHEMA_FILE = DOCS / "results.schema.json"


def _load(path: Path) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return value


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = _load(SCHEMA_FILE)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_published_schema_is_generated_from_the_model() -> None:
    """docs/results.schema.json is exactly the generator's output (regenerate it with
    ``python -m rtoutcomes.results.schema > docs/results.schema.json``)."""
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), (
        "docs/results.schema.json is out of date: run "
        "`PYTHONPATH=src python -m rtoutcomes.results.schema > docs/results.schema.json`"
    )


def test_every_schema_version_has_a_changelog_entry() -> None:
    changelog = (DOCS / "results-schema-changelog.md").read_text(encoding="utf-8")
    assert f"## {SCHEMA_VERSION}" in changelog
    assert results_schema()["properties"]["schema_version"]["const"] == SCHEMA_VERSION


@pytest.mark.parametrize("study", ["demo", "lung"])
def test_results_json_validates(
    study: str, request: pytest.FixtureRequest, validator: jsonschema.Draft202012Validator
) -> None:
    out: Path = request.getfixturevalue(f"{study}_run")
    results = _load(out / "results.json")
    assert results["schema_version"] == SCHEMA_VERSION
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(results)]
    assert errors == []


def test_schema_refuses_what_the_model_does_not_allow(
    demo_run: Path, validator: jsonschema.Draft202012Validator
) -> None:
    """Negative controls: the validation can fail (unknown key, missing key, wrong type, NaN
    written as text, another schema version)."""
    results = _load(demo_run / "results.json")
    broken = []
    extra = copy.deepcopy(results)
    extra["endpoints"]["OS"]["univariate"]["grade"]["hazard"] = 1.0
    broken.append(extra)
    missing = copy.deepcopy(results)
    del missing["endpoints"]["LC"]["competing_risks"]["local_failure"]["curve"]["end"]
    broken.append(missing)
    wrong_type = copy.deepcopy(results)
    wrong_type["cohort"]["flow"]["screened"] = "68"
    broken.append(wrong_type)
    nan_text = copy.deepcopy(results)
    nan_text["endpoints"]["OS"]["median"]["upper"] = "NaN"
    broken.append(nan_text)
    version = copy.deepcopy(results)
    version["schema_version"] = "0.9.0"
    broken.append(version)
    for value in broken:
        assert not validator.is_valid(value)
