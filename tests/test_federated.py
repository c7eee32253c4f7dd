"""A federated study (vantage6's own mock client, one organisation per centre) gives the pooled
analysis' numbers without any row leaving a centre.

survival's lung data read as three centres (tests/reference/r/study_lung_strata.R makes the
table; its Cox numbers are checked against R in test_study_strata.py): the federated Cox
models equal the pooled ``analyze`` with ``cox.strata: [centre]`` to 1e-10 (coefficients,
naive and robust SEs, logliks, global tests, concordance), and Kaplan-Meier, log-rank and
follow-up equal the pooled analysis of the times coarsened as the centres coarsen them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from lung_study import lung_covariates

pytest.importorskip(
    "vantage6.algorithm.tools.mock_client",
    reason="vantage6-algorithm-tools not installed (pip install "
    "'rtoutcomes[federated]'; .ci/run installs it)",
)

from rtoutcomes.cli import main
from rtoutcomes.federated.disclosure import DisclosurePolicy
from rtoutcomes.federated.simulate import simulate

HERE = Path(__file__).parent
POOLED = HERE / "reference" / "fixtures" / "study_lung_centres.csv"
RTOL = 1e-10
RESOLUTION = 30.0  # days: every time leaves a centre rounded up to a multiple of 30


def _study(path: Path, **extra: Any) -> Path:
    config = {
        "title": "Lung, three centres, federated",
        "time_unit": "days",
        "rates_at": [180, 365],
        "km": {"strata": ["centre"]},
        "cox": {"ties": "efron", "strata": ["centre"]},
        "endpoints": {
            "OS": {"time": "time", "event": "status", "event_values": [2]},
            "OS_inst": {"time": "time", "event": "status", "event_values": [2], "cluster": "inst"},
        },
        "covariates": lung_covariates("sex", "ecog", "age65", "age", "wtloss"),
        "analyses": {
            "groups": ["sex", "ecog", "age65"],
            "univariate": ["sex", "ecog", "age", "wtloss"],
            "multivariate": {"OS": ["sex", "ecog", "age"], "OS_inst": ["sex", "ecog", "age"]},
            "nested": {"OS": [["sex"], ["sex", "age"], ["sex", "age", "wtloss"]]},
        },
        **extra,
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _sites(tmp_path: Path, table: pd.DataFrame) -> list[tuple[str, Path]]:
    sites = []
    for name, rows in table.groupby("centre", sort=True):
        path = tmp_path / f"centre_{name}.csv"
        rows.drop(columns="centre").to_csv(path, index=False)  # a centre's own table
        sites.append((str(name), path))
    return sites


def _pooled(tmp_path: Path, study: Path, table: pd.DataFrame, name: str) -> dict[str, Any]:
    data = tmp_path / f"{name}.csv"
    table.to_csv(data, index=False)
    out = tmp_path / name
    assert main(["analyze", str(data), "--config", str(study), "--out", str(out), "--quiet"]) == 0
    results: dict[str, Any] = json.loads((out / "results.json").read_text())
    return results


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp_path = tmp_path_factory.mktemp("federated")
    study = _study(tmp_path / "study.yaml")
    table = pd.read_csv(POOLED)
    policy = DisclosurePolicy(min_rows=10, min_cell=3, time_resolution=RESOLUTION)
    federated = simulate(
        study,
        _sites(tmp_path, table),
        tmp_path / "federated",
        {name: policy for name in ("A", "B", "C")},
    )
    coarse = table.assign(time=policy.coarsen(table["time"].to_numpy(dtype=float)))
    return {
        "federated": json.loads((tmp_path / "federated" / "results.json").read_text()),
        "returned": federated,
        "pooled": _pooled(tmp_path, study, table, "pooled"),
        "pooled_coarse": _pooled(tmp_path, study, coarse, "pooled_coarse"),
        "dir": tmp_path,
    }


def _models(endpoint: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {f"univariate {k}": m for k, m in endpoint["univariate"].items()}
    if "multivariate" in endpoint:
        found["multivariate"] = endpoint["multivariate"]
    found.update({f"nested {i}": m for i, m in enumerate(endpoint.get("nested", []))})
    return found


def _close(a: Any, b: Any, what: str, rtol: float = RTOL) -> None:
    if a is None or b is None:
        assert a is None and b is None, what
        return
    np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-13, err_msg=what)


def test_cox_equals_pooled_stratified_analysis(runs: dict[str, Any]) -> None:
    compared = 0
    for name in ("OS", "OS_inst"):
        ours, pooled = runs["federated"]["endpoints"][name], runs["pooled"]["endpoints"][name]
        for what, model in _models(ours).items():
            reference = _models(pooled)[what]
            where = f"{name} {what}"
            for key in ("n", "events", "dropped", "robust", "covariates", "strata"):
                assert model[key] == reference[key], f"{where} {key}"
            assert [t["term"] for t in model["terms"]] == [t["term"] for t in reference["terms"]]
            for key in ("coef", "se", "naive_se", "hr", "lower", "upper", "z", "p"):
                _close(
                    [t[key] for t in model["terms"]],
                    [t[key] for t in reference["terms"]],
                    f"{where} {key}",
                )
            for key in ("loglik", "loglik_null", "concordance"):
                _close(model[key], reference[key], f"{where} {key}")
            for test in ("likelihood_ratio", "wald", "score"):
                for key in ("statistic", "p"):
                    _close(
                        model["global_tests"][test][key],
                        reference["global_tests"][test][key],
                        f"{where} {test} {key}",
                    )
            assert model["n_clusters"] == reference["n_clusters"]
            if what.startswith("nested ") and model.get("lr_test"):
                _close(
                    model["lr_test"]["statistic"], reference["lr_test"]["statistic"], f"{where} LR"
                )
            assert model["ph_test"] is None  # not released by a federated analysis
            compared += 1
    assert compared == 13  # OS: 4 univariate, multivariate, 3 nested; OS_inst: 4 + 1


def test_km_logrank_follow_up_equal_pooled_on_coarsened_times(runs: dict[str, Any]) -> None:
    for name in ("OS", "OS_inst"):
        ours = runs["federated"]["endpoints"][name]
        pooled = runs["pooled_coarse"]["endpoints"][name]
        for key in ("n", "events", "median", "rates", "km", "follow_up", "dropped"):
            assert ours[key] == pooled[key], f"{name} {key}"
        for group, g in ours["groups"].items():
            p = pooled["groups"][group]
            assert g["levels"] == p["levels"] and g["order"] == p["order"], f"{name} {group}"
            assert g["dropped"] == p["dropped"]
            _close(g["logrank"]["statistic"], p["logrank"]["statistic"], f"{name} {group} LR")
        # and the coarsening is real: the exact times give other curves
        assert ours["km"] != runs["pooled"]["endpoints"][name]["km"]


def test_report_says_it_is_federated(runs: dict[str, Any]) -> None:
    results = runs["federated"]
    assert [c["name"] for c in results["federated"]["centres"]] == ["A", "B", "C"]
    assert results["federated"]["centres"][0]["disclosure"]["time_resolution"] == RESOLUTION
    html = (runs["dir"] / "federated" / "report.html").read_text()
    assert "federated over 3 centres" in html
    assert "no patient row left its centre" in html
    assert "proportional hazards not tested" in html


def test_no_row_level_value_reaches_the_central_results(runs: dict[str, Any]) -> None:
    """The central results hold no exact time: every released time is on the 30-day grid."""
    endpoint = runs["federated"]["endpoints"]["OS"]
    times = endpoint["km"]["time"]
    assert times and all(t % RESOLUTION == 0 for t in times)


def test_centre_with_too_few_rows_is_refused(tmp_path: Path) -> None:
    study = _study(tmp_path / "study.yaml")
    table = pd.read_csv(POOLED)
    sites = _sites(tmp_path, table)
    with pytest.raises(
        Exception,
        match=r"centre B: endpoint OS: .* usable rows, fewer than the "
        r"centre's minimum of 1000",
    ):
        simulate(study, sites, tmp_path / "out", {"B": DisclosurePolicy(min_rows=1000)})
    assert not (tmp_path / "out" / "results.json").exists()


def test_small_cells_suppressed_or_refused(tmp_path: Path) -> None:
    study = _study(tmp_path / "study.yaml")
    table = pd.read_csv(POOLED)
    sites = _sites(tmp_path, table)
    strict = DisclosurePolicy(min_rows=10, min_cell=25, small_cells="refuse")
    with pytest.raises(Exception, match="minimum of 25 rows"):
        simulate(study, sites, tmp_path / "refused", {"A": strict})
    lenient = DisclosurePolicy(min_rows=10, min_cell=25, small_cells="suppress")
    results = simulate(study, sites, tmp_path / "suppressed", {"A": lenient})
    notes = [w for w in results["warnings"] if "suppressed" in w]
    assert notes and all("centre A" in w for w in notes)


def test_unstratified_cox_is_refused_with_the_reason(tmp_path: Path, capsys: Any) -> None:
    study = _study(tmp_path / "study.yaml", cox={"ties": "efron"})
    sites = _sites(tmp_path, pd.read_csv(POOLED))
    args = ["federated", "simulate", str(study), "--out", str(tmp_path / "o"), "--quiet"]
    for name, path in sites:
        args += ["--site", f"{name}={path}"]
    assert main(args) == 2
    assert "strata: [centre" in capsys.readouterr().err


def test_cli_simulate(tmp_path: Path) -> None:
    study = _study(tmp_path / "study.yaml")
    sites = _sites(tmp_path, pd.read_csv(POOLED))
    args = [
        "federated",
        "simulate",
        str(study),
        "--out",
        str(tmp_path / "o"),
        "--quiet",
        "--policy",
        'A={"min_rows": 5, "time_resolution": 7}',
    ]
    for name, path in sites:
        args += ["--site", f"{name}={path}"]
    assert main(args) == 0
    results = json.loads((tmp_path / "o" / "results.json").read_text())
    assert results["federated"]["centres"][0]["disclosure"]["time_resolution"] == 7
