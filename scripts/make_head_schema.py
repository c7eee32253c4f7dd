"""Regenerate src/rtoutcomes/registry/migrations/head_schema_sqlite.json from the chain of
migrations (run after adding a migration; tests/registry/test_schema.py fails until then).

    PYTHONPATH=src python scripts/make_head_schema.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from rtoutcomes.registry.migrate import HEAD_SCHEMA, write_head_schema

if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        write_head_schema(Path(folder))
    print(f"wrote {HEAD_SCHEMA}")
