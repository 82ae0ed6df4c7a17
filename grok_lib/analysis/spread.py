"""How a quantity varies over seeds: the step of generalisation is a distribution, not a
number, and a chapter should say how wide it is and how often it never came."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from grok_lib.analysis.tables import group_by


@dataclass(frozen=True)
class Spread:
    """How a quantity (say, the step of generalisation) varies over seeds."""

    values: tuple[float, ...]  # the finite values, sorted
    n: int  # runs asked about, including those where the event never happened
    missing: int  # runs where it never happened within the budget

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else math.nan

    @property
    def min(self) -> float:
        return self.values[0] if self.values else math.nan

    @property
    def max(self) -> float:
        return self.values[-1] if self.values else math.nan

    def text(self, unit: str = "") -> str:
        """``median (min–max), k of n`` in words, for prose and tables."""
        if not self.values:
            return f"never within the budget (0 of {self.n})"
        u = f" {unit}" if unit else ""
        core = f"{self.median:,.0f}{u} (range {self.min:,.0f}–{self.max:,.0f})"
        return core if not self.missing else f"{core}; {self.n - self.missing} of {self.n} runs"


def spread(values: Iterable[float | None]) -> Spread:
    """Spread of values over seeds; None or NaN counts as 'never happened'."""
    vals = list(values)
    finite = sorted(float(v) for v in vals if v is not None and not (isinstance(v, float) and math.isnan(v)))
    return Spread(tuple(finite), len(vals), len(vals) - len(finite))


def spread_by(rows: Iterable[Mapping[str, Any]], field: str, key: str = "generalised_at") -> dict[Any, Spread]:
    """The spread of ``key`` over the rows sharing each value of ``field``, in increasing order
    of that value (say, the step of generalisation at each training fraction)."""
    groups = group_by(rows, field)
    return {value: spread(row[key] for row in groups[(value,)]) for (value,) in sorted(groups)}
