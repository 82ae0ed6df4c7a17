"""Loss spikes in a long run's history: when the training loss jumps, and what the logged weight norm,
effective learning rate and gradient norm did around the jump (Thilak et al.'s slingshot).

A *spike* is a logged row whose training loss is at least ``factor`` times the row before it (a jump
within one log interval); rows that keep rising by that factor right after it belong to the same spike.

A logged mean training loss of exactly 0 says more than any checkpoint can: each example's cross-entropy
is at least 0, so their mean is 0 only if every one is, i.e. the whole training set has collapsed
(`fully_collapsed`), at the logging resolution rather than the checkpoints'.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

SPIKE_FACTOR = 10.0  # a jump of x10 within one log interval


@dataclass(frozen=True)
class Spike:
    """One spike: the last logged step before it, the step it peaked at, and the loss at both."""

    before: int
    peak: int
    loss_before: float
    loss_peak: float

    @property
    def ratio(self) -> float:
        return self.loss_peak / self.loss_before


def loss_spikes(steps: Sequence[int], losses: Sequence[float], factor: float = SPIKE_FACTOR) -> list[Spike]:
    """Every spike of ``losses`` (logged at ``steps``): rows at least ``factor`` times the row before,
    merged while the rise continues at that rate. Rows with a NaN or zero loss are skipped (a ratio to 0 says
    nothing), so a spike's ``before`` is the last row with a positive loss; `fully_collapsed` lists the zeros."""
    if factor <= 1:
        raise ValueError(f"factor={factor} must exceed 1 (e.g. 10: a tenfold jump).")
    rows = [(s, x) for s, x in zip(steps, losses, strict=True) if not math.isnan(x) and x > 0]
    spikes: list[Spike] = []
    rising = False
    for (s0, x0), (s1, x1) in zip(rows, rows[1:], strict=False):
        if x1 >= factor * x0:
            if rising:  # the same spike, still climbing
                last = spikes[-1]
                spikes[-1] = Spike(last.before, s1, last.loss_before, x1)
            else:
                spikes.append(Spike(s0, s1, x0, x1))
            rising = True
        else:
            rising = False
    return spikes


def fully_collapsed(steps: Sequence[int], losses: Sequence[float]) -> list[int]:
    """The logged steps at which the mean training loss is exactly 0: every training example's loss is 0."""
    return [s for s, x in zip(steps, losses, strict=True) if x == 0]


def collapsed_before(spike: Spike, collapsed: Sequence[int], window: int) -> bool:
    """Whether any step of ``collapsed`` lies in the ``window`` steps up to the spike's last row before it."""
    return any(spike.before - window <= s <= spike.before for s in collapsed)


def around(history: Mapping[str, Sequence[float]], spike: Spike,
           columns: Sequence[str] = ("train_loss", "weight_norm", "eff_lr", "grad_norm")) -> dict[str, tuple]:
    """``columns`` of ``history`` at the spike's two rows: {column: (value before, value at the peak)}."""
    steps = list(history["step"])
    i, j = steps.index(spike.before), steps.index(spike.peak)
    return {c: (history[c][i], history[c][j]) for c in columns}


def lowest_between(history: Mapping[str, Sequence[float]], spikes: Sequence[Spike], column: str,
                   start: int = 0) -> list[float]:
    """For each spike, the lowest value of ``column`` over the rows after the previous spike's peak (after
    ``start`` for the first) up to the spike's last row before it: how far a quantity fell between two spikes
    (Adam's update, for one, shrinks after a spike and grows back before the next)."""
    steps, values = history["step"], history[column]
    out, after = [], start
    for spike in spikes:
        window = [v for s, v in zip(steps, values, strict=True) if after < s <= spike.before and not math.isnan(v)]
        out.append(min(window) if window else math.nan)
        after = spike.peak
    return out
