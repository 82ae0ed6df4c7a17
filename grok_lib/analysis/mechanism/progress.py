"""Nanda et al.'s (2023) progress measures: restricted and excluded loss.

Both look at functions on the (a, b) grid along the directions the addition algorithm uses,

    cos(w(a+b)) and sin(w(a+b)),  w = 2πk/p for a key frequency k

(each normalised on the p² grid; for a − b, the same with a − b). Projecting a quantity
[a, b, ...] onto them, and onto the constant, is `project_sum_directions`.

- **Restricted loss**: the hidden neurons (the last layer before the output, see `neurons`)
  projected onto the constant and the key frequencies' cos/sin(w(a+b)), sent through the
  readout to logits, plus a bias term (the mean over the grid of the full logits minus that of
  the restricted ones: what the neurons do not carry, such as the transformer's direct path and
  biases); cross-entropy on the held-out pairs by default. Low when the key frequencies alone
  already compute the answer.
- **Excluded loss**: the full logits with their components along the key frequencies'
  cos/sin(w(a+b)) removed (all key frequencies at once); cross-entropy on the training pairs.
  It rises when the model's good training loss comes to depend on those frequencies rather
  than on memorisation.

These follow the authors' code (the progress-measures notebook's ``calculate_excluded_loss_2D_full``,
and ``get_restricted_loss`` as in the TransformerLens grokking demo): the same directions and the
same bias term. The paper measures the excluded loss on the training data (§5.1), as we do; it
states no split for the restricted loss, which the demo takes on the test pairs (our default,
``restricted_on="val"``) and the authors' notebook on all pairs (``restricted_on="all"``). Their key
frequencies were read off the trained model by eye, ours come from a stated rule (`frequencies`);
their model has no biases, ours adds the MLP's output bias (constant over the grid, so the bias
term takes it in); they take the cross-entropy in float32, we in float64; and we apply the same
construction to the MLPs' hidden layer, which their paper does not treat. With every frequency
kept, the restricted neurons are the neurons averaged over each diagonal a + b = c, not the
neurons themselves, so the restricted loss equals the full loss only for a model whose neurons
depend on a + b alone (both are tested).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from einops import einsum, rearrange
from torch import Tensor

from grok_lib.task.data import Task

from .neurons import Grid


def sum_directions(n: int, keys: Sequence[int], sign: int = 1) -> Tensor:
    """Orthonormal directions on the grid [direction, a, b]: cos and sin of 2πk(a ± b)/n for each key k
    (n/2 has only the cos). ``sign`` -1 gives a − b."""
    x = torch.arange(n, dtype=torch.float64)
    s = x[:, None] + sign * x[None, :]
    out = []
    for k in keys:
        angle = 2 * math.pi * k * s / n
        out.append(torch.cos(angle))
        if 2 * k != n:
            out.append(torch.sin(angle))
    if not out:
        return torch.zeros(0, n, n, dtype=torch.float64)
    d = torch.stack(out)
    return d / d.flatten(1).norm(dim=1)[:, None, None]


def project_sum_directions(values: Tensor, keys: Sequence[int], sign: int = 1, constant: bool = False) -> Tensor:
    """The component of ``values`` [a, b, feature] along the key frequencies' cos/sin(k(a ± b))
    (and along the constant, with ``constant``): the same shape, each feature projected alone."""
    n = values.shape[0]
    d = sum_directions(n, keys, sign).to(values.device)
    coef = einsum(d, values, "direction a b, a b feature -> direction feature")
    out = einsum(d, coef, "direction a b, direction feature -> a b feature")
    if constant:
        out = out + values.mean((0, 1), keepdim=True)
    return out


def restricted_logits(grid: Grid, keys: Sequence[int], sign: int = 1) -> Tensor:
    """The logits [a, b, class] computed from the neurons' constant and key-frequency part only,
    with Nanda et al.'s bias term (the full logits' grid mean minus the restricted ones')."""
    kept = project_sum_directions(grid.neurons, keys, sign, constant=True)
    logits = einsum(kept, grid.readout, "a b neuron, neuron cls -> a b cls")
    return logits + (grid.logits - logits).mean((0, 1), keepdim=True)


