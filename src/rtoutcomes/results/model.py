"""The results model: the shape of results.json, which ``study`` produces and ``report`` reads.

Every mapping of results.json is a ``TypedDict`` below (see docs/results-model.md for why
TypedDicts rather than dataclasses): the file's bytes are exactly the ``json`` of these dicts, code
keeps plain ``results["endpoints"]["OS"]["n"]`` access, and mypy checks every key. A key that is
absent in some results is ``NotRequired``; a value that may not exist (a median never reached, a
limit beyond the data) is ``None`` (``null``), never NaN. Times are in the study's
``time_unit``; rates and incidences are proportions (0-1).

docs/results.schema.json is generated from these classes (``python -m rtoutcomes.results.schema``)
and a test fails when it is out of date. Changing a class means: bump ``SCHEMA_VERSION`` (minor
for an added key, major for a removed or renamed one) and add an entry to
docs/results-schema-changelog.md.
"""

from typing import NotRequired, TypedDict

SCHEMA_VERSION = "1.10.0"


# --- building blocks ------------------------------------------------------------------------


class Estimate(TypedDict):
    """A point estimate with its confidence limits (``None`` where they do not exist)."""

    estimate: float | None
    lower: float | None
    upper: float | None


class Range(TypedDict):
    """Median, minimum and maximum of the non-missing values (``None`` when there are none)."""

    median: float | None
    min: float | None
    max: float | None
    n: NotRequired[int]
    """How many values were not missing (cohort characteristics)."""


class Test(TypedDict):
    """A chi-square test: statistic, degrees of freedom and p-value."""

    statistic: float | None
    df: int
    p: float | None


# --- Kaplan-Meier -----------------------------------------------------------------------------


class KMRate(TypedDict):
    """Survival at one time (R's ``summary(fit, times, extend=TRUE)``)."""

    time: float
    estimate: float | None
    lower: float | None
    upper: float | None
    n_risk: int


class KMCurve(TypedDict):
    """Every step of a Kaplan-Meier curve (as R's ``survfit``), one entry per distinct time."""

    time: list[float]
    estimate: list[float]
    std_err: list[float | None]
    lower: list[float | None]
    upper: list[float | None]
    n_risk: list[int]
    n_event: list[int]
    n_censor: list[int]


class KMSummary(TypedDict):
    """Kaplan-Meier of one group of rows: counts, median with limits, rates and the curve."""

    n: int
    events: int
    median: Estimate
    rates: list[KMRate]
    km: KMCurve


class FollowUp(TypedDict):
    """Median follow-up: reverse Kaplan-Meier, and median and range of observed and censored
    times."""

    reverse_km: Estimate
    observed: Range
    censored: Range


class GroupResults(TypedDict):
    """Kaplan-Meier by the levels of one covariate, with the log-rank test (``None`` with fewer
    than two levels present)."""

    label: str
    dropped: int
    levels: dict[str, KMSummary]
    order: list[str]
    logrank: Test | None


# --- Cox models -------------------------------------------------------------------------------


class CoxTerm(TypedDict):
    """One coefficient of a Cox model; ``se`` is robust when the model is clustered."""

    term: str
    covariate: str
    coef: float | None
    se: float | None
    naive_se: float | None
    hr: float | None
    lower: float | None
    upper: float | None
    z: float | None
    p: float | None
    infinite: bool
    chisq: NotRequired[float | None]
    """Firth-penalised models only: the coefficient's penalised likelihood-ratio chi-square
    (1 df; twice the drop of the profile penalised log-likelihood at coefficient 0, coxphf's
    per-coefficient test); ``p`` is its p-value, ``lower``/``upper`` the profile penalised
    likelihood limits and ``z`` the Wald z."""


