"""Extra logged columns for the numerics chapter (``TrainConfig(diagnostics=True)``): what Thilak et al.'s
slingshot cycle and Prieto et al.'s softmax collapse are read from.

Each logged row then also holds, per run:

- ``out_norm``: the norm of the last layer's weight (the MLP's ``W_out``, the transformer's ``W_U``);
- ``update_norm``: the norm of the change in all the weights over the step that led to this row
  (the optimiser's step, weight decay and any norm constraint together);
- ``adam_m_out``: the norm of Adam's first moment for the last layer's weight;
- ``adam_v_out``: the root mean square of Adam's bias-corrected second moment there, the size of the
  denominator Adam divides by (NaN for SGD, which keeps no second moment);
- ``zero_loss_frac``: the fraction of training examples whose loss, computed at the run's working precision,
  is exactly zero -- the softmax has rounded the right answer's probability to 1 and its gradient away.

Off by default: the snapshot of the weights before each logged step and the extra forward pass cost time.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from grok_lib.models import StackedModule, run_norms

from .batches import DigitsStack, Stack, example_loss
from .optimizers import StackedOptimizer

DIAGNOSTICS = ("out_norm", "update_norm", "adam_m_out", "adam_v_out", "zero_loss_frac")
OUTPUT_WEIGHTS = ("W_out", "W_U")  # the last layer's weight, by the name each model gives it


def output_weight_index(model: StackedModule) -> int:
    """Position of the last layer's weight among ``model.parameters()`` (the optimiser's order)."""
    names = [name for name, _ in model.named_parameters()]
    for wanted in OUTPUT_WEIGHTS:
        if wanted in names:
            return names.index(wanted)
    raise ValueError(f"{type(model).__name__} has no last-layer weight named one of {OUTPUT_WEIGHTS}")


class Diagnostics:
    """Takes a snapshot of the weights the step before a logged step, and turns it into the row's columns."""

    def __init__(self, model: StackedModule):
        self.out = output_weight_index(model)
        self.before: list[Tensor] | None = None

    def snapshot(self, params: list[Tensor]) -> None:
        """Keep the weights as they are before the update that leads to the next logged row."""
        self.before = [p.detach().clone() for p in params]

    def keep(self, idx: Tensor) -> None:
        if self.before is not None:
            self.before = [b[idx] for b in self.before]

    @torch.no_grad()
    def row(self, model: StackedModule, opt: StackedOptimizer, data: Stack | DigitsStack, output: str,
            loss_kind: str) -> Tensor:
        """[N, len(DIAGNOSTICS)] for the weights as they are now."""
        params = list(model.parameters())
        w_out = params[self.out]
        n = w_out.shape[0]
        nan = torch.full((n,), math.nan, dtype=w_out.dtype, device=w_out.device)
        update = nan if self.before is None else run_norms(p - b for p, b in zip(params, self.before, strict=True))
        self.before = None
        m_norm, v_rms = nan, nan
        state = opt.state[self.out]
        if opt.kind != "sgd" and len(state) >= 2 and opt.t > 0:
            m, v = state[0], state[1]
            m_norm = run_norms([m])
            v_rms = (v / (1 - opt.betas[1] ** opt.t)).flatten(1).mean(1).sqrt()
        x, row, y, w = data.full_batch()
        losses = example_loss(model(x), row, y, output, loss_kind)
        counted = w > 0
        zero = ((losses == 0) & counted).sum(1).to(w_out.dtype) / counted.sum(1).to(w_out.dtype)
        return torch.stack([run_norms([w_out]), update, m_norm, v_rms, zero], 1)
