"""Softmax collapse: how much of a training set a float32 softmax has already rounded to certainty.

Softmax gives the true class ``p = 1 / (1 + Σ_j exp(x_j − x_true))``. Once the true logit leads every
other by enough that the sum of their exponentials falls below half a unit in the last place of 1
(2^-24 in float32, 2^-53 in float64), the sum rounds to 1: the example's loss is exactly 0 and its
softmax of the true class exactly 1 (Prieto et al. 2025 call this softmax collapse). Its gradient
with respect to the logits, ``(softmax − onehot) / N``, then loses its true-class part (``1 − 1 = 0``)
and keeps only the other classes' ``exp(x_j − x_true)``, already below 2^-24: the example has all but
stopped teaching. In float64 the same logits still give a loss, and a gradient with its true-class part.

`collapse_stats` measures this for given logits in one precision; `collapse_at` for a model on its
training pairs, in float32 and in float64; `collapse_over_training` at each checkpoint of a stored run.
Checkpoints are float16 weights (`Run.model_at`), so their logits are the run's to about three
significant digits: the fractions there are estimates; the last row uses the run's full-precision
final weights when it kept them (``save_model=True``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import torch
from torch import Tensor

from grok_lib.analysis.mechanism.over_training import checkpoint_steps, task_of
from grok_lib.training.losses import log_probabilities
from grok_lib.training.record import Run

PRECISIONS = ("float32", "float64")


@dataclass(frozen=True)
class CollapseStats:
    """Softmax collapse of one set of logits in one precision."""

    zero_loss: float  # fraction of examples whose cross-entropy is exactly 0
    prob_one: float  # fraction whose softmax of the true class is exactly 1
    loss: float  # mean cross-entropy
    grad_norm: float  # norm of d(mean cross-entropy)/d(logits), over all examples and classes


def collapse_stats(logits: Tensor, labels: Tensor, dtype: str = "float32", output: str = "softmax") -> CollapseStats:
    """Collapse of ``logits`` [examples, classes] with true ``labels`` [examples], computed in ``dtype``
    ("float32" or "float64"), with the loss the trainer uses (``output``: softmax or StableMax)."""
    if dtype not in PRECISIONS:
        raise ValueError(f"dtype={dtype!r} must be one of {PRECISIONS}.")
    if logits.dim() != 2 or labels.shape != logits.shape[:1]:
        raise ValueError(f"need logits [examples, classes] and labels [examples]; got {tuple(logits.shape)} "
                         f"and {tuple(labels.shape)}.")
    x = logits.detach().to(getattr(torch, dtype)).requires_grad_(True)
    with torch.enable_grad():
        logp = log_probabilities(x, output)
        ce = -logp.gather(1, labels.long()[:, None])[:, 0]
        (grad,) = torch.autograd.grad(ce.mean(), x)
    ce = ce.detach()
    with torch.no_grad():
        p_true = log_probabilities(x, output).exp().gather(1, labels.long()[:, None])[:, 0]
    return CollapseStats(zero_loss=float((ce == 0).double().mean()), prob_one=float((p_true == 1).double().mean()),
                         loss=float(ce.double().mean()), grad_norm=float(grad.double().norm()))


@torch.no_grad()
def training_logits(model: torch.nn.Module, run: Run) -> tuple[Tensor, Tensor]:
    """The logits ``model`` gives the training pairs of ``run``'s config (in the model's precision),
    and the labels it was trained on."""
    task = task_of(run.config)
    return model(task.inputs[task.train_idx]), task.train_labels


def collapse_at(model: torch.nn.Module, run: Run) -> dict[str, float]:
    """`collapse_stats` of ``model`` on ``run``'s training pairs, in float32 and in float64: columns
    ``<field> <precision>`` (e.g. ``zero_loss float32``)."""
    logits, labels = training_logits(model, run)
    out: dict[str, float] = {}
    for dtype in PRECISIONS:
        stats = collapse_stats(logits, labels, dtype, run.config.output)
        out |= {f"{k} {dtype}": v for k, v in asdict(stats).items()}
    return out


def collapse_over_training(run: Run, steps: Sequence[int] | None = None) -> dict[str, list[float]]:
    """Columns ``step`` and those of `collapse_at` at each checkpointed step (``steps``: a subset); at
    the run's last step its full-precision final weights stand in for the float16 checkpoint, if kept."""
    steps = checkpoint_steps(run) if steps is None else list(steps)
    last = max(run.checkpoints) if run.checkpoints else None
    cols: dict[str, list[float]] = {"step": []}
    for step in steps:
        model = run.model() if step == last and run.state_dict is not None else run.model_at(step)
        cols["step"].append(step)
        for k, v in collapse_at(model, run).items():
            cols.setdefault(k, []).append(v)
    return cols
