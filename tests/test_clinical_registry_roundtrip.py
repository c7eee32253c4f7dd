"""The clinical rules on tables read back from the registry database (SQLite and PostgreSQL).

The registry layer hands out its own dtypes (yes/no as pandas ``boolean``, integers as ``Int64``,
dates as ``datetime64``); endpoints and toxicity must come out the same as from the hand-built
DataFrames.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from clinical_registry import build_registry
from rtoutcomes.clinical import ctcae, eligibility
from rtoutcomes.clinical.endpoints import derive_endpoints
from rtoutcomes.registry.importer import import_registry
from rtoutcomes.registry.spec import TABLES
from rtoutcomes.registry.tables import read_tables


def _registry_without_cutoff() -> dict[str, pd.DataFrame]:
    # the registry refuses records after its data cut-off, and P4 has some: drop the cut-off
    tables = build_registry()
    meta = tables["registry_meta"]
    tables["registry_meta"] = meta[meta["key"] != "data_cutoff_date"]
    return tables


def test_endpoints_from_the_database_match(tmp_path: Path, db_url: str) -> None:
    tables = _registry_without_cutoff()
    folder = tmp_path / "registry"
    folder.mkdir()
    for spec in TABLES:
        frame = tables.get(spec.name, pd.DataFrame(columns=list(spec.column_names)))
        frame.to_csv(folder / f"{spec.name}.csv", index=False, date_format="%Y-%m-%d")
    import_registry(folder, db_url)
    stored = read_tables(db_url)
    assert stored["assessments"]["new_lesions"].dtype == "boolean"

    expected = derive_endpoints(tables)
    got = derive_endpoints(stored)
    pd.testing.assert_frame_equal(expected.lesions, got.lesions)
    pd.testing.assert_frame_equal(expected.patients, got.patients)
    assert got.patients.set_index("patient_id").loc["P5", "pfs_source"] == "new lesions"

    late = derive_endpoints(stored, data_cutoff="2017-12-31", unit="days")
    assert late.lesions.set_index("lesion_id").loc["L4", "lc_source"] == "cut-off"

    def toxicity(t: dict[str, pd.DataFrame]) -> pd.DataFrame:
        classified = ctcae.classify_phase(
            ctcae.normalise_toxicities(t["toxicities"]), t["sbrt_courses"], t["lesions"]
        )
        return ctcae.toxicity_summary(classified, len(t["patients"])).by_grade

    pd.testing.assert_frame_equal(toxicity(tables), toxicity(stored))
    flow = eligibility.registry_flow(stored)
    assert (flow.screened, flow.enrolled_patients, flow.treated_lesions) == (8, 6, 7)
