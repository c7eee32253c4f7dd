"""Both storage backends are real: a SQLite file and a PostgreSQL server (in CI)."""

from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool


def test_backend_answers(db_url: str) -> None:
    engine = create_engine(db_url, poolclass=NullPool)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1 + 1")).scalar_one() == 2
    engine.dispose()
