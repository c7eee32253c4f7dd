"""What a registry study gets without naming columns: derived endpoints and standard covariates.

The registry analysis tables (``registry_table.py``) carry these columns: one row per patient for
OS and PFS, one row per treated lesion for LC (clustered by ``patient_id``). Groupings follow the
model study (Feng et al. 2022): grade G1 vs G2-G3, size <=5 vs >5 cm, BED10 <100 vs >=100 Gy,
recurrence vs oligometastasis, 1 vs 2-3 lesions at first SBRT; the second level is the reference,
so hazard ratios read as in the paper's Tables 3-5.
"""

from __future__ import annotations

from pathlib import Path

from rtoutcomes.study.spec import Covariate, Endpoint

_ENDPOINTS = {
    "OS": Endpoint(name="OS", time="os_time", event="os_event", label="Overall survival"),
    "PFS": Endpoint(
        name="PFS", time="pfs_time", event="pfs_event", label="Progression-free survival"
    ),
    "LC": Endpoint(
        name="LC",
        time="lc_time",
        event="lc_event",
        cluster="patient_id",
        label="Local control",
        unit="lesion",
    ),
}


def derived_endpoint(name: str) -> Endpoint:
    """The standard definition of a registry-derived endpoint (OS, PFS or LC)."""
    return _ENDPOINTS[name]


STANDARD_COVARIATES: dict[str, Covariate] = {
    "grade": Covariate(
        name="grade",
        column="fnclcc_grade",
        type="categorical",
        label="Histological grade",
        reference="G2-G3",
        recode=(("G1", ("1",)), ("G2-G3", ("2", "3"))),
    ),
    "size": Covariate(
        name="size",
        column="size_cm",
        type="binary",
        label="Lesion size",
        cut=5.0,
        labels=("<=5 cm", ">5 cm"),
        reference=">5 cm",
        unit="cm",
    ),
    "bed10": Covariate(
        name="bed10",
        column="bed10_gy",
        type="binary",
        label="BED10",
        cut=100.0,
        labels=("<100 Gy", ">=100 Gy"),
        cut_in="upper",
        reference=">=100 Gy",
        unit="Gy",
    ),
    "setting": Covariate(
        name="setting",
        column="disease_setting",
        type="categorical",
        label="Disease setting",
        reference="oligometastasis",
        recode=(("recurrence", ("recurrence",)), ("oligometastasis", ("oligometastasis",))),
    ),
    "lesions": Covariate(
        name="lesions",
        column="lesions_at_first_sbrt",
        type="categorical",
        label="Lesions at first SBRT",
        reference="2-3",
        recode=(("1", ("1",)), ("2-3", ("2", "3"))),
    ),
    "site": Covariate(name="site", column="site_category", type="categorical", label="Site"),
    "histology": Covariate(
        name="histology", column="who_family", type="categorical", label="Histology family"
    ),
    "sex": Covariate(
        name="sex",
        column="sex",
        type="categorical",
        label="Sex",
        reference="female",
        recode=(("male", ("male",)), ("female", ("female",))),
    ),
    "age": Covariate(name="age", column="age_years", type="continuous", label="Age", unit="years"),
}


def model_study_path() -> Path:
    """The packaged study file of the model study (Feng et al. 2022)."""
    from importlib import resources

    return Path(str(resources.files("rtoutcomes.study").joinpath("data/feng2022.yaml")))
