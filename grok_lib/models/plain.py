"""The course's two models for one run, in ordinary PyTorch: the place to start reading.

`PlainMLP` and `PlainTransformer` compute the same functions as the stacked `MLP` and
`Transformer` that the trainer uses (``tests/test_models.py`` checks it in float64). The
stacked models hold N runs at once and call the speed kernels of `kernels`; these hold one
run and are built from ``nn.Embedding`` and ``nn.Linear``. ``from_stacked(model, r)``
loads run ``r`` of a stacked model's weights, so both can be run side by side. Dropout, a step of
training only, has no place here: these compute the function a run is evaluated with.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from .mlp import MLP
from .stacked import ACTIVATIONS, StackedModule
from .transformer import N_CTX, Transformer

TRAINING_ONLY = ("dropout",)  # stacked models' settings that change training, not the function evaluated


class PlainMLP(nn.Module):
    """``h = merge(embed(a), embed(b));  h = act(layer(h)) for each hidden layer;  logits = out(h)``.

    ``merge`` is a sum (the model cannot tell a∘b from b∘a) or a concatenation."""

    def __init__(self, n_vocab: int, n_classes: int, d_embed: int = 128, d_hidden: int = 128, n_hidden: int = 1,
                 merge: str = "sum", act: str = "relu"):
        super().__init__()
        self.merge, self.act = merge, ACTIVATIONS[act]
        d_in = d_embed if merge == "sum" else 2 * d_embed
        self.embed = nn.Embedding(n_vocab, d_embed)
        self.hidden = nn.ModuleList(nn.Linear(d_in if i == 0 else d_hidden, d_hidden) for i in range(n_hidden))
        self.out = nn.Linear(d_hidden, n_classes)

    def forward(self, x: Tensor) -> Tensor:
        """x: [batch, 2] token ids (a, b) -> logits [batch, classes]."""
        a, b = self.embed(x[:, 0]), self.embed(x[:, 1])
        h = a + b if self.merge == "sum" else torch.cat([a, b], dim=-1)
        for layer in self.hidden:
            h = self.act(layer(h))
        return self.out(h)

    @classmethod
    def from_stacked(cls, model: MLP, r: int = 0) -> PlainMLP:
        """Run ``r`` of the trainer's stacked `MLP`, with its weights."""
        return _one_run(cls, model, r, _mlp_weights)


class PlainTransformer(nn.Module):
    """``h = embed(x) + pos;  h = block(h) for each block;  logits = unembed(LN(h)[=])``.

    A decoder-only transformer read at its last position, ``=``; LN is the identity without LayerNorm."""

    def __init__(self, n_vocab: int, n_classes: int, d_model: int = 128, n_heads: int = 4, d_mlp: int = 512,
                 n_layers: int = 1, act: str = "relu", layernorm: bool = False):
        super().__init__()
        self.embed = nn.Embedding(n_vocab, d_model)
        self.pos = nn.Parameter(torch.zeros(N_CTX, d_model))
        self.blocks = nn.ModuleList(PlainBlock(d_model, n_heads, d_mlp, act, layernorm) for _ in range(n_layers))
        self.ln_final = nn.LayerNorm(d_model) if layernorm else nn.Identity()
        self.unembed = nn.Linear(d_model, n_classes, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        """x: [batch, 4] token ids (a, op, b, =) -> logits [batch, classes] at ``=``."""
        h = self.embed(x) + self.pos
        for block in self.blocks:
            h = block(h)
        return self.unembed(self.ln_final(h)[:, -1])

    @classmethod
    def from_stacked(cls, model: Transformer, r: int = 0) -> PlainTransformer:
        """Run ``r`` of the trainer's stacked `Transformer`, with its weights."""
        return _one_run(cls, model, r, _transformer_weights)


class PlainBlock(nn.Module):
    """``h = h + attn(LN1(h));  h = h + mlp_out(act(mlp_in(LN2(h))))``: causal attention without biases."""

    def __init__(self, d_model: int, n_heads: int, d_mlp: int, act: str, layernorm: bool):
        super().__init__()
        self.n_heads, self.act = n_heads, ACTIVATIONS[act]
        self.ln1 = nn.LayerNorm(d_model) if layernorm else nn.Identity()
        self.q, self.k, self.v, self.o = (nn.Linear(d_model, d_model, bias=False) for _ in range(4))
        self.ln2 = nn.LayerNorm(d_model) if layernorm else nn.Identity()
        self.mlp_in, self.mlp_out = nn.Linear(d_model, d_mlp), nn.Linear(d_mlp, d_model)
        self.register_buffer("causal", torch.tril(torch.ones(N_CTX, N_CTX, dtype=torch.bool)), persistent=False)

    def forward(self, h: Tensor) -> Tensor:
        """h: [batch, pos, d_model] -> the same."""
        x = self.ln1(h)
        batch, pos, d_model = x.shape
        q, k, v = (f(x).view(batch, pos, self.n_heads, -1).transpose(1, 2) for f in (self.q, self.k, self.v))
        scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])  # [batch, head, query pos, key pos]
        pattern = scores.masked_fill(~self.causal[:pos, :pos], float("-inf")).softmax(-1)  # no peeking ahead
        z = (pattern @ v).transpose(1, 2).reshape(batch, pos, d_model)  # the heads side by side again
        h = h + self.o(z)
        return h + self.mlp_out(self.act(self.mlp_in(self.ln2(h))))


