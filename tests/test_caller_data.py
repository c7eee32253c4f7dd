"""The caller's data is never modified: every public function that takes a Series or DataFrame
leaves its arguments exactly as they were (values, dtypes, index and its type), here on the
hand-built registry of tests/clinical_registry.py and the lung study's table. The Series given
with an integer index is the case that was broken (recist rewrote it to text ids). A test reads
the source for every public function with a Series or DataFrame parameter and fails when one
is not called here."""

from __future__ import annotations

import ast
import copy
import dataclasses
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from clinical_registry import build_registry
from rtoutcomes import demo
from rtoutcomes.clinical import ctcae, eligibility, histology, oligometastatic, recist
from rtoutcomes.clinical.endpoints import derive_endpoints, first_courses
from rtoutcomes.federated import site
from rtoutcomes.federated.disclosure import DisclosurePolicy
from rtoutcomes.io.yes_no import is_yes, yes_no
from rtoutcomes.report import endpoint_table
from rtoutcomes.stats import cox, cumulative_incidence, kaplan_meier, logrank
from rtoutcomes.study import (
    analysis,
    analysis_export,
    characteristics,
    cohort,
    covariates,
    dose_metrics,
    parse_study,
    registry_table,
    response,
    run,
    table,
)
from rtoutcomes.study.spec import DoseMetric

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
REG = build_registry()
REGISTRY_STUDY = parse_study(
    {
        "title": "caller's data",
        "db": "sqlite:///unused.db",
        "rates_at": [6, 12],
        "endpoints": {"OS": {}, "PFS": {}, "LC": {}},
        "analyses": {"groups": ["grade"], "univariate": ["grade", "size"]},
    }
)
LUNG_YAML = yaml.safe_load((HERE / "data" / "study_lung.yaml").read_text(encoding="utf-8"))
LUNG_YAML.pop("data")
LUNG_STUDY = parse_study({**LUNG_YAML, "data": "lung.csv"})
OUT = tempfile.TemporaryDirectory(prefix="rtoutcomes-caller-data-")  # removed at exit


def _int_scans() -> pd.DataFrame:
    scans = REG["assessments"].copy()
    lesions = {lid: i for i, lid in enumerate(sorted(scans["lesion_id"].unique()), start=1)}
    return scans.assign(lesion_id=scans["lesion_id"].map(lesions))


def _starts_by_int_lesion() -> pd.Series:
    return pd.Series({i: pd.Timestamp("2015-01-05") for i in range(1, 8)})


def _patients_by_int_lesion() -> pd.Series:
    return pd.Series({i: f"P{i}" for i in range(1, 8)})


def _assessed() -> pd.DataFrame:
    return recist.assess_lesions(_int_scans(), _starts_by_int_lesion())


def _screened_with_candidates() -> tuple[pd.DataFrame, Any]:
    candidates = eligibility.candidates_from_registry(REG)
    return REG["screened_candidates"], eligibility.apply_rules(candidates)


def _lung() -> pd.DataFrame:
    return table.read_table(HERE / "reference" / "fixtures" / "study_lung.csv")


def _registry_data() -> tuple[dict[str, pd.DataFrame], registry_table.RegistryData]:
    tables = build_registry()
    return tables, registry_table.build_registry_data(tables, REGISTRY_STUDY)


def _endpoint_tables() -> tuple[Any, dict[str, pd.DataFrame]]:
    return REGISTRY_STUDY, registry_table.endpoint_tables(REGISTRY_STUDY, _registry_data()[1])


def _with_structure_metrics() -> tuple[dict[str, pd.DataFrame], list[object], DoseMetric]:
    tables = build_registry()
    courses = list(tables["sbrt_courses"]["course_id"])
    tables["structure_metrics"] = pd.DataFrame(
        {
            "course_id": courses,
            "structure": "PTV",
            "tg263_name": "PTV",
            "dmean_gy": np.linspace(30.0, 50.0, len(courses)),
        }
    )
    return tables, courses, DoseMetric("PTV", "Dmean", "PTV Dmean")


def _lung_covariates() -> dict[str, Any]:
    return analysis.covariate_definitions(LUNG_STUDY)


def _survival() -> tuple[pd.Series, pd.Series, pd.Series]:
    time = pd.Series([5.0, 8.0, 3.0, 9.0, 12.0, 4.0], index=[10, 11, 12, 13, 14, 15])
    event = pd.Series([1, 0, 1, 1, 0, 1], index=time.index)
    group = pd.Series(["a", "b", "a", "b", "a", "b"], index=time.index)
    return time, event, group


