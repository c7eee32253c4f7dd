"""Speed of an update into a large registry: 1,000 changed rows into the ~68,000-row registry.

Run: ``PYTHONPATH=src python -m benchmarks.registry_update`` (set ``RTOUTCOMES_TEST_POSTGRES_URL``
to add PostgreSQL). The registry is the demo registry copied 100 times
(``registry_import.replicate``); the update is a CSV file of 1,000 existing scans with a new
longest diameter, applied by ``update_registry`` (read the file, take the writer lock, read the
registry, check it as it would be after, write the rows and 1,000 audit entries, commit).
Times are the fastest of ``--repeat`` runs, each on a fresh copy of the update (alternating
diameters so that every run changes 1,000 rows).

Then one change as the web app writes it (``apply_changes`` with one row: a new scan, a corrected
lesion size), wall and CPU seconds of this process, fastest of ``--repeat``: the checks read the
rows of the patient it touches (``registry/scope.py``), not the whole registry.
"""

from __future__ import annotations

import argparse
import csv
import os
import tempfile
import time
from pathlib import Path

from benchmarks.registry_import import _drop, _postgres_database, replicate
from rtoutcomes.registry.changes import ChangeSet, apply_changes
from rtoutcomes.registry.importer import import_registry
from rtoutcomes.registry.update import update_registry

CHANGED_ROWS = 1000


def _update_folder(registry: Path, out: Path, bump: float) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    with open(registry / "assessments.csv", newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["longest_diameter_mm"]][:CHANGED_ROWS]
    assert len(rows) == CHANGED_ROWS
    with open(out / "assessments.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["assessment_id", "longest_diameter_mm"])
        for r in rows:
            writer.writerow([r["assessment_id"], float(r["longest_diameter_mm"]) + bump])
    return out


def _one_row_changes(db: str, repeat: int) -> dict[str, tuple[float, float]]:
    """Fastest wall and CPU seconds of one-row changes (a web form's write)."""
    timed: dict[str, list[tuple[float, float]]] = {"new scan": [], "changed size": []}
    for run in range(repeat):
        changes = {
            "new scan": ChangeSet(
                rows={
                    "assessments": [
                        {
                            "assessment_id": f"BENCH-A{run}",
                            "lesion_id": "DEMO-L001-50",
                            "assessment_date": f"2024-01-{run + 1:02d}",
                            "modality": "CT",
                            "longest_diameter_mm": 30 + run,
                        }
                    ]
                }
            ),
            "changed size": ChangeSet(
                rows={"lesions": [{"lesion_id": "DEMO-L002-50", "size_cm": 3.0 + run / 10}]}
            ),
        }
        for what, change in changes.items():
            t0, c0 = time.perf_counter(), time.process_time()
            report = apply_changes(db, change, reason="benchmark", user="bench")
            timed[what].append((time.perf_counter() - t0, time.process_time() - c0))
            assert report.written
    return {
        what: (min(w for w, _ in runs), min(c for _, c in runs)) for what, runs in timed.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    postgres = os.environ.get("RTOUTCOMES_TEST_POSTGRES_URL")
    print(f"{'backend':<10} {'rows':>7} {'changed':>7} {'preview s':>9} {'update s':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "csv"
        total = replicate(args.copies, folder)
        backends = [("sqlite", str(Path(tmp) / "r.db"), None)]
        if postgres:
            url, plain = _postgres_database(postgres)
            backends.append(("postgresql", url, plain))
        for name, db, plain in backends:
            import_registry(folder, db)
            previews, updates = [], []
            for run in range(args.repeat):
                update = _update_folder(folder, Path(tmp) / f"u{name}{run}", 0.5 + run)
                t0 = time.perf_counter()
                preview = update_registry(update, db, dry_run=True)
                previews.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                report = update_registry(update, db, reason="benchmark")
                updates.append(time.perf_counter() - t0)
                assert report.counts()["changed"] == CHANGED_ROWS, report.counts()
                assert preview.counts() == {**report.counts()}
            print(
                f"{name:<10} {total:>7} {CHANGED_ROWS:>7} {min(previews):>9.2f} "
                f"{min(updates):>8.2f}"
            )
            for what, (wall, cpu) in _one_row_changes(db, args.repeat).items():
                print(f"{name:<10} {total:>7} {'1':>7} {what}: {wall:.3f} s wall, {cpu:.3f} s CPU")
            if plain is not None:
                _drop(plain, db)


if __name__ == "__main__":
    main()
