"""The random-features model of chapter 6 and its closed-form fit: a two-layer ReLU network whose first layer is
frozen at random, so that fitting the second layer is linear least squares.

``features(x) = relu(x @ W) / sqrt(N)`` with ``W ~ N(0, 1/d)`` drawn from a seed; the readout ``β`` is the
ridge solution ``argmin ||features(x) β - Y||² / n + λ ||β||²``, and at ``λ = 0`` the minimum-norm
least-squares solution (the pseudo-inverse), which is what gradient descent from zero converges to.

The fit lives here, beside the model, rather than in `training/`: it has no step loop, optimiser or config, it is
the model's definition (one SVD gives the readout at every λ), and `training/` is about the step loop. The
``1/sqrt(N)`` scale keeps a given λ meaning the same thing at every number of features N; the minimum-norm fit
does not depend on it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from einops import einsum
from torch import Tensor


class RandomFeatures:
    """``n_features`` random ReLU features of ``d_in``-dimensional inputs, fixed by ``seed`` (float64)."""

    def __init__(self, d_in: int, n_features: int, seed: int = 0):
        if n_features < 1:
            raise ValueError(f"number of features must be at least 1, got {n_features}")
        gen = torch.Generator().manual_seed(seed)
        self.n_features = n_features
        self.weight = torch.randn(d_in, n_features, generator=gen, dtype=torch.float64) / math.sqrt(d_in)

    def __call__(self, x: Tensor) -> Tensor:
        """[example, pixel] -> [example, feature]."""
        pre = einsum(x.to(torch.float64), self.weight, "example pixel, pixel feature -> example feature")
        return torch.relu(pre) / math.sqrt(self.n_features)


@dataclass(frozen=True)
class LeastSquares:
    """A least-squares fit held as the SVD of the training features, ``Φ = U diag(s) Vᵀ``, so that the readout
    at any ridge penalty costs one small product: ``β(λ) = V diag(s / (s² + nλ)) Uᵀ Y``."""

    u: Tensor  # [example, mode]
    s: Tensor  # [mode]
    vt: Tensor  # [mode, feature]
    uty: Tensor  # Uᵀ Y: [mode, target]

    @classmethod
    def fit(cls, features: Tensor, targets: Tensor) -> LeastSquares:
        """The SVD of ``features`` [example, feature] against ``targets`` [example, target]."""
        u, s, vt = torch.linalg.svd(features.to(torch.float64), full_matrices=False)
        return cls(u, s, vt, einsum(u, targets.to(torch.float64), "example mode, example target -> mode target"))

    @property
    def n_examples(self) -> int:
        return self.u.shape[0]

    def rank_cutoff(self) -> float:
        """Singular values at or below this count as zero (the cutoff of ``torch.linalg.pinv``)."""
        if self.s.numel() == 0:
            return 0.0
        return float(self.s.max()) * max(self.u.shape[0], self.vt.shape[1]) * torch.finfo(self.s.dtype).eps

    def coef(self, ridge: float = 0.0) -> Tensor:
        """The readout β [feature, target]: minimum-norm least squares at ``ridge = 0``, else ridge regression
        with penalty ``ridge`` on the mean squared error."""
        if ridge < 0:
            raise ValueError(f"ridge penalty must be >= 0, got {ridge}")
        if ridge == 0:
            keep = self.s > self.rank_cutoff()
            gain = torch.where(keep, 1.0 / torch.where(keep, self.s, torch.ones_like(self.s)), 0.0)
        else:
            gain = self.s / (self.s**2 + self.n_examples * ridge)
        return einsum(self.vt, gain[:, None] * self.uty, "mode feature, mode target -> feature target")


def fit_predict(model: RandomFeatures, x_train: Tensor, targets: Tensor, x_eval: list[Tensor],
                ridges: list[float]) -> list[list[Tensor]]:
    """Predictions [example, target] on each of ``x_eval`` for each ridge penalty (outer list: ridges), from one
    SVD of the training features."""
    fit = LeastSquares.fit(model(x_train), targets)
    feats = [model(x) for x in x_eval]
    return [[f @ fit.coef(lam) for f in feats] for lam in ridges]
