"""How logits become log-probabilities: softmax, or Prieto et al.'s StableMax.

Softmax divides exponentials, ``exp(x_i) / Σ_j exp(x_j)``. Once the true class's logit leads the
others so far that their exponentials vanish in the rounding of the sum, its probability rounds to
exactly 1 and its loss to exactly 0, and the example all but stops contributing to the gradient.
Prieto et al. (2025) call this softmax collapse; their StableMax swaps the exponential for a function
that grows only linearly above zero and decays like ``1/|x|`` below::

    s(x) = x + 1        for x >= 0
    s(x) = 1 / (1 - x)  for x <  0

    p_i = s(x_i) / Σ_j s(x_j),    loss = -log p_true

``s`` is increasing, so the class with the largest logit is the same under both and accuracy does
not depend on the choice; ``s`` and its slope are continuous at 0 (both are 1 there).

Compared with the authors' code (``utils.py`` of their repository, read in the forks
``kroggen/grokking-with-dropout`` and ``EIFY/grokking-at-the-edge-of-numerical-stability``):

- precision: the earlier version casts the logits to float64 before StableMax, whatever the
  model's precision; the later one takes the precision as an argument, float32 by default. Here
  StableMax works in the run's own ``dtype``, so one setting decides the precision of the whole
  run and float32 against float64 is a comparison of configs;
- they add 1e-30 to ``1 - x``; it is not needed (``1 - x >= 1`` wherever that branch is taken),
  but their branch is also evaluated where it is *not* taken, and at ``x = 1`` it divides by
  1e-30: in float32 the slope there overflows, and ``torch.where`` turns the discarded infinite
  slope into a NaN gradient. Here the negative branch only ever sees ``min(x, 0)``;
- they take ``log(s_true / Σ s)``; here ``log s_true - log Σ s`` (the same number, one rounding
  fewer).

Beside cross-entropy, `squared_error` is the loss Omnigrok (Liu, Michaud & Tegmark 2023) trains with on
MNIST: the raw outputs against one-hot targets, ``(1/C) Σ_c (x_c - [c = y])²`` per example (the
authors' ``nn.MSELoss()``, whose default mean runs over the batch and the C classes).
"""

from __future__ import annotations

import torch
from torch import Tensor


def stablemax_s(x: Tensor) -> Tensor:
    """StableMax's stand-in for ``exp``: ``x + 1`` above zero, ``1 / (1 - x)`` below (always > 0)."""
    return torch.where(x >= 0, x + 1, 1 / (1 - x.clamp(max=0)))


def log_stablemax(x: Tensor, dim: int = -1) -> Tensor:
    """``log(s(x_i) / Σ_j s(x_j))`` along ``dim``: StableMax's log-probabilities."""
    s = stablemax_s(x)
    return s.log() - s.sum(dim, keepdim=True).log()


def log_probabilities(logits: Tensor, output: str) -> Tensor:
    """Log-probabilities over the last dimension under ``output`` ("softmax" or "stablemax")."""
    if output == "softmax":
        return logits.log_softmax(-1)
    if output == "stablemax":
        return log_stablemax(logits, -1)
    raise ValueError(f"output={output!r} is not 'softmax' or 'stablemax'")


def squared_error(outputs: Tensor, y: Tensor) -> Tensor:
    """``mean_c (outputs[..., c] - [c = y])²``: each example's squared error against its one-hot target."""
    target = torch.nn.functional.one_hot(y, outputs.shape[-1]).to(outputs.dtype)
    return (outputs - target).square().mean(-1)
