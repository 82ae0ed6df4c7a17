"""What the trainer keeps for each run of a stack: when it logs, what it logged, and whether it is done.

One `RunLog` per run holds its `Run` record, its log schedule, its early-stop clock and its
minibatch sampler, so the training loop deals with whole runs rather than parallel lists.
"""

from __future__ import annotations

import math

from .batches import Minibatches
from .config import THRESHOLD, TrainConfig
from .diagnostics import DIAGNOSTICS
from .record import METRICS, Run

GRADIENT_METRICS = 3  # the last three of METRICS need the gradient of an update after the row
GRADIENT_COLUMNS = slice(len(METRICS) - GRADIENT_METRICS, len(METRICS))


def log_steps(steps: int, log_every: int) -> list[int]:
    """Steps at which a run is evaluated: every ``log_every``, plus about 16 per decade
    before the first of those (so a log-step axis shows the early, fast phase), plus the last."""
    dense = {int(round(10 ** (k / 16))) for k in range(0, 64)} | {0}
    out = {s for s in dense if s < log_every} | set(range(0, steps + 1, log_every)) | {steps}
    return sorted(s for s in out if s <= steps)


class RunLog:
    """One run's progress through training, and the `Run` record it fills."""

    def __init__(self, config: TrainConfig):
        self.config = config
        self.run = Run(config)
        self.schedule = set(log_steps(config.steps, config.log_every))
        every = config.checkpoint_every
        self.checkpoint_at = set(range(0, config.steps, every)) | {config.steps} if every else set()
        self.held_since: int | None = None  # first logged step of the current stretch at >= THRESHOLD
        self.done = False  # out of budget, or early-stopped
        self.sampler = Minibatches(config.seed)
        self.columns = METRICS + DIAGNOSTICS if config.diagnostics else METRICS

    def logs_at(self, step: int) -> bool:
        """Whether this run records a row at ``step`` (a finished run records no more)."""
        return step in self.schedule and not self.done

    def record(self, step: int, values: list[float]) -> bool:
        """Append one row of METRICS (and DIAGNOSTICS, if the config asks) at ``step``; True if the run is
        done with it."""
        cfg, hist = self.config, self.run.history
        hist["step"].append(step)
        if step >= cfg.steps:  # a run's last row has no update after it, so no gradient (as when alone)
            values[GRADIENT_COLUMNS] = [math.nan] * GRADIENT_METRICS
        for name, value in zip(self.columns, values, strict=True):
            hist[name].append(value)
        if hist["val_acc"][-1] >= THRESHOLD:
            if self.held_since is None:
                self.held_since = step
        else:  # below, or NaN
            self.held_since = None
        held_long_enough = self.held_since is not None and step - self.held_since >= cfg.patience
        if step >= cfg.steps or (cfg.early_stop and held_long_enough):
            self.done = True
        return self.done

    def status(self, unfinished: str) -> str:
        """How the run ended: ``early_stop`` or ``budget`` when it finished, else ``unfinished``
        (how the stack's training ended: ``stopped``, ``interrupted``)."""
        if not self.done:
            return unfinished
        if self.run.steps[-1] < self.config.steps:
            return "early_stop"
        return "budget"
