"""MLPs on pixel inputs. `PixelMLP` is the trained twin of the random-features model: a two-layer ReLU network,
with both layers trained; chapter 6 sweeps its width and watches it over training. `DeepPixelMLP` has any depth:
the model of the trainer's digits runs (``TrainConfig(task="digits")``), Omnigrok's MNIST network on 8x8 digits::

    h      = drop(act(x W_in + b_in))
    h      = drop(act(h W + b))          for each further hidden layer (`mlp.Dense`)
    output = h W_out + b_out

Like the course's other models each holds N runs at once (`stacked`), each initialised from its own seed as
``nn.Linear`` would be (uniform in ``±1/sqrt(fan_in)``, weights and biases). `PixelMLP` is kept apart from the
one-hidden-layer `DeepPixelMLP` so chapter 6's stored sweeps stay as they are.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from einops import einsum
from torch import Tensor

from .dropout import Dropout
from .mlp import Dense
from .stacked import ACTIVATIONS, StackedModule


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


class DeepPixelMLP(StackedModule):
    """N stacked MLPs (see `stacked`): x [run, example, pixel] -> outputs [run, example, class]."""

    def __init__(self, d_in: int, n_classes: int, d_hidden: int = 200, n_hidden: int = 2, act: str = "relu",
                 dropout: float = 0.0, n_runs: int = 1):
        super().__init__(n_runs, d_in=d_in, n_classes=n_classes, d_hidden=d_hidden, n_hidden=n_hidden, act=act,
                         dropout=dropout)
        self.add_param("W_in", (d_in, d_hidden), "uniform", 1 / math.sqrt(d_in))
        self.add_param("b_in", (1, d_hidden), "uniform", 1 / math.sqrt(d_in))
        self.hidden = torch.nn.ModuleList(Dense(d_hidden, d_hidden, n_runs) for _ in range(n_hidden - 1))
        self.add_param("W_out", (d_hidden, n_classes), "uniform", 1 / math.sqrt(d_hidden))
        self.add_param("b_out", (1, n_classes), "uniform", 1 / math.sqrt(d_hidden))
        self.act = ACTIVATIONS[act]
        self.drop = torch.nn.ModuleList(Dropout(dropout) for _ in range(n_hidden))  # one per hidden layer

    def forward(self, x: Tensor) -> Tensor:
        """x: [N, batch, pixel] (or [batch, pixel] for one run) -> outputs [N, batch, class]."""
        x, squeeze = self._batched(x)
        pre = einsum(x, self.W_in, "run example pixel, run pixel hidden -> run example hidden") + self.b_in
        h = self.drop[0](self.act(pre))
        for layer, drop in zip(self.hidden, self.drop[1:], strict=True):
            h = drop(self.act(layer(h)))
        out = einsum(h, self.W_out, "run example hidden, run hidden cls -> run example cls") + self.b_out
        return out[0] if squeeze else out
