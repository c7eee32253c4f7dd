"""The study file's ``cox.firth`` (auto | always | never): Firth-penalised Cox models in a study,
checked against references that tests/reference/python/firth_study.py regenerates.

R's coxphf is not installable here, so the references are (see that script):
- firthmodels (PyPI; reported by its authors to agree with coxphf to ~1e-6), for coxphf's case
  (Breslow ties, no strata): coefficients, standard errors and penalised log-likelihood at
  1e-9 (found: 3e-11), penalised log-likelihood at 1e-12, profile penalised likelihood limits
  at 1e-9 (found: 6e-12), per-coefficient penalised LR p-values at 1e-8 (found: 3e-13);
- the definitions written out with loops (l* = l + 1/2 log|I| of the Breslow or Efron partial
  likelihood, stratified or not) and maximised by scipy, for Efron ties and strata:
  coefficients and standard errors at 1e-6 (found: 7e-8, the reference's own scalar
  minimiser), limits at 1e-9, per-coefficient chi-squares at 1e-10, log-likelihood at 1e-12.
Sources: Heinze G, Schemper M. A solution to the problem of monotone likelihood in Cox
regression. Biometrics 2001;57:114-119.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from rtoutcomes.cli import main

HERE = Path(__file__).parent
FIXTURES = HERE / "reference" / "fixtures"
DATA = FIXTURES / "study_firth.csv"
REFERENCE = json.loads((FIXTURES / "study_firth.json").read_text())


def _config(
    firth: str | None, ties: str = "breslow", strata: bool = False, cluster: bool = False
) -> dict[str, Any]:
    cox: dict[str, Any] = {"ties": ties}
    if strata:
        cox["strata"] = ["centre"]
    if firth is not None:
        cox["firth"] = firth
    endpoint: dict[str, Any] = {"time": "time", "event": "status", "event_values": [1]}
    if cluster:
        endpoint["cluster"] = "centre"
    return {
        "title": "Firth",
        "data": str(DATA),
        "time_unit": "months",
        "rates_at": [12],
        "cox": cox,
        "endpoints": {"OS": endpoint},
        "covariates": {
            "grade": {"column": "grade", "type": "categorical", "reference": "high"},
            "age": {"column": "age", "type": "continuous", "per": 10},
        },
        "analyses": {
            "groups": ["grade"],
            "univariate": ["grade", "age"],
            "multivariate": {"OS": ["grade", "age"]},
            "nested": {"OS": [["age"], ["age", "grade"]]},
        },
    }


def _run(tmp_path: Path, config: dict[str, Any], name: str = "out") -> Path:
    study = tmp_path / f"{name}.yaml"
    study.write_text(yaml.safe_dump(config, sort_keys=False))
    out = tmp_path / name
    assert (
        main(["analyze", config["data"], "--config", str(study), "--out", str(out), "--quiet"]) == 0
    )
    return out


def _endpoints(config: dict[str, Any]) -> dict[str, Any]:
    """The analyses alone (no report: the tests that need only numbers stay quick), as JSON
    would give them."""
    from rtoutcomes.study.analysis import run_analyses
    from rtoutcomes.study.schema import parse_study
    from rtoutcomes.study.table import read_table

    study = parse_study(config)
    table = read_table(DATA)
    found: dict[str, Any] = json.loads(
        json.dumps(run_analyses(study, {name: table for name in study.endpoints}))
    )
    return found


def _results(out: Path) -> dict[str, Any]:
    results: dict[str, Any] = json.loads((out / "results.json").read_text())
    return results


def _compare(
    model: dict[str, Any], ref: dict[str, Any], rtol: float, what: str, limits_rtol: float = 1e-9
) -> None:
    terms = model["terms"]
    assert [t["coef"] for t in terms] == pytest.approx(ref["coef"], rel=rtol), what
    assert [t["se"] for t in terms] == pytest.approx(ref["se"], rel=rtol), what
    assert model["loglik"] == pytest.approx(ref["loglik"], rel=1e-12), what
    assert [t["lower"] for t in terms] == pytest.approx(ref["lower"], rel=limits_rtol), what
    assert [t["upper"] for t in terms] == pytest.approx(ref["upper"], rel=limits_rtol), what


@pytest.fixture(scope="module")
def auto_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _run(tmp_path_factory.mktemp("firth"), _config("auto"))


def test_auto_fits_separated_models_as_firthmodels(auto_run: Path) -> None:
    os_ = _results(auto_run)["endpoints"]["OS"]
    ref = REFERENCE["firthmodels"]
    grade, multi = os_["univariate"]["grade"], os_["multivariate"]
    for model, name in ((grade, "grade"), (multi, "multivariate")):
        assert model["firth"] == {
            "reason": "separation",
            "separated_terms": ["low vs high"],
            "ties": "breslow",
            "converged": True,
            "limits": "profile penalised likelihood",
        }
        _compare(model, ref[name], 1e-9, name)
        assert [t["p"] for t in model["terms"]] == pytest.approx(ref[name]["p"], rel=1e-8)
        # the per-coefficient test against the definition (tighter than firthmodels' LRT)
        definition = REFERENCE["definition"][f"{name}/breslow/none"]
        assert [t["chisq"] for t in model["terms"]] == pytest.approx(definition["chisq"], rel=1e-10)
        assert model["loglik_null"] == pytest.approx(definition["loglik_null"], rel=1e-10)
        assert model["ph_test"] is None
        assert not any("Loglik converged before" in w for w in model["warnings"])
    # one coefficient: the model's penalised LR test is the coefficient's
    lr = grade["global_tests"]["likelihood_ratio"]
    assert lr["statistic"] == pytest.approx(grade["terms"][0]["chisq"], rel=1e-12)
    # not separated: the ordinary fit, untouched
    assert "firth" not in os_["univariate"]["age"]
    assert "chisq" not in os_["univariate"]["age"]["terms"][0]
    # nested: model 1 (age) ordinary; model 2 (+ grade) penalised, tested as coxphftest(~grade)
    first, second = os_["nested"]
    assert "firth" not in first and second["firth"]["reason"] == "separation"
    assert second["lr_test"]["df"] == 1
    assert second["lr_test"]["statistic"] == pytest.approx(
        REFERENCE["definition"]["multivariate/breslow/none"]["chisq"][0], rel=1e-7
    )


def test_auto_is_reported_in_tables_figure_and_methods(auto_run: Path) -> None:
    table3 = (auto_run / "tables" / "table3_univariate.csv").read_text()
    grade_row = next(line for line in table3.splitlines() if line.startswith("grade,"))
    age_row = next(line for line in table3.splitlines() if line.startswith("age,"))
    assert "\u2020" in grade_row and "\u2020" not in age_row
    assert "Firth-penalised Cox model (Heinze and Schemper 2001" in table3
    table4 = (auto_run / "tables" / "table4_multivariate.csv").read_text()
    assert table4.count("\u2020") == 3  # two terms and the footnote
    table5 = (auto_run / "tables" / "table5_nested.csv").read_text()
    assert "coxphftest" in table5
    model1 = next(line for line in table5.splitlines() if "Model 1" in line)
    assert "\u2020" not in model1
    report = (auto_run / "report.html").read_text()
    assert "Firth&#x27;s penalised partial likelihood (Heinze and Schemper 2001)" in report
    assert "OS: grade (univariate); OS: multivariate; OS: nested model 2" in report
    assert "Forest plot of the Firth-penalised multivariate Cox model" in report
    assert _results(auto_run)["study"]["cox"]["firth"] == "auto"


@pytest.mark.parametrize(("ties", "strata"), [("efron", False), ("breslow", True), ("efron", True)])
def test_always_with_efron_and_strata_equals_the_definition(
    tmp_path: Path, ties: str, strata: bool
) -> None:
    os_ = _endpoints(_config("always", ties, strata))["OS"]
    key = "centre" if strata else "none"
    for model, name in (
        (os_["univariate"]["grade"], "grade"),
        (os_["multivariate"], "multivariate"),
    ):
        ref = REFERENCE["definition"][f"{name}/{ties}/{key}"]
        _compare(model, ref, 1e-6, f"{name} {ties} {key}")
        assert [t["chisq"] for t in model["terms"]] == pytest.approx(ref["chisq"], rel=1e-10)
        assert model["firth"]["reason"] == "requested" and model["firth"]["ties"] == ties
    age = os_["univariate"]["age"]
    assert age["firth"] == {
        "reason": "requested",
        "separated_terms": [],
        "ties": ties,
        "converged": True,
        "limits": "profile penalised likelihood",
    }
    assert age["ph_test"] is not None  # the ordinary fit's cox.zph (not separated)
    # Efron and Breslow differ on these tied times, so the check can tell them apart
    other = "breslow" if ties == "efron" else "efron"
    assert os_["multivariate"]["terms"][0]["coef"] != pytest.approx(
        REFERENCE["definition"][f"multivariate/{other}/{key}"]["coef"][0], rel=1e-6
    )


def test_never_and_auto_without_separation_change_nothing(tmp_path: Path) -> None:
    plain = _config(None)
    no_grade = {**plain, "analyses": {"univariate": ["age"], "multivariate": {"OS": ["age"]}}}
    default = _endpoints(no_grade)
    auto = _endpoints({**no_grade, "cox": {"ties": "breslow", "firth": "auto"}})
    assert auto == default
    # never: the results.json of a study without the key, byte for byte (apart from the
    # provenance, which names the study file's hash)
    runs = {
        name: _run(tmp_path, {**plain, "cox": cox}, name)
        for name, cox in (
            ("default", {"ties": "breslow"}),
            ("never", {"ties": "breslow", "firth": "never"}),
        )
    }
    outputs = {
        name: {k: v for k, v in _results(out).items() if k != "provenance"}
        for name, out in runs.items()
    }
    assert outputs["never"] == outputs["default"]
    for table in ("table3_univariate.csv", "table4_multivariate.csv", "table5_nested.csv"):
        assert (runs["never"] / "tables" / table).read_bytes() == (
            runs["default"] / "tables" / table
        ).read_bytes()
    # separated but never: flagged, not estimated (the behaviour before cox.firth)
    flagged = outputs["never"]["endpoints"]["OS"]
    assert flagged["univariate"]["grade"]["terms"][0]["infinite"] is True
    assert "firth" not in flagged["univariate"]["grade"]


@pytest.mark.parametrize(
    ("firth", "model"),
    [("always", "the OS univariate model of grade"), ("auto", "the OS univariate model of grade")],
)
def test_clustered_endpoint_is_refused_naming_the_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], firth: str, model: str
) -> None:
    config = _config(firth, cluster=True)
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump(config, sort_keys=False))
    out = tmp_path / "out"
    assert main(["analyze", str(DATA), "--config", str(study), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"cox.firth: {firth}: {model} needs a Firth-penalised fit" in err
    assert "clustered" in err and "Traceback" not in err
    assert not out.exists() or not (out / "results.json").exists()


def test_study_file_rejects_an_unknown_mode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump(_config("sometimes"), sort_keys=False))
    assert (
        main(
            [
                "analyze",
                str(DATA),
                "--config",
                str(study),
                "--out",
                str(tmp_path / "out"),
                "--quiet",
            ]
        )
        == 2
    )
    assert "cox.firth" in capsys.readouterr().err


def test_federated_firth_equals_the_pooled_stratified_fit(tmp_path: Path) -> None:
    """Centres A and B keep their rows; the Firth fit from their sums (centre a stratum)
    equals the pooled analysis with cox.strata [centre]."""
    pytest.importorskip(
        "vantage6.algorithm.tools.mock_client",
        reason="vantage6-algorithm-tools not installed (.ci/run installs it)",
    )
    from rtoutcomes.federated.disclosure import DisclosurePolicy
    from rtoutcomes.federated.simulate import simulate

    config = _config("auto", "breslow", strata=True)
    config["analyses"] = {"univariate": ["grade"]}
    pooled = _endpoints(config)["OS"]
    study = tmp_path / "federated.yaml"
    federated_config = {k: v for k, v in config.items() if k != "data"}
    study.write_text(yaml.safe_dump(federated_config, sort_keys=False))
    table = pd.read_csv(DATA)
    sites = []
    for name, rows in table.groupby("centre", sort=True):
        path = tmp_path / f"centre_{name}.csv"
        rows.drop(columns="centre").to_csv(path, index=False)
        sites.append((str(name), path))
    policy = DisclosurePolicy(min_rows=10, min_cell=3, time_resolution=0.5)  # the data's grid
    simulate(study, sites, tmp_path / "fed", {"A": policy, "B": policy})
    federated = _results(tmp_path / "fed")["endpoints"]["OS"]
    ours, theirs = federated["univariate"]["grade"], pooled["univariate"]["grade"]
    assert ours["firth"] == theirs["firth"]
    for key in ("coef", "se", "lower", "upper", "chisq", "p"):
        assert ours["terms"][0][key] == pytest.approx(theirs["terms"][0][key], rel=1e-6), key
    assert ours["loglik"] == pytest.approx(theirs["loglik"], rel=1e-10)
