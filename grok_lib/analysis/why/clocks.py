"""A lucky random walk, or a clock? Two readings of "generalisation comes late", and the numbers that
tell them apart.

- **Random walk.** If the weights wandered without drift until they happened on a generalising
  solution, the time to generalise would be a first-passage time. For a driftless walk (Brownian motion)
  started a distance a from the target, P(T ≤ t) = 2(1 − Φ(a/√t)) (the Lévy distribution), so its
  quantiles are t_q = a² / Φ⁻¹(1 − q/2)². The distance a cancels in any ratio of quantiles: the ratio
  of the 90th to the 10th percentile is about 171, whatever the scale. (In more dimensions, or to a
  nearer target, a walk's hitting time is still spread over orders of magnitude; this one-dimensional
  case is the narrowest driftless one.)
- **Clock.** AdamW multiplies every weight by (1 − lr·wd) each step, so a process that waits for the
  weights to shrink to some size takes a number of steps proportional to 1 / (lr·wd), nearly the same
  for every seed: a narrow spread, and time ∝ (lr·wd)^−1.

`quantile_ratio` and `random_walk_quantile_ratio` compare the spread over seeds; `power_law` fits the
exponent of time against lr·wd on log-log axes, one fit per seed so its spread can be read.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np


def random_walk_quantile(q: float, distance: float = 1.0) -> float:
    """The q-quantile of a driftless Brownian first-passage time to ``distance`` (unit diffusion)."""
    if not 0.0 < q < 1.0:
        raise ValueError(f"q={q} must lie strictly between 0 and 1 (e.g. 0.9).")
    return distance**2 / NormalDist().inv_cdf(1.0 - q / 2.0) ** 2


def random_walk_quantile_ratio(lo: float = 0.1, hi: float = 0.9) -> float:
    """The ``hi``-quantile over the ``lo``-quantile of a driftless first-passage time (about 171 for 0.9/0.1)."""
    return random_walk_quantile(hi) / random_walk_quantile(lo)


def quantile_ratio(values: Sequence[float], lo: float = 0.1, hi: float = 0.9) -> float:
    """The same ratio for measured times (linear interpolation between order statistics, numpy's default)."""
    v = np.asarray([x for x in values if x is not None], dtype=float)
    if len(v) < 2:
        raise ValueError("need at least two finite times to measure a spread")
    return float(np.quantile(v, hi) / np.quantile(v, lo))


def coefficient_of_variation(values: Sequence[float]) -> float:
    """Standard deviation over mean (sample standard deviation, n − 1)."""
    v = np.asarray([x for x in values if x is not None], dtype=float)
    return float(v.std(ddof=1) / v.mean())


@dataclass(frozen=True)
class PowerLaw:
    """time ≈ prefactor · x^exponent, from a least-squares line through (log x, log time)."""

    exponent: float
    prefactor: float

    def __call__(self, x: float | np.ndarray) -> float | np.ndarray:
        return self.prefactor * np.asarray(x, dtype=float) ** self.exponent


def power_law(x: Sequence[float], times: Sequence[float | None]) -> PowerLaw:
    """Fit ``times`` against ``x`` on log-log axes; points whose time is None (never happened) are left out."""
    pairs = [(a, t) for a, t in zip(x, times, strict=True) if t is not None]
    if len({a for a, _ in pairs}) < 2:
        raise ValueError("a power law needs times at two or more different x")
    lx, lt = np.log([a for a, _ in pairs]), np.log([t for _, t in pairs])
    slope, intercept = np.polyfit(lx, lt, 1)
    return PowerLaw(float(slope), float(math.exp(intercept)))


def decay_rate(row: Mapping[str, float]) -> float:
    """lr × weight decay of a `summary_rows` row: the fraction AdamW takes off every weight each step."""
    return row["lr"] * row["weight_decay"]


def power_law_by_seed(rows: Sequence[Mapping[str, float | None]], time: str = "generalised_at") -> dict[int, PowerLaw]:
    """One `power_law` of ``time`` against lr·wd per seed, over `summary_rows` rows."""
    seeds = sorted({int(r["seed"]) for r in rows})
    return {s: power_law([decay_rate(r) for r in rows if r["seed"] == s], [r[time] for r in rows if r["seed"] == s])
            for s in seeds}


def decay_times(rows: Sequence[Mapping[str, float | None]], time: str = "generalised_at") -> list[float]:
    """lr·wd × steps to generalise for every row that generalised: how many 'decay times' it took
    (the same across the grid if the clock is exactly the weight decay's)."""
    return [decay_rate(r) * r[time] for r in rows if r[time] is not None]
