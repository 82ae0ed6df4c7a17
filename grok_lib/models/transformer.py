"""The transformer of the course: reads ``a op b =`` and predicts a∘b at ``=``.

    resid  = W_E[x] + W_pos
    per block:
        resid = resid + drop(Attn(LN1(resid)))
        resid = resid + drop(act(LN2(resid) @ W_in + b_in) @ W_out + b_out)
    logits = LN_final(resid)[=] @ W_U

Defaults follow Nanda et al. (2023): one layer, d_model 128, 4 heads, d_mlp 512, ReLU, no
LayerNorm (LN is then the identity), learned positional embeddings, no biases in attention.
``drop`` is residual dropout while training with ``dropout > 0`` (`dropout.Dropout`), else the
identity: on both sublayers' outputs, as residual dropout is usually defined. (Power et al.'s
released transformer defaults to 0.1 but drops only the MLP's output; its attention dropout is
commented out.)
Contractions are written with `einops.einsum` and named axes; every tensor has a leading
``run`` axis (see `stacked`). einops hands each one to ``torch.einsum``, so the numbers are
torch's, bit for bit; its parsing costs about 6 µs a call, under 1% of a training step of
the chapter 2 transformer on a CPU (~30 ms).
`plain.PlainTransformer` is the same function for one run.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from einops import einsum
from torch import Tensor, nn

from .dropout import Dropout
from .hooks import HookPoint
from .kernels import per_run_matmul, take
from .stacked import ACTIVATIONS, StackedModule

N_CTX = 4  # a, op, b, =


class Transformer(StackedModule):
    """N stacked decoder-only transformers (see `stacked`)."""

    def __init__(self, n_vocab: int, n_classes: int, d_model: int = 128, n_heads: int = 4, d_mlp: int = 512,
                 n_layers: int = 1, act: str = "relu", layernorm: bool = False, dropout: float = 0.0,
                 n_runs: int = 1):
        super().__init__(n_runs, n_vocab=n_vocab, n_classes=n_classes, d_model=d_model, n_heads=n_heads,
                         d_mlp=d_mlp, n_layers=n_layers, act=act, layernorm=layernorm, dropout=dropout)
        self.add_param("W_E", (n_vocab, d_model), "normal", 1 / math.sqrt(d_model))
        self.add_param("W_pos", (N_CTX, d_model), "normal", 1 / math.sqrt(d_model))
        self.blocks = nn.ModuleList(Block(d_model, n_heads, d_mlp, act, layernorm, n_runs, dropout)
                                    for _ in range(n_layers))
        self.ln_final = LayerNorm(d_model, n_runs) if layernorm else nn.Identity()
        self.add_param("W_U", (d_model, n_classes), "normal", 1 / math.sqrt(n_classes))
        self.hook_embed = HookPoint()
        self.hook_logits = HookPoint()

    def forward(self, x: Tensor, all_positions: bool = False) -> Tensor:
        """x: [run batch pos] token ids (or [batch pos] for one run) -> logits at ``=`` [run batch answer].

            resid = W_E[x] + W_pos;  resid = block(resid) for each block;  logits = LN(resid)[=] @ W_U

        The readout needs only the last position, so the last block computes only that one
        past the keys and values (a quarter of the work) unless ``all_positions`` asks for
        every position's activations (as `run_with_cache` does)."""
        x, squeeze = self._batched(x)
        resid = self.hook_embed(take(self.W_E, x) + self.W_pos.unsqueeze(1))
        for i, block in enumerate(self.blocks):
            resid = block(resid, last_only=not all_positions and i == len(self.blocks) - 1)
        resid = self.ln_final(resid)[:, :, -1]  # the residual stream at "="
        logits = self.hook_logits(einsum(resid, self.W_U, "run batch d_model, run d_model answer -> run batch answer"))
        return logits[0] if squeeze else logits

    def run_with_cache(self, x: Tensor, **forward_kwargs: Any) -> tuple[Tensor, dict[str, Tensor]]:
        """Every named activation, at every position."""
        return super().run_with_cache(x, **({"all_positions": True} | forward_kwargs))


class Block(StackedModule):
    """Attention then MLP, each added to the residual stream (pre-LayerNorm when enabled), each through
    its own dropout step first (residual dropout; the identity unless training with dropout)."""

    def __init__(self, d_model: int, n_heads: int, d_mlp: int, act: str, layernorm: bool, n_runs: int,
                 dropout: float = 0.0):
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
        self.drop_attn, self.drop_mlp = Dropout(dropout), Dropout(dropout)
        for name in ("q", "k", "v", "scores", "pattern", "z", "attn_out", "resid_mid", "mlp_pre", "mlp_post",
                     "mlp_out", "resid_post"):
            setattr(self, f"hook_{name}", HookPoint())

    def forward(self, resid: Tensor, last_only: bool = False) -> Tensor:
        """resid: [run batch pos d_model] -> the same, after attention and MLP.

            q, k, v   = LN1(resid) @ W_Q, W_K, W_V              (one d_head-wide projection per head)
            pattern   = softmax(q k^T / sqrt(d_head)), each position reading itself and earlier ones
            resid_mid = resid + drop(sum over heads of (pattern v) @ W_O)
            resid_post = resid_mid + drop(act(LN2(resid_mid) @ W_in + b_in) @ W_out + b_out)

        With ``last_only`` the queries (and so everything after them) come from the last
        position only."""
        x = self.ln1(resid)
        xq = x[:, :, -1:] if last_only else x
        heads = "run batch pos d_model, run head d_model d_head -> run batch head pos d_head"
        q = self.hook_q(einsum(xq, self.W_Q, heads))
        k = self.hook_k(einsum(x, self.W_K, heads))
        v = self.hook_v(einsum(x, self.W_V, heads))
        scores = einsum(q, k, "run batch head query d_head, run batch head key d_head -> run batch head query key")
        scores = self.hook_scores(scores / math.sqrt(q.shape[-1]))
        t_q, t_k = scores.shape[-2:]
        scores = scores.masked_fill(~self.causal[t_k - t_q : t_k, :t_k], float("-inf"))
        pattern = self.hook_pattern(scores.softmax(-1))
        z = self.hook_z(
            einsum(pattern, v, "run batch head query key, run batch head key d_head -> run batch head query d_head"))
        attn_out = self.hook_attn_out(
            einsum(z, self.W_O, "run batch head pos d_head, run head d_head d_model -> run batch pos d_model"))
        # the positions that were queried
        resid = self.hook_resid_mid(resid[:, :, -t_q:] + self.drop_attn(attn_out))
        # the MLP, x @ W for each run as one batched product (`kernels.per_run_matmul` says why)
        pre = self.hook_mlp_pre(per_run_matmul(self.ln2(resid), self.W_in) + self.b_in)
        mlp_out = self.hook_mlp_out(per_run_matmul(self.hook_mlp_post(self.act(pre)), self.W_out) + self.b_out)
        return self.hook_resid_post(resid + self.drop_mlp(mlp_out))


class LayerNorm(StackedModule):
    """LayerNorm with a per-run gain and bias: ``(x - mean(x)) / sqrt(var(x) + 1e-5) * w + b``."""

    def __init__(self, d: int, n_runs: int):
        super().__init__(n_runs)
        self.add_param("w", (1, 1, d), "ones")
        self.add_param("b", (1, 1, d), "zeros")

    def forward(self, x: Tensor) -> Tensor:
        x = (x - x.mean(-1, keepdim=True)) / (x.var(-1, keepdim=True, unbiased=False) + 1e-5).sqrt()
        return x * self.w + self.b
