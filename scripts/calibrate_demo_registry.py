#!/usr/bin/env python3
"""Offline calibration of the demo registry generator (run by hand, never by the tests).

Builds the registry for a range of seeds in memory, derives LC (per lesion), OS and PFS (per
patient) from the generated events, and prints the Kaplan-Meier rates at 12/24/36 months next to
Feng et al. 2022, with the worst absolute difference. The chosen seed and curves are frozen in
make_demo_registry.py and the result is written down in docs/demo-registry.md.

    python scripts/calibrate_demo_registry.py --seeds 20227557 20225975
    python scripts/calibrate_demo_registry.py --start 20224581 --scan 3000

Seeds are ranked by the worst |KM - paper| over LC/OS/PFS at 12/24/36 months, plus 10 points
per subgroup whose direction disagrees with the paper, plus a penalty for medians and follow-up
far from the paper's (OS 24, PFS 10, LC 25, follow-up 21 months).
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
from datetime import date
from pathlib import Path
from types import ModuleType

TARGETS = {
    "LC": {12: 80.2, 24: 58.3, 36: 46.6},
    "OS": {12: 71.5, 24: 40.0, 36: 29.1},
    "PFS": {12: 43.6, 24: 26.8, 36: 18.4},
}


def load_generator() -> ModuleType:
    path = Path(__file__).with_name("make_demo_registry.py")
    spec = importlib.util.spec_from_file_location("make_demo_registry", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def km_at(times: list[float], events: list[bool], horizons: tuple[int, ...]) -> dict[int, float]:
    """Product-limit survival (%) at each horizon (months); a plain offline check."""
    pairs = sorted(zip(times, events, strict=True))
    out = {}
    for h in horizons:
        s, at_risk, i = 1.0, len(pairs), 0
        while i < len(pairs) and pairs[i][0] <= h:
            t = pairs[i][0]
            d = n = 0
            while i < len(pairs) and pairs[i][0] == t:
                d += pairs[i][1]
                n += 1
                i += 1
            if d:
                s *= 1 - d / at_risk
            at_risk -= n
        out[h] = 100 * s
    return out


def months(a: date, b: date) -> float:
    return (b - a).days / (365.25 / 12)


def endpoints(
    rows: dict[str, list[dict[str, str]]],
) -> dict[str, tuple[list[float], list[bool], list[str]]]:
    d = date.fromisoformat
    grade = {p["patient_id"]: p["fnclcc_grade"] for p in rows["patients"]}
    lesion_patient = {r["lesion_id"]: r["patient_id"] for r in rows["lesions"]}
    course_start = {c["lesion_id"]: d(c["start_date"]) for c in rows["sbrt_courses"]}
    first: dict[str, date] = {}
    for lid, start in course_start.items():
        pid = lesion_patient[lid]
        first[pid] = min(first.get(pid, start), start)
    last_scan: dict[str, date] = {}
    for a in rows["assessments"]:
        last_scan[a["lesion_id"]] = max(
            last_scan.get(a["lesion_id"], date.min), d(a["assessment_date"])
        )
    lf: dict[str, date] = {}
    death: dict[str, date] = {}
    last: dict[str, date] = {}
    prog: dict[str, date] = {}
    for e in rows["patient_events"]:
        pid, day = e["patient_id"], d(e["event_date"])
        if e["event_type"] == "death":
            death[pid] = day
        elif e["event_type"] == "last_contact":
            last[pid] = day
        else:
            prog[pid] = min(prog.get(pid, day), day)
            if e["progression_type"] == "local":
                lf[e["lesion_id"]] = day
    out: dict[str, tuple[list[float], list[bool], list[str]]] = {}
    t, ev, g = [], [], []
    for lid, start in course_start.items():
        end = lf.get(lid, last_scan[lid])
        t.append(months(start, end))
        ev.append(lid in lf)
        g.append(grade[lesion_patient[lid]])
    out["LC"] = (t, ev, g)
    for name in ("OS", "PFS"):
        t, ev, g = [], [], []
        for pid, start in first.items():
            candidates = [death.get(pid)] + ([prog.get(pid)] if name == "PFS" else [])
            dates = [x for x in candidates if x is not None]
            end = min(dates) if dates else max(last[pid], death.get(pid, date.min))
            t.append(months(start, end))
            ev.append(bool(dates))
            g.append(grade[pid])
        out[name] = (t, ev, g)
    return out


def group_rate(t: list[float], ev: list[bool], keep: list[bool], h: int = 24) -> float:
    return km_at(
        [x for x, k in zip(t, keep, strict=True) if k],
        [e for e, k in zip(ev, keep, strict=True) if k],
        (h,),
    )[h]


def directions(rows: dict[str, list[dict[str, str]]]) -> list[str]:
    """The paper's directions that fail (KM at 24 months, better group first)."""
    eps = endpoints(rows)
    patients = {p["patient_id"]: p for p in rows["patients"]}
    lesion_patient = {r["lesion_id"]: r["patient_id"] for r in rows["lesions"]}
    size = {r["lesion_id"]: float(r["size_cm"]) for r in rows["lesions"]}
    pid_order = list(dict.fromkeys(lesion_patient[c["lesion_id"]] for c in rows["sbrt_courses"]))
    lid_order = [c["lesion_id"] for c in rows["sbrt_courses"]]
    failed = []
    for name, (t, ev, _) in eps.items():
        ids = lid_order if name == "LC" else pid_order
        pat = [patients[lesion_patient[i]] if name == "LC" else patients[i] for i in ids]
        checks = {
            "G1": [p["fnclcc_grade"] == "1" for p in pat],
            "recurrence": [p["disease_setting"] == "recurrence" for p in pat],
            "one lesion": [p["lesions_at_first_sbrt"] == "1" for p in pat],
        }
        if name == "LC":
            checks["small"] = [size[i] < 5 for i in ids]
        for label, keep in checks.items():
            better = group_rate(t, ev, keep)
            worse = group_rate(t, ev, [not k for k in keep])
            if better <= worse:
                failed.append(f"{name}:{label}")
    return failed


