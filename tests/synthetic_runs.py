"""Synthetic runs whose analyses are known by construction, shared by the analysis tests."""

from __future__ import annotations

from grok_lib.training.config import TrainConfig
from grok_lib.training.record import Run

STEPS = list(range(0, 1001, 100))


def history(mem: int | None, gen: int | None, final_val: float | None = None) -> dict[str, list[float]]:
    """Accuracy jumps from 0 to 1 at step ``mem`` (train) and ``gen`` (validation); None = never.
    ``final_val`` overrides the last validation accuracy (for runs that never generalised)."""
    up = lambda at: [1.0 if at is not None and s >= at else 0.0 for s in STEPS]
    val = up(gen)
    if final_val is not None:
        val[-1] = final_val
    return {"step": STEPS, "train_acc": up(mem), "val_acc": val,
            "val_loss": [1.0] * len(STEPS), "train_loss": [1.0] * len(STEPS)}


def run(mem: int | None, gen: int | None, final_val: float | None = None, **cfg) -> Run:
    """A run of a small config (p = 7, 1,000 steps) with the history above."""
    return Run(TrainConfig(p=7, steps=1000, **cfg), history(mem, gen, final_val))