# --- Loading one run of a stacked model: its parameters under the plain modules' names ---


def _one_run(cls: type[nn.Module], model: StackedModule, r: int,
             rename: Callable[[dict[str, Tensor], dict[str, Any]], dict[str, Tensor]]) -> nn.Module:
    """A ``cls`` with the stacked model's hyper-parameters, holding run ``r``'s weights as ``rename`` maps them."""
    like = next(model.parameters())
    hparams = {k: v for k, v in model.hparams.items() if k not in TRAINING_ONLY}
    plain = cls(**hparams).to(like.device, like.dtype)
    plain.load_state_dict(rename({k: v[r] for k, v in model.state_dict().items()}, model.hparams))
    return plain


def _mlp_weights(w: dict[str, Tensor], hp: dict[str, Any]) -> dict[str, Tensor]:
    """`MLP` -> `PlainMLP` names. ``nn.Linear`` keeps its weight as [out, in]: transposed."""
    layers = [("W_in", "b_in")] + [(f"hidden.{i}.W", f"hidden.{i}.b") for i in range(hp["n_hidden"] - 1)]
    new = {"embed.weight": w["W_E"], "out.weight": w["W_out"].T, "out.bias": w["b_out"].flatten()}
    for i, (W, b) in enumerate(layers):
        new |= {f"hidden.{i}.weight": w[W].T, f"hidden.{i}.bias": w[b].flatten()}
    return new


def _transformer_weights(w: dict[str, Tensor], hp: dict[str, Any]) -> dict[str, Tensor]:
    """`Transformer` -> `PlainTransformer` names. The per-head W_Q [head, d_model, d_head] becomes
    one ``nn.Linear`` whose output holds the heads side by side, [head * d_head, d_model]."""
    heads_out = lambda W: W.transpose(1, 2).flatten(0, 1)  # noqa: E731
    new = {"embed.weight": w["W_E"], "pos": w["W_pos"], "unembed.weight": w["W_U"].T}
    new |= _layernorm(w, "ln_final")
    for i in range(hp["n_layers"]):
        b = f"blocks.{i}."
        new |= {b + "q.weight": heads_out(w[b + "W_Q"]), b + "k.weight": heads_out(w[b + "W_K"]),
                b + "v.weight": heads_out(w[b + "W_V"]), b + "o.weight": w[b + "W_O"].flatten(0, 1).T,
                b + "mlp_in.weight": w[b + "W_in"].T, b + "mlp_in.bias": w[b + "b_in"].flatten(),
                b + "mlp_out.weight": w[b + "W_out"].T, b + "mlp_out.bias": w[b + "b_out"].flatten()}
        new |= _layernorm(w, b + "ln1") | _layernorm(w, b + "ln2")
    return new


def _layernorm(w: dict[str, Tensor], name: str) -> dict[str, Tensor]:
    """A stacked LayerNorm's gain and bias under ``nn.LayerNorm``'s names (none without LayerNorm)."""
    if name + ".w" not in w:
        return {}
    return {name + ".weight": w[name + ".w"].flatten(), name + ".bias": w[name + ".b"].flatten()}
