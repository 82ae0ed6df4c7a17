"""What may happen to the gradient between ``backward`` and the optimiser's step: Grokfast and ⊥Grad.

- Grokfast (Lee et al. 2024) adds a low-pass filtered copy of the gradient to the gradient, to
  amplify its slowly varying part: an exponential moving average (`EMAFilter`) or the mean of the
  last few gradients (`MAFilter`).
- ⊥Grad (Prieto et al. 2025) removes the part of each parameter's gradient that points along the
  parameter, the direction that only scales the weights up (`orthogonalise`); with AdamW this is
  their ⊥AdamW.

Every parameter of a stack carries a leading runs dimension, and every filter here acts on each
run alone: a run's filter state is its own slice, and a run gets the same update alone or stacked.
The optimiser is untouched (its betas, epsilon and weight decay are the config's in every case).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from .config import TrainConfig

ORTHO_EPS = 1e-30  # guards ⊥Grad's two divisions, as in the authors' code


@torch.no_grad()
def orthogonalise(params: Sequence[Tensor], grads: Sequence[Tensor]) -> None:
    """⊥Grad, in place: each run's gradient of each parameter loses its component along that run's
    weights, then is scaled back to its own norm.

    As in the authors' ``OrthoGrad`` (their repository's ``orthograd.py``), the projection is per
    parameter tensor, flattened, with 1e-30 added to ``w·w`` and to the new norm; here it is also
    per run (sums over every dimension but the first)."""
    for w, g in zip(params, grads, strict=True):
        w2, g2 = w.flatten(1), g.flatten(1)
        along = (w2 * g2).sum(1) / ((w2 * w2).sum(1) + ORTHO_EPS)
        g_orth = g2 - along[:, None] * w2
        scale = g2.norm(dim=1) / (g_orth.norm(dim=1) + ORTHO_EPS)
        g.copy_((g_orth * scale[:, None]).view_as(g))


class EMAFilter:
    """Grokfast's EMA filter: ``μ ← α μ + (1 − α) g``, then ``g ← g + λ μ``.

    As in the authors' ``gradfilter_ema`` (``grokfast.py`` of their repository), ``μ`` starts from
    the first gradient itself, so the first update is ``(1 + λ) g`` and a constant gradient stays
    ``(1 + λ) g`` from the first step on."""

    def __init__(self, alpha: float, lamb: float):
        self.alpha, self.lamb = alpha, lamb
        self.mu: list[Tensor] | None = None

    @torch.no_grad()
    def __call__(self, grads: list[Tensor]) -> None:
        if self.mu is None:
            self.mu = [g.clone() for g in grads]
        else:
            torch._foreach_lerp_(self.mu, grads, 1 - self.alpha)
        torch._foreach_add_(grads, self.mu, alpha=self.lamb)

    def keep(self, idx: Tensor) -> None:
        """Keep only runs ``idx``."""
        if self.mu is not None:
            self.mu = [m[idx] for m in self.mu]


class MAFilter:
    """Grokfast's MA filter: ``g ← g + λ · mean of the last w gradients`` (this one included).

    As in the authors' ``gradfilter_ma`` with its defaults (mean, warm-up on), the gradient is left
    as it is until ``w`` gradients have been seen. The window is a ring buffer ``[w, runs, ...]``
    per parameter with a running sum, summed afresh each time the ring comes round (so rounding
    errors of the running sum last at most ``w`` steps)."""

    def __init__(self, window: int, lamb: float):
        self.window, self.lamb = window, lamb
        self.seen = 0
        self.ring: list[Tensor] | None = None
        self.sums: list[Tensor] | None = None

    @torch.no_grad()
    def __call__(self, grads: list[Tensor]) -> None:
        if self.ring is None:
            self.ring = [g.new_zeros(self.window, *g.shape) for g in grads]
            self.sums = [torch.zeros_like(g) for g in grads]
        slot = self.seen % self.window
        oldest = [r[slot] for r in self.ring]
        torch._foreach_sub_(self.sums, oldest)  # zeros until the window is full
        for r, g in zip(self.ring, grads, strict=True):
            r[slot].copy_(g)
        torch._foreach_add_(self.sums, grads)
        self.seen += 1
        if slot == self.window - 1:
            self.sums = [r.sum(0) for r in self.ring]
        if self.seen >= self.window:
            torch._foreach_add_(grads, self.sums, alpha=self.lamb / self.window)

    def keep(self, idx: Tensor) -> None:
        """Keep only runs ``idx``."""
        if self.ring is not None:
            self.ring = [r[:, idx] for r in self.ring]
            self.sums = [s[idx] for s in self.sums]


class GradientFilters:
    """A config's changes to the gradient, in the order applied: Grokfast's filter, then ⊥Grad
    (so with both, the step the optimiser is handed is still orthogonal to the weights)."""

    def __init__(self, config: TrainConfig):
        self.grokfast: EMAFilter | MAFilter | None = None
        if config.grokfast == "ema":
            self.grokfast = EMAFilter(config.grokfast_alpha, config.grokfast_lamb)
        elif config.grokfast == "ma":
            self.grokfast = MAFilter(config.grokfast_window, config.grokfast_lamb)
        self.ortho = config.ortho_grad

    def apply(self, params: list[Tensor]) -> None:
        """Change the gradients of ``params`` (``p.grad``) in place, for the next optimiser step."""
        grads = [p.grad for p in params]
        if self.grokfast is not None:
            self.grokfast(grads)
        if self.ortho:
            orthogonalise(params, grads)

    def keep(self, idx: Tensor) -> None:
        """Keep only runs ``idx`` (after finished runs leave the stack)."""
        if self.grokfast is not None:
            self.grokfast.keep(idx)
