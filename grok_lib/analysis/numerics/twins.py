"""Two runs that should agree, compared row by row: a float32 run and its float64 twin agree early on,
until rounding differences (amplified by training) part them."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def relative_gaps(a: Mapping[str, Sequence[float]], b: Mapping[str, Sequence[float]],
                  column: str = "train_loss") -> tuple[list[int], list[float]]:
    """At each step both histories logged: ``|a − b| / max(|a|, |b|)`` of ``column`` (0 where both are 0)."""
    rows_b = dict(zip(b["step"], b[column], strict=True))
    steps, gaps = [], []
    for s, x in zip(a["step"], a[column], strict=True):
        if s not in rows_b:
            continue
        y = rows_b[s]
        scale = max(abs(x), abs(y))
        steps.append(s)
        gaps.append(0.0 if scale == 0 else abs(x - y) / scale)
    return steps, gaps


def parting_step(a: Mapping[str, Sequence[float]], b: Mapping[str, Sequence[float]], column: str = "train_loss",
                 rtol: float = 1e-3) -> int | None:
    """First step both logged at which ``column`` differs by more than ``rtol`` (relative), or where one
    is NaN and the other not; None if they agree throughout."""
    if rtol < 0:
        raise ValueError(f"rtol={rtol} must be 0 or more (e.g. 1e-3).")
    steps, gaps = relative_gaps(a, b, column)
    return next((s for s, g in zip(steps, gaps, strict=True) if math.isnan(g) or g > rtol), None)