class FirthFit(TypedDict):
    """How a Cox model was fitted by Firth's penalised likelihood (Heinze and Schemper 2001;
    R's coxphf): present only on such models."""

    reason: str
    """``separation`` (``cox.firth: auto`` and the ordinary fit showed monotone likelihood)
    or ``requested`` (``cox.firth: always``)."""
    separated_terms: list[str]
    """Terms whose ordinary (unpenalised) estimate may be infinite (empty when none)."""
    ties: str
    """``breslow`` or ``efron``: the partial likelihood that is penalised."""
    limits: str
    """``profile penalised likelihood``."""
    converged: bool


class PHTerm(TypedDict):
    """The proportional-hazards test of one covariate (all its terms jointly)."""

    covariate: str
    statistic: float | None
    df: int
    p: float | None


# "global" is a Python keyword: the functional form.
PHTest = TypedDict(
    "PHTest",
    {"method": str, "transform": str, "global": Test, "terms": list[PHTerm]},
)
PHTest.__doc__ = "R's cox.zph: one test per covariate and the global test."


class GlobalTests(TypedDict):
    """A Cox model's likelihood-ratio, Wald and score tests against the null model."""

    likelihood_ratio: Test
    wald: Test
    score: Test


class CoxModel(TypedDict):
    """A Cox model on its complete rows. Without an estimable term only the first eight keys
    are present (``terms`` empty, ``loglik`` ``None``)."""

    covariates: list[str]
    n: int
    events: int
    dropped: int
    robust: bool
    terms: list[CoxTerm]
    loglik: float | None
    warnings: list[str]
    strata: NotRequired[list[str]]
    """Stratified models (``cox.strata``): the columns whose values have their own baseline
    hazard; rows without a stratum are excluded with the incomplete ones."""
    loglik_null: NotRequired[float | None]
    global_tests: NotRequired[GlobalTests]
    concordance: NotRequired[float | None]
    n_clusters: NotRequired[int | None]
    ph_test: NotRequired[PHTest | None]
    events_per_variable: NotRequired[float]
    logrank: NotRequired[Test | None]
    """Univariate models of a grouping covariate: the log-rank test of the same groups."""
    lr_test: NotRequired[Test | None]
    """Nested models: likelihood-ratio test against the previous model (``None`` for the
    first); penalised (R's coxphftest of the added terms) when the model is Firth-fitted."""
    firth: NotRequired[FirthFit]
    """Firth-penalised models only (``cox.firth``): then ``loglik``/``loglik_null`` are the
    penalised log-likelihoods, ``global_tests.likelihood_ratio`` the penalised
    likelihood-ratio test, ``wald`` the Wald test of the penalised estimate and ``score`` the
    ordinary score test at beta = 0 (which no penalty changes)."""


# --- competing risks --------------------------------------------------------------------------


class IncidenceRate(TypedDict):
    """Cumulative incidence at one time, with log(-log) limits (``None`` beyond follow-up)."""

    time: float
    estimate: float | None
    std_err: float | None
    lower: float | None
    upper: float | None


class IncidenceCurve(TypedDict):
    """The steps of a cumulative incidence curve and the time it ends."""

    time: list[float]
    estimate: list[float]
    lower: list[float | None]
    upper: list[float | None]
    end: float | None


class CauseSummary(TypedDict):
    """One cause: event count, incidence at the study's times and the curve."""

    events: int
    rates: list[IncidenceRate]
    curve: IncidenceCurve


class AtRisk(TypedDict):
    """Numbers at risk as a step function: at each distinct time, the rows with time >= it."""

    time: list[float]
    n_risk: list[int]


class IncidenceLevel(TypedDict):
    """Cumulative incidence of local failure and of death without it, in one group of rows."""

    n: int
    censored: int
    at_risk: AtRisk
    local_failure: CauseSummary
    death: CauseSummary


class GrayTests(TypedDict, total=False):
    """Gray's test per cause (a cause that never occurs has none)."""

    local_failure: Test
    death: Test


class IncidenceGroups(TypedDict):
    """Cumulative incidence by the levels of one covariate, with Gray's tests."""

    label: str
    dropped: int
    order: list[str]
    levels: dict[str, IncidenceLevel]
    gray: GrayTests | None


