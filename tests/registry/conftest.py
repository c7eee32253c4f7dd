"""Helpers for the registry tests: a snapshot of a database to prove it did not change."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

sys.path.insert(0, str(Path(__file__).resolve().parent))


def database_snapshot(db_url: str) -> str:
    """SQLite: SHA-256 of the database file's bytes (plus any WAL file). PostgreSQL: SHA-256
    of a full dump of every table's rows, tables and rows in a fixed order."""
    url = sa.make_url(db_url)
    digest = hashlib.sha256()
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "")
        for file in (path, Path(f"{path}-wal")):
            digest.update(file.name.encode())
            digest.update(file.read_bytes() if file.exists() else b"<absent>")
        return digest.hexdigest()
    engine = sa.create_engine(db_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            names = sorted(sa.inspect(connection).get_table_names())
            for name in names:
                rows = connection.exec_driver_sql(f'SELECT * FROM "{name}"').all()
                digest.update(name.encode())
                for row in sorted(repr(tuple(r)) for r in rows):
                    digest.update(row.encode())
    finally:
        engine.dispose()
    return digest.hexdigest()
