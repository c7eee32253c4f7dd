"""Local failure rules: when a treated lesion's growth counts as local failure (RECIST 1.1, its
confirmed form, the model study's rule). The one place their names and thresholds are written:
the study file's ``endpoint_rules.local_failure`` takes ``LOCAL_FAILURE_RULES``' names,
``recist`` applies the rules and results.json carries each rule's ``definition()`` for the
methods paragraph. Light to import (numpy only when a rule is applied)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from rtoutcomes.clinical.errors import ClinicalRuleError

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class LocalFailureRule:
    """When a treated lesion's growth counts as local failure.

    ``reference``: ``"nadir"`` (RECIST 1.1) or ``"baseline"``; ``min_increase_fraction``: the
    relative growth over the reference (0.20 = 20 %); ``min_increase_mm``: the absolute growth
    over the reference in mm (RECIST 1.1: 5 mm; 0 to drop the requirement); ``confirmation``:
    whether the next measured scan must meet the rule too.
    """

    reference: Literal["nadir", "baseline"] = "nadir"
    min_increase_fraction: float = 0.20
    min_increase_mm: float = 5.0
    confirmation: bool = False
    name: str = "RECIST 1.1"

    def __post_init__(self) -> None:
        if self.reference not in ("nadir", "baseline"):
            raise ClinicalRuleError(
                "the reference of a local failure rule is 'nadir' or 'baseline'",
                column="reference",
                value=self.reference,
            )
        if not math.isfinite(self.min_increase_fraction) or self.min_increase_fraction < 0:
            raise ClinicalRuleError(
                "min_increase_fraction must be a finite number >= 0 (0.20 = 20 %)",
                column="min_increase_fraction",
                value=self.min_increase_fraction,
            )
        if not math.isfinite(self.min_increase_mm) or self.min_increase_mm < 0:
            raise ClinicalRuleError(
                "min_increase_mm must be a finite number >= 0 mm",
                column="min_increase_mm",
                value=self.min_increase_mm,
            )

    def meets(self, diameter_mm: Any, reference_mm: Any) -> np.ndarray:
        """Element-wise: does a diameter (mm) meet the rule against its reference (mm)?

        Missing values never meet the rule.
        """
        import numpy as np

        d = np.asarray(diameter_mm, dtype=float)
        ref = np.asarray(reference_mm, dtype=float)
        with np.errstate(invalid="ignore"):
            result = (
                (d >= ref * (1.0 + self.min_increase_fraction) - 1e-9)
                & (d - ref >= self.min_increase_mm - 1e-9)
                & (d > ref)
            )
        return np.asarray(result & np.isfinite(d) & np.isfinite(ref))

    def definition(self) -> str:
        """The rule as a methods section states it, from the thresholds it applies, e.g. "an
        increase of the longest diameter of at least 20% and 5 mm over the nadir"."""
        amount = f"at least {self.min_increase_fraction * 100:g}%"
        if self.min_increase_mm > 0:
            amount += f" and {self.min_increase_mm:g} mm"
        text = f"an increase of the longest diameter of {amount} over the {self.reference}"
        if self.confirmation:
            text += ", confirmed by the next measured scan"
        return text

    def describe(self) -> str:
        """The rule in words, e.g. for a methods section or an audit column."""
        parts = [f">= {self.min_increase_fraction * 100:g} % over the {self.reference}"]
        if self.min_increase_mm > 0:
            parts.append(f">= {self.min_increase_mm:g} mm absolute")
        text = f"{self.name}: diameter " + " and ".join(parts)
        if self.confirmation:
            text += ", confirmed on the next measured scan"
        return text


RECIST_1_1 = LocalFailureRule()
"""RECIST 1.1 target-lesion progression: >= 20 % and >= 5 mm over the nadir."""

FENG_2022 = LocalFailureRule(
    reference="baseline",
    min_increase_fraction=0.20,
    min_increase_mm=0.0,
    name="Feng 2022",
)
"""The model study's rule: >= 20 % increase of the diameter over baseline."""

RECIST_1_1_CONFIRMED = replace(RECIST_1_1, confirmation=True, name="RECIST 1.1 confirmed")
"""RECIST 1.1 progression confirmed by the next measured scan."""


LOCAL_FAILURE_RULES: dict[str, LocalFailureRule] = {
    rule.name: rule for rule in (RECIST_1_1, RECIST_1_1_CONFIRMED, FENG_2022)
}
"""Every named rule a study file may choose, by name."""
