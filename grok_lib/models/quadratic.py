"""Gromov's (2023) two-layer network: concatenated one-hot operands, a quadratic activation, no biases.

    pre    = W_in[a] + W_in[p + b]        (the one-hot (a, b), 2p long, times W_in [2p, width])
    hidden = pre ** 2
    logits = hidden @ W_out                (W_out [width, p])

It is small enough that its solution can be written down (`grok_lib.analysis.mechanism.analytic`),
and the course's MLP cannot stand in for it: that MLP has no quadratic activation, learns an
embedding before its first layer, and has biases. Every tensor has a leading runs axis, as in
`stacked`.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .hooks import HookPoint
from .kernels import take_sum
from .stacked import StackedModule


class QuadraticMLP(StackedModule):
    """N stacked quadratic networks on ``n`` elements, ``width`` hidden neurons each."""

    def __init__(self, n: int, width: int, n_runs: int = 1):
        super().__init__(n_runs, n=n, width=width)
        self.n = n
        # uniform in ±1/sqrt(fan-in), as the course's other linear layers (the input is one-hot: fan-in 2)
        self.add_param("W_in", (2 * n, width), "uniform", 1 / math.sqrt(2))
        self.add_param("W_out", (width, n), "uniform", 1 / math.sqrt(width))
        self.hook_pre = HookPoint()
        self.hook_hidden = HookPoint()
        self.hook_logits = HookPoint()

    def forward(self, x: Tensor) -> Tensor:
        """x: [N, batch, 2] (or [batch, 2] for one run) operand ids -> logits [N, batch, n]."""
        x, squeeze = self._batched(x)
        tables = torch.stack([self.W_in[:, : self.n], self.W_in[:, self.n :]], 1)  # [N, 2, n, width]: a- and b-rows
        pre = self.hook_pre(take_sum(tables, x))
        hidden = self.hook_hidden(pre.square())
        logits = self.hook_logits(torch.bmm(hidden.flatten(1, -2), self.W_out).view(*hidden.shape[:-1], self.n))
        return logits[0] if squeeze else logits
