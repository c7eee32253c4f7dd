"""Parse and validate a study file (YAML). Every error names the file, the key path and the rule.

Unknown keys are rejected with a did-you-mean suggestion: a misspelt ``confType`` must not
silently fall back to a default and change the published numbers.
"""

from __future__ import annotations

import difflib
import hashlib
import math
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from rtoutcomes.io.outputs import xml_safe
from rtoutcomes.study.errors import StudyFileError
from rtoutcomes.study.spec import (
    CONF_TYPES,
    COVARIATE_TYPES,
    DERIVED_ENDPOINTS,
    FIGURE_FORMATS,
    FIGURE_WIDTHS_MM,
    FIRTH_MODES,
    LOCAL_FAILURE_RULES,
    TIES,
    TIFF_DPIS,
    TIME_UNITS,
    Analyses,
    Covariate,
    CoxOptions,
    DoseMetric,
    Endpoint,
    FigureOptions,
    KMOptions,
    Study,
)

TOP_KEYS = (
    "title",
    "data",
    "db",
    "time_unit",
    "rates_at",
    "km",
    "cox",
    "endpoints",
    "covariates",
    "analyses",
    "figures",
    "radiobiology",
    "endpoint_rules",
    "tables",
    "dosimetry",
    "as_of",
    "manuscript",
)
ENDPOINT_KEYS = ("time", "event", "event_values", "censor_values", "cluster", "label", "unit")
COVARIATE_KEYS = (
    "column",
    "type",
    "label",
    "reference",
    "recode",
    "cut",
    "labels",
    "cut_in",
    "per",
    "unit",
)
FIGURES_KEYS = (
    "width_mm",
    "max_time",
    "break_time",
    "confidence_bands",
    "panels",
    "formats",
    "tiff_dpi",
    "swimmer_lanes",
)
ANALYSES_KEYS = ("groups", "univariate", "multivariate", "nested", "competing_risks", "fine_gray")
KM_KEYS = ("conf_type", "conf_level", "strata")
COX_KEYS = ("ties", "strata", "firth")
RADIOBIOLOGY_KEYS = ("alpha_beta_gy",)
ENDPOINT_RULES_KEYS = ("local_failure", "competing_death_within", "lost_to_follow_up_after")
TABLES_KEYS = ("schedule_groups", "dose_metrics")
DOSE_METRIC_KEYS = ("structure", "metric", "label")
MANUSCRIPT_KEYS = ("page_size", "orientation")
DOSIMETRY_KEYS = ("dose_levels_gy",)
# every key of the study file by the mapping that holds it (docs/study-file.md documents each;
# tests/test_docs_study_file.py checks it)
KEYS = {
    "": TOP_KEYS,
    "endpoints.*": ENDPOINT_KEYS,
    "covariates.*": COVARIATE_KEYS,
    "km": KM_KEYS,
    "cox": COX_KEYS,
    "analyses": ANALYSES_KEYS,
    "figures": FIGURES_KEYS,
    "tables": TABLES_KEYS,
    "tables.dose_metrics[]": DOSE_METRIC_KEYS,
    "radiobiology": RADIOBIOLOGY_KEYS,
    "endpoint_rules": ENDPOINT_RULES_KEYS,
    "manuscript": MANUSCRIPT_KEYS,
    "dosimetry": DOSIMETRY_KEYS,
}


