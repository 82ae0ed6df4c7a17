"""Reading a history: when did the network memorise, when did it generalise, and which
regime (phase) does a run belong to.

The phase rule compares the two moments on the log-step axis every chapter draws. Runs log
about 16 times per decade early on and then every ``log_every`` steps, so a logged step can
overshoot the true moment by a whole logging interval: with ``log_every`` 50, the row after
step 50 is step 100, twice as late. A rule that asks "validation within 2x the memorisation
step" therefore cannot be answered on that grid. This module reads each moment *between*
logged rows (`crossing_step`) and calls a run grokking only when generalisation came at
least `GROK_RATIO` (ten) times later than memorisation, one decade on the log-step axis: a
scale far wider than any logging interval, so the verdict does not hinge on the grid.
`ratio_range` says how wide the grid leaves the ratio, so a reader can check that.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from grok_lib.training.config import THRESHOLD

# generalising at least this many times later than memorising is grokking: one decade of steps
GROK_RATIO = 10.0


def first_step_at(steps: Sequence[int], values: Sequence[float], threshold: float = THRESHOLD) -> int | None:
    """First logged step whose value is at least ``threshold`` (None if never)."""
    return next((s for s, v in zip(steps, values, strict=True) if v >= threshold), None)


def crossing_bracket(steps: Sequence[int], values: Sequence[float],
                     threshold: float = THRESHOLD) -> tuple[int, int] | None:
    """The two logged steps between which ``values`` first reached ``threshold``: the last
    row below it and the first at or above (the same step twice if the first row already was;
    None if never). All the logging grid can say about the moment."""
    prev = None
    for s, v in zip(steps, values, strict=True):
        if v >= threshold:
            return (s, s) if prev is None else (prev, s)
        prev = s
    return None


def crossing_step(steps: Sequence[int], values: Sequence[float], threshold: float = THRESHOLD) -> float | None:
    """When ``values`` first reached ``threshold``, read between logged rows: linear
    interpolation between the last row below and the first at or above, so the moment does
    not snap to the next logged step (exact when the curve is straight between the two rows).
    The first row's step if it already was there; after a NaN row, the step of the row that
    reached it; None if never."""
    prev_s, prev_v = None, math.nan
    for s, v in zip(steps, values, strict=True):
        if v >= threshold:
            if prev_s is None or not math.isfinite(prev_v):
                return float(s)
            return prev_s + (threshold - prev_v) / (v - prev_v) * (s - prev_s)
        prev_s, prev_v = s, float(v)
    return None


@dataclass(frozen=True)
class GrokSummary:
    memorised_at: int | None  # train accuracy first >= threshold
    generalised_at: int | None  # validation accuracy first >= threshold
    final_train_acc: float
    final_val_acc: float
    last_step: int

    @property
    def delay(self) -> int | None:
        """Steps between memorising and generalising (None unless both happened)."""
        if self.memorised_at is None or self.generalised_at is None:
            return None
        return self.generalised_at - self.memorised_at

    @property
    def ratio(self) -> float | None:
        """How many times longer generalising took than memorising (logged steps)."""
        if self.delay is None or not self.memorised_at:
            return None
        return self.generalised_at / self.memorised_at


def grokking_summary(history: Mapping[str, Sequence[float]], threshold: float = THRESHOLD) -> GrokSummary:
    """The two moments every chapter reads off a history (memorised, generalised) and where it ended."""
    steps = history["step"]
    return GrokSummary(
        first_step_at(steps, history["train_acc"], threshold),
        first_step_at(steps, history["val_acc"], threshold),
        history["train_acc"][-1], history["val_acc"][-1], int(steps[-1]),
    )


def delay_ratio(history: Mapping[str, Sequence[float]], threshold: float = THRESHOLD) -> float | None:
    """t_gen / t_mem, both read between logged rows (`crossing_step`); None unless both
    happened. A step is the unit of time, so a memorisation before step 1 counts as step 1."""
    steps = history["step"]
    t_mem = crossing_step(steps, history["train_acc"], threshold)
    t_gen = crossing_step(steps, history["val_acc"], threshold)
    if t_mem is None or t_gen is None:
        return None
    return t_gen / max(t_mem, 1.0)


def ratio_range(history: Mapping[str, Sequence[float]], threshold: float = THRESHOLD) -> tuple[float, float] | None:
    """The smallest and largest t_gen / t_mem the logged rows allow (each moment anywhere in
    its `crossing_bracket`); None unless both happened. Its width is the grid's resolution."""
    steps = history["step"]
    mem = crossing_bracket(steps, history["train_acc"], threshold)
    gen = crossing_bracket(steps, history["val_acc"], threshold)
    if mem is None or gen is None:
        return None
    return gen[0] / max(mem[1], 1), gen[1] / max(mem[0], 1)


PHASES = ("comprehension", "grokking", "memorisation", "confusion")


def classify(history: Mapping[str, Sequence[float]], threshold: float = THRESHOLD,
             grok_factor: float = GROK_RATIO) -> str:
    """The regime of a run, after the four phases of Liu et al. (2022), by a stated rule:

    - ``confusion``: training accuracy never reaches ``threshold`` (within the budget);
    - ``memorisation``: training does, validation never does (within the budget);
    - ``comprehension``: both do, validation less than ``grok_factor`` times as late as training
      (`delay_ratio`, moments read between logged rows);
    - ``grokking``: both do, validation at least ``grok_factor`` times as late.
    """
    steps = history["step"]
    t_mem = crossing_step(steps, history["train_acc"], threshold)
    if t_mem is None:
        return "confusion"
    t_gen = crossing_step(steps, history["val_acc"], threshold)
    if t_gen is None:
        return "memorisation"
    return "grokking" if t_gen >= grok_factor * max(t_mem, 1.0) else "comprehension"
