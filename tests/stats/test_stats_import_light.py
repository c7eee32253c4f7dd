"""``import rtoutcomes.stats`` must stay as light as numpy and scipy (no pandas, no matplotlib)."""

from __future__ import annotations

from collections.abc import Callable


def test_stats_import_pulls_in_no_pandas_or_matplotlib(python_output: Callable[..., str]) -> None:
    code = (
        "import sys, rtoutcomes.stats; "
        "heavy = [m for m in ('pandas', 'matplotlib', 'sqlalchemy', 'pydicom', 'lifelines') "
        "if m in sys.modules]; print(','.join(heavy)); print('numpy' in sys.modules)"
    )
    heavy, numpy_loaded = python_output(code).split("\n")[:2]
    assert heavy == ""
    # The check must be able to fail: the estimators really are imported (they need numpy).
    assert numpy_loaded == "True"
