"""The allocator setting of `analyze` (study.memory): set on glibc, nothing elsewhere."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable

import pytest

GLIBC = sys.platform.startswith("linux") and (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith(
    "glibc"
)


@pytest.mark.skipif(not GLIBC, reason="glibc only")
def test_set_in_a_fresh_process(code_under_test_env: Callable[..., dict[str, str]]) -> None:
    code = "from rtoutcomes.study.memory import keep_freed_memory; print(keep_freed_memory())"
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=code_under_test_env(),
    )
    assert done.stdout.strip() == "True"


def test_nothing_set_without_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    from rtoutcomes.study import memory

    monkeypatch.setattr(os, "confstr", lambda _: None)
    assert memory.keep_freed_memory() is False
