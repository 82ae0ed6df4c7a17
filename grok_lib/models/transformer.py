"""The transformer of the course: reads ``a op b =`` and predicts a∘b at ``=``.

    resid = W_E[x] + W_pos
    per block:  resid = resid + Attn(LN(resid));  resid = resid + W_out·act(W_in·LN(resid) + b_in) + b_out
    logits = LN(resid)[=] @ W_U

Defaults follow Nanda et al. (2023): one layer, d_model 128, 4 heads, d_mlp 512, ReLU, no
LayerNorm (LN is then the identity), learned positional embeddings, no biases in attention.
`plain.PlainTransformer` is the same function for one run.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from .hooks import HookPoint
from .kernels import per_run_matmul, take
from .stacked import ACTIVATIONS, StackedModule

N_CTX = 4  # a, op, b, =


class Transformer(StackedModule):
    """N stacked decoder-only transformers (see `stacked`)."""

    def __init__(self, n_vocab: int, n_classes: int, d_model: int = 128, n_heads: int = 4, d_mlp: int = 512,
                 n_layers: int = 1, act: str = "relu", layernorm: bool = False, n_runs: int = 1):
        super().__init__(n_runs, n_vocab=n_vocab, n_classes=n_classes, d_model=d_model, n_heads=n_heads,
                         d_mlp=d_mlp, n_layers=n_layers, act=act, layernorm=layernorm)
        self.add_param("W_E", (n_vocab, d_model), "normal", 1 / math.sqrt(d_model))
        self.add_param("W_pos", (N_CTX, d_model), "normal", 1 / math.sqrt(d_model))
        self.blocks = nn.ModuleList(Block(d_model, n_heads, d_mlp, act, layernorm, n_runs) for _ in range(n_layers))
        self.ln_final = LayerNorm(d_model, n_runs) if layernorm else nn.Identity()
        self.add_param("W_U", (d_model, n_classes), "normal", 1 / math.sqrt(n_classes))
        self.hook_embed = HookPoint()
        self.hook_logits = HookPoint()

    def forward(self, x: Tensor, all_positions: bool = False) -> Tensor:
        """x: [N, batch, 4] token ids -> logits at ``=`` [N, batch, classes].

        The readout needs only the last position, so the last block computes only that one
        past the keys and values (a quarter of the work) unless ``all_positions`` asks for
        every position's activations (as `run_with_cache` does)."""
        x, squeeze = self._batched(x)
        resid = self.hook_embed(take(self.W_E, x) + self.W_pos.unsqueeze(1))
        for i, block in enumerate(self.blocks):
            resid = block(resid, last_only=not all_positions and i == len(self.blocks) - 1)
        logits = self.hook_logits(self.ln_final(resid)[:, :, -1] @ self.W_U)
        return logits[0] if squeeze else logits

    def run_with_cache(self, x: Tensor, **forward_kwargs: Any) -> tuple[Tensor, dict[str, Tensor]]:
        """Every named activation, at every position."""
        return super().run_with_cache(x, **({"all_positions": True} | forward_kwargs))


class Block(StackedModule):
    """Attention then MLP, each added to the residual stream (pre-LayerNorm when enabled)."""

    def __init__(self, d_model: int, n_heads: int, d_mlp: int, act: str, layernorm: bool, n_runs: int):
        super().__init__(n_runs)
        d, h, dh = d_model, n_heads, d_model // n_heads
        for name in ("W_Q", "W_K", "W_V"):
            self.add_param(name, (h, d, dh), "normal", 1 / math.sqrt(d))
        self.add_param("W_O", (h, dh, d), "normal", 1 / math.sqrt(d))
        self.add_param("W_in", (d, d_mlp), "normal", 1 / math.sqrt(d))
        self.add_param("b_in", (1, 1, d_mlp), "zeros")
        self.add_param("W_out", (d_mlp, d), "normal", 1 / math.sqrt(d))
        self.add_param("b_out", (1, 1, d), "zeros")
        self.ln1 = LayerNorm(d, n_runs) if layernorm else nn.Identity()
        self.ln2 = LayerNorm(d, n_runs) if layernorm else nn.Identity()
        self.register_buffer("causal", torch.tril(torch.ones(N_CTX, N_CTX, dtype=torch.bool)), persistent=False)
        self.act = ACTIVATIONS[act]
        for name in ("q", "k", "v", "scores", "pattern", "z", "attn_out", "resid_mid", "mlp_pre", "mlp_post",
                     "mlp_out", "resid_post"):
            setattr(self, f"hook_{name}", HookPoint())

    def forward(self, resid: Tensor, last_only: bool = False) -> Tensor:
        """resid: [N, batch, pos, d_model]; with ``last_only`` queries only from the last position."""
        x = self.ln1(resid)
        xq = x[:, :, -1:] if last_only else x
        q = self.hook_q(torch.einsum("nbtd,nhdk->nbhtk", xq, self.W_Q))
        k = self.hook_k(torch.einsum("nbtd,nhdk->nbhtk", x, self.W_K))
        v = self.hook_v(torch.einsum("nbtd,nhdk->nbhtk", x, self.W_V))
        scores = self.hook_scores(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]))
        t_q, t_k = scores.shape[-2:]
        scores = scores.masked_fill(~self.causal[t_k - t_q : t_k, :t_k], float("-inf"))
        pattern = self.hook_pattern(scores.softmax(-1))
        z = self.hook_z(pattern @ v)
        attn_out = self.hook_attn_out(torch.einsum("nbhtk,nhkd->nbtd", z, self.W_O))
        resid = self.hook_resid_mid(resid[:, :, -t_q:] + attn_out)
        pre = self.hook_mlp_pre(per_run_matmul(self.ln2(resid), self.W_in) + self.b_in)
        mlp_out = self.hook_mlp_out(per_run_matmul(self.hook_mlp_post(self.act(pre)), self.W_out) + self.b_out)
        return self.hook_resid_post(resid + mlp_out)


class LayerNorm(StackedModule):
    """LayerNorm with a per-run gain and bias."""

    def __init__(self, d: int, n_runs: int):
        super().__init__(n_runs)
        self.add_param("w", (1, 1, d), "ones")
        self.add_param("b", (1, 1, d), "zeros")

    def forward(self, x: Tensor) -> Tensor:
        x = (x - x.mean(-1, keepdim=True)) / (x.var(-1, keepdim=True, unbiased=False) + 1e-5).sqrt()
        return x * self.w + self.b
