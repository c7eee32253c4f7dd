"""The few distribution functions the estimators need, from ``scipy.special``'s compiled
functions.

``scipy.stats`` takes longer to import than the rest of ``rtoutcomes.stats`` together (and than
the DVH computation of ``rtoutcomes dosimetry``); its ``chi2.sf``, ``norm.sf`` and ``norm.ppf``
are thin wrappers over the ``scipy.special`` functions used here, which give the same values
(tests/stats/test_distributions.py compares them on edge cases). They are loaded at the first
call (``special``), so commands that need no p-value load none of scipy.

``scipy.special``'s package, when imported, also imports scipy's array-API layer (with
``numpy.testing``, ``numpy.f2py``, ``unittest``, ``email``...): ~0.15-0.2 CPU s of the ~0.2 it
costs, on the path of every command that reports a p-value, none of it needed for three
functions. ``special`` loads only the compiled module that defines them,
``scipy.special._ufuncs`` (~0.01 s), the very module whose functions ``scipy.special`` exports
(the same objects: tests/stats/test_distributions_loading.py).
"""

from __future__ import annotations

import importlib
import sys
import threading
import types
from typing import Any

import numpy as np

_FUNCTIONS = ("betaincinv", "chdtrc", "ndtr", "ndtri")
_UFUNCS = "scipy.special._ufuncs"


def special() -> Any:
    """A module holding ``betaincinv``, ``chdtrc``, ``ndtr`` and ``ndtri``: ``scipy.special``
    when it is imported already (or where this process runs other threads: see
    ``_ufuncs_alone``), else its compiled ``_ufuncs`` module alone."""
    module = sys.modules.get("scipy.special") or sys.modules.get(_UFUNCS)
    if module is None and threading.active_count() == 1:
        module = _ufuncs_alone()
    if module is None or not all(hasattr(module, name) for name in _FUNCTIONS):
        module = importlib.import_module("scipy.special")
    return module


def _ufuncs_alone() -> types.ModuleType | None:
    """``scipy.special._ufuncs`` imported without running ``scipy.special``'s ``__init__``
    (``None`` if that fails: the caller imports ``scipy.special``).

    A submodule's import needs its package in ``sys.modules``, and ``_ufuncs`` imports its
    sibling extension modules relative to it; so for the duration of this import the package
    is an empty module with the package's folder as its path, removed again afterwards.
    Modules imported meanwhile stay registered under their own names, and a later ``import
    scipy.special`` runs the package's ``__init__`` as usual and finds them there (its
    functions are then these same objects). Only where no other thread runs: another thread
    importing ``scipy.special`` meanwhile would be given the empty module.
    """
    try:
        import scipy
    except ImportError:
        return None
    package = types.ModuleType("scipy.special")
    package.__path__ = [f"{folder}/special" for folder in getattr(scipy, "__path__", [])]
    sys.modules["scipy.special"] = package
    try:
        return importlib.import_module(_UFUNCS)
    except Exception:  # scipy laid out otherwise: the whole package is imported instead
        return None
    finally:
        if sys.modules.get("scipy.special") is package:
            del sys.modules["scipy.special"]


def chi2_sf(statistic: Any, df: Any) -> Any:
    """Upper tail of the chi-square distribution, as ``scipy.stats.chi2.sf``: 1 for a
    statistic <= 0, NaN for df <= 0 (a float for scalar arguments)."""
    chdtrc = special().chdtrc
    x = np.asarray(statistic, dtype=np.float64)
    k = np.asarray(df, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        out = np.where(k > 0, chdtrc(k, np.maximum(x, 0.0)), np.nan)
    return out[()]


def norm_sf(z: Any) -> Any:
    """Upper tail of the standard normal distribution (``scipy.stats.norm.sf``)."""
    return special().ndtr(-np.asarray(z, dtype=np.float64))[()]


def norm_ppf(q: Any) -> Any:
    """Quantile of the standard normal distribution (``scipy.stats.norm.ppf``)."""
    return special().ndtri(np.asarray(q, dtype=np.float64))[()]


def beta_ppf(q: Any, a: Any, b: Any) -> Any:
    """Quantile of the beta distribution with shapes ``a`` and ``b`` (``scipy.stats.beta.ppf``,
    R's ``qbeta``): ``scipy.special.betaincinv(a, b, q)``."""
    return special().betaincinv(a, b, q)


def rankdata(values: Any, method: str) -> Any:
    """Ranks, ties by ``method`` (``scipy.stats.rankdata``; imported here, when needed)."""
    from scipy.stats import rankdata as scipy_rankdata

    return scipy_rankdata(values, method=method)