class FineGrayTerm(TypedDict):
    """One term of a Fine-Gray model: log subdistribution hazard ratio and its ratio."""

    term: str
    covariate: str
    coef: float | None
    se: float | None
    hr: float | None
    """Subdistribution hazard ratio exp(coef)."""
    lower: float | None
    upper: float | None
    z: float | None
    p: float | None


class FineGrayModel(TypedDict):
    """Fine-Gray regression of local failure with death competing (R's ``cmprsk::crr``)."""

    covariates: list[str]
    n: int
    events: int
    competing: int
    dropped: int
    terms: list[FineGrayTerm]
    warnings: list[str]


class CompetingRisks(IncidenceLevel):
    """Local failure with death as a competing event (registry LC), overall and by group."""

    time_column: str
    status_column: str
    groups: dict[str, IncidenceGroups]
    fine_gray: NotRequired[FineGrayModel]


# --- one endpoint -----------------------------------------------------------------------------


class EndpointResults(KMSummary):
    """Everything computed for one endpoint (its overall Kaplan-Meier at the top level)."""

    label: str
    unit: str
    cluster: str | None
    dropped: int
    follow_up: FollowUp
    groups: dict[str, GroupResults]
    univariate: dict[str, CoxModel]
    competing_risks: NotRequired[CompetingRisks]
    multivariate: NotRequired[CoxModel]
    nested: NotRequired[list[CoxModel]]


# --- the study's options ----------------------------------------------------------------------


class CovariateSummary(TypedDict):
    """A covariate as analysed: label, type, source column, reference and levels."""

    label: str
    type: str
    """``categorical``, ``binary`` or ``continuous``."""
    column: str
    reference: str | None
    levels: list[str]
    cut: NotRequired[float]
    cut_in: NotRequired[str]


class EndpointSummary(TypedDict):
    """An endpoint as defined: columns, event values (as text), cluster column, unit, label."""

    time_column: str
    event_column: str
    event_values: list[str]
    cluster: str | None
    unit: str
    label: str


class KMOptionsSummary(TypedDict):
    conf_type: str
    """``plain``, ``log`` or ``log-log`` (R's ``conf.type``)."""
    conf_level: float
    strata: NotRequired[list[str]]
    """Columns stratifying the log-rank tests (present only when given)."""


class CoxOptionsSummary(TypedDict):
    ties: str
    """``efron`` or ``breslow``."""
    strata: NotRequired[list[str]]
    """Columns stratifying the Cox models (present only when given)."""
    firth: NotRequired[str]
    """``auto`` or ``always``: when Cox models are fitted by Firth's penalised likelihood
    (absent for the default, ``never``)."""


class FigureSettings(TypedDict):
    """The study file's ``figures`` options (besides the width)."""

    max_time: float | None
    """Last time shown on the time axis (``None``: the data's end)."""
    break_time: float | None
    """Tick step of the time axis (``None``: at most 8 intervals)."""
    confidence_bands: bool
    panels: list[list[str]]
    """Composite figures, each a list of panel names (``LC``, ``LC by grade``)."""
    formats: list[str]
    """Files written for the composite figures and the flow chart."""
    tiff_dpi: int
    """Resolution of the TIFF files (300 or 600 dpi)."""
    swimmer_lanes: NotRequired[int]
    """The most lanes the swimmer plot draws (present only when the study file gives it;
    default 100): with more lesions, that many evenly spaced in order of follow-up."""


class ManuscriptSettings(TypedDict):
    """The study file's ``manuscript``: Word page size and orientation."""

    page_size: str
    """``A4`` or ``Letter``."""
    orientation: str
    """``portrait`` or ``landscape``."""


class Thresholds(TypedDict):
    """The thresholds the analyses applied (the methods paragraph states them)."""

    events_per_variable: int
    """A Cox model with fewer events per estimated coefficient gets a warning."""
    ph_alpha: float
    """A global proportional-hazards test below this p gets a warning."""


