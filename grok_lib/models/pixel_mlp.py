"""The trained twin of the random-features model: a two-layer ReLU network on pixel inputs, with both layers
trained. Chapter 6 sweeps its width and watches it over training; like the course's other models it holds
N runs at once (`stacked`), each initialised from its own seed as ``nn.Linear`` would be.
"""

from __future__ import annotations

import math

import torch.nn.functional as F
from einops import einsum
from torch import Tensor

from .stacked import StackedModule


class PixelMLP(StackedModule):
    """``logits = relu(x W_in + b_in) W_out + b_out`` for N runs: x [run, example, pixel] -> [run, example, class]."""

    def __init__(self, d_in: int, d_hidden: int, n_classes: int, n_runs: int = 1):
        super().__init__(n_runs, d_in=d_in, d_hidden=d_hidden, n_classes=n_classes)
        self.d_hidden = d_hidden
        self.add_param("W_in", (d_in, d_hidden), "uniform", 1 / math.sqrt(d_in))
        self.add_param("b_in", (d_hidden,), "uniform", 1 / math.sqrt(d_in))
        self.add_param("W_out", (d_hidden, n_classes), "uniform", 1 / math.sqrt(d_hidden))
        self.add_param("b_out", (n_classes,), "uniform", 1 / math.sqrt(d_hidden))

    def forward(self, x: Tensor) -> Tensor:
        h = F.relu(einsum(x, self.W_in, "run example pixel, run pixel hidden -> run example hidden")
                   + self.b_in[:, None, :])
        return einsum(h, self.W_out, "run example hidden, run hidden cls -> run example cls") + self.b_out[:, None, :]

    def n_params(self) -> int:
        """Parameters of one run."""
        return sum(p[0].numel() for p in self.parameters())