def km_median(times: list[float], events: list[bool]) -> float:
    pairs = sorted(zip(times, events, strict=True))
    s, i, n = 1.0, 0, len(pairs)
    while i < n:
        t, d, m = pairs[i][0], 0, 0
        while i < n and pairs[i][0] == t:
            d += pairs[i][1]
            m += 1
            i += 1
        s *= 1 - d / (n - i + m)
        if s <= 0.5:
            return t
    return float("inf")


def penalty(rows: dict[str, list[dict[str, str]]]) -> float:
    eps = endpoints(rows)
    med = {name: km_median(t, e) for name, (t, e, _) in eps.items()}
    follow_up = statistics.median(eps["OS"][0])
    return (
        abs(med["OS"] - 24) / 4
        + abs(med["PFS"] - 10) / 4
        + abs(min(med["LC"], 60) - 25) / 8
        + abs(follow_up - 21) / 4
    )


def summarise(rows: dict[str, list[dict[str, str]]]) -> tuple[float, list[str]]:
    lines, worst = [], 0.0
    for name, (t, ev, g) in endpoints(rows).items():
        rates = km_at(t, ev, (12, 24, 36))
        diffs = [rates[h] - TARGETS[name][h] for h in (12, 24, 36)]
        worst = max(worst, *map(abs, diffs))
        g1 = km_at(
            [x for x, k in zip(t, g, strict=True) if k == "1"],
            [e for e, k in zip(ev, g, strict=True) if k == "1"],
            (12, 36),
        )
        g23 = km_at(
            [x for x, k in zip(t, g, strict=True) if k != "1"],
            [e for e, k in zip(ev, g, strict=True) if k != "1"],
            (12, 36),
        )
        lines.append(
            f"{name:4s} "
            + "  ".join(f"{h}m {rates[h]:5.1f} ({TARGETS[name][h]:4.1f})" for h in (12, 24, 36))
            + f"   events {sum(ev)}/{len(ev)}   G1 {g1[12]:.0f}/{g1[36]:.0f}"
            f"  G2-3 {g23[12]:.0f}/{g23[36]:.0f}"
        )
        if name == "OS":
            fu = sorted(t)
            lines.append(
                f"     follow-up median {statistics.median(fu):.1f} "
                f"({min(fu):.1f}-{max(fu):.1f}) months"
            )
    return worst, lines


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="*")
    parser.add_argument("--start", type=int, default=None, help="first seed (default: SEED)")
    parser.add_argument("--scan", type=int, default=0, help="number of seeds from --start")
    args = parser.parse_args()
    gen = load_generator()
    # The dosimetry stream never touches outcomes; skip its slow CI/coverage pairing here.
    gen.pair_dosimetry = lambda rng, n: [(0.9, 1.1)] * n  # type: ignore[attr-defined]
    start = gen.SEED if args.start is None else args.start
    seeds = args.seeds or [start + k for k in range(max(args.scan, 1))]
    results = []
    for seed in seeds:
        rows = gen.build(seed).rows
        worst, lines = summarise(rows)
        wrong = directions(rows)
        lines.append(f"     directions against the paper: {', '.join(wrong) or 'none'}")
        results.append((worst + 10 * len(wrong) + penalty(rows), seed, worst, lines))
    results.sort()
    for score, seed, worst, lines in results[:5]:
        print(f"seed {seed}: score {score:.2f}, worst |KM - paper| = {worst:.1f} points")
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
