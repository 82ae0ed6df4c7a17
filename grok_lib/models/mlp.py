"""The MLP of the course: embed a and b, merge them (sum or concat), ReLU layer(s), logits.

    h      = drop(act(merge(W_E[a], W_E[b]) @ W_in + b_in))
    h      = drop(act(h @ W + b))        for each further hidden layer (`Dense`)
    logits = h @ W_out + b_out

``drop`` is dropout while training with ``dropout > 0`` (`dropout.Dropout`), else the identity.

Every tensor has a leading runs axis (see `stacked`). `plain.PlainMLP` is the same
function for one run, written with ``nn.Embedding`` and ``nn.Linear``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .dropout import Dropout
from .hooks import HookPoint
from .kernels import embed_first_layer
from .stacked import ACTIVATIONS, StackedModule


class MLP(StackedModule):
    """N stacked MLPs (see `stacked`). ``merge="sum"`` adds the two embeddings (a model that
    cannot tell a∘b from b∘a); ``"concat"`` places them side by side."""

    def __init__(self, n_vocab: int, n_classes: int, d_embed: int = 128, d_hidden: int = 128, n_hidden: int = 1,
                 merge: str = "sum", act: str = "relu", dropout: float = 0.0, n_runs: int = 1):
        super().__init__(n_runs, n_vocab=n_vocab, n_classes=n_classes, d_embed=d_embed, d_hidden=d_hidden,
                         n_hidden=n_hidden, merge=merge, act=act, dropout=dropout)
        self.merge = merge
        d_in = d_embed if merge == "sum" else 2 * d_embed
        self.add_param("W_E", (n_vocab, d_embed), "normal", 1.0)
        self.add_param("W_in", (d_in, d_hidden), "uniform", 1 / math.sqrt(d_in))
        self.add_param("b_in", (1, d_hidden), "uniform", 1 / math.sqrt(d_in))
        self.hidden = torch.nn.ModuleList(Dense(d_hidden, d_hidden, n_runs) for _ in range(n_hidden - 1))
        self.add_param("W_out", (d_hidden, n_classes), "uniform", 1 / math.sqrt(d_hidden))
        self.add_param("b_out", (1, n_classes), "uniform", 1 / math.sqrt(d_hidden))
        self.act = ACTIVATIONS[act]
        self.drop = torch.nn.ModuleList(Dropout(dropout) for _ in range(n_hidden))  # one per hidden layer
        self.hook_pre = HookPoint()
        self.hook_hidden = HookPoint()
        self.hook_logits = HookPoint()

    def forward(self, x: Tensor) -> Tensor:
        """x: [N, batch, 2] (or [batch, 2] for one run) token ids -> logits [N, batch, classes].

        The first layer runs on the embedding table rather than on each example
        (`kernels.embed_first_layer`: the same function, far fewer multiplications)."""
        x, squeeze = self._batched(x)
        pre = self.hook_pre(embed_first_layer(self.W_E, self.W_in, self.b_in, x, self.merge))
        h = self.drop[0](self.hook_hidden(self.act(pre)))
        for layer, drop in zip(self.hidden, self.drop[1:], strict=True):
            h = drop(self.act(layer(h)))
        logits = self.hook_logits(torch.baddbmm(self.b_out, h, self.W_out))  # h @ W_out + b_out, one kernel
        return logits[0] if squeeze else logits


class Dense(StackedModule):
    """``x @ W + b`` per run: a further hidden layer of the MLP."""

    def __init__(self, d_in: int, d_out: int, n_runs: int):
        super().__init__(n_runs)
        self.add_param("W", (d_in, d_out), "uniform", 1 / math.sqrt(d_in))
        self.add_param("b", (1, d_out), "uniform", 1 / math.sqrt(d_in))
        self.hook_pre = HookPoint()

    def forward(self, x: Tensor) -> Tensor:
        return self.hook_pre(torch.baddbmm(self.b, x, self.W))  # x @ W + b
