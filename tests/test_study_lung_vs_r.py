"""``rtoutcomes analyze`` on survival's lung data agrees with R (survfit, survdiff, coxph, anova).

The fixtures come from tests/reference/r/study_lung.R; tolerances are the statistics issue's:
1e-8 relative for Kaplan-Meier and log-rank, 1e-6 for Cox (also the proportional-hazards tests
against cox.zph), medians identical. results.json
stores 12 significant digits, well inside these tolerances.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from rtoutcomes.cli import main

HERE = Path(__file__).parent
FIXTURES = HERE / "reference" / "fixtures"
KM_RTOL = 1e-8
COX_RTOL = 1e-6


def _vector(value: Any) -> np.ndarray:
    """R's jsonlite unboxes length-1 vectors; NA arrives as null."""
    if isinstance(value, np.ndarray):
        return np.atleast_1d(value.astype(float))
    values = value if isinstance(value, list) else [value]
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _close(ours: Any, theirs: Any, rtol: float, what: str) -> float:
    a, b = _vector(ours), _vector(theirs)
    assert a.shape == b.shape, f"{what}: {a.shape} vs {b.shape}"
    assert np.array_equal(np.isnan(a), np.isnan(b)), f"{what}: missing values differ"
    ok = ~np.isnan(a)
    np.testing.assert_allclose(a[ok], b[ok], rtol=rtol, atol=0, err_msg=what)
    scale = np.maximum(np.abs(b[ok]), 1e-300)
    return float(np.max(np.abs(a[ok] - b[ok]) / scale, initial=0.0))


def _run(tmp_path: Path, variant: str) -> dict[str, Any]:
    config = yaml.safe_load((HERE / "data" / "study_lung.yaml").read_text())
    config["data"] = str(FIXTURES / "study_lung.csv")
    if variant == "breslow_loglog":
        config["km"]["conf_type"] = "log-log"
        config["cox"]["ties"] = "breslow"
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump(config, sort_keys=False))
    out = tmp_path / "out"
    assert (
        main(["analyze", config["data"], "--config", str(study), "--out", str(out), "--quiet"]) == 0
    )
    results: dict[str, Any] = json.loads((out / "results.json").read_text())
    return results


def _compare_km(ours: dict[str, Any], r: dict[str, Any], where: str) -> float:
    worst = 0.0
    assert ours["n"] == r["n"] and ours["events"] == r["events"], where
    for key in ("estimate", "lower", "upper"):
        assert ours["median"][key] == r["median"][key], f"{where} median {key}"
    km, rkm = ours["km"], r["km"]
    for ours_key, r_key in (
        ("time", "time"),
        ("estimate", "estimate"),
        ("lower", "lower"),
        ("upper", "upper"),
        ("n_risk", "n_risk"),
        ("n_event", "n_event"),
        ("n_censor", "n_censor"),
    ):
        worst = max(worst, _close(km[ours_key], rkm[r_key], KM_RTOL, f"{where} km {ours_key}"))
    # our std_err is that of S(t); R's survfit std.err is that of log S(t)
    se = _vector(rkm["std_err_log"]) * _vector(rkm["estimate"])
    worst = max(worst, _close(km["std_err"], se, KM_RTOL, f"{where} km std_err"))
    rates = r["rates"]
    for key in ("estimate", "lower", "upper", "n_risk"):
        worst = max(
            worst,
            _close([x[key] for x in ours["rates"]], rates[key], KM_RTOL, f"{where} rates {key}"),
        )
    return worst


def _compare_cox(ours: dict[str, Any], r: dict[str, Any], where: str) -> float:
    assert ours["n"] == r["n"] and ours["events"] == r["events"], where
    worst = 0.0
    for key in ("coef", "se", "hr", "lower", "upper", "p"):
        worst = max(
            worst, _close([t[key] for t in ours["terms"]], r[key], COX_RTOL, f"{where} {key}")
        )
    worst = max(worst, _close(ours["loglik"], r["loglik"], COX_RTOL, f"{where} loglik"))
    null = _close(ours["loglik_null"], r["loglik_null"], COX_RTOL, f"{where} loglik_null")
    return max(worst, null, _compare_ph(ours["ph_test"], r["ph_test"], where))


def _compare_ph(ours: dict[str, Any], r: dict[str, Any], where: str) -> float:
    """cox.zph's table: one row per covariate (R's term), then GLOBAL."""
    assert len(ours["terms"]) + 1 == len(_vector(r["df"])), f"{where} PH terms {r['terms']}"
    rows = [*ours["terms"], ours["global"]]
    assert [t["df"] for t in rows] == _vector(r["df"]).astype(int).tolist(), f"{where} PH df"
    worst = _close([t["statistic"] for t in rows], r["chisq"], COX_RTOL, f"{where} PH chisq")
    return max(worst, _close([t["p"] for t in rows], r["p"], COX_RTOL, f"{where} PH p"))


@pytest.mark.parametrize("variant", ["efron_log", "breslow_loglog"])
def test_lung_study_matches_r(tmp_path: Path, variant: str) -> None:
    r_all = json.loads((FIXTURES / f"study_lung_{variant}.json").read_text())["endpoints"]
    results = _run(tmp_path, variant)
    worst = {"km": 0.0, "cox": 0.0}
    for name in ("OS", "OS_inst"):
        ours, r = results["endpoints"][name], r_all[name]
        worst["km"] = max(worst["km"], _compare_km(ours, r, name))
        fu, rfu = ours["follow_up"], r["follow_up"]
        assert fu["reverse_km"] == rfu["reverse_km"], f"{name} reverse KM median follow-up"
        assert fu["observed"] == pytest.approx(rfu["observed"], rel=1e-12)
        for group, rg in r["groups"].items():
            g = ours["groups"][group]
            assert g["order"] == list(rg["levels"])
            for level, rl in rg["levels"].items():
                worst["km"] = max(
                    worst["km"], _compare_km(g["levels"][level], rl, f"{name} {group}={level}")
                )
            assert g["logrank"]["df"] == rg["logrank"]["df"]
            for key in ("statistic", "p"):
                _close(g["logrank"][key], rg["logrank"][key], KM_RTOL, f"{name} {group} {key}")
        for covariate, rm in r["univariate"].items():
            worst["cox"] = max(
                worst["cox"],
                _compare_cox(ours["univariate"][covariate], rm, f"{name} univariate {covariate}"),
            )
        worst["cox"] = max(
            worst["cox"],
            _compare_cox(ours["multivariate"], r["multivariate"], f"{name} multivariate"),
        )
        for i, rm in enumerate(r.get("nested") or []):
            model = ours["nested"][i]
            worst["cox"] = max(worst["cox"], _compare_cox(model, rm, f"{name} nested {i}"))
            if i:
                lr = model["lr_test"]
                assert lr["df"] == rm["lr_test"]["df"]
                _close(lr["statistic"], rm["lr_test"]["statistic"], COX_RTOL, f"nested {i} LR")
                _close(lr["p"], rm["lr_test"]["p"], COX_RTOL, f"nested {i} LR p")
    assert results["endpoints"]["OS_inst"]["univariate"]["sex"]["robust"]
    print(
        f"lung {variant}: max relative error KM/log-rank {worst['km']:.2e}, Cox {worst['cox']:.2e}"
    )
