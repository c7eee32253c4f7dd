"""Stratification by centre in a study file (``cox.strata``, ``km.strata``) agrees with R.

survival's lung data read as a three-centre study (tests/reference/r/study_lung_strata.R groups
the institutions into centres A, B, C): Cox models with ``strata(centre)`` (with and without
``cluster(inst)``) and log-rank tests with ``strata(centre)``, at the lung study's tolerances
(1e-6 relative for Cox and its cox.zph test, 1e-8 for the log-rank test).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from lung_study import lung_covariates
from rtoutcomes.cli import main
from rtoutcomes.study.errors import StudyFileError
from rtoutcomes.study.schema import parse_study
from test_study_lung_vs_r import KM_RTOL, _close, _compare_cox

HERE = Path(__file__).parent
FIXTURES = HERE / "reference" / "fixtures"
DATA = FIXTURES / "study_lung_centres.csv"


def _config(ties: str) -> dict[str, Any]:
    return {
        "title": "Lung, three centres",
        "data": str(DATA),
        "time_unit": "days",
        "rates_at": [365],
        "km": {"strata": ["centre"]},
        "cox": {"ties": ties, "strata": ["centre"]},
        "endpoints": {
            "OS": {"time": "time", "event": "status", "event_values": [2]},
            "OS_inst": {"time": "time", "event": "status", "event_values": [2], "cluster": "inst"},
        },
        "covariates": lung_covariates("sex", "ecog", "age"),
        "analyses": {
            "groups": ["sex", "ecog"],
            "univariate": ["sex", "ecog", "age"],
            "multivariate": {"OS": ["sex", "ecog", "age"], "OS_inst": ["sex", "ecog", "age"]},
        },
    }


def _run(tmp_path: Path, config: dict[str, Any]) -> dict[str, Any]:
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump(config, sort_keys=False))
    out = tmp_path / "out"
    assert (
        main(["analyze", config["data"], "--config", str(study), "--out", str(out), "--quiet"]) == 0
    )
    results: dict[str, Any] = json.loads((out / "results.json").read_text())
    return results


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_stratified_cox_and_logrank_match_r(tmp_path: Path, ties: str) -> None:
    r = json.loads((FIXTURES / f"study_lung_strata_{ties}.json").read_text())
    results = _run(tmp_path, _config(ties))
    os_ = results["endpoints"]["OS"]
    for name, rm in r["univariate"].items():
        _compare_cox(os_["univariate"][name], rm, f"stratified univariate {name}")
        assert os_["univariate"][name]["strata"] == ["centre"]
    _compare_cox(os_["multivariate"], r["multivariate"], "stratified multivariate")
    clustered = results["endpoints"]["OS_inst"]["multivariate"]
    assert clustered["robust"]
    _compare_cox(clustered, r["multivariate_clustered"], "stratified, clustered multivariate")
    for group, rl in r["logrank"].items():
        ours = os_["groups"][group]["logrank"]
        assert ours["df"] == rl["df"]
        _close(ours["statistic"], rl["statistic"], KM_RTOL, f"stratified log-rank {group}")
        _close(ours["p"], rl["p"], KM_RTOL, f"stratified log-rank {group} p")
        # the univariate model of a grouping covariate reports the same (stratified) test
        assert os_["univariate"][group]["logrank"] == ours
    assert results["study"]["cox"]["strata"] == ["centre"]
    assert results["study"]["km"]["strata"] == ["centre"]


def test_stratification_changes_the_estimate(tmp_path: Path) -> None:
    """Negative control: without strata the same model gives R's unstratified numbers, not the
    stratified fixture's (so the comparison above can fail)."""
    r = json.loads((FIXTURES / "study_lung_strata_efron.json").read_text())
    config = _config("efron")
    del config["cox"]["strata"], config["km"]["strata"]
    results = _run(tmp_path, config)
    with pytest.raises(AssertionError):
        _compare_cox(results["endpoints"]["OS"]["multivariate"], r["multivariate"], "pooled")
    assert "strata" not in results["study"]["cox"]
    assert "strata" not in results["endpoints"]["OS"]["multivariate"]


def test_methods_paragraph_states_the_stratification(tmp_path: Path) -> None:
    _run(tmp_path, _config("efron"))
    html = (tmp_path / "out" / "report.html").read_text()
    assert "Cox models were stratified by centre" in html
    assert "Log-rank tests were stratified by centre" in html


def test_missing_stratum_rows_are_dropped_and_counted(tmp_path: Path) -> None:
    import pandas as pd

    table = pd.read_csv(DATA)
    table.loc[:9, "centre"] = None
    data = tmp_path / "centres.csv"
    table.to_csv(data, index=False)
    config = _config("efron")
    config["data"] = str(data)
    results = _run(tmp_path, config)
    model = results["endpoints"]["OS"]["univariate"]["age"]
    assert model["n"] == len(table) - 10 and model["dropped"] == 10


@pytest.mark.parametrize(
    ("cox", "message"),
    [
        ({"strata": "centre"}, None),
        ({"strata": ["centre", "centre"]}, "cox.strata"),
        ({"strata": [""]}, "cox.strata[0]"),
        ({"strata": {"a": 1}}, "cox.strata"),
        ({"stratum": ["centre"]}, "did you mean 'strata'"),
    ],
)
def test_strata_key_is_validated(cox: dict[str, Any], message: str | None) -> None:
    config = _config("efron")
    config["cox"] = cox
    if message is None:
        assert parse_study(config).cox.strata == ("centre",)
        return
    with pytest.raises(StudyFileError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_study(config)


def test_unknown_stratification_column_is_an_error(tmp_path: Path, capsys: Any) -> None:
    config = _config("efron")
    config["cox"]["strata"] = ["hospital"]
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump(config, sort_keys=False))
    assert (
        main(
            ["analyze", str(DATA), "--config", str(study), "--out", str(tmp_path / "o"), "--quiet"]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "stratification column 'hospital' is not in the analysis table" in err
