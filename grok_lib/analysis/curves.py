"""Curves read off one run's history: a dip, a rise and a fall in its validation loss (the shape of
epoch-wise double descent, and of grokking's validation loss)."""

from __future__ import annotations

import math
from collections.abc import Sequence


def _last_finite(values: Sequence[float]) -> float:
    for v in reversed(values):
        if not (isinstance(v, float) and math.isnan(v)):
            return float(v)
    return math.nan


def rise_then_fall(values: Sequence[float]) -> tuple[int, float, float, float] | None:
    """For a curve that falls, rises, then falls again (epoch-wise double descent): the index
    of the largest rise above an earlier minimum, and (that minimum, the peak, the final value).
    None when the curve never rises above an earlier value."""
    best: tuple[int, float, float] | None = None
    low = math.inf
    for i, x in enumerate(values):
        if math.isnan(x):
            continue
        low = min(low, x)
        if x > low and (best is None or x - low > best[2] - best[1]):
            best = (i, low, x)
    if best is None:
        return None
    return best[0], best[1], best[2], _last_finite(values)


def largest_spike(steps: Sequence[int], values: Sequence[float], after: int = 0) -> tuple[int, float, float] | None:
    """The largest jump of a positive curve (a training loss) above its lowest earlier value, by
    ratio, among the logged steps after ``after``: (step, the earlier low, the peak). None if the
    curve never rises there. A loss that falls to 1e-7 and jumps to 1e-2 has a spike of 1e5."""
    best: tuple[int, float, float] | None = None
    low = math.inf
    for step, x in zip(steps, values, strict=True):
        if math.isnan(x) or x <= 0:
            continue
        if step > after and x > low and (best is None or x / low > best[2] / best[1]):
            best = (step, low, x)
        low = min(low, x)
    return best