class _Checker:
    """Walks the parsed YAML and raises a ``StudyFileError`` that says where and why."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: str, why: str) -> StudyFileError:
        where = f"{self.source}: key '{path}'" if path else self.source
        return StudyFileError(f"{where}: {why}")

    def mapping(self, value: Any, path: str, allowed: tuple[str, ...]) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(path, f"must be a mapping (key: value), got {_kind(value)}")
        for key in value:
            if not isinstance(key, str):
                raise self.fail(path, f"keys must be text, got {key!r}")
            if key not in allowed:
                hint = difflib.get_close_matches(key, allowed, n=1, cutoff=0.5)
                suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
                raise self.fail(
                    _join(path, key),
                    f"unknown key{suggestion} (allowed: {', '.join(allowed)})",
                )
        return value

    def text(self, value: Any, path: str) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.fail(path, f"must be text, got {_kind(value)}")
        text = str(value).strip()
        if not text:
            raise self.fail(path, "must not be empty")
        if xml_safe(text) != text:
            raise self.fail(path, f"holds a control character: {text!r}")
        return text

    def number(self, value: Any, path: str, *, positive: bool = False) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(path, f"must be a number, got {_kind(value)} {value!r}")
        try:
            number = float(value)
        except OverflowError:
            raise self.fail(
                path,
                f"must be a finite number, got {str(value)[:20]}... ({len(str(value))} digits)",
            ) from None
        if not math.isfinite(number):
            raise self.fail(path, f"must be a finite number, got {value!r}")
        if positive and not number > 0:
            raise self.fail(path, f"must be > 0, got {value!r}")
        return number

    def choice(self, value: Any, path: str, choices: tuple[str, ...]) -> str:
        text = self.text(value, path)
        if text not in choices:
            hint = difflib.get_close_matches(text, choices, n=1, cutoff=0.5)
            suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
            raise self.fail(path, f"must be one of {', '.join(choices)}, got '{text}'{suggestion}")
        return text

    def text_list(self, value: Any, path: str) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise self.fail(path, f"must be a list, got {_kind(value)}")
        items = tuple(self.text(item, f"{path}[{i}]") for i, item in enumerate(value))
        duplicates = sorted({item for item in items if items.count(item) > 1})
        if duplicates:
            raise self.fail(path, f"lists {', '.join(duplicates)} more than once")
        return items


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    return {dict: "a mapping", list: "a list", str: "text", bool: "true/false"}.get(
        type(value), type(value).__name__
    )


def _strict_loader() -> Any:
    """PyYAML's safe loader, refusing a key given twice in one mapping (YAML says keys are
    unique; PyYAML would silently keep the last value)."""
    import yaml

    class StrictLoader(yaml.SafeLoader):
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: dict[Any, Any] = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                try:
                    first = seen.setdefault(key, key_node)
                except TypeError:
                    continue  # an unhashable key: the base class explains it
                if first is not key_node:
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f"key {key!r} given twice (first on line {first.start_mark.line + 1})",
                        key_node.start_mark,
                    )
            return super().construct_mapping(node, deep=deep)

    return StrictLoader


def load_study(path: str | Path, *, db: str | None = None, as_of: str | None = None) -> Study:
    """Read and validate a study file; relative ``data`` paths are relative to the file.

    ``db`` (the command line's ``--db``) replaces the file's ``db`` and makes it a registry
    study, validated as such (derived endpoints need no columns); ``as_of`` (``--as-of``)
    replaces the file's ``as_of``.
    """
    import yaml

    path = Path(path)
    try:
        raw_bytes = path.read_bytes()
    except OSError as error:
        raise StudyFileError(f"{path}: cannot read the study file ({error.strerror})") from None
    try:
        parsed = yaml.load(raw_bytes.decode("utf-8"), Loader=_strict_loader())
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = "" if mark is None else f" (line {mark.line + 1}, column {mark.column + 1})"
        why = " ".join(str(x) for x in (error.context, error.problem) if x)
        raise StudyFileError(f"{path}: not valid YAML{where}: {why}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        message = " ".join(str(error).split())
        raise StudyFileError(f"{path}: not valid YAML: {message}") from None
    except RecursionError:
        raise StudyFileError(
            f"{path}: not a study file: lists or mappings nested too deeply"
        ) from None
    if db is not None and isinstance(parsed, dict):
        if "data" in parsed:
            raise StudyFileError(
                f"{path}: key 'data': the study reads an analysis table; --db applies to "
                "registry studies (remove 'data', or use 'rtoutcomes analyze')"
            )
        parsed = {**parsed, "db": db}
    if as_of is not None and isinstance(parsed, dict):
        parsed = {**parsed, "as_of": as_of}
    return parse_study(
        parsed, source=str(path), base_dir=path.parent, sha256=hashlib.sha256(raw_bytes).hexdigest()
    )


def parse_study(
    parsed: Any, *, source: str = "study file", base_dir: Path | None = None, sha256: str = ""
) -> Study:
    """Validate an already parsed study (a mapping) and return the typed ``Study``."""
    check = _Checker(source)
    top = check.mapping(parsed, "", TOP_KEYS)
    for required in ("title", "endpoints"):
        if required not in top:
            raise check.fail(required, "is required")
    data = Path(check.text(top["data"], "data")) if "data" in top else None
    if data is not None and base_dir is not None and not data.is_absolute():
        data = base_dir / data
    db = check.text(top["db"], "db") if "db" in top else None
    if data is not None and db is not None:
        raise check.fail(
            "db", "give either 'data' (an analysis table) or 'db' (a registry), not both"
        )
    endpoints = _endpoints(check, top["endpoints"], registry=db is not None)
    covariates = _covariates(check, top.get("covariates", {}))
    km_raw = check.mapping(top.get("km", {}), "km", KM_KEYS)
    km = KMOptions(
        conf_type=check.choice(km_raw.get("conf_type", "log"), "km.conf_type", CONF_TYPES),
        conf_level=_level(check, km_raw.get("conf_level", 0.95), "km.conf_level"),
        strata=_strata(check, km_raw.get("strata", []), "km.strata"),
    )
    cox_raw = check.mapping(top.get("cox", {}), "cox", COX_KEYS)
    cox = CoxOptions(
        ties=check.choice(cox_raw.get("ties", "efron"), "cox.ties", TIES),
        strata=_strata(check, cox_raw.get("strata", []), "cox.strata"),
        firth=check.choice(cox_raw.get("firth", "never"), "cox.firth", FIRTH_MODES),
    )
    rates_at = _rates(check, top.get("rates_at", []))
    figures = check.mapping(top.get("figures", {}), "figures", FIGURES_KEYS)
    width = figures.get("width_mm", 85)
    if width not in FIGURE_WIDTHS_MM:
        raise check.fail(
            "figures.width_mm", f"must be 85 (single column) or 174 (double), got {width!r}"
        )
    radiobiology = check.mapping(top.get("radiobiology", {}), "radiobiology", RADIOBIOLOGY_KEYS)
    alpha_beta = check.number(
        radiobiology.get("alpha_beta_gy", 10.0), "radiobiology.alpha_beta_gy", positive=True
    )
    rules = check.mapping(top.get("endpoint_rules", {}), "endpoint_rules", ENDPOINT_RULES_KEYS)
    within = rules.get("competing_death_within")
    lost = rules.get("lost_to_follow_up_after")
    lost_after = (
        None
        if lost is None
        else check.number(lost, "endpoint_rules.lost_to_follow_up_after", positive=True)
    )
    competing_death_within = (
        None
        if within is None
        else check.number(within, "endpoint_rules.competing_death_within", positive=True)
    )
    local_failure = check.choice(
        rules.get("local_failure", "RECIST 1.1"),
        "endpoint_rules.local_failure",
        LOCAL_FAILURE_RULES,
    )
    if rules and db is None:
        raise check.fail("endpoint_rules", "applies only to a registry study ('db')")
    as_of = check.text(top["as_of"], "as_of") if "as_of" in top else None
    if as_of is not None and db is None:
        raise check.fail("as_of", "applies only to a registry study ('db' or --db)")
    known = set(covariates)
    if db is not None:
        from rtoutcomes.study.standard import STANDARD_COVARIATES

        known |= set(STANDARD_COVARIATES)
    analyses = _analyses(check, top.get("analyses", {}), set(endpoints), known)
    _check_groups(check, analyses, covariates, db is not None)
    analyses = replace(
        analyses,
        competing_risks=_competing_risks(
            check, top.get("analyses", {}).get("competing_risks"), endpoints
        ),
    )
    if analyses.fine_gray and not analyses.competing_risks:
        raise check.fail(
            "analyses.fine_gray",
            "needs the competing risks of a registry's LC "
            "(analyses.competing_risks): the model is of local failure with death "
            "competing",
        )
    figure_options = _figure_options(check, figures, int(width), endpoints, analyses)
    schedule_groups = _schedule_groups(check, top.get("tables", {}), db is not None)
    dose_metrics = _dose_metrics(check, top.get("tables", {}), db is not None)
    dose_levels = _dose_levels(check, top.get("dosimetry", {}), db is not None)
    manuscript = check.mapping(top.get("manuscript", {}), "manuscript", MANUSCRIPT_KEYS)
    page_size = check.choice(
        manuscript.get("page_size", "A4"), "manuscript.page_size", ("A4", "Letter")
    )
    orientation = check.choice(
        manuscript.get("orientation", "portrait"),
        "manuscript.orientation",
        ("portrait", "landscape"),
    )
    return Study(
        title=check.text(top["title"], "title"),
        path=Path(source) if base_dir is not None else None,
        sha256=sha256,
        data=data,
        db=db,
        time_unit=check.choice(top.get("time_unit", "months"), "time_unit", TIME_UNITS),
        rates_at=rates_at,
        km=km,
        cox=cox,
        endpoints=endpoints,
        covariates=covariates,
        analyses=analyses,
        figure_width_mm=int(width),
        figures=figure_options,
        schedule_groups=schedule_groups,
        dose_metrics=dose_metrics,
        dose_levels_gy=dose_levels,
        page_size=page_size,
        orientation=orientation,
        alpha_beta_gy=alpha_beta,
        as_of=as_of,
        local_failure_rule=local_failure,
        competing_death_within=competing_death_within,
        lost_to_follow_up_after=lost_after,
    )


def _strata(check: _Checker, value: Any, path: str) -> tuple[str, ...]:
    """Stratification columns: a list of distinct column names (one name may stand alone)."""
    return check.text_list([value] if isinstance(value, str) else value, path)


def _check_groups(
    check: _Checker, analyses: Analyses, covariates: dict[str, Covariate], registry: bool
) -> None:
    if registry:
        from rtoutcomes.study.standard import STANDARD_COVARIATES

        covariates = {**STANDARD_COVARIATES, **covariates}
    for i, name in enumerate(analyses.groups):
        if covariates[name].type == "continuous":
            raise check.fail(
                f"analyses.groups[{i}]",
                f"'{name}' is continuous: Kaplan-Meier groups need a categorical or binary "
                "covariate (define a binary one with a cut)",
            )


def _competing_risks(check: _Checker, value: Any, endpoints: dict[str, Endpoint]) -> bool:
    """Default: on for a registry study's derived LC; only that endpoint has the codes."""
    lc = endpoints.get("LC")
    derived = lc is not None and lc.derived
    if value is None:
        return derived
    path = "analyses.competing_risks"
    if not isinstance(value, bool):
        raise check.fail(path, f"must be true or false, got {_kind(value)} {value!r}")
    if value and not derived:
        raise check.fail(
            path,
            "needs the LC endpoint derived from a registry ('db' and 'endpoints: {LC: {}}'): "
            "its lc_cr_time/lc_cr_status code death without local failure as a competing event",
        )
    return value


def _figure_options(
    check: _Checker,
    raw: Mapping[str, Any],
    width: int,
    endpoints: dict[str, Endpoint],
    analyses: Analyses,
) -> FigureOptions:
    """``figures``: time axis, bands, formats and composite panels (names checked against the
    study's endpoints, groups and competing risks)."""
    times = {}
    for key in ("max_time", "break_time"):
        if raw.get(key) is not None:
            times[key] = check.number(raw[key], f"figures.{key}", positive=True)
    bands = raw.get("confidence_bands", False)
    if not isinstance(bands, bool):
        raise check.fail(
            "figures.confidence_bands", f"must be true or false, got {_kind(bands)} {bands!r}"
        )
    formats = check.text_list(raw.get("formats", list(FIGURE_FORMATS)), "figures.formats")
    for i, name in enumerate(formats):
        check.choice(name, f"figures.formats[{i}]", FIGURE_FORMATS)
    tiff_dpi = raw.get("tiff_dpi", 300)
    if isinstance(tiff_dpi, bool) or tiff_dpi not in TIFF_DPIS:
        raise check.fail("figures.tiff_dpi", f"must be 300 or 600, got {tiff_dpi!r}")
    swimmer_lanes = raw.get("swimmer_lanes")
    if swimmer_lanes is not None and (
        isinstance(swimmer_lanes, bool) or not isinstance(swimmer_lanes, int) or swimmer_lanes < 1
    ):
        raise check.fail(
            "figures.swimmer_lanes",
            f"must be a whole number of lanes, at least 1, got {_kind(swimmer_lanes)} "
            f"{swimmer_lanes!r}",
        )
    known = set()
    for endpoint in endpoints:
        kinds = [""] + ([" incidence"] if analyses.competing_risks and endpoint == "LC" else [])
        for kind in kinds:
            known.add(f"{endpoint}{kind}")
            known |= {f"{endpoint}{kind} by {group}" for group in analyses.groups}
    panels_raw = raw.get("panels", [])
    if not isinstance(panels_raw, list):
        raise check.fail(
            "figures.panels",
            f"must be a list of figures (lists of panel names), got {_kind(panels_raw)}",
        )
    panels = []
    for i, figure in enumerate(panels_raw):
        names = check.text_list(figure, f"figures.panels[{i}]")
        if not names:
            raise check.fail(f"figures.panels[{i}]", "is empty: name at least one panel")
        for j, name in enumerate(names):
            if name not in known:
                raise check.fail(
                    f"figures.panels[{i}][{j}]",
                    f"unknown panel {name!r}; panels are an endpoint, '<endpoint> by <group>' "
                    "for a group of analyses.groups, or 'LC incidence [by <group>]' with "
                    f"competing risks; known: {', '.join(sorted(known))}",
                )
        panels.append(names)
    return FigureOptions(
        width_mm=width,
        max_time=times.get("max_time"),
        break_time=times.get("break_time"),
        confidence_bands=bands,
        panels=tuple(panels),
        formats=formats,
        tiff_dpi=int(tiff_dpi),
        swimmer_lanes=swimmer_lanes,
    )


def _schedule_groups(check: _Checker, value: Any, registry: bool) -> tuple[str, ...] | None:
    """``tables.schedule_groups``: ``auto`` (default: one row per distinct schedule) or a list
    of schedule groups ("30 Gy/3 Fx", "45-48 Gy/3-4 Fx") that must read and not overlap."""
    raw = check.mapping(value, "tables", TABLES_KEYS)
    if "schedule_groups" not in raw or raw["schedule_groups"] == "auto":
        return None
    if not registry:
        raise check.fail("tables.schedule_groups", "applies only to a registry study ('db')")
    path = "tables.schedule_groups"
    if not isinstance(raw["schedule_groups"], list):
        raise check.fail(
            path,
            "must be 'auto' or a list of schedule groups such as "
            f"'45-48 Gy/3-4 Fx', got {_kind(raw['schedule_groups'])}",
        )
    labels = check.text_list(raw["schedule_groups"], path)
    from rtoutcomes.clinical.schedules import ScheduleError, ScheduleGrouping

    try:
        ScheduleGrouping.from_labels(labels)
    except ScheduleError as error:
        raise check.fail(path, str(error)) from None
    return labels


def _dose_metrics(check: _Checker, value: Any, registry: bool) -> tuple[DoseMetric, ...]:
    """``tables.dose_metrics``: Table 2 rows ``{structure, metric[, label]}`` read from the
    registry's structure metrics (study.dose_metrics)."""
    from rtoutcomes.study.dose_metrics import default_label, parse_metric

    raw = check.mapping(value, "tables", TABLES_KEYS)
    if "dose_metrics" not in raw:
        return ()
    path = "tables.dose_metrics"
    if not registry:
        raise check.fail(path, "applies only to a registry study ('db')")
    if not isinstance(raw["dose_metrics"], list):
        raise check.fail(
            path,
            "must be a list of {structure, metric, label} rows, got "
            f"{_kind(raw['dose_metrics'])}",
        )
    rows = []
    for i, item in enumerate(raw["dose_metrics"]):
        where = f"{path}[{i}]"
        row = check.mapping(item, where, DOSE_METRIC_KEYS)
        for key in ("structure", "metric"):
            if key not in row:
                raise check.fail(f"{where}.{key}", "is required")
        structure = check.text(row["structure"], f"{where}.structure")
        metric = check.text(row["metric"], f"{where}.metric")
        try:
            parse_metric(metric)
        except ValueError as error:
            raise check.fail(f"{where}.metric", str(error)) from None
        label = (
            check.text(row["label"], f"{where}.label")
            if "label" in row
            else default_label(structure, metric)
        )
        rows.append(DoseMetric(structure, metric, label))
    return tuple(rows)


def _dose_levels(check: _Checker, value: Any, registry: bool) -> tuple[float, ...]:
    """``dosimetry.dose_levels_gy``: the doses (Gy) at which ``rtoutcomes dosimetry-import
    --study`` stores every structure's V(dose); distinct, > 0, kept in increasing order."""
    raw = check.mapping(value, "dosimetry", DOSIMETRY_KEYS)
    if "dose_levels_gy" not in raw:
        return ()
    path = "dosimetry.dose_levels_gy"
    if not registry:
        raise check.fail(path, "applies only to a registry study ('db')")
    if not isinstance(raw["dose_levels_gy"], list):
        raise check.fail(
            path,
            "must be a list of doses in Gy such as [5, 10, 20], got "
            f"{_kind(raw['dose_levels_gy'])}",
        )
    levels = [
        check.number(v, f"{path}[{i}]", positive=True) for i, v in enumerate(raw["dose_levels_gy"])
    ]
    if len(set(levels)) != len(levels):
        twice = sorted({v for v in levels if levels.count(v) > 1})
        raise check.fail(path, f"lists {', '.join(f'{v:g}' for v in twice)} Gy more than once")
    return tuple(sorted(levels))


def _level(check: _Checker, value: Any, path: str) -> float:
    level = check.number(value, path)
    if not 0 < level < 1:
        raise check.fail(path, f"must be between 0 and 1 (e.g. 0.95), got {value!r}")
    return level


def _rates(check: _Checker, value: Any) -> tuple[float, ...]:
    if not isinstance(value, list):
        raise check.fail("rates_at", f"must be a list of times, got {_kind(value)}")
    times = tuple(check.number(v, f"rates_at[{i}]", positive=True) for i, v in enumerate(value))
    if list(times) != sorted(set(times)):
        raise check.fail("rates_at", "times must be increasing and distinct")
    return times


def _endpoints(check: _Checker, value: Any, *, registry: bool) -> dict[str, Endpoint]:
    raw = check.mapping(value, "endpoints", tuple(value) if isinstance(value, Mapping) else ())
    if not raw:
        raise check.fail("endpoints", "must name at least one endpoint")
    endpoints: dict[str, Endpoint] = {}
    for name, spec in raw.items():
        path = f"endpoints.{name}"
        spec = {} if spec is None else spec
        fields = check.mapping(spec, path, ENDPOINT_KEYS)
        if registry and "time" not in fields and "event" not in fields:
            if name not in DERIVED_ENDPOINTS:
                raise check.fail(
                    path,
                    f"a registry derives only {', '.join(DERIVED_ENDPOINTS)}; "
                    "for another endpoint give 'time' and 'event' columns",
                )
            endpoints[name] = _derived_endpoint(check, name, fields, path)
            continue
        for required in ("time", "event"):
            if required not in fields:
                raise check.fail(f"{path}.{required}", "is required (the column name)")
        values = fields.get("event_values", [1])
        if not isinstance(values, list) or not values:
            raise check.fail(f"{path}.event_values", "must be a non-empty list of event codes")
        censor = fields.get("censor_values")
        if censor is not None and (not isinstance(censor, list) or not censor):
            raise check.fail(f"{path}.censor_values", "must be a non-empty list of codes")
        endpoints[name] = Endpoint(
            name=name,
            time=check.text(fields["time"], f"{path}.time"),
            event=check.text(fields["event"], f"{path}.event"),
            event_values=tuple(
                level_code(check.text(v, f"{path}.event_values[{i}]")) for i, v in enumerate(values)
            ),
            censor_values=None
            if censor is None
            else tuple(
                level_code(check.text(v, f"{path}.censor_values[{i}]"))
                for i, v in enumerate(censor)
            ),
            cluster=check.text(fields["cluster"], f"{path}.cluster")
            if "cluster" in fields
            else None,
            label=check.text(fields["label"], f"{path}.label") if "label" in fields else "",
            unit=check.text(
                fields.get("unit", "lesion" if "cluster" in fields else "patient"), f"{path}.unit"
            ),
        )
    return endpoints


def _derived_endpoint(check: _Checker, name: str, fields: Mapping[str, Any], path: str) -> Endpoint:
    from rtoutcomes.study.standard import derived_endpoint

    for key in ("event_values", "unit"):
        if key in fields:
            raise check.fail(f"{path}.{key}", "is only for endpoints read from columns")
    endpoint = derived_endpoint(name)
    label = check.text(fields["label"], f"{path}.label") if "label" in fields else endpoint.label
    cluster = endpoint.cluster
    if "cluster" in fields:
        cluster = check.text(fields["cluster"], f"{path}.cluster")
    return Endpoint(
        name=name,
        time=endpoint.time,
        event=endpoint.event,
        event_values=endpoint.event_values,
        cluster=cluster,
        label=label,
        derived=True,
        unit=endpoint.unit,
    )


def level_code(text: str) -> str:
    """Event codes compare as text; ``1.0`` in a CSV and ``1`` in YAML are the same code."""
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else repr(number)


def _covariates(check: _Checker, value: Any) -> dict[str, Covariate]:
    raw = check.mapping(value, "covariates", tuple(value) if isinstance(value, Mapping) else ())
    return {name: _covariate(check, name, spec) for name, spec in raw.items()}


def _covariate(check: _Checker, name: str, spec: Any) -> Covariate:
    path = f"covariates.{name}"
    fields = check.mapping(spec, path, COVARIATE_KEYS)
    for required in ("column", "type"):
        if required not in fields:
            raise check.fail(f"{path}.{required}", "is required")
    kind = check.choice(fields["type"], f"{path}.type", COVARIATE_TYPES)
    allowed = {
        "categorical": {"column", "type", "label", "reference", "recode"},
        "binary": {"column", "type", "label", "reference", "cut", "labels", "cut_in", "unit"},
        "continuous": {"column", "type", "label", "per", "unit"},
    }[kind]
    for key in fields:
        if key not in allowed:
            raise check.fail(f"{path}.{key}", f"does not apply to a {kind} covariate")
    label = check.text(fields["label"], f"{path}.label") if "label" in fields else ""
    column = check.text(fields["column"], f"{path}.column")
    unit = check.text(fields["unit"], f"{path}.unit") if "unit" in fields else ""
    if kind == "continuous":
        per = check.number(fields.get("per", 1), f"{path}.per", positive=True)
        return Covariate(name=name, column=column, type=kind, label=label, per=per, unit=unit)
    if kind == "binary":
        return _binary(check, name, fields, path, column, label, unit)
    recode = _recode(check, fields.get("recode"), f"{path}.recode")
    reference = None
    if "reference" in fields:
        reference = level_code(check.text(fields["reference"], f"{path}.reference"))
        levels = [level for level, _ in recode]
        if recode and reference not in levels:
            raise check.fail(
                f"{path}.reference", f"'{reference}' is not one of the recoded levels {levels}"
            )
    return Covariate(
        name=name, column=column, type=kind, label=label, reference=reference, recode=recode
    )


def _binary(
    check: _Checker,
    name: str,
    fields: Mapping[str, Any],
    path: str,
    column: str,
    label: str,
    unit: str,
) -> Covariate:
    if "cut" not in fields:
        raise check.fail(f"{path}.cut", "is required for a binary covariate (the cut point)")
    cut = check.number(fields["cut"], f"{path}.cut")
    cut_in = check.choice(fields.get("cut_in", "lower"), f"{path}.cut_in", ("lower", "upper"))
    if "labels" in fields:
        labels = check.text_list(fields["labels"], f"{path}.labels")
        if len(labels) != 2:
            raise check.fail(f"{path}.labels", f"must give exactly 2 labels, got {len(labels)}")
    else:
        shown = f"{cut:g}{' ' + unit if unit else ''}"
        labels = (f"<={shown}", f">{shown}") if cut_in == "lower" else (f"<{shown}", f">={shown}")
    reference = labels[0]
    if "reference" in fields:
        reference = check.text(fields["reference"], f"{path}.reference")
        if reference not in labels:
            raise check.fail(
                f"{path}.reference", f"'{reference}' is not one of the labels {list(labels)}"
            )
    return Covariate(
        name=name,
        column=column,
        type="binary",
        label=label,
        reference=reference,
        cut=cut,
        labels=(labels[0], labels[1]),
        cut_in=cut_in,
        unit=unit,
    )


def _recode(check: _Checker, value: Any, path: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if value is None:
        return ()
    raw = check.mapping(
        value, path, tuple(str(k) for k in value) if isinstance(value, Mapping) else ()
    )
    recode: list[tuple[str, tuple[str, ...]]] = []
    seen: dict[str, str] = {}
    for level, values in raw.items():
        values = values if isinstance(values, list) else [values]
        codes = tuple(level_code(check.text(v, f"{path}.{level}")) for v in values)
        for code in codes:
            if code in seen:
                raise check.fail(
                    f"{path}.{level}", f"value '{code}' is already in level '{seen[code]}'"
                )
            seen[code] = str(level)
        recode.append((level_code(str(level)), codes))
    if len(recode) < 2:
        raise check.fail(path, "must define at least 2 levels")
    return tuple(recode)


def _analyses(check: _Checker, value: Any, endpoints: set[str], covariates: set[str]) -> Analyses:
    raw = check.mapping(value, "analyses", ANALYSES_KEYS)

    def names(items: Any, path: str) -> tuple[str, ...]:
        listed = check.text_list(items, path)
        for i, item in enumerate(listed):
            if item not in covariates:
                hint = difflib.get_close_matches(item, sorted(covariates), n=1, cutoff=0.5)
                suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
                raise check.fail(f"{path}[{i}]", f"'{item}' is not a defined covariate{suggestion}")
        return listed

    def per_endpoint(items: Any, path: str) -> Mapping[str, Any]:
        mapping = check.mapping(items, path, tuple(sorted(endpoints)))
        return mapping

    multivariate = {
        endpoint: names(items, f"analyses.multivariate.{endpoint}")
        for endpoint, items in per_endpoint(
            raw.get("multivariate", {}), "analyses.multivariate"
        ).items()
    }
    nested: dict[str, tuple[tuple[str, ...], ...]] = {}
    for endpoint, models in per_endpoint(raw.get("nested", {}), "analyses.nested").items():
        path = f"analyses.nested.{endpoint}"
        if not isinstance(models, list) or len(models) < 2:
            raise check.fail(path, "must be a list of at least 2 covariate lists (nested models)")
        sequence = tuple(names(model, f"{path}[{i}]") for i, model in enumerate(models))
        for i in range(1, len(sequence)):
            if not set(sequence[i - 1]) < set(sequence[i]):
                raise check.fail(
                    f"{path}[{i}]",
                    f"must contain every covariate of model {i} and add at least one",
                )
        nested[endpoint] = sequence
    return Analyses(
        groups=names(raw.get("groups", []), "analyses.groups"),
        univariate=names(raw.get("univariate", []), "analyses.univariate"),
        multivariate=multivariate,
        nested=nested,
        fine_gray=names(raw.get("fine_gray", []), "analyses.fine_gray"),
    )