def sum_share(values: Tensor, keys: Sequence[int] | None = None, sign: int = 1) -> float:
    """The fraction of the variance over the grid of ``values`` [a, b, feature] that lies along the key
    frequencies' cos/sin(k(a ± b)) (every frequency when ``keys`` is None: the part that is a function of
    a ± b alone). 1 for logits that depend on a + b only; about 1/p for values unrelated to a + b."""
    n = values.shape[0]
    centred = values.to(torch.float64) - values.to(torch.float64).mean((0, 1), keepdim=True)
    keys = range(1, n // 2 + 1) if keys is None else keys
    total = centred.square().sum()
    return float(project_sum_directions(centred, keys, sign).square().sum() / total) if total > 0 else 0.0


def excluded_logits(grid: Grid, keys: Sequence[int], sign: int = 1) -> Tensor:
    """The full logits [a, b, class] less their components along the key frequencies' cos/sin(k(a ± b))."""
    return grid.logits - project_sum_directions(grid.logits, keys, sign)


def grid_loss(logits: Tensor, task: Task, which: str) -> float:
    """Cross-entropy of grid logits [a, b, class] on the task's ``"train"`` pairs (with their
    training labels) or ``"val"`` pairs, or on ``"all"`` pairs (true labels)."""
    n = logits.shape[0]
    flat = rearrange(logits, "a b cls -> (a b) cls")
    rows = task.a * n + task.b  # the table's pairs on the grid (a table without b = 0 skips those)
    if which == "train":
        idx, y = task.train_idx, task.train_labels
    elif which == "val":
        idx, y = task.val_idx, task.labels[task.val_idx]
    elif which == "all":
        idx, y = torch.arange(len(task.labels)), task.labels
    else:
        raise ValueError(f"which={which!r}; use 'train', 'val' or 'all'")
    dev = flat.device
    return F.cross_entropy(flat[rows.to(dev)[idx.to(dev)]], y.to(dev)).item()


def grid_accuracy(logits: Tensor, task: Task, which: str = "all") -> float:
    """Accuracy of grid logits on the task's pairs (``"train"``, ``"val"`` or ``"all"``, true labels)."""
    n = logits.shape[0]
    pred = rearrange(logits, "a b cls -> (a b) cls").argmax(-1)[(task.a * n + task.b).to(logits.device)]
    idx = {"train": task.train_idx, "val": task.val_idx, "all": torch.arange(len(task.labels))}[which]
    return (pred.cpu()[idx.cpu()] == task.labels.cpu()[idx.cpu()]).double().mean().item()


def operation_sign(op: str) -> int:
    """+1 for a + b, -1 for a − b: the operations whose algorithm the sum directions describe."""
    signs = {"add": 1, "sub": -1}
    if op not in signs:
        raise ValueError(f"progress measures read cos/sin(w(a ± b)): they are defined for {sorted(signs)}, not {op!r}")
    return signs[op]


@dataclass
class Progress:
    """The progress measures of one model on its task."""

    restricted_loss: float
    excluded_loss: float
    train_loss: float
    val_loss: float
    restricted_accuracy: float


def progress_measures(grid: Grid, task: Task, keys: Sequence[int], restricted_on: str = "val") -> Progress:
    """Restricted loss (on ``restricted_on`` pairs), excluded loss (training pairs), and the plain
    train and validation losses, for one model's `Grid` on its `Task`."""
    sign = operation_sign(task.op)
    restricted = restricted_logits(grid, keys, sign)
    return Progress(grid_loss(restricted, task, restricted_on), grid_loss(excluded_logits(grid, keys, sign), task,
                                                                         "train"),
                    grid_loss(grid.logits, task, "train"), grid_loss(grid.logits, task, "val"),
                    grid_accuracy(restricted, task, "all"))