CALLS: dict[str, tuple[Callable[..., Any], Callable[[], tuple[Any, ...]]]] = {
    "recist.assess_lesions": (
        recist.assess_lesions,
        lambda: (_int_scans(), _starts_by_int_lesion()),
    ),
    "recist.summarise_local_failure": (
        recist.summarise_local_failure,
        lambda: (_assessed(), recist.RECIST_1_1),
    ),
    "recist.patient_progression": (
        recist.patient_progression,
        lambda: (
            _assessed(),
            _patients_by_int_lesion(),
            pd.Series({f"P{i}": pd.Timestamp("2015-01-05") for i in range(1, 8)}),
        ),
    ),
    "endpoints.derive_endpoints": (derive_endpoints, lambda: (build_registry(),)),
    "endpoints.first_courses": (first_courses, lambda: (REG["sbrt_courses"].copy(),)),
    "ctcae.normalise_toxicities": (ctcae.normalise_toxicities, lambda: (REG["toxicities"].copy(),)),
    "ctcae.classify_phase": (
        ctcae.classify_phase,
        lambda: (
            ctcae.normalise_toxicities(REG["toxicities"]),
            REG["sbrt_courses"].copy(),
            REG["lesions"].copy(),
        ),
    ),
    "ctcae.worst_grades": (
        ctcae.worst_grades,
        lambda: (
            ctcae.classify_phase(
                ctcae.normalise_toxicities(REG["toxicities"]), REG["sbrt_courses"], REG["lesions"]
            ),
        ),
    ),
    "eligibility.apply_rules": (
        eligibility.apply_rules,
        lambda: (eligibility.candidates_from_registry(REG),),
    ),
    "eligibility.registry_flow": (eligibility.registry_flow, lambda: (build_registry(),)),
    "eligibility.candidates_from_registry": (
        eligibility.candidates_from_registry,
        lambda: (build_registry(),),
    ),
    "eligibility.cross_check": (eligibility.cross_check, _screened_with_candidates),
    "oligometastatic.classify_patients": (
        oligometastatic.classify_patients,
        lambda: (REG["patients"].copy(),),
    ),
    "histology.check_who_families": (
        histology.check_who_families,
        lambda: (REG["patients"].copy(),),
    ),
    "yes_no.yes_no": (yes_no, lambda: (pd.Series(["yes", "N", None], index=[3, 1, 2]),)),
    "yes_no.is_yes": (is_yes, lambda: (pd.Series(["yes", "N", None], index=[3, 1, 2]),)),
    "stats.kaplan_meier": (kaplan_meier, lambda: _survival()[:2]),
    "stats.logrank": (logrank, _survival),
    "stats.cumulative_incidence": (cumulative_incidence, lambda: _survival()[:2]),
    "stats.cox": (
        cox,
        lambda: (
            pd.DataFrame({"x": [0.3, 1.0, 0.0, 2.0, 1.5, 0.1]}, index=_survival()[0].index),
            *_survival()[:2],
        ),
    ),
    "ctcae.toxicity_summary": (
        ctcae.toxicity_summary,
        lambda: (
            ctcae.classify_phase(
                ctcae.normalise_toxicities(REG["toxicities"]), REG["sbrt_courses"], REG["lesions"]
            ),
            6,
        ),
    ),
    "site.with_centre": (site.with_centre, lambda: (_lung(), "A")),
    "site.describe": (
        site.describe,
        lambda: (
            LUNG_YAML,
            _lung(),
            "A",
            DisclosurePolicy(min_rows=5, min_cell=1, time_resolution=1.0),
        ),
    ),
    "site.cox_step": (
        site.cox_step,
        lambda: (
            LUNG_YAML,
            _lung(),
            "A",
            DisclosurePolicy(min_rows=5, min_cell=1, time_resolution=1.0),
            {"endpoint": "OS", "covariates": ["age", "sex"], "levels": {}, "step": "sums"},
        ),
    ),
    "analysis.run_analyses": (analysis.run_analyses, _endpoint_tables),
    "analysis_export.analysis_frames": (analysis_export.analysis_frames, _endpoint_tables),
    "characteristics.spread": (characteristics.spread, lambda: (_lung()["age"],)),
    "characteristics.characteristics": (
        characteristics.characteristics,
        lambda: (LUNG_STUDY, _lung()),
    ),
    "cohort.counts": (cohort.counts, lambda: (REG["patients"]["sex"].copy(), ["male", "female"])),
    "cohort.flow": (cohort.flow, _registry_data),
    "cohort.table1_facts": (cohort.table1_facts, _registry_data),
    "cohort.toxicity_facts": (cohort.toxicity_facts, _registry_data),
    "cohort.registry_facts": (cohort.registry_facts, lambda: (build_registry(),)),
    "cohort.lost_to_follow_up": (
        cohort.lost_to_follow_up,
        lambda: (_registry_data()[1], _endpoint_tables()[1], REGISTRY_STUDY.endpoints, 365.25),
    ),
    "endpoint_table.lesion_endpoint_table": (
        endpoint_table.lesion_endpoint_table,
        lambda: (
            analysis_export.analysis_frames(*_endpoint_tables()),
            {name: e.unit for name, e in REGISTRY_STUDY.endpoints.items()},
            "months",
        ),
    ),
    "covariates.numeric_column": (covariates.numeric_column, lambda: (_lung(), "age", "age")),
    "covariates.codes_of": (covariates.codes_of, lambda: (_lung()["ph.ecog"],)),
    "covariates.level_codes": (
        covariates.level_codes,
        lambda: (_lung_covariates()["ecog"], _lung()),
    ),
    "covariates.levels_of": (covariates.levels_of, lambda: (_lung_covariates()["ecog"], _lung())),
    "covariates.design": (
        covariates.design,
        lambda: (_lung(), [_lung_covariates()[n] for n in ("sex", "age", "ecog")]),
    ),
    "dose_metrics.dose_metric_values": (dose_metrics.dose_metric_values, _with_structure_metrics),
    "registry_table.dates": (
        registry_table.dates,
        lambda: (REG["patients"]["diagnosis_date"].astype(str),),
    ),
    "registry_table.first_courses": (
        registry_table.first_courses,
        lambda: (build_registry(), derive_endpoints(build_registry())),
    ),
    "registry_table.build_registry_data": (
        registry_table.build_registry_data,
        lambda: (build_registry(), REGISTRY_STUDY),
    ),
    "response.best_responses": (response.best_responses, lambda: (_assessed(),)),
    "run.run_on_tables": (
        run.run_on_tables,
        lambda: (REGISTRY_STUDY, build_registry(), Path(OUT.name) / "run"),
    ),
    "run.tables_sha256": (run.tables_sha256, lambda: (build_registry(),)),
    "demo.summarise_tables": (demo.summarise_tables, lambda: (build_registry(), "registry.db")),
    "table.endpoint_data": (
        table.endpoint_data,
        lambda: (_lung(), LUNG_STUDY.endpoints["OS_inst"]),
    ),
    "table.strata_labels": (table.strata_labels, lambda: (_lung(), ("inst", "sex"), "strata")),
    "table.usable_rows": (
        table.usable_rows,
        lambda: (_lung(), table.endpoint_data(_lung(), LUNG_STUDY.endpoints["OS_inst"])),
    ),
}


