"""A whole-registry import starts reading its files before the write path is imported: the
registry package imports nothing, and reading and checking the files needs neither SQLAlchemy
nor the write path, which ``import_registry`` imports while a forked process reads the largest
files (``validation.validate_files``' ``meanwhile``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from rtoutcomes.demo import demo_registry_files

WATCH = ("sqlalchemy", "rtoutcomes.registry.changes", "rtoutcomes.registry.database")

# In a fresh interpreter: what is loaded when the files' reader is forked, and at the end.
IMPORT = """
import json, sys
import rtoutcomes.forking as forking
import rtoutcomes.registry, rtoutcomes.registry.importer as importer
from rtoutcomes.registry import validation
watch = {watch!r}
seen = {{"at start": [m for m in watch if m in sys.modules]}}
fork = forking.InChild.__init__
def recorded(self, *args, **kwargs):
    seen.setdefault("at the fork", [m for m in watch if m in sys.modules])
    fork(self, *args, **kwargs)
forking.InChild.__init__ = recorded
validation.SHARED_BYTES = 0  # the demo registry's files count as large
importer.import_registry({folder!r}, {db!r})
seen["at the end"] = [m for m in watch if m in sys.modules]
print(json.dumps(seen))
"""


def test_the_files_are_read_before_the_write_path_is_imported(
    tmp_path: Path, python_output: Callable[..., str]
) -> None:
    folder = demo_registry_files()
    code = IMPORT.format(watch=WATCH, folder=str(folder), db=str(tmp_path / "registry.db"))
    seen = json.loads(python_output(code))
    assert seen["at start"] == []
    assert seen["at the fork"] == []
    # the listing can fail: the import did load them, after the fork
    assert seen["at the end"] == list(WATCH)
