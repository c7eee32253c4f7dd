"""300 plans linked to a registry and computed by ``dosimetry-import``, goal under 2 minutes.

Run: ``PYTHONPATH=src python -m benchmarks.dicom_import [--plans 300] [--workers N]
[--keep DIR]``.

The export folder is generated from breast-boost (shared/data/dicom/breast-boost): one plan per
synthetic patient BENCH-P001..., each a copy with new Study/Series/SOP/Frame of Reference UIDs
and its own PatientID (``derive_plan``), plus a registry with one 14 Gy/7 Fx course per patient
(modelled on the demo registry's first patient). Timed: the whole ``dosimetry-import`` (index,
link, match, DVHs of every contoured ROI of every plan in parallel, one audited write of every
row), then a second run on the same folder (everything recomputed, nothing written). Prints
the wall and CPU time, the machine's load and the per-plan cost. ``--keep DIR`` keeps (and
reuses) the generated folder.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import tempfile
import time
from pathlib import Path

from rtoutcomes.clinical.dosimetry_import import ImportOptions, dosimetry_import
from rtoutcomes.demo import demo_registry_files
from rtoutcomes.io.dicom_rt_synthetic import derive_plan
from rtoutcomes.registry.importer import import_registry

ROOT = Path(__file__).resolve().parents[1]
BREAST_BOOST = ROOT.parent / "shared" / "data" / "dicom" / "breast-boost"
#: demo rows copied per synthetic patient (table, key column, id column to rename)
_TEMPLATE = {
    "patients": "DEMO-P001",
    "screened_candidates": "DEMO-P001",
    "lesions": "DEMO-L001",
    "sbrt_courses": "DEMO-RT001",
}


def make_tree(root: Path, plans: int) -> None:
    """``plans`` copies of breast-boost under their own patients (skipped when present)."""
    for number in range(1, plans + 1):
        folder = root / f"BENCH-P{number:03d}"
        if (folder / "rtdose.dcm").is_file():
            continue
        derive_plan(
            BREAST_BOOST,
            folder,
            seed=f"bench-{number}",
            patient_id=f"BENCH-P{number:03d}",
            prescription_name="Tumor Bed",
        )


def make_registry(folder: Path, plans: int) -> Path:
    """A registry CSV folder: the demo's meta rows and one patient/lesion/14 Gy course each."""
    folder.mkdir(parents=True, exist_ok=True)
    demo = Path(demo_registry_files())
    for file in demo.glob("*.csv"):
        with open(file, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            rows = list(reader)
            fields = list(reader.fieldnames or [])
        name = file.stem
        out: list[dict[str, str]] = []
        if name == "registry_meta":
            out = rows
        elif name in _TEMPLATE:
            template = next(r for r in rows if _TEMPLATE[name] in r.values())
            for number in range(1, plans + 1):
                row = {
                    k: v.replace("DEMO-P001", f"BENCH-P{number:03d}")
                    .replace("DEMO-L001", f"BENCH-L{number:03d}")
                    .replace("DEMO-RT001", f"BENCH-RT{number:03d}")
                    for k, v in template.items()
                }
                if name == "screened_candidates":
                    row["candidate_id"] = f"BENCH-C{number:03d}"
                if name == "sbrt_courses":
                    row.update(total_dose_gy="14", fractions="7")
                if name == "patients":
                    row["lesions_at_first_sbrt"] = "1"
                out.append(row)
        with open(folder / file.name, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields)
            writer.writeheader()
            writer.writerows(out)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=300)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--keep", type=Path, default=None, help="keep the generated folder here")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="rtoutcomes-bench-"))
    tree = args.keep or work / "export"
    try:
        started = time.perf_counter()
        make_tree(tree, args.plans)
        generated = time.perf_counter() - started
        db = work / "registry.db"
        import_registry(make_registry(work / "csv", args.plans), db)
        options = ImportOptions(workers=args.workers)
        load = os.getloadavg()[0]
        cpu0, wall0 = os.times(), time.perf_counter()
        summary = dosimetry_import(tree, db, options=options)
        wall = time.perf_counter() - wall0
        cpu1 = os.times()
        load_after = os.getloadavg()[0]
        cpu = (cpu1.user + cpu1.children_user + cpu1.system + cpu1.children_system) - (
            cpu0.user + cpu0.children_user + cpu0.system + cpu0.children_system
        )
        main_cpu = (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)
        wall_again0 = time.perf_counter()
        again = dosimetry_import(tree, db, options=options)
        wall_again = time.perf_counter() - wall_again0
        assert summary.written == args.plans, summary.lines()[:5]
        assert again.written == 0 and again.unchanged == args.plans
        cores = os.cpu_count() or 1
        workers = args.workers or cores
        print(
            f"plans: {args.plans}  workers: {workers}  cores: {cores}  load average (1 min) "
            f"before: {load:.1f}, after: {load_after:.1f}  (generating the folder: "
            f"{generated:.0f} s)"
        )
        print("| run | wall s | CPU s (all processes) | CPU s per plan | wall per plan s |")
        print("|---|---|---|---|---|")
        print(
            f"| first (all written) | {wall:.1f} | {cpu:.1f} (main process {main_cpu:.1f}) | "
            f"{cpu / args.plans:.3f} | {wall / args.plans:.3f} |"
        )
        print(
            f"| second (nothing changes) | {wall_again:.1f} | - | - | "
            f"{wall_again / args.plans:.3f} |"
        )
        quiet = cpu / min(workers, cores)
        print(
            f"quiet-machine estimate (CPU s / {min(workers, cores)} cores): {quiet:.0f} s; "
            f"goal < 120 s for 300 plans: measured {'met' if wall < 120 else 'NOT met'} "
            f"({wall:.0f} s wall under the load above)"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
