"""What is done to the weights themselves around each step: noise on the weights a training pass sees,
and the total weight norm held fixed.

- `WeightNoise` (Power et al. 2022): the paper reports that noise helps generalisation, naming
  Gaussian noise on the weights applied before or after the gradient is computed. Its released
  code has both: a model option that adds fresh Gaussian noise of a fixed standard deviation to
  every weight (biases, embeddings and LayerNorm gains included) in each training forward pass,
  and an optimiser option that adds noise to the update. This is the first: the forward pass, and
  so the gradient, of every training step is taken at ``w + σ ε`` with a fresh ``ε ~ N(0, I)``,
  while the stored weights ``w`` are what the optimiser updates, what ⊥Grad projects against, and
  what is logged and evaluated.
- `NormConstraint` (Liu et al. 2023, Omnigrok): after every optimiser step, and once before the
  first, each run's weights are rescaled so that their total norm (every parameter, the norm the
  trainer logs as ``weight_norm``) equals the run's ``norm_constraint``. Omnigrok trains so with
  weight decay 0: the norm is then a setting, not an outcome.

Both act on each run alone, with per-run settings, so runs that differ in them share a stack.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

from grok_lib.models import StackedModule, run_norms

from .config import TrainConfig

WEIGHT_NOISE_SEED_OFFSET = 130_363  # a run's weight noise is drawn from seed + this, apart from its other draws


def _per_run(x: Tensor, like: Tensor) -> Tensor:
    return x.view(-1, *([1] * (like.dim() - 1)))


class WeightNoise:
    """Each run's ``σ`` and its own generator: a run draws the same noise alone or in any stack, as
    it draws, parameter by parameter in a fixed order, in its own parameters' shapes."""

    def __init__(self, configs: Sequence[TrainConfig], device: torch.device, dtype: torch.dtype):
        self.sigma = torch.tensor([c.weight_noise for c in configs], device=device, dtype=dtype)
        self.generators = [torch.Generator().manual_seed(c.seed + WEIGHT_NOISE_SEED_OFFSET) for c in configs]

    def perturbed(self, model: StackedModule) -> dict[str, Tensor]:
        """``w + σ ε`` for every parameter, by name, with this step's fresh noise; the gradient of a loss
        computed from these reaches the parameters unchanged (the noise is a constant)."""
        noisy = {}
        for name, p in model.named_parameters():
            eps = torch.stack([torch.randn(p.shape[1:], generator=g, dtype=p.dtype) for g in self.generators])
            noisy[name] = p + _per_run(self.sigma, p) * eps.to(p.device)
        return noisy

    def keep(self, idx: Tensor) -> None:
        """Keep only runs ``idx``."""
        self.sigma = self.sigma[idx]
        self.generators = [self.generators[i] for i in idx.tolist()]


class NormConstraint:
    """Each run's target norm (NaN: that run's norm is free, in a stack with runs whose norm is held)."""

    def __init__(self, configs: Sequence[TrainConfig], device: torch.device, dtype: torch.dtype):
        targets = [math.nan if c.norm_constraint is None else c.norm_constraint for c in configs]
        self.target = torch.tensor(targets, device=device, dtype=dtype)

    @torch.no_grad()
    def apply(self, params: list[Tensor]) -> None:
        """Rescale each run's parameters, all together, to its target norm (free runs are left alone)."""
        norm = run_norms(params)
        scale = torch.where(self.target.isnan(), torch.ones_like(norm), self.target / norm)
        torch._foreach_mul_(params, [_per_run(scale, p) for p in params])

    def keep(self, idx: Tensor) -> None:
        """Keep only runs ``idx``."""
        self.target = self.target[idx]
