"""Alembic environment of the registry (run programmatically, see ``registry/migrate.py``).

The caller puts an engine made by ``rtoutcomes.registry.database.make_engine`` into
``config.attributes["engine"]`` so that SQLite connections carry the same settings as everywhere
else (foreign keys, WAL, real transactions). Every revision runs in one transaction, DDL
included, on both backends.
"""

from __future__ import annotations

from alembic import context

from rtoutcomes.registry.database import make_engine
from rtoutcomes.registry.schema import metadata

config = context.config


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            transactional_ddl=True,
            transaction_per_migration=True,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported")
run_migrations_online()
