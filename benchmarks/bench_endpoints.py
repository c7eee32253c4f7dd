"""Speed of endpoint derivation (RECIST per scan, LC/OS/PFS) on synthetic registries.

Run: ``PYTHONPATH=src python -m benchmarks.bench_endpoints`` (prints a table). The registries are
generated with a fixed seed: n patients, 1-3 lesions each, a scan every 3 months for up to 5 years.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from rtoutcomes.clinical.endpoints import derive_endpoints


def synthetic_registry(n_patients: int, seed: int = 20221) -> dict[str, pd.DataFrame]:
    """A registry of ``n_patients`` with scans, deaths and last contacts (fixed seed)."""
    rng = np.random.default_rng(seed)
    base = pd.Timestamp("2012-01-02")
    patients, lesions, courses, scans, events = [], [], [], [], []
    for p in range(n_patients):
        pid = f"P{p:06d}"
        start = base + pd.Timedelta(days=int(rng.integers(0, 3000)))
        patients.append({"patient_id": pid})
        n_scans_max = int(rng.integers(1, 21))
        for k in range(int(rng.integers(1, 4))):
            lid = f"{pid}-L{k}"
            lesions.append({"lesion_id": lid, "patient_id": pid})
            courses.append(
                {
                    "course_id": f"{lid}-C",
                    "lesion_id": lid,
                    "start_date": start,
                    "end_date": start + pd.Timedelta(days=4),
                }
            )
            diameter = float(rng.uniform(10, 80))
            for s in range(n_scans_max):
                diameter = max(0.0, diameter * float(rng.normal(1.0, 0.12)))
                scans.append(
                    {
                        "assessment_id": f"{lid}-A{s}",
                        "lesion_id": lid,
                        "assessment_date": start + pd.Timedelta(days=91 * s - 7),
                        "longest_diameter_mm": round(diameter, 1),
                        "new_lesions": bool(rng.random() < 0.03),
                    }
                )
        last = start + pd.Timedelta(days=91 * (n_scans_max - 1) + 10)
        kind = "death" if rng.random() < 0.6 else "last_contact"
        events.append(
            {
                "event_id": f"{pid}-E",
                "patient_id": pid,
                "event_type": kind,
                "event_date": last,
                "progression_type": None,
                "lesion_id": None,
            }
        )
    return {
        "patients": pd.DataFrame(patients),
        "lesions": pd.DataFrame(lesions),
        "sbrt_courses": pd.DataFrame(courses),
        "assessments": pd.DataFrame(scans),
        "patient_events": pd.DataFrame(events),
    }


def main() -> None:
    print(f"{'patients':>9} {'lesions':>8} {'scans':>8} {'seconds':>8} {'LF events':>10}")
    for n in (100, 1000, 5000):
        tables = synthetic_registry(n)
        t0 = time.perf_counter()
        result = derive_endpoints(tables)
        seconds = time.perf_counter() - t0
        print(
            f"{n:>9} {len(tables['lesions']):>8} {len(tables['assessments']):>8} "
            f"{seconds:>8.2f} {int(result.lesions['lc_event'].sum()):>10}"
        )


if __name__ == "__main__":
    main()