class StudySummary(TypedDict):
    """The study's options as results.json records them (what the methods paragraph reads)."""

    title: str
    source: str
    """``registry`` (endpoints derived from a registry database) or ``table`` (an analysis
    table)."""
    time_unit: str
    rates_at: list[float]
    km: KMOptionsSummary
    cox: CoxOptionsSummary
    endpoints: dict[str, EndpointSummary]
    covariates: dict[str, CovariateSummary]
    figure_width_mm: int
    figures: FigureSettings
    manuscript: ManuscriptSettings
    local_failure_rule: str
    competing_death_within: float | None
    """Competing risks of LC: a death counts only within this time of the last scan (``None``:
    at any time)."""
    lost_to_follow_up_after: float
    """A patient alive at a last contact longer than this before the data cut-off is lost to
    follow-up (``time_unit``; study file ``endpoint_rules.lost_to_follow_up_after``)."""
    local_failure_definition: str
    """The rule in words, from the thresholds it applies (what the methods paragraph says)."""
    alpha_beta_gy: float
    thresholds: Thresholds


# --- the registry cohort (registry studies only) ----------------------------------------------


class RegistryFacts(TypedDict):
    name: str
    synthetic: bool
    data_cutoff_date: str | None


class Flow(TypedDict):
    """Screened -> excluded by reason -> enrolled patients -> treated lesions."""

    screened: int
    excluded: dict[str, int]
    enrolled: int
    lesions: int
    lost_to_follow_up: NotRequired[dict[str, int]]
    """Per endpoint: analysed patients or lesions censored for it whose patient was alive at a
    last contact longer than ``study.lost_to_follow_up_after`` before the data cut-off (absent
    when the registry states no data cut-off)."""


class Table1Facts(TypedDict):
    """Patient characteristics (the keys of the model study's Table 1); counts of patients."""

    n: int
    age_years: Range
    sex: dict[str, int]
    histology_family: dict[str, int]
    histology_subtypes: dict[str, dict[str, int]]
    disease_setting: dict[str, int]
    histological_grade: dict[str, int]
    lesions_at_first_sbrt: dict[str, int]
    months_diagnosis_to_recurrence_or_oligometastasis: Range
    first_treatment_surgery: NotRequired[int]
    adjuvant_chemotherapy_after_surgery: NotRequired[int]
    adjuvant_radiotherapy_after_surgery: NotRequired[int]
    more_than_2_operations: NotRequired[int]
    systemic_treatment: NotRequired[dict[str, int]]
    chemotherapy_timing: NotRequired[dict[str, int]]


class Prescription(TypedDict):
    dose_gy: Range
    fractions: Range


class DoseMetricSummary(TypedDict):
    """A dose metric of one structure over the lesions' first courses (Table 2 row)."""

    label: str
    structure: str
    metric: str
    unit: str
    summary: Range


class Table2Facts(TypedDict):
    """Lesion and treatment characteristics (the model study's Table 2); counts of lesions."""

    n: int
    site: dict[str, int]
    size_cm: Range
    size_groups: dict[str, int]
    bed10_gy: Range
    bed10_groups: dict[str, int]
    prescription: Prescription
    schedules: dict[str, int]
    isodose_pct: Range
    ci: NotRequired[Range]
    nci: NotRequired[Range]
    hi: NotRequired[Range]
    ptv_coverage_pct: NotRequired[Range]
    dose_metrics: NotRequired[list[DoseMetricSummary]]
    """The study file's ``tables.dose_metrics`` rows (structure_metrics of the registry)."""


class ToxicityGrade(TypedDict):
    """Patients with a term's worst grade in a phase (acute or late)."""

    phase: str
    term: str
    grade: int
    patients: int


class ToxicityOverview(TypedDict):
    phase: str
    term: str
    grades: str
    patients: int


class ToxicityFacts(TypedDict):
    patients: int
    by_grade: list[ToxicityGrade]
    overview: list[ToxicityOverview]


class Proportion(TypedDict):
    """A proportion with exact (Clopper-Pearson) limits, as R's ``binom.test``."""

    events: int
    n: int
    estimate: float | None
    lower: float | None
    upper: float | None


