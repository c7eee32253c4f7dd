"""Symmetric solves with R's rule for singular (aliased) columns.

R's coxph factors the information matrix as L D L' and treats a column as singular when its
pivot falls below ``toler_chol`` times the largest diagonal element; such a column gets a zero
step, a zero variance and an NA coefficient. The pivot sweep below reproduces that rule; the
solves then use the non-singular block (the singular columns' Schur complements are ~0, so this
is the same as R's generalised inverse).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


def singular_columns(a: FloatArray, toler: float) -> BoolArray:
    """Columns whose L D L' pivot is below ``toler`` x the largest diagonal (or not finite)."""
    work = np.array(a, dtype=np.float64, copy=True)
    p = work.shape[0]
    largest = float(np.max(np.diag(work))) if p else 0.0
    eps = toler if largest == 0 else largest * toler
    singular = np.zeros(p, dtype=bool)
    for i in range(p):
        pivot = work[i, i]
        if not np.isfinite(pivot) or pivot < eps:
            singular[i] = True
            continue
        col = work[i + 1 :, i] / pivot
        work[i + 1 :, i + 1 :] -= np.outer(col, work[i + 1 :, i])
    return singular


def generalized_inverse(a: FloatArray, toler: float) -> tuple[FloatArray, BoolArray]:
    """Inverse on the non-singular columns, zeros in the singular rows and columns."""
    singular = singular_columns(a, toler)
    keep = ~singular
    out = np.zeros_like(a)
    if keep.any():
        out[np.ix_(keep, keep)] = np.linalg.inv(a[np.ix_(keep, keep)])
    return (out + out.T) / 2, singular


def quadratic_test(var: FloatArray, b: FloatArray, toler: float) -> tuple[float, int]:
    """b' var^- b and the rank of ``var``: R's coxph.wtest, for Wald and score statistics."""
    singular = singular_columns(var, toler)
    keep = ~singular
    if not keep.any():
        return 0.0, 0
    sub = var[np.ix_(keep, keep)]
    return float(b[keep] @ np.linalg.solve(sub, b[keep])), int(keep.sum())
