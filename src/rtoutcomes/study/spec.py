"""The validated study: small frozen objects that the rest of the study layer reads.

The YAML vocabulary (``schema.py`` parses and checks it) is a contract for users and scripts;
these objects are its typed form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rtoutcomes.clinical.local_failure import LOCAL_FAILURE_RULES as RULES_BY_NAME

# Endpoints a registry derives without any column names (rtoutcomes.clinical.endpoints).
DERIVED_ENDPOINTS = ("OS", "PFS", "LC")
CONF_TYPES = ("plain", "log", "log-log")
TIES = ("efron", "breslow")
# cox.firth: when a Cox model is fitted by Firth's penalised likelihood (study.analysis)
FIRTH_MODES = ("never", "auto", "always")
TIME_UNITS = ("days", "months")
COVARIATE_TYPES = ("categorical", "binary", "continuous")
FIGURE_WIDTHS_MM = (85, 174)
# The local failure rules a registry study can name (their one definition: clinical.local_failure)
LOCAL_FAILURE_RULES = tuple(RULES_BY_NAME)


@dataclass(frozen=True)
class KMOptions:
    """Kaplan-Meier options: interval type (R's ``conf.type``) and level; ``strata`` columns
    stratify the log-rank tests of the groups (R's ``survdiff(... + strata(centre))``)."""

    conf_type: str = "log"
    conf_level: float = 0.95
    strata: tuple[str, ...] = ()


@dataclass(frozen=True)
class CoxOptions:
    """Cox options: the method for tied event times (R's ``ties``), the columns whose
    values give each stratum its own baseline hazard (R's ``strata()``, e.g. the centre) and
    when a model is fitted by Firth's penalised likelihood (``firth``: ``never``, ``auto`` =
    when the ordinary fit shows monotone likelihood, ``always``)."""

    ties: str = "efron"
    strata: tuple[str, ...] = ()
    firth: str = "never"


@dataclass(frozen=True)
class Endpoint:
    """A time-to-event endpoint: time and event columns, or derived from a registry.

    ``time`` is in the study's ``time_unit``; a row is an event when its ``event`` value is one of
    ``event_values`` (compared as text, so ``1`` and ``"1"`` match). ``cluster`` names the column
    whose values group correlated rows (lesions of one patient): Cox then reports the robust
    variance. ``censor_values``: the codes of censored rows; ``None``: any one code other than
    the event values (a second one is refused as a probable typing slip).
    """

    name: str
    time: str
    event: str
    event_values: tuple[str, ...] = ("1",)
    censor_values: tuple[str, ...] | None = None
    cluster: str | None = None
    label: str = ""
    derived: bool = False
    unit: str = "patient"

    @property
    def display(self) -> str:
        return self.label or self.name


@dataclass(frozen=True)
class Covariate:
    """A covariate of the analyses.

    ``categorical``: levels from ``recode`` (level -> raw values) or the raw values themselves;
    ``binary``: a numeric column cut at ``cut`` into ``labels`` (lower, upper), the cut value
    belonging to the lower group unless ``cut_in`` is ``upper``; ``continuous``: numeric, the
    hazard ratio is per ``per`` units. For categorical and binary covariates the hazard ratio of
    each other level is against ``reference``.
    """

    name: str
    column: str
    type: str
    label: str = ""
    reference: str | None = None
    recode: tuple[tuple[str, tuple[str, ...]], ...] = ()
    cut: float | None = None
    labels: tuple[str, str] = ("", "")
    cut_in: str = "lower"
    per: float = 1.0
    unit: str = ""

    @property
    def display(self) -> str:
        return self.label or self.name

    @property
    def levels(self) -> tuple[str, ...]:
        """Levels in display order (categorical with recode, and binary); empty otherwise."""
        if self.type == "binary":
            return self.labels
        return tuple(level for level, _ in self.recode)


@dataclass(frozen=True)
class Analyses:
    """Which analyses to run: KM groups, univariate, multivariate and nested Cox models.

    ``competing_risks``: the cumulative incidence of local failure with death as a competing
    event, for the registry-derived LC endpoint (on by default in a registry study with LC).
    """

    groups: tuple[str, ...] = ()
    univariate: tuple[str, ...] = ()
    multivariate: dict[str, tuple[str, ...]] = field(default_factory=dict)
    nested: dict[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict)
    competing_risks: bool = False
    # Fine-Gray model of local failure (death competing) on these covariates (registry LC)
    fine_gray: tuple[str, ...] = ()


FIGURE_FORMATS = ("png", "svg", "tiff", "pdf")
TIFF_DPIS = (300, 600)
LOST_AFTER_MONTHS = 12.0  # default interval without contact before the data cut-off


@dataclass(frozen=True)
class FigureOptions:
    """Figure settings (study file ``figures``).

    ``max_time``/``break_time``: last time shown and tick step, in the study's ``time_unit``
    (default: the data's end, a step giving at most 8 intervals); ``confidence_bands``: pointwise
    bands around every curve; ``panels``: composite figures, each a list of panel names
    (``LC``, ``LC by grade``, ``LC incidence``, ``LC incidence by grade``), lettered a, b, c;
    ``formats``: files written for the composite figures and the flow chart (single panels
    are always PNG and SVG); ``tiff_dpi``: resolution of the TIFF files (300 or 600; PNG is
    always 300 dpi); ``swimmer_lanes``: the most lanes the swimmer plot draws (``None``: the
    report's default, ``report.response_plots.SWIMMER_LANES``).
    """

    width_mm: int = 85
    max_time: float | None = None
    break_time: float | None = None
    confidence_bands: bool = False
    panels: tuple[tuple[str, ...], ...] = ()
    formats: tuple[str, ...] = FIGURE_FORMATS
    tiff_dpi: int = 300
    swimmer_lanes: int | None = None


@dataclass(frozen=True)
class DoseMetric:
    """A Table 2 row of ``tables.dose_metrics``: ``structure`` (TG-263 name, name as
    exported, or ``target``), ``metric`` as written (``D98``, ``Dmean``, ``V20Gy``...), and the
    row's label."""

    structure: str
    metric: str
    label: str


@dataclass(frozen=True)
class Study:
    """A validated study file."""

    title: str
    path: Path | None
    sha256: str
    data: Path | None
    db: str | None
    time_unit: str
    rates_at: tuple[float, ...]
    km: KMOptions
    cox: CoxOptions
    endpoints: dict[str, Endpoint]
    covariates: dict[str, Covariate]
    analyses: Analyses
    figure_width_mm: int = 85
    figures: FigureOptions = FigureOptions()
    # Table 2's schedule rows (``tables.schedule_groups``): labels such as "45-48 Gy/3-4 Fx";
    # None = one row per distinct schedule (study.cohort.schedule_counts)
    schedule_groups: tuple[str, ...] | None = None
    # Table 2's dose-metric rows (``tables.dose_metrics``), read from structure_metrics
    dose_metrics: tuple[DoseMetric, ...] = ()
    # dosimetry.dose_levels_gy: doses (Gy, increasing) at which dosimetry-import --study
    # stores every structure's V(dose) (with the doses of tables.dose_metrics' V<dose>Gy rows)
    dose_levels_gy: tuple[float, ...] = ()
    # manuscript.docx page (study file ``manuscript``): A4 or Letter, portrait or landscape
    page_size: str = "A4"
    orientation: str = "portrait"
    alpha_beta_gy: float = 10.0
    local_failure_rule: str = "RECIST 1.1"
    # endpoint_rules.competing_death_within (time_unit): None = a death counts as competing at
    # any time after the lesion's last scan (clinical.endpoints.derive_endpoints)
    competing_death_within: float | None = None
    # endpoint_rules.lost_to_follow_up_after (time_unit): a patient alive at a last contact
    # longer than this before the data cut-off is lost to follow-up (flow chart); None = 12
    # months (LOST_AFTER_MONTHS)
    lost_to_follow_up_after: float | None = None
    as_of: str | None = None  # registry state: a freeze label, a batch or a time

    @property
    def lost_after(self) -> float:
        """``lost_to_follow_up_after`` in ``time_unit`` (default 12 months)."""
        from rtoutcomes.clinical.endpoints import DAYS_PER_MONTH

        if self.lost_to_follow_up_after is not None:
            return self.lost_to_follow_up_after
        return LOST_AFTER_MONTHS * (1.0 if self.time_unit == "months" else DAYS_PER_MONTH)

    @property
    def source_mode(self) -> str:
        """``registry`` when the study reads a registry database, else ``table``."""
        return "registry" if self.db else "table"
