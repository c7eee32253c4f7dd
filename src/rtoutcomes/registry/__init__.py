"""The registry: storage (SQLite or PostgreSQL), schema migrations and validation.

Entry points, each imported from its own module (this package imports nothing, so that a
command loads only what it uses: reading and checking the files of an import needs neither
SQLAlchemy nor the write path, and starts before they are imported)::

    from rtoutcomes.registry.migrate import init_registry
    init_registry(db)                 # empty registry at the current schema
    from rtoutcomes.registry.importer import import_registry, validate_database
    import_registry(path, db)         # CSV folder or .xlsx -> database, all or nothing
    validate_database(db)             # the import checks on a database's content
    from rtoutcomes.registry.changes import ChangeSet, apply_changes
    apply_changes(db, ChangeSet(...), user=, reason=, command=)
                                      # THE write path: every write, audited
    from rtoutcomes.registry.tables import read_tables
    read_tables(db)                   # dict of pandas DataFrames for the analysis layers

``db`` is a SQLite file path or a database URL (``postgresql+psycopg://...``). Refusals:
``validation.ImportRejected`` (every problem, nothing written), ``changes.RegistryNotEmpty``.
"""
