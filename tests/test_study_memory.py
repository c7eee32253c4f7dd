"""The allocator setting of `analyze` (study.memory): set on glibc, nothing elsewhere."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

import pytest

GLIBC = sys.platform.startswith("linux") and (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith(
    "glibc"
)


@pytest.mark.skipif(not GLIBC, reason="glibc only")
def test_set_in_a_fresh_process(python_output: Callable[..., str]) -> None:
    code = "from rtoutcomes.study.memory import keep_freed_memory; print(keep_freed_memory())"
    assert python_output(code).strip() == "True"


def test_nothing_set_without_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    from rtoutcomes.study import memory

    monkeypatch.setattr(os, "confstr", lambda _: None)
    assert memory.keep_freed_memory() is False


IMPORTS = """
import gc, json, sys
from rtoutcomes.study.memory import imported_uncollected
seen = []
class Watch:  # records whether the collector ran during each import
    def find_spec(self, name, path=None, target=None):
        if name in ("json.tool", "csv", "colorsys"):
            seen.append((name, gc.isenabled()))
sys.meta_path.insert(0, Watch())
{before}
imported_uncollected(["json.tool", "no_such_module_here", "csv"], freeze={freeze})
after_freeze = gc.get_freeze_count()
import colorsys
print(json.dumps({{"seen": seen, "enabled": gc.isenabled(), "frozen": after_freeze,
                  "imported": [m in sys.modules for m in ("json.tool", "csv")]}}))
"""


@pytest.mark.parametrize("freeze", [False, True])
@pytest.mark.parametrize("enabled", [True, False])
def test_imports_with_the_collector_paused_and_its_state_restored(
    python_output: Callable[..., str], freeze: bool, enabled: bool
) -> None:
    import json

    code = IMPORTS.format(before="" if enabled else "gc.disable()", freeze=freeze)
    out = json.loads(python_output(code))
    # paused during the imports (a missing module skipped), as it was afterwards; the import
    # after it (the control) sees the collector as the process had it
    assert out["seen"] == [["json.tool", False], ["csv", False], ["colorsys", enabled]]
    assert out["enabled"] is enabled
    assert out["imported"] == [True, True]
    assert (out["frozen"] > 1000) is freeze