class LesionResponse(TypedDict):
    lesion_id: str
    patient_id: str
    best_response: str
    """``CR``, ``PR``, ``SD``, ``PD`` or ``NE`` (RECIST 1.1, up to the first local failure)."""
    best_change_pct: float | None
    """Smallest change of the longest diameter from baseline, % (``None``: never measured)."""


class ResponseFacts(TypedDict):
    """Best response of each treated lesion, counts, objective response and disease control."""

    lesions: list[LesionResponse]
    counts: dict[str, int]
    orr: Proportion
    dcr: Proportion
    conf_level: float


class SwimmerLane(TypedDict):
    """One lesion's timeline from its SBRT start (study time unit)."""

    lesion_id: str
    patient_id: str
    end: float
    courses: list[float]
    scans: list[float]
    local_failure: float | None
    progression: float | None
    death: float | None
    alive: bool


class Spread(TypedDict):
    """Median, quartiles (R's default type 7) and range of a continuous characteristic."""

    median: float | None
    q1: float | None
    q3: float | None
    min: float | None
    max: float | None


class Characteristic(TypedDict):
    """One covariate of an analysis table described (gtsummary's ``tbl_summary`` row)."""

    label: str
    type: str
    """``categorical``, ``binary`` or ``continuous``."""
    unit: str
    n: int
    """Rows of the table."""
    missing: int
    levels: dict[str, int] | None
    """Rows per level, in display order, then ``Unknown`` for missing values (when any)."""
    spread: Spread | None


class Cohort(TypedDict, total=False):
    """Descriptive facts: a registry cohort's (registry studies), or the covariates of an
    analysis table (``characteristics``, studies on a flat table)."""

    registry: RegistryFacts
    flow: Flow
    table1: Table1Facts
    table2: Table2Facts
    toxicity: ToxicityFacts
    characteristics: dict[str, Characteristic]
    response: ResponseFacts
    swimmer: list[SwimmerLane]


# --- provenance and the whole file --------------------------------------------------------------


class NamedFile(TypedDict):
    """A study file or data source: its name (no folders, no credentials) and SHA-256."""

    name: str
    sha256: str


class RegistryStateData(TypedDict):
    """The registry state a registry study read: the audit entry its data ends at (``batch``,
    ``audit_seq``), that entry's chain hash, and the freeze label naming it (if any)."""

    label: str | None
    batch: int
    audit_seq: int
    chain_hash: str


class Provenance(TypedDict):
    """Versions of the software and SHA-256 of the inputs (no dates, no absolute paths)."""

    software: dict[str, str]
    study_file: NamedFile
    data: NamedFile
    registry_state: NotRequired[RegistryStateData]


class TableData(TypedDict):
    """A report table as text: title, column headers, rows of cells and notes."""

    title: str
    columns: list[str]
    rows: list[list[str]]
    notes: list[str]


class DisclosureSettings(TypedDict):
    """A centre's disclosure policy (``rtoutcomes.federated.disclosure``)."""

    min_rows: int
    min_cell: int
    time_resolution: float
    """Times leave the centre rounded up to multiples of this (the study's time unit)."""
    small_cells: str
    """``suppress`` or ``refuse``."""


class FederatedCentre(TypedDict):
    """A centre of a federated analysis and the disclosure policy it applied."""

    name: str
    disclosure: DisclosureSettings


class Federated(TypedDict):
    """A federated analysis (``rtoutcomes.federated``): the centres and the protocol."""

    centres: list[FederatedCentre]
    protocol: str


class Results(TypedDict):
    """What a study's run produces and the report reads."""

    schema_version: str
    study: StudySummary
    endpoints: dict[str, EndpointResults]
    cohort: Cohort
    provenance: Provenance
    warnings: list[str]
    federated: NotRequired[Federated]
    """Present when the results were assembled from centres' aggregates."""


class ResultsFile(Results):
    """results.json: the results and every report table as text."""

    tables: dict[str, TableData]