def _same(before: Any, after: Any) -> None:
    if isinstance(before, pd.DataFrame):
        pd.testing.assert_frame_equal(after, before, check_exact=True)
        assert after.index.dtype == before.index.dtype
    elif isinstance(before, pd.Series):
        pd.testing.assert_series_equal(after, before, check_exact=True)
        assert after.index.dtype == before.index.dtype
    elif isinstance(before, dict):
        assert list(after) == list(before)
        for key in before:
            _same(before[key], after[key])
    elif isinstance(before, np.ndarray):
        np.testing.assert_array_equal(after, before)
    elif isinstance(before, list | tuple):
        assert len(after) == len(before)
        for was, now in zip(before, after, strict=True):
            _same(was, now)
    elif dataclasses.is_dataclass(before) and not isinstance(before, type):
        for f in dataclasses.fields(before):
            _same(getattr(before, f.name), getattr(after, f.name))


@pytest.mark.parametrize("name", sorted(CALLS))
def test_arguments_are_left_as_they_were(name: str) -> None:
    function, make_args = CALLS[name]
    args = make_args()
    before = copy.deepcopy(args)
    function(*args)
    for was, now in zip(before, args, strict=True):
        _same(was, now)


def test_an_integer_indexed_series_keeps_its_index() -> None:
    """The bug: patient_progression and assess_lesions turned an int index into text."""
    ids = _patients_by_int_lesion()
    recist.patient_progression(_assessed(), ids)
    assert ids.index.tolist() == list(range(1, 8))
    starts = _starts_by_int_lesion()
    recist.assess_lesions(_int_scans(), starts)
    assert starts.index.dtype == np.int64


def test_negative_control_a_modification_is_seen() -> None:
    frame = pd.DataFrame({"a": [1, 2]})
    before = copy.deepcopy(frame)
    frame.index = frame.index.astype(str)
    with pytest.raises(AssertionError):
        _same(before, frame)


def frame_functions(src: Path = SRC) -> set[str]:
    """``module.function`` of every public top-level function of the package with a parameter
    annotated as a Series or DataFrame (also inside ``Mapping[str, pd.DataFrame]``)."""
    found = set()
    for path in sorted((src / "rtoutcomes").rglob("*.py")):
        module = ".".join(path.relative_to(src).with_suffix("").parts)
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
                continue
            args = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
            notes = [ast.unparse(a.annotation) for a in args if a.annotation is not None]
            if any("DataFrame" in n or "Series" in n for n in notes):
                found.add(f"{module}.{node.name}")
    return found


def test_every_public_function_taking_a_frame_is_checked() -> None:
    checked = {f"{function.__module__}.{function.__name__}" for function, _ in CALLS.values()}
    assert frame_functions() - checked == set()


def test_negative_control_a_new_function_is_noticed(tmp_path: Path) -> None:
    package = tmp_path / "rtoutcomes"
    package.mkdir()
    (package / "extra.py").write_text(
        "import pandas as pd\n\n\ndef tidy(rows: dict[str, pd.DataFrame]) -> None:\n"
        "    pass\n\n\ndef _private(frame: pd.DataFrame) -> None:\n    pass\n",
        encoding="utf-8",
    )
    assert frame_functions(tmp_path) == {"rtoutcomes.extra.tidy"}
