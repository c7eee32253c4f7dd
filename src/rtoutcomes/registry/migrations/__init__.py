"""Alembic migrations of the registry schema (run by ``rtoutcomes.registry.migrate``)."""
