"""The singular values of a network's weight matrices, and two effective ranks.

Every weight matrix W (one per run of a stacked model) has singular values σ_1 ≥ σ_2 ≥ ... ≥ 0.
A chapter plots them normalised by the largest (σ_i / σ_1, so runs and steps compare on one axis)
and summarises each spectrum by an effective rank:

- **entropy rank** (Roy & Vetterli 2007): exp(H(q)) with q_i = σ_i / Σ_j σ_j and H the Shannon
  entropy (natural log). k equal singular values (the rest 0) give exactly k; it falls smoothly as
  the spectrum concentrates on a few directions.
- **stable rank** (Rudelson & Vershynin 2007): ‖W‖_F² / ‖W‖_2² = Σ σ_i² / σ_1². Also k for k
  equal singular values; weighted by σ², it is set by the top few, and it is never above the entropy
  rank (Σσ²/σ_1² ≤ (Σσ)²/Σσ² ≤ exp(H(q)), the middle term being exp of q's Rényi-2 entropy).

Both are unchanged when W is multiplied by a number, so they see the shape of the spectrum, not the
weight norm that weight decay shrinks. The matrices are the parameters with two axes per run
(biases and LayerNorm gains, one axis per run, are left out); a transformer's per-head
[head, a, b] tensors are read as the layer's whole matrix, heads side by side: W_O's heads stacked
along its input (rows), W_Q, W_K and W_V's along their output (columns).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from grok_lib.analysis.mechanism.over_training import checkpoint_steps
from grok_lib.models import StackedModule
from grok_lib.training.record import Run


def weight_matrices(model: StackedModule) -> dict[str, Tensor]:
    """Each weight matrix of a stacked model by parameter name: [runs, rows, cols] in float64."""
    out = {}
    for name, param in model.named_parameters():
        w = param.detach().to(torch.float64)
        shape = [s for s in w.shape[1:] if s > 1]
        if len(shape) == 2:
            out[name] = w.reshape(w.shape[0], *shape)
        elif len(shape) == 3 and w.dim() == 4:  # [runs, head, a, b]
            runs, h, a, b = w.shape
            out[name] = (w.reshape(runs, h * a, b) if name.endswith("W_O")
                         else w.permute(0, 2, 1, 3).reshape(runs, a, h * b))
    return out


def singular_values(model: StackedModule) -> dict[str, Tensor]:
    """Each weight matrix's singular values, largest first: [runs, min(rows, cols)] by parameter name."""
    return {name: torch.linalg.svdvals(w) for name, w in weight_matrices(model).items()}


def normalised_spectrum(sv: Tensor) -> Tensor:
    """Singular values [..., k] divided by the largest of each spectrum (the first is 1)."""
    return sv / sv[..., :1].clamp_min(torch.finfo(sv.dtype).tiny)


def entropy_rank(sv: Tensor) -> Tensor:
    """Roy and Vetterli's effective rank exp(H(σ / Σσ)) of each spectrum [..., k] (0·log 0 = 0)."""
    q = sv / sv.sum(-1, keepdim=True)
    return torch.exp(-torch.xlogy(q, q).sum(-1))


def stable_rank(sv: Tensor) -> Tensor:
    """‖W‖_F² / ‖W‖_2² = Σσ² / σ_1² of each spectrum [..., k] (largest first)."""
    return sv.square().sum(-1) / sv[..., 0].square()


def singular_values_over_training(run: Run, steps: Sequence[int] | None = None
                                  ) -> tuple[list[int], dict[str, Tensor]]:
    """A one-run model's singular values at each checkpointed step (``steps``: a subset):
    (steps, {parameter: [step, k]}). Checkpoints are float16, so small singular values carry
    float16's rounding (about 1e-3 of the largest)."""
    steps = checkpoint_steps(run) if steps is None else list(steps)
    per_step = [singular_values(run.model_at(s)) for s in steps]
    return steps, {name: torch.stack([sv[name][0] for sv in per_step]) for name in per_step[0]}
