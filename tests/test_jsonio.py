"""results.json's encoder: the bytes of json.dumps(stable(...), sort_keys=True, indent=1)."""

from __future__ import annotations

import enum
import json
import math
import random

import numpy as np
import pytest

from rtoutcomes.report.jsonio import dumps, stable


def reference(value: object) -> str:
    """What results.json held before the one-pass encoder: the json module's bytes."""
    text = json.dumps(stable(value), sort_keys=True, indent=1, ensure_ascii=False, allow_nan=False)
    return text + "\n"


class Grade(enum.IntEnum):
    G1 = 1


class Label(str):
    pass


def scalar(rng: random.Random) -> object:
    return rng.choice(
        [
            None,
            True,
            False,
            0,
            -(2**70),
            rng.randint(-1000, 1000),
            rng.random(),
            -0.0,
            1e300,
            1e-310,
            math.nan,
            math.inf,
            -math.inf,
            0.1 + 0.2,
            np.float64(rng.random()),
            np.int64(rng.randint(-5, 5)),
            np.bool_(True),
            Grade.G1,
            Label("sub\u00e9"),
            "",
            'quote " backslash \\ tab \t',
            "line\nbreak \u2028 \x00 \x1f",
            "\u00e9\u4e2d\U0001f600",
            "</script>",
        ]
    )


def tree(rng: random.Random, depth: int) -> object:
    kind = rng.random()
    if depth == 0 or kind < 0.3:
        return scalar(rng)
    if kind < 0.45:  # a curve: the fast path
        return [rng.random() * 10 ** rng.randint(-5, 5) for _ in range(rng.randint(0, 6))]
    if kind < 0.5:  # a curve's counts: the fast path for integers
        return [rng.choice([0, -7, 2**64, rng.randint(0, 10**6)]) for _ in range(rng.randint(0, 6))]
    if kind < 0.55:
        return tuple(rng.random() for _ in range(rng.randint(0, 3)))
    if kind < 0.75:
        return [tree(rng, depth - 1) for _ in range(rng.randint(0, 4))]
    keys = ["b", "a", "", "\u00e9", "A", "10", "9", 3, True, None, 'k"ey']
    return {rng.choice(keys): tree(rng, depth - 1) for _ in range(rng.randint(0, 5))}


@pytest.mark.parametrize("seed", range(300))
def test_same_bytes_as_the_json_module(seed: int) -> None:
    value = tree(random.Random(seed), 4)
    assert dumps(value) == reference(value)


def test_curves_of_floats_with_nan_and_inf() -> None:
    value = {"t": [0.0, 1.5, math.nan, math.inf, 1 / 3, 2.0**60], "e": [], "d": {}}
    assert dumps(value) == reference(value)
    assert '"t": [\n  0.0,\n  1.5,\n  null,\n  null,\n  0.333333333333,' in dumps(value)


def test_refuses_what_results_json_cannot_hold() -> None:
    with pytest.raises(TypeError, match="cannot write set"):
        dumps({"a": {1, 2}})


def test_negative_controls_unsorted_keys_and_unrounded_floats_differ() -> None:
    value = {"b": [0.1 + 0.2], "a": 1}
    assert dumps(value) == reference(value)
    assert dumps(value) != json.dumps(stable(value), indent=1, ensure_ascii=False) + "\n"
    assert dumps(value) != json.dumps(value, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def test_lists_of_integers_and_what_only_looks_like_them() -> None:
    class Count(int):
        def __repr__(self) -> str:
            return "Count()"

    lists = [
        [0, 1, -2, 2**70],
        [True, False],
        [1, True],
        [np.int64(3), 4],
        [Count(5), 6],
        [Grade.G1, 1],
        (1, 2),
    ]
    for value in lists:
        assert dumps({"n": value}) == reference({"n": value})
    # negative control: booleans written as integers would be Python's text, not JSON's
    assert ",\n".join(map(int.__repr__, [True, False])) != "true,\nfalse"
    assert "true" in dumps([True, False]) and "True" not in dumps([True, False])
