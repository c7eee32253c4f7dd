"""The overview page's screening flow is the report's flow chart (one implementation:
clinical.eligibility.registry_flow): same counts, same reasons in the same order."""

from __future__ import annotations

from pathlib import Path

from rtoutcomes.clinical.eligibility import registry_flow
from rtoutcomes.registry.database import make_engine
from rtoutcomes.registry.tables import read_tables
from rtoutcomes.web import queries


def test_overview_flow_is_the_reports(demo_db: Path) -> None:
    url = f"sqlite:///{demo_db}"
    engine = make_engine(url, must_exist=True)
    with engine.connect() as connection:
        shown = queries.screening_flow(connection)
    engine.dispose()
    chart = registry_flow(read_tables(url))
    assert (shown.screened, shown.eligible) == (chart.screened, chart.enrolled_patients) == (68, 37)
    assert shown.excluded == tuple(chart.excluded_by_reason.items())
    assert sum(n for _, n in shown.excluded) == 31
