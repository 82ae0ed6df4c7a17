"""Omnigrok's "LU" picture, cheaply: a trained network's losses as all its weights are scaled by c.

Liu, Michaud and Tegmark (2023) plot training and test loss against the weight norm w: the training
loss is L-shaped (bad below some norm, flat above it), the test loss U-shaped (best near the norm
that generalising solutions have), and a network that starts at a large norm memorises first and
generalises only as weight decay brings w down to the U's floor. Their landscapes train a network
*at* each norm (the norm held fixed after every step, see their ``Omnigrok`` repository); that is a
training option, not an analysis. Here we take one slice of it: the trained weights θ are multiplied
by c over a grid (θ → cθ, every parameter, embeddings and biases too), and the train and validation
loss and accuracy are read at each ‖cθ‖ = c‖θ‖. The slice goes through the trained solution at c = 1;
it does not find the best network at each norm, so it can only show the shape near the solution.

Losses are the trainer's: mean cross-entropy (softmax or StableMax, the run's ``output``) on the
training pairs with their training labels, and on the validation pairs; the norm is its
``weight_norm``, the square root of the sum of every parameter's squares.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from grok_lib.analysis.mechanism.over_training import task_of
from grok_lib.models import StackedModule
from grok_lib.task.data import Task
from grok_lib.training.losses import log_probabilities
from grok_lib.training.record import Run


def weight_norm(model: StackedModule) -> float:
    """sqrt(Σ θ²) over every parameter of a one-run model (the trainer's ``weight_norm``)."""
    return float(sum(p.detach().double().square().sum() for p in model.parameters()).sqrt())


@torch.no_grad()
def scaled(model: StackedModule, c: float) -> StackedModule:
    """A float64 copy of ``model`` with every parameter multiplied by ``c``."""
    out = copy.deepcopy(model).to(torch.float64)
    for p in out.parameters():
        p.mul_(c)
    return out


@torch.no_grad()
def losses_and_accuracies(model: StackedModule, task: Task, output: str = "softmax") -> dict[str, float]:
    """Train and validation loss and accuracy of a one-run model on its task (accuracy against the
    true labels, the training loss against the labels it trained on)."""
    device = next(model.parameters()).device
    logp = log_probabilities(model(task.inputs.to(device)), output)
    pred = logp.argmax(-1).cpu()
    tr, va = task.train_idx.cpu(), task.val_idx.cpu()
    labels = task.labels.cpu()
    return {"train_loss": F.nll_loss(logp[tr.to(device)], task.train_labels.to(device)).item(),
            "val_loss": F.nll_loss(logp[va.to(device)], labels[va].to(device)).item(),
            "train_acc": float((pred[tr] == labels[tr]).double().mean()),
            "val_acc": float((pred[va] == labels[va]).double().mean())}


def weight_scale_landscape(model: StackedModule, task: Task, factors: Sequence[float],
                           output: str = "softmax") -> dict[str, list[float]]:
    """Columns ``factor``, ``weight_norm``, ``train_loss``, ``val_loss``, ``train_acc``, ``val_acc``: the
    model with all its weights times each factor (see the module docstring)."""
    out: dict[str, list[float]] = {k: [] for k in ("factor", "weight_norm", "train_loss", "val_loss",
                                                   "train_acc", "val_acc")}
    for c in factors:
        m = scaled(model, c)
        row = {"factor": float(c), "weight_norm": weight_norm(m), **losses_and_accuracies(m, task, output)}
        for k, v in row.items():
            out[k].append(v)
    return out


def run_landscape(run: Run, factors: Sequence[float], step: int | None = None) -> dict[str, list[float]]:
    """`weight_scale_landscape` of a stored run: at checkpoint ``step``, or its final weights."""
    model = run.model() if step is None else run.model_at(step)
    return weight_scale_landscape(model, task_of(run.config), factors, run.config.output)
