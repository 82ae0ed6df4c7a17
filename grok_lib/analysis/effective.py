"""The effective learning rate and the effective gradient of one model, as the course's first SGD
study defined them: lr / ‖w‖² and ‖g‖ · ‖w‖.

Why these two: if a loss does not change when the weights are scaled, L(c·w) = L(w) (exactly so
behind a normalisation layer), write w = ‖w‖·u with ‖u‖ = 1. Then the gradient at w is the
gradient at u divided by ‖w‖, and a step of size lr turns the direction u by lr / ‖w‖² times the
gradient at u: a shrinking norm acts like a growing learning rate. ‖g‖ · ‖w‖ is the size of the
gradient at u, the one that does not depend on the scale.

``‖w‖`` is the norm of every parameter that trains (``requires_grad``), all tensors flattened
into one vector; ``‖g‖`` is the norm of every gradient that exists (a parameter without
``.grad`` counts as zero). The trainer logs the same two numbers for stacked runs (``eff_lr``,
``eff_grad`` in a history); these serve one ordinary ``nn.Module``, and
``tests/test_effective.py`` checks that both agree at a run's first step.
"""

from __future__ import annotations

import math

from torch import nn


def weight_norm(model: nn.Module) -> float:
    """‖w‖: the Euclidean norm of all trainable parameters taken together (in float64, so a large
    model's sum of squares loses nothing)."""
    return math.sqrt(sum(float(p.detach().double().pow(2).sum()) for p in model.parameters() if p.requires_grad))


def gradient_norm(model: nn.Module) -> float:
    """‖g‖: the Euclidean norm of all gradients taken together; parameters without one add nothing."""
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    return math.sqrt(sum(float(g.detach().double().pow(2).sum()) for g in grads))


def effective_lr(lr: float, model: nn.Module) -> float:
    """lr / ‖w‖²: the step size as felt by the direction of the weights."""
    return lr / weight_norm(model) ** 2


def effective_gradient(model: nn.Module) -> float:
    """‖g‖ · ‖w‖: the gradient's size relative to the weights' own scale (after a backward pass)."""
    return gradient_norm(model) * weight_norm(model)
