"""Disclosure control, set by each centre (never by the researcher who asks).

A centre's policy is read at the centre: on a vantage6 node from the environment variable
``RTOUTCOMES_DISCLOSURE`` that the node's configuration gives the algorithm (JSON, e.g.
``{"min_rows": 10, "min_cell": 5, "time_resolution": 1, "small_cells": "suppress"}``); a
simulation on one machine gives each organisation its own through
``RTOUTCOMES_DISCLOSURE_<organisation id>``. What each setting protects is in
docs/federated.md (threat model).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rtoutcomes.errors import RtOutcomesError

if TYPE_CHECKING:
    import numpy as np

ENV = "RTOUTCOMES_DISCLOSURE"
SMALL_CELLS = ("suppress", "refuse")


class DisclosureRefused(RtOutcomesError):
    """A centre refuses a request that would release less than its policy allows."""

    exit_code = 2


class DisclosureSettingError(RtOutcomesError):
    """A centre's disclosure policy is malformed."""

    exit_code = 2


@dataclass(frozen=True)
class DisclosurePolicy:
    """What a centre lets leave it.

    ``min_rows``: an endpoint with fewer usable rows at the centre is refused. ``min_cell``: a
    covariate level held by fewer rows (but at least one) is suppressed (its rows are left out
    of every released count and model, and the central report says so) or the whole request
    is refused (``small_cells``). ``time_resolution``: every time is rounded up to a multiple
    of it (in the study's time unit) before any count leaves the centre, so no released time
    is more exact than that.
    """

    min_rows: int = 10
    min_cell: int = 5
    time_resolution: float = 1.0
    small_cells: str = "suppress"

    @classmethod
    def from_mapping(cls, raw: Any, where: str) -> DisclosurePolicy:
        if not isinstance(raw, dict):
            raise DisclosureSettingError(f"{where}: must be a JSON object")
        unknown = sorted(set(raw) - {"min_rows", "min_cell", "time_resolution", "small_cells"})
        if unknown:
            raise DisclosureSettingError(f"{where}: unknown setting '{unknown[0]}'")
        policy = cls(**raw)
        for name in ("min_rows", "min_cell"):
            value = getattr(policy, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise DisclosureSettingError(
                    f"{where}: {name} must be a whole number >= 1, got {value!r}"
                )
        resolution = policy.time_resolution
        if (
            isinstance(resolution, bool)
            or not isinstance(resolution, int | float)
            or not math.isfinite(resolution)
            or resolution <= 0
        ):
            raise DisclosureSettingError(
                f"{where}: time_resolution must be a number > 0, got {resolution!r}"
            )
        if policy.small_cells not in SMALL_CELLS:
            raise DisclosureSettingError(
                f"{where}: small_cells must be 'suppress' or 'refuse', got {policy.small_cells!r}"
            )
        return policy

    def as_dict(self) -> dict[str, Any]:
        return {
            "min_rows": self.min_rows,
            "min_cell": self.min_cell,
            "time_resolution": self.time_resolution,
            "small_cells": self.small_cells,
        }

    def coarsen(self, time: np.ndarray) -> np.ndarray:
        """Times rounded up to the grid of ``time_resolution`` (0 stays 0)."""
        import numpy as np

        r = float(self.time_resolution)
        return np.ceil(np.round(time / r, 9)) * r


def centre_policy(organization_id: int | None = None) -> DisclosurePolicy:
    """The policy of the centre this code runs at (see the module docstring)."""
    names = ([f"{ENV}_{organization_id}"] if organization_id is not None else []) + [ENV]
    for name in names:
        raw = os.environ.get(name)
        if raw is not None:
            try:
                parsed = json.loads(raw)
            except json.JSONDecodeError as error:
                raise DisclosureSettingError(f"{name}: not valid JSON: {error}") from None
            return DisclosurePolicy.from_mapping(parsed, name)
    return DisclosurePolicy()
