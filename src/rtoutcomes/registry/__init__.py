"""The registry: storage (SQLite or PostgreSQL), schema migrations and validation.

Public entry points::

    init_registry(db)                 # empty registry at the current schema
    import_registry(path, db)         # CSV folder or .xlsx -> database, all or nothing
    apply_changes(db, ChangeSet(...), user=, reason=, command=)
                                      # THE write path: every write, audited (changes.py)
    validate_database(db)             # the import checks on a database's content
    read_tables(db)                   # dict of pandas DataFrames for the analysis layers

``db`` is a SQLite file path or a database URL (``postgresql+psycopg://...``).
"""

from rtoutcomes.io.problems import Problem
from rtoutcomes.registry.changes import ChangeSet, apply_changes
from rtoutcomes.registry.database import make_engine
from rtoutcomes.registry.importer import RegistryNotEmpty, import_registry, validate_database
from rtoutcomes.registry.migrate import init_registry
from rtoutcomes.registry.tables import read_tables
from rtoutcomes.registry.validation import ImportRejected

__all__ = [
    "ChangeSet",
    "ImportRejected",
    "Problem",
    "RegistryNotEmpty",
    "apply_changes",
    "import_registry",
    "init_registry",
    "make_engine",
    "read_tables",
    "validate_database",
]
