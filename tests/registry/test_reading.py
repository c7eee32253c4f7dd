"""A registry read in one process and used in another: the demo's import process reads back the
registry it wrote (``audit.snapshot``) and sends the rows to the demo's own process, which turns
them into DataFrames without importing SQLAlchemy (``rtoutcomes.demo._import_and_read``)."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from rtoutcomes.registry.audit import snapshot
from rtoutcomes.registry.reading import Snapshot
from rtoutcomes.registry.tables import frames_of_rows, read_tables

# unpickles the file named on the command line, turns its rows into frames, says which of the
# database libraries that loaded
UNPICKLE = (
    "import json, pickle, sys\n"
    "from rtoutcomes.registry.tables import frames_of_rows\n"
    "state = pickle.loads(open(sys.argv[1], 'rb').read())\n"
    "frames_of_rows(state.rows)\n"
    "print(json.dumps(sorted(m for m in ('sqlalchemy', 'alembic') if m in sys.modules)))\n"
)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from rtoutcomes.demo import demo_registry_files
    from rtoutcomes.registry.importer import import_registry

    db = tmp_path_factory.mktemp("reading") / "registry.db"
    import_registry(demo_registry_files(), db)
    return db


def loaded_on_unpickling(
    state: Snapshot, folder: Path, env: Callable[..., dict[str, str]]
) -> list[str]:
    path = folder / "state.pickle"
    path.write_bytes(pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL))
    done = subprocess.run(
        [sys.executable, "-c", UNPICKLE, str(path)],
        capture_output=True,
        text=True,
        check=True,
        env=env(),
    )
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def test_pickled_snapshot_gives_the_same_frames(demo_db: Path) -> None:
    state = snapshot(demo_db)
    again = pickle.loads(pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL))
    assert again == state
    frames, expected = frames_of_rows(again.rows), read_tables(demo_db)
    assert list(frames) == list(expected)
    for name, frame in expected.items():
        pd.testing.assert_frame_equal(frames[name], frame, check_exact=True)
    assert sum(len(f) for f in frames.values()) > 300  # the demo registry's rows


def test_snapshot_unpickles_without_the_database_library(
    demo_db: Path, tmp_path: Path, code_under_test_env: Callable[..., dict[str, str]]
) -> None:
    state = snapshot(demo_db)
    assert {type(k) for rows in state.rows.values() for row in rows for k in row} == {str}
    assert loaded_on_unpickling(state, tmp_path, code_under_test_env) == []


def test_unpickling_check_sees_sqlalchemy_keys(
    demo_db: Path, tmp_path: Path, code_under_test_env: Callable[..., dict[str, str]]
) -> None:
    # negative control: rows keyed by SQLAlchemy's own str subclass (what its result's keys()
    # gives, and what fetch_rows kept before) make the unpickling process import it
    from sqlalchemy.sql.elements import quoted_name

    state = snapshot(demo_db)
    keyed = {
        table: [{quoted_name(k, None): v for k, v in row.items()} for row in rows]
        for table, rows in state.rows.items()
    }
    assert loaded_on_unpickling(Snapshot(keyed, state.state), tmp_path, code_under_test_env) == [
        "sqlalchemy"
    ]
