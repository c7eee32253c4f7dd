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
