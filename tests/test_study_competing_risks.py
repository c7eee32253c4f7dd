"""Competing risks of local control in a registry study: the study key, the numbers against R's
cmprsk on the demo registry, and the report's table, figures and methods sentence.

The R fixture (tests/reference/r/study_demo_competing.R) reads
tests/reference/fixtures/study_demo_lc_competing.csv; the first test checks that the demo
registry still derives exactly that table, so the comparison is on the study's own input.
Tolerance: 1e-9 relative (results.json keeps 12 significant digits; the engine agrees with
cmprsk to ~1e-13, tests/stats/test_competing_risks_vs_r.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from rtoutcomes.study import StudyFileError, parse_study
from rtoutcomes.study.schema import load_study

HERE = Path(__file__).parent
FIXTURES = HERE / "reference" / "fixtures"
FENG = HERE.parent / "src" / "rtoutcomes" / "study" / "data" / "feng2022.yaml"
RTOL = 1e-9
GROUPS = ("grade", "size", "lesions", "setting")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from rtoutcomes.demo import build_demo_registry
    from rtoutcomes.study.registry_table import build_registry_data, read_registry
    from rtoutcomes.study.run import run_on_tables

    out = tmp_path_factory.mktemp("demo-cr")
    build_demo_registry(out)
    url = f"sqlite:///{out / 'registry.db'}"
    study = load_study(FENG, db=url)
    tables = read_registry(url)
    results = run_on_tables(study, tables, out / "report")
    return {
        "study": study,
        "lesions": build_registry_data(tables, study).lesions,
        "results": results,
        "out": out / "report",
    }


def test_the_demo_derives_the_fixture_input(demo: dict[str, Any]) -> None:
    from rtoutcomes.study.analysis import covariate_definitions
    from rtoutcomes.study.covariates import levels_of

    expected = pd.read_csv(
        FIXTURES / "study_demo_lc_competing.csv", dtype=str, keep_default_na=False
    )
    lesions = demo["lesions"]
    assert lesions["lesion_id"].tolist() == expected["lesion_id"].tolist()
    np.testing.assert_array_equal(
        lesions["lc_cr_status"].to_numpy(dtype=int), expected["lc_cr_status"].astype(int).to_numpy()
    )
    np.testing.assert_allclose(
        lesions["lc_cr_time"].to_numpy(dtype=float),
        expected["lc_cr_time"].astype(float).to_numpy(),
        rtol=1e-15,
    )
    covariates = covariate_definitions(demo["study"])
    for group in GROUPS:
        levels = levels_of(covariates[group], lesions)[0].fillna("").astype(str).tolist()
        assert levels == expected[group].tolist(), group


def _close(ours: list[dict[str, Any]], key: str, theirs: dict[str, Any], what: str) -> None:
    a = np.array([np.nan if r[key] is None else r[key] for r in ours], dtype=float)
    b = np.array([np.nan if v is None else v for v in theirs[key]], dtype=float)
    assert np.array_equal(np.isnan(a), np.isnan(b)), f"{what}: missing values differ"
    np.testing.assert_allclose(
        a[~np.isnan(a)], b[~np.isnan(b)], rtol=RTOL, atol=1e-15, err_msg=what
    )


def test_incidence_and_gray_agree_with_cmprsk(demo: dict[str, Any]) -> None:
    r = json.loads((FIXTURES / "study_demo_lc_competing.json").read_text())
    cr = demo["results"]["endpoints"]["LC"]["competing_risks"]
    assert [x["time"] for x in cr["local_failure"]["rates"]] == r["times"]
    for cause in ("local_failure", "death"):
        for key in ("estimate", "std_err"):
            _close(cr[cause]["rates"], key, r["overall"][cause], f"overall {cause} {key}")
    for group in GROUPS:
        ours, theirs = cr["groups"][group], r["groups"][group]
        assert sorted(ours["levels"]) == sorted(theirs["levels"])
        for level, entry in theirs["levels"].items():
            for cause in ("local_failure", "death"):
                for key in ("estimate", "std_err"):
                    _close(
                        ours["levels"][level][cause]["rates"],
                        key,
                        entry[cause],
                        f"{group}={level} {cause} {key}",
                    )
        for j, cause in enumerate(("local_failure", "death")):
            test = ours["gray"][cause]
            np.testing.assert_allclose(
                [test["statistic"], test["p"]],
                [theirs["gray"]["statistic"][j], theirs["gray"]["p"][j]],
                rtol=RTOL,
                err_msg=f"Gray {group} {cause}",
            )
            assert test["df"] == theirs["gray"]["df"][j]


def test_counts_and_limits(demo: dict[str, Any]) -> None:
    cr = demo["results"]["endpoints"]["LC"]["competing_risks"]
    lc = demo["results"]["endpoints"]["LC"]
    assert cr["n"] == lc["n"] == 58
    assert cr["local_failure"]["events"] == lc["events"]  # every local failure comes first
    assert cr["local_failure"]["events"] + cr["death"]["events"] + cr["censored"] == cr["n"]
    for cause in ("local_failure", "death"):
        for rate in cr[cause]["rates"]:
            assert 0 < rate["lower"] < rate["estimate"] < rate["upper"] < 1


def test_report_has_the_table_figures_and_methods(demo: dict[str, Any]) -> None:
    out = demo["out"]
    results = json.loads((out / "results.json").read_text())
    table = results["tables"]["cif_local_failure"]
    assert table["rows"][0][:5] == ["Local control", "All lesions", "58", "19", "28"]
    assert table["rows"][0][5] == "15.7 (7.6\u201326.3)"
    p_size = results["endpoints"]["LC"]["competing_risks"]["groups"]["size"]["gray"]
    assert p_size["local_failure"]["p"] < 0.001
    assert (out / "tables" / "cif_local_failure.csv").is_file()
    for name in ("cif_LC", *(f"cif_LC_by_{g}" for g in GROUPS)):
        assert (out / "figures" / f"{name}.svg").is_file(), name
    html = (out / "report.html").read_text()
    assert "death without local failure as a competing event (Aalen-Johansen" in html
    assert "Gray&#x27;s test p &lt; 0.001" in html


REGISTRY = {"title": "t", "db": "sqlite:///r.db", "endpoints": {"LC": {}, "OS": {}}}
TABLE = {"title": "t", "data": "d.csv", "endpoints": {"LC": {"time": "t", "event": "e"}}}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (REGISTRY, True),  # on by default for a registry's derived LC
        ({**REGISTRY, "analyses": {"competing_risks": False}}, False),
        ({**REGISTRY, "endpoints": {"OS": {}}}, False),  # no LC: nothing to do
        (TABLE, False),
        ({**TABLE, "analyses": {"competing_risks": False}}, False),
    ],
)
def test_competing_risks_default(raw: dict[str, Any], expected: bool) -> None:
    assert parse_study(raw).analyses.competing_risks is expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {**TABLE, "analyses": {"competing_risks": True}},
            "key 'analyses.competing_risks': needs the LC endpoint derived from a registry",
        ),
        (
            {**REGISTRY, "endpoints": {"OS": {}}, "analyses": {"competing_risks": True}},
            "key 'analyses.competing_risks': needs the LC endpoint",
        ),
        (
            {**REGISTRY, "analyses": {"competing_risks": "yes"}},
            "key 'analyses.competing_risks': must be true or false, got text 'yes'",
        ),
        (
            {**REGISTRY, "analyses": {"competing_risk": True}},
            "unknown key; did you mean 'competing_risks'?",
        ),
    ],
)
def test_competing_risks_key_errors(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(StudyFileError, match=message.replace("(", r"\(").replace("?", r"\?")):
        parse_study(raw)


def test_switched_off_means_no_output(demo: dict[str, Any]) -> None:
    from dataclasses import replace

    from rtoutcomes.study.analysis import run_analyses

    lc = {"LC": demo["study"].endpoints["LC"]}
    on = replace(demo["study"], endpoints=lc)
    off = replace(on, analyses=replace(on.analyses, competing_risks=False))
    assert "competing_risks" in run_analyses(on, {"LC": demo["lesions"]})["LC"]
    assert "competing_risks" not in run_analyses(off, {"LC": demo["lesions"]})["LC"]


def test_fine_gray_agrees_with_crr(demo: dict[str, Any]) -> None:
    """The model study's analyses.fine_gray (grade, size) against cmprsk::crr on the same
    lesions (tests/reference/r/study_demo_competing.R)."""
    r = json.loads((FIXTURES / "study_demo_lc_competing.json").read_text())["fine_gray"]
    model = demo["results"]["endpoints"]["LC"]["competing_risks"]["fine_gray"]
    assert model["n"] == r["n"] and model["covariates"] == r["terms"]
    for term, coef, se in zip(model["terms"], r["coef"], r["se"], strict=True):
        assert term["coef"] == pytest.approx(coef, rel=1e-8)
        assert term["se"] == pytest.approx(se, rel=1e-8)
    table = (demo["out"] / "tables" / "fine_gray.csv").read_text(encoding="utf-8")
    assert "<=5 cm vs >5 cm,0.113 (0.026\u20130.497),0.004" in table
    assert "Fine-Gray subdistribution hazards model" in (demo["out"] / "report.html").read_text(
        encoding="utf-8"
    )


def test_fine_gray_needs_competing_risks() -> None:
    raw = {
        "title": "t",
        "data": "x.csv",
        "endpoints": {"OS": {"time": "t", "event": "e"}},
        "covariates": {"g": {"column": "g", "type": "categorical"}},
        "analyses": {"fine_gray": ["g"]},
    }
    with pytest.raises(StudyFileError, match=r"analyses\.fine_gray"):
        parse_study(raw)


def test_competing_death_window_censors_late_deaths() -> None:
    """P2 dies 2016-02-01; lesion L2b has no scan after baseline (censored at time zero,
    2015-02-16): its death ~11.5 months later is competing by default, censored with a
    3-month window; L2a (last scan the day of death) stays competing."""
    from clinical_registry import build_registry
    from rtoutcomes.clinical.endpoints import derive_endpoints

    tables = build_registry()
    default = derive_endpoints(tables).lesions.set_index("lesion_id")
    window = derive_endpoints(tables, competing_death_within=3).lesions.set_index("lesion_id")
    assert default.loc["L2b", "lc_cr_status"] == 2 and window.loc["L2b", "lc_cr_status"] == 0
    assert window.loc["L2b", "lc_cr_time"] == window.loc["L2b", "lc_time"]
    assert "not counted as competing" in window.loc["L2b", "lc_reason"]
    assert window.loc["L2a", "lc_cr_status"] == 2
    study = parse_study(
        {
            "title": "t",
            "db": "sqlite:///x.db",
            "endpoints": {"LC": {}},
            "endpoint_rules": {"competing_death_within": 3},
        }
    )
    assert study.competing_death_within == 3
    from rtoutcomes.report.methods import competing_death_sentence

    assert "only within 3 months" in competing_death_sentence(
        {"competing_death_within": 3, "time_unit": "months"}
    )  # type: ignore[typeddict-item]
