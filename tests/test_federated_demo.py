"""The demo registry split into three centres: ``federated simulate`` equals the pooled
``analyze`` with ``cox.strata: [centre]`` (the federated issue's own acceptance case).

The centres' tables are the model study's analysis tables (``analysis/LC.csv`` per lesion,
clustered by patient, and ``analysis/OS.csv`` per patient) written by ``rtoutcomes demo``,
split by patient into centres A, B and C. Cox to 1e-10 relative (coefficients, naive and
robust SEs, logliks, tests, concordance); Kaplan-Meier and log-rank equal to the pooled
analysis of the times coarsened to whole months.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

pytest.importorskip(
    "vantage6.algorithm.tools.mock_client",
    reason="vantage6-algorithm-tools not installed (.ci/run installs it)",
)

from rtoutcomes.cli import main
from rtoutcomes.federated.disclosure import DisclosurePolicy
from rtoutcomes.federated.simulate import simulate
from test_federated import _close, _models

POLICY = DisclosurePolicy(min_rows=5, min_cell=1, time_resolution=1.0)  # months


def _study(path: Path, endpoint: str, cluster: str | None) -> Path:
    levels = {
        "grade": ["G1", "G2-G3"],
        "size": ["<=5 cm", ">5 cm"],
        "setting": ["recurrence", "oligometastasis"],
    }
    covariates = {
        name: {
            "column": name,
            "type": "categorical",
            "reference": values[-1],
            "recode": {v: [v] for v in values},
        }
        for name, values in levels.items()
    }
    covariates["age"] = {"column": "age", "type": "continuous", "per": 10}
    config = {
        "title": f"Demo registry, three centres: {endpoint}",
        "time_unit": "months",
        "rates_at": [12, 24, 36],
        "km": {"strata": ["centre"]},
        "cox": {"ties": "efron", "strata": ["centre"]},
        "endpoints": {
            endpoint: {
                "time": "time",
                "event": "status",
                "event_values": [1],
                **({"cluster": cluster} if cluster else {}),
            }
        },
        "covariates": covariates,
        "analyses": {
            "groups": ["grade", "size", "setting"],
            "univariate": ["grade", "size", "setting", "age"],
            "multivariate": {endpoint: ["grade", "size", "age"]},
        },
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def demo_tables(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--out", str(out / "report"), "--quiet"]) == 0
    return out / "report" / "analysis"


@pytest.mark.parametrize(("endpoint", "cluster"), [("LC", "patient_id"), ("OS", None)])
def test_demo_in_three_centres_equals_pooled(
    demo_tables: Path, tmp_path: Path, endpoint: str, cluster: str | None
) -> None:
    table = pd.read_csv(demo_tables / f"{endpoint}.csv")
    patients = sorted(table["patient_id"].unique())
    centre_of = {p: "ABC"[i % 3] for i, p in enumerate(patients)}
    table["centre"] = table["patient_id"].map(centre_of)
    study = _study(tmp_path / "study.yaml", endpoint, cluster)
    sites = []
    for name, rows in table.groupby("centre", sort=True):
        path = tmp_path / f"centre_{name}.csv"
        rows.drop(columns="centre").to_csv(path, index=False)
        sites.append((str(name), path))
    simulate(study, sites, tmp_path / "federated", {n: POLICY for n in "ABC"})
    ours = json.loads((tmp_path / "federated" / "results.json").read_text())["endpoints"][endpoint]

    def pooled(data: pd.DataFrame, name: str) -> dict[str, Any]:
        path = tmp_path / f"{name}.csv"
        data.to_csv(path, index=False)
        assert (
            main(
                [
                    "analyze",
                    str(path),
                    "--config",
                    str(study),
                    "--out",
                    str(tmp_path / name),
                    "--quiet",
                ]
            )
            == 0
        )
        result: dict[str, Any] = json.loads((tmp_path / name / "results.json").read_text())
        return result["endpoints"][endpoint]

    exact = pooled(table, "pooled")
    models = _models(ours)
    assert len(models) == 5
    for what, model in models.items():
        reference = _models(exact)[what]
        assert (model["n"], model["events"], model["robust"]) == (
            reference["n"],
            reference["events"],
            reference["robust"],
        )
        for key in ("coef", "se", "naive_se", "hr", "lower", "upper", "p"):
            _close(
                [t[key] for t in model["terms"]],
                [t[key] for t in reference["terms"]],
                f"{endpoint} {what} {key}",
            )
        for key in ("loglik", "loglik_null", "concordance"):
            _close(model[key], reference[key], f"{endpoint} {what} {key}")
        for test in ("likelihood_ratio", "wald", "score"):
            _close(
                model["global_tests"][test]["statistic"],
                reference["global_tests"][test]["statistic"],
                f"{endpoint} {what} {test}",
            )
    assert ours["multivariate"]["robust"] is (cluster is not None)
    coarse = pooled(
        table.assign(time=POLICY.coarsen(table["time"].to_numpy(dtype=float))), "pooled_coarse"
    )
    for key in ("n", "events", "median", "rates", "km", "follow_up"):
        assert ours[key] == coarse[key], f"{endpoint} {key}"
    for group, g in ours["groups"].items():
        assert g["levels"] == coarse["groups"][group]["levels"]
        _close(
            g["logrank"]["statistic"],
            coarse["groups"][group]["logrank"]["statistic"],
            f"{endpoint} {group} log-rank",
        )
