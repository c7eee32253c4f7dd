"""Speed of the registry import path on large registries: read + validate, write, read back.

Run: ``PYTHONPATH=src python -m benchmarks.registry_import`` (prints a table; set
``RTOUTCOMES_TEST_POSTGRES_URL`` to add PostgreSQL rows). The registries are the shipped synthetic
demo registry (37 patients) copied k times with renamed identifiers, so every row is valid.
"""

from __future__ import annotations

import csv
import os
import tempfile
import time
import uuid
from pathlib import Path

from rtoutcomes.demo import demo_registry_files
from rtoutcomes.io.tabular import read_registry_files
from rtoutcomes.registry.importer import import_registry
from rtoutcomes.registry.spec import TABLES
from rtoutcomes.registry.tables import read_tables
from rtoutcomes.registry.validation import validate_registry

ID_COLUMNS = {
    "candidate_id",
    "patient_id",
    "lesion_id",
    "course_id",
    "assessment_id",
    "event_id",
    "toxicity_id",
    "therapy_id",
}


def replicate(copies: int, out: Path) -> int:
    """Write the demo registry ``copies`` times over into ``out``; returns the row count."""
    out.mkdir(parents=True, exist_ok=True)
    total = 0
    for spec in TABLES:
        if not (demo_registry_files() / f"{spec.name}.csv").exists():
            continue  # an optional table the demo registry does not ship
        with open(demo_registry_files() / f"{spec.name}.csv", newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        with open(out / f"{spec.name}.csv", "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else spec.column_names)
            writer.writeheader()
            copies_here = 1 if spec.name == "registry_meta" else copies
            for k in range(copies_here):
                for row in rows:
                    writer.writerow(
                        {c: (f"{v}-{k}" if c in ID_COLUMNS and v else v) for c, v in row.items()}
                    )
                    total += 1
    return total


def _postgres_database(admin_url: str) -> tuple[str, str]:
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(admin_url)
    name = f"rtoutcomes_bench_{uuid.uuid4().hex[:8]}"
    plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False), plain


def _drop(plain: str, db_url: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{make_url(db_url).database}" WITH (FORCE)')


def main() -> None:
    postgres = os.environ.get("RTOUTCOMES_TEST_POSTGRES_URL")
    print(
        f"{'backend':<10} {'patients':>8} {'rows':>8} {'validate s':>10} {'import s':>9} "
        f"{'read_tables s':>13}"
    )
    for copies in (1, 10, 100):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "csv"
            rows = replicate(copies, folder)
            t0 = time.perf_counter()
            problems = validate_registry(read_registry_files(folder)).problems
            t_validate = time.perf_counter() - t0
            assert not problems, problems[:3]
            backends = [("sqlite", str(Path(tmp) / "r.db"), None)]
            if postgres:
                url, plain = _postgres_database(postgres)
                backends.append(("postgresql", url, plain))
            for name, db, plain in backends:
                t0 = time.perf_counter()
                import_registry(folder, db)  # validates again, then writes
                t_import = time.perf_counter() - t0
                t0 = time.perf_counter()
                read_tables(db)
                t_read = time.perf_counter() - t0
                print(
                    f"{name:<10} {37 * copies:>8} {rows:>8} {t_validate:>10.2f} "
                    f"{t_import:>9.2f} {t_read:>13.2f}"
                )
                if plain is not None:
                    _drop(plain, db)


if __name__ == "__main__":
    main()
