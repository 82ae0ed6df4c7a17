"""The mechanism measures through training, read from a run's checkpoints.

A run trained with ``checkpoint_every`` keeps its weights (float16) at step 0, every so many
steps and at its end (`Run.model_at`). These functions rebuild the model at each kept step,
so a chapter shows the progress measures and the embedding's spectrum as curves over training
with the key frequencies found once, from the last checkpoint. `milestones` reads those curves
and the run's history for the steps a chapter quotes, and splits training into Nanda et al.'s
three phases by a stated rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from grok_lib.analysis.phases import first_step_at
from grok_lib.task.data import Task, make_task
from grok_lib.training.config import TrainConfig
from grok_lib.training.record import Run

from .fourier import frequency_power
from .frequencies import FACTOR, key_fraction, key_frequencies
from .neurons import embedding, run_grid
from .progress import progress_measures


def task_of(config: TrainConfig) -> Task:
    """The task, with the run's own split and labels, that the trainer built for ``config``."""
    return make_task(config.op, config.p, config.train_frac, config.split_seed, config.label_noise,
                     layout=config.model, split=getattr(config, "split", "ordered"))


def checkpoint_steps(run: Run, every: int = 1) -> list[int]:
    """The run's checkpointed steps (every ``every``-th of them, and always the last)."""
    steps = sorted(run.checkpoints)
    if not steps:
        raise ValueError("this run kept no checkpoints: train it with checkpoint_every > 0")
    return sorted(set(steps[::every]) | {steps[-1]})


def final_keys(run: Run, source: str = "embedding", factor: float = FACTOR) -> list[int]:
    """Key frequencies of the run's last checkpoint (or of its final weights if it kept none)."""
    model = run.model_at(max(run.checkpoints)) if run.checkpoints else run.model()
    return key_frequencies(model, source, factor)


def squared_weights(model: torch.nn.Module) -> float:
    """The sum of squared weights, the quantity weight decay shrinks."""
    return float(sum(p.detach().double().square().sum() for p in model.parameters()))


def progress_curves(run: Run, keys: Sequence[int] | None = None, steps: Sequence[int] | None = None,
                    restricted_on: str = "val") -> dict[str, list[float]]:
    """Restricted loss, excluded loss, train/validation loss, restricted accuracy and the sum of
    squared weights at each checkpointed step (``steps``: a subset), keys from `final_keys` by default.

    Returns columns: ``step``, ``restricted_loss``, ``excluded_loss``, ``train_loss``, ``val_loss``,
    ``restricted_accuracy``, ``weight_sq``, and ``keys`` (the key frequencies used)."""
    keys = list(final_keys(run) if keys is None else keys)
    task = task_of(run.config)
    out: dict[str, list] = {"step": [], "restricted_loss": [], "excluded_loss": [], "train_loss": [], "val_loss": [],
                            "restricted_accuracy": [], "weight_sq": []}
    for step in checkpoint_steps(run) if steps is None else steps:
        model = run.model_at(step)
        m = progress_measures(run_grid(model), task, keys, restricted_on)
        for name, value in [("step", step), ("restricted_loss", m.restricted_loss), ("excluded_loss", m.excluded_loss),
                            ("train_loss", m.train_loss), ("val_loss", m.val_loss),
                            ("restricted_accuracy", m.restricted_accuracy), ("weight_sq", squared_weights(model))]:
            out[name].append(value)
    out["keys"] = keys
    return out


def spectra_over_training(run: Run, steps: Sequence[int] | None = None) -> tuple[list[int], Tensor]:
    """The embedding's squared norm per frequency at each checkpointed step: (steps, [step, frequency])."""
    steps = checkpoint_steps(run) if steps is None else list(steps)
    return steps, torch.stack([frequency_power(embedding(run.model_at(s))) for s in steps])


def key_fraction_over_training(run: Run, keys: Sequence[int], steps: Sequence[int] | None = None
                               ) -> tuple[list[int], list[float]]:
    """The fraction of the embedding's non-constant squared norm on ``keys`` at each checkpointed step."""
    steps = checkpoint_steps(run) if steps is None else list(steps)
    return steps, [key_fraction(embedding(run.model_at(s)), keys) for s in steps]


@dataclass
class Milestones:
    """Where the progress measures and the accuracies pass their landmarks (see `milestones`)."""

    restricted_halved: int | None  # first checkpoint with restricted loss <= half its value at step 0
    excluded_lowest: int  # the checkpoint where the excluded loss is lowest: from there on it rises
    val_below_chance: int | None  # first checkpoint after the validation loss's peak with the loss below step 0's
    memorised: int | None  # first logged step with training accuracy >= THRESHOLD
    val_half: int | None  # first logged step with validation accuracy >= 50%
    generalised: int | None  # first logged step with validation accuracy >= THRESHOLD

    def phases(self) -> dict[str, tuple[int, int]]:
        """Nanda et al.'s three phases as [start, end] steps: memorisation until the excluded loss turns
        upward; circuit formation until the validation loss is back below chance; clean-up until the run
        generalised. A phase whose end comes before its start is left out (the phases overlapped)."""
        bounds = [("memorisation", 0, self.excluded_lowest),
                  ("circuit formation", self.excluded_lowest, self.val_below_chance),
                  ("clean-up", self.val_below_chance, self.generalised)]
        return {name: (a, b) for name, a, b in bounds if a is not None and b is not None and b > a}


def milestones(curves: Mapping[str, Sequence[float]], history: Mapping[str, Sequence[float]]) -> Milestones:
    """The steps a chapter quotes about the progress measures (`progress_curves`' output) and the run's
    ``history``. Chance is the validation loss at step 0 (about ln p for a fresh network)."""
    steps = [int(s) for s in curves["step"]]
    restricted, excluded, val = curves["restricted_loss"], curves["excluded_loss"], curves["val_loss"]
    halved = next((s for s, v in zip(steps, restricted, strict=True) if v <= restricted[0] / 2), None)
    lowest = steps[min(range(len(steps)), key=lambda i: excluded[i])]
    peak = max(range(len(steps)), key=lambda i: val[i])
    below = next((steps[i] for i in range(peak, len(steps)) if val[i] < val[0]), None)
    h_steps = history["step"]
    return Milestones(halved, lowest, below, first_step_at(h_steps, history["train_acc"]),
                      first_step_at(h_steps, history["val_acc"], 0.5), first_step_at(h_steps, history["val_acc"]))


def logged_at(history: Mapping[str, Sequence[float]], key: str, step: int) -> float:
    """``history[key]`` at the last logged step at or before ``step`` (a checkpoint need not be a logged step)."""
    i = max(j for j, s in enumerate(history["step"]) if s <= step)
    return float(history[key][i])
