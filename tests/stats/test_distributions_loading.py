"""The p-values' functions come from scipy.special's compiled module without its package's
``__init__`` (``stats._distributions.special``): the same function objects and values, a later
``import scipy.special`` unharmed, the whole package where that cannot be done safely."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import stats

X = [-1.0, -0.0, 0.0, 1e-300, 1e-8, 0.5, 3.841458820694124, 50.0, 1e6, "inf", "nan"]
Q = [-0.1, 0.0, 1e-300, 1e-10, 0.025, 0.5, 0.975, 1 - 1e-16, 1.0, 1.1, "nan"]
DF = [0, 1, 2, 3.5, 7, 40, -1, "nan"]

# run in a fresh interpreter (this one has imported scipy.stats, hence scipy.special, already)
VALUES = f"""
import json, sys
import numpy as np
from rtoutcomes.stats._distributions import beta_ppf, chi2_sf, norm_ppf, norm_sf
x, q, dfs = (np.array(v, dtype=float) for v in ({X!r}, {Q!r}, {DF!r}))
out = {{
    "chi2": [chi2_sf(x, df).tolist() for df in dfs],
    "chi2_scalar": [[float(chi2_sf(v, df)) for v in x] for df in dfs],
    "sf": norm_sf(np.concatenate([x, -x])).tolist(),
    "ppf": norm_ppf(q).tolist(),
    "beta": [[float(beta_ppf(p, a, b)) for p in (0.025, 0.5, 0.975)]
             for a, b in ((1, 37), (5, 33), (19.0, 40.0), (37, 1))],
    "types": [type(chi2_sf(1.5, 1)).__name__, type(norm_sf(1.5)).__name__,
              type(norm_ppf(0.975)).__name__],
    "modules": sorted(m for m in sys.modules if m.startswith("scipy")),
}}
print(json.dumps(out))
"""


def test_values_equal_scipy_stats_without_importing_scipy_special(
    python_output: Callable[..., str],
) -> None:
    out = _json(python_output(VALUES))
    x, q = np.array(X, dtype=float), np.array(Q, dtype=float)
    for df, ours, scalars in zip(DF, out["chi2"], out["chi2_scalar"], strict=True):
        theirs = stats.chi2.sf(x, float(df))
        np.testing.assert_array_equal(np.array(ours, dtype=float), theirs)
        np.testing.assert_array_equal(np.array(scalars, dtype=float), theirs)
    np.testing.assert_array_equal(out["sf"], stats.norm.sf(np.concatenate([x, -x])))
    np.testing.assert_array_equal(out["ppf"], stats.norm.ppf(q))
    for (a, b), ours in zip(((1, 37), (5, 33), (19.0, 40.0), (37, 1)), out["beta"], strict=True):
        # the Clopper-Pearson limits' quantiles (study.response), as scipy.stats.beta gives
        np.testing.assert_array_equal(ours, stats.beta.ppf([0.025, 0.5, 0.975], a, b))
    assert out["types"] == ["float64"] * 3
    modules = set(out["modules"])
    assert "scipy.special._ufuncs" in modules
    # neither the package's __init__ nor the array-API layer it imports (the ~0.15 CPU s)
    assert "scipy.special" not in modules
    assert not {"scipy._lib._array_api", "scipy.special._support_alternative_backends"} & modules


def test_the_package_imported_whole_loads_what_is_avoided(
    python_output: Callable[..., str],
) -> None:
    """Negative control: the test above would see an ``import scipy.special``."""
    out = _json(
        python_output(
            VALUES.replace("import numpy as np\n", "import numpy as np\nimport scipy.special\n")
        )
    )
    assert {"scipy.special", "scipy._lib._array_api"} <= set(out["modules"])


def test_scipy_special_imported_afterwards_is_whole_and_shares_the_functions(
    python_output: Callable[..., str],
) -> None:
    code = """
import json, sys
from rtoutcomes.stats._distributions import norm_sf, special
norm_sf(1.0)
alone = special()
import scipy.special
from scipy import stats
print(json.dumps({
    "alone": alone.__name__,
    "same": [getattr(alone, n) is getattr(scipy.special, n) for n in ("chdtrc", "ndtr", "ndtri")],
    "whole": [float(scipy.special.gamma(5.0)), float(scipy.special.logsumexp([0.0, 0.0])),
              float(stats.chi2.sf(3.0, 2))],
    "now": special().__name__,
}))
"""
    out = _json(python_output(code))
    assert out["alone"] == "scipy.special._ufuncs"
    assert out["same"] == [True, True, True]
    assert out["whole"] == [24.0, float(np.log(2.0)), float(stats.chi2.sf(3.0, 2))]
    assert out["now"] == "scipy.special"


def test_with_other_threads_or_when_the_module_alone_fails_the_whole_package(
    python_output: Callable[..., str],
) -> None:
    threads = VALUES.replace(
        "import numpy as np\n",
        "import numpy as np, threading, time\n"
        "threading.Thread(target=time.sleep, args=(5,), daemon=True).start()\n",
    )
    assert "scipy.special" in _json(python_output(threads))["modules"]
    failing = VALUES.replace(
        "import numpy as np\n",
        "import numpy as np\n"
        "class Refuse:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'scipy.special._ufuncs' and not hasattr(\n"
        "            sys.modules.get('scipy.special'), '__file__'):\n"
        "            raise ImportError('refused')\n"
        "sys.meta_path.insert(0, Refuse())\n",
    )
    out = _json(python_output(failing))
    assert "scipy.special" in out["modules"]
    x = np.array(X, dtype=float)
    np.testing.assert_array_equal(np.array(out["chi2"][1], dtype=float), stats.chi2.sf(x, 1.0))


def _json(printed: str) -> Any:
    return json.loads(printed.splitlines()[-1])
