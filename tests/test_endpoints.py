"""Endpoints derived from the hand-built registry in clinical_registry.py (days counted by hand)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from clinical_registry import build_registry
from rtoutcomes.clinical.endpoints import DAYS_PER_MONTH, derive_endpoints
from rtoutcomes.clinical.errors import ClinicalRuleError
from rtoutcomes.clinical.recist import FENG_2022


def _lesions(**kwargs: object) -> pd.DataFrame:
    result = derive_endpoints(build_registry(), unit="days", **kwargs)  # type: ignore[arg-type]
    return result.lesions.set_index("lesion_id")


def _patients(**kwargs: object) -> pd.DataFrame:
    result = derive_endpoints(build_registry(), unit="days", **kwargs)  # type: ignore[arg-type]
    return result.patients.set_index("patient_id")


def test_local_control_per_lesion() -> None:
    lc = _lesions()
    expected = {  # lesion: (time in days, event 0/1, competing status 0/1/2, competing time)
        "L1": (273, 1, 1, 273),  # RECIST failure 2015-10-05
        "L2a": (364, 0, 2, 364),  # death on the day of the last scan: competing event
        "L2b": (0, 0, 2, 350),  # no scan after baseline: censored at time zero
        "L3": (91, 1, 1, 91),  # recorded local progression precedes the scan-derived failure
        "L4": (727, 0, 0, 727),  # failure and death after the cut-off: censored at it
        "L5": (183, 0, 0, 183),  # last measured scan; the later scan has no diameter
        "L6": (0, 0, 0, 0),  # no scan at all
    }
    for lesion, (time, event, status, cr_time) in expected.items():
        row = lc.loc[lesion]
        assert (row["lc_time"], row["lc_event"], row["lc_cr_status"], row["lc_cr_time"]) == (
            time,
            event,
            status,
            cr_time,
        ), lesion
    assert (lc["lc_event"] == (lc["lc_cr_status"] == 1)).all()
    assert (lc["lc_cr_time"] >= lc["lc_time"]).all()


def test_local_control_is_auditable() -> None:
    lc = _lesions()
    assert lc.loc["L1", "lc_rule"] == "RECIST 1.1" and lc.loc["L1", "lc_source"] == "scans"
    assert lc.loc["L1", "lc_source_date"] == pd.Timestamp("2015-10-05")
    assert lc.loc["L1", "lc_reason"].startswith(
        "diameter 37 mm on 2015-10-05 >= 1.2 x nadir 25 mm and +12 mm"
    )
    assert lc.loc["L3", "lc_source"] == "events"
    assert "E05" in lc.loc["L3", "lc_reason"] and "2015-09-01" in lc.loc["L3", "lc_reason"]
    assert lc.loc["L4", "lc_source"] == "cut-off"
    assert "death without local failure on 2016-02-01" in lc.loc["L2a", "lc_reason"]
    assert "censored at time zero" in lc.loc["L2b", "lc_reason"]
    assert lc.loc["L2b", "lc_source_date"] == pd.Timestamp("2015-01-20")  # the baseline scan
    assert lc.loc["L2b", "lc_date"] == pd.Timestamp("2015-02-16")


def test_local_failure_source_is_configurable() -> None:
    assert _lesions(lc_source="scans").loc["L3", "lc_time"] == 183
    events_only = _lesions(lc_source="events")
    assert events_only.loc["L3", "lc_time"] == 91
    assert events_only.loc["L1", "lc_event"] == 0 and events_only.loc["L1", "lc_time"] == 273


def test_time_origin_sbrt_end() -> None:
    lc = _lesions(time_origin="sbrt_end")
    assert lc.loc["L1", "lc_time"] == 269
    assert lc.loc["L1", "time_zero"] == pd.Timestamp("2015-01-09")
    assert _patients(time_origin="sbrt_end").loc["P1", "os_time"] == 417


def test_overall_survival() -> None:
    pt = _patients()
    expected = {
        "P1": (421, 1),
        "P2": (364, 1),
        "P3": (457, 1),
        "P4": (727, 0),
        "P5": (335, 0),
        "P6": (184, 0),
    }
    for patient, (time, event) in expected.items():
        assert (pt.loc[patient, "os_time"], pt.loc[patient, "os_event"]) == (time, event)
    # time zero is the patient's first course (P2: C2a, not C2b)
    assert pt.loc["P2", "time_zero_course"] == "C2a"
    assert "data cut-off 2017-12-31" in pt.loc["P4", "os_reason"]
    # P5: the last contact (2016-05-01) is later than the last scan (2016-03-01)
    assert pt.loc["P5", "last_alive_date"] == pd.Timestamp("2016-05-01")


def test_progression_free_survival() -> None:
    pt = _patients()
    expected = {  # patient: (time, event, source)
        "P1": (273, 1, "local failure"),
        "P2": (364, 1, "death"),
        "P3": (60, 1, "progression event"),  # distant progression before the local one
        "P4": (727, 0, "censored"),
        "P5": (183, 1, "new lesions"),
        "P6": (184, 0, "censored"),
    }
    for patient, (time, event, source) in expected.items():
        row = pt.loc[patient]
        assert (row["pfs_time"], row["pfs_event"], row["pfs_source"]) == (time, event, source)
    assert "A18" in pt.loc["P5", "pfs_reason"]


def test_pfs_options() -> None:
    no_new = _patients(new_lesions_progression=False)
    assert (no_new.loc["P5", "pfs_time"], no_new.loc["P5", "pfs_event"]) == (335, 0)
    strict = _patients(new_lesions_progression=False, pfs_censoring="last_assessment")
    # censored at the last assessment (2016-03-01, a scan without a diameter)
    assert (strict.loc["P5", "pfs_time"], strict.loc["P5", "pfs_event"]) == (274, 0)
    assert strict.loc["P6", "pfs_time"] == 0  # never scanned
    assert strict.loc["P4", "pfs_time"] == 727  # scanned beyond the cut-off


def test_without_cutoff_the_late_records_count() -> None:
    reg = build_registry()
    del reg["registry_meta"]
    result = derive_endpoints(reg, unit="days")
    lc = result.lesions.set_index("lesion_id")
    assert (lc.loc["L4", "lc_time"], lc.loc["L4", "lc_event"]) == (787, 1)
    pt = result.patients.set_index("patient_id")
    assert (pt.loc["P4", "os_time"], pt.loc["P4", "os_event"]) == (848, 1)
    # an explicit cut-off overrides the registry's
    early = derive_endpoints(build_registry(), unit="days", data_cutoff="2016-03-31")
    pt = early.patients.set_index("patient_id")
    assert (pt.loc["P3", "os_time"], pt.loc["P3", "os_event"]) == (395, 0)
    assert (pt.loc["P1", "os_time"], pt.loc["P1", "os_event"]) == (421, 1)
    assert early.settings.data_cutoff == dt.date(2016, 3, 31)


def test_months_and_rule_choice() -> None:
    result = derive_endpoints(build_registry(), rule=FENG_2022)
    lc = result.lesions.set_index("lesion_id")
    assert lc.loc["L1", "lc_time"] == pytest.approx(273 / DAYS_PER_MONTH, rel=1e-12)
    assert lc.loc["L1", "lc_rule"] == "Feng 2022"
    assert "baseline 30 mm" in lc.loc["L1", "lc_reason"]
    assert "Feng 2022" in result.settings.describe()
    assert result.to_frame() is result.lesions


def test_python_dates_and_datetime64_give_the_same_result() -> None:
    reg = build_registry()
    as_dates = {
        name: df.assign(
            **{c: df[c].dt.date for c in df.columns if pd.api.types.is_datetime64_any_dtype(df[c])}
        )
        for name, df in reg.items()
    }
    a = derive_endpoints(reg)
    b = derive_endpoints(as_dates)
    pd.testing.assert_frame_equal(a.lesions, b.lesions)
    pd.testing.assert_frame_equal(a.patients, b.patients)


def test_contradictions_are_refused() -> None:
    reg = build_registry()
    extra = pd.DataFrame(
        [
            {
                "event_id": "E99",
                "patient_id": "P1",
                "event_type": "death",
                "event_date": pd.Timestamp("2016-04-01"),
            }
        ]
    )
    reg["patient_events"] = pd.concat([reg["patient_events"], extra], ignore_index=True)
    with pytest.raises(ClinicalRuleError, match="more than one death"):
        derive_endpoints(reg)

    reg = build_registry()
    events = reg["patient_events"]
    events.loc[events["event_id"] == "E01", "event_date"] = pd.Timestamp("2015-08-01")
    with pytest.raises(ClinicalRuleError, match="after the patient's death"):
        derive_endpoints(reg)

    reg = build_registry()
    reg["sbrt_courses"] = reg["sbrt_courses"][reg["sbrt_courses"]["course_id"] != "C6"]
    with pytest.raises(ClinicalRuleError, match=r"row L6.*needs an SBRT course"):
        derive_endpoints(reg)

    reg = build_registry()
    events = reg["patient_events"]
    events.loc[events["event_id"] == "E05", "event_date"] = pd.Timestamp("2015-02-01")
    with pytest.raises(ClinicalRuleError, match=r"row E05.*before SBRT start"):
        derive_endpoints(reg)

    reg = build_registry()
    events = reg["patient_events"]
    events.loc[events["event_id"] == "E06", "event_date"] = pd.Timestamp("2015-02-01")
    reg["patient_events"] = events.drop(events.index[events["event_id"].isin(["E04", "E05"])])
    reg["assessments"] = reg["assessments"][reg["assessments"]["lesion_id"] != "L3"]
    with pytest.raises(ClinicalRuleError, match=r"row C3.*after the patient's death"):
        derive_endpoints(reg)

    with pytest.raises(ClinicalRuleError, match=r"row C6.*after the data cut-off 2016-01-31"):
        derive_endpoints(build_registry(), data_cutoff="2016-01-31")

    with pytest.raises(ClinicalRuleError, match="time_origin"):
        derive_endpoints(build_registry(), time_origin="diagnosis")  # type: ignore[arg-type]
    with pytest.raises(ClinicalRuleError, match="unit"):
        derive_endpoints(build_registry(), unit="weeks")  # type: ignore[arg-type]


def test_deterministic() -> None:
    a = derive_endpoints(build_registry())
    b = derive_endpoints(build_registry())
    assert a.lesions.to_csv() == b.lesions.to_csv()
    assert a.patients.to_csv() == b.patients.to_csv()


def test_registry_without_scans_or_events() -> None:
    reg = build_registry()
    del reg["assessments"], reg["patient_events"]
    result = derive_endpoints(reg, unit="days")
    assert (result.lesions["lc_time"] == 0).all() and (result.lesions["lc_event"] == 0).all()
    pt = result.patients.set_index("patient_id")
    # known alive at the end of the last SBRT course: P2's second course ends 2015-02-20
    assert pt.loc["P2", "os_time"] == 18 and pt.loc["P2", "os_event"] == 0
    assert (pt["pfs_source"] == "censored").all()
