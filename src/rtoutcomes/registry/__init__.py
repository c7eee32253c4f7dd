"""The registry: storage (SQLite or PostgreSQL), schema migrations and validation."""
