"""The two models of the course: an MLP on learned embeddings, and a small transformer.

Every parameter carries a leading *runs* dimension ``N``: one object holds N independent
models that share an architecture, so a sweep trains them in one pass. With ``n_runs=1``
(the default) a model takes ``[batch, tokens]`` and returns ``[batch, classes]``; with
more it takes and returns a leading ``N``. Named `HookPoint`s mark every activation worth
looking at, and `run_with_cache` returns them all.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .config import TrainConfig


class HookPoint(nn.Module):
    """An identity layer that names an activation, so hooks and caches can find it."""

    def forward(self, x: Tensor) -> Tensor:
        return x


class _LookupSum(torch.autograd.Function):
    """``out[m] = sum_k table[idx[m, k]]``: one fused gather-and-add forward
    (``embedding_bag``), and a backward that adds each gradient row into its table row
    (``index_add_``) -- on a CPU several times faster than autograd's embedding backward."""

    @staticmethod
    def forward(ctx, table: Tensor, idx: Tensor) -> Tensor:
        ctx.save_for_backward(idx)
        ctx.n_rows = table.shape[0]
        return F.embedding_bag(idx, table, mode="sum")

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, None]:
        (idx,) = ctx.saved_tensors
        out = grad.new_zeros(ctx.n_rows, grad.shape[-1])
        for k in range(idx.shape[1]):
            out.index_add_(0, idx[:, k], grad)
        return out, None


def flat_rows(idx: Tensor, n_rows: int) -> Tensor:
    """Rows of ``tables.reshape(N * K * V, d)`` for idx ``[N, ..., K]`` into tables ``[N, K, V, d]``
    (V = ``n_rows``), as ``[M, K]``: the indices `take_sum`'s fused lookup reads."""
    n, k = idx.shape[0], idx.shape[-1]
    offset = torch.arange(n * k, device=idx.device).view(n, *([1] * (idx.dim() - 2)), k) * n_rows
    return (idx + offset).reshape(-1, k)


def take_sum(tables: Tensor, idx: Tensor) -> Tensor:
    """``sum_k tables[n, k, idx[n, ..., k]]`` for tables ``[N, K, V, d]`` and idx ``[N, ..., K]``.

    With K=2 this is the MLP's first layer: one table row per operand, added.
    """
    n, k, v, d = tables.shape
    return _LookupSum.apply(tables.reshape(n * k * v, d), flat_rows(idx, v)).view(*idx.shape[:-1], d)


def take(table: Tensor, idx: Tensor) -> Tensor:
    """Row lookup per run: ``table[n, idx[n, ...]]`` for table ``[N, V, d]`` and idx ``[N, ...]``."""
    return take_sum(table.unsqueeze(1), idx.unsqueeze(-1))


def per_run_matmul(x: Tensor, W: Tensor) -> Tensor:
    """``x @ W`` for each run: x ``[N, ..., d]``, W ``[N, d, e]``, as one batched matmul.

    Broadcasting ``x @ W.unsqueeze(1)`` gives the same numbers, but it multiplies every
    example separately and its backward builds one d×e outer product per example before
    summing them into W's gradient: ten times slower for the course's transformer on a CPU.
    """
    return torch.bmm(x.flatten(1, -2), W).view(*x.shape[:-1], W.shape[-1])


ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {"relu": F.relu, "gelu": F.gelu}


class StackedModule(nn.Module):
    """Shared plumbing: per-run initialisation from each run's own seed, hooks, caches."""

    n_runs: int

    def _param(self, name: str, shape: tuple[int, ...], init: str, scale: float = 1.0) -> None:
        """Register a parameter of shape ``[n_runs, *shape]`` and remember how to initialise it."""
        self.register_parameter(name, nn.Parameter(torch.empty(self.n_runs, *shape)))
        self.__dict__.setdefault("_init_specs", {})[name] = (init, scale)

    @torch.no_grad()
    def reset_parameters(self, seeds: list[int]) -> None:
        """Initialise run r from a generator seeded with ``seeds[r]``, in a fixed order, so a
        run gets the same weights whether it is trained alone or stacked with others."""
        if len(seeds) != self.n_runs:
            raise ValueError(f"need {self.n_runs} seeds, got {len(seeds)}")
        for r, seed in enumerate(seeds):
            gen = torch.Generator().manual_seed(seed)
            for module in self.modules():
                for name, (init, scale) in module.__dict__.get("_init_specs", {}).items():
                    param = getattr(module, name)
                    shape = param.shape[1:]
                    if init == "normal":
                        value = torch.randn(shape, generator=gen, dtype=torch.float64) * scale
                    elif init == "uniform":
                        value = (torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1) * scale
                    elif init == "zeros":
                        value = torch.zeros(shape)
                    else:  # ones
                        value = torch.ones(shape)
                    param[r] = value.to(param.dtype)

    def hook_points(self) -> dict[str, HookPoint]:
        return {name: m for name, m in self.named_modules() if isinstance(m, HookPoint)}

    def run_with_cache(self, x: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """Forward pass that also returns every named activation (detached)."""
        cache: dict[str, Tensor] = {}
        squeeze = x.dim() == 2
        handles = [
            hp.register_forward_hook(lambda _m, _i, out, name=name: cache.__setitem__(name, out.detach()))
            for name, hp in self.hook_points().items()
        ]
        try:
            self._full_positions = True
            with torch.no_grad():
                out = self(x)
        finally:
            self._full_positions = False
            for h in handles:
                h.remove()
        if squeeze:
            cache = {k: v[0] for k, v in cache.items()}
        return out, cache

    def single(self, r: int) -> StackedModule:
        """A one-run copy of run ``r`` (for analysis or storage)."""
        like = next(self.parameters())
        clone = self.__class__(self.cfg, self.n_vocab, self.n_classes, n_runs=1).to(like.device, like.dtype)
        clone.load_state_dict({k: v[r : r + 1].clone() for k, v in self.state_dict().items()})
        return clone

    def _batched(self, x: Tensor) -> tuple[Tensor, bool]:
        if x.dim() == 2:
            if self.n_runs != 1:
                raise ValueError(f"this object holds {self.n_runs} models: give inputs as [N, batch, tokens]")
            return x.unsqueeze(0), True
        return x, False


class MLP(StackedModule):
    """Embed a and b, merge them (sum or concat), hidden ReLU layer(s), then class logits.

    The first layer acts on each operand's embedding separately: with W = [W_a; W_b],
    merge(E[a], E[b]) @ W + b = (E @ W_a + b)[a] + (E @ W_b)[b] (W_a = W_b = W for a sum).
    We multiply the small table E once per step instead of every example's embedding, and
    add the bias to the table's rows rather than to every example: the same function, a
    fraction of the work. One fused lookup (`take_sum`) then adds each example's two rows.
    """

    def __init__(self, cfg: TrainConfig, n_vocab: int, n_classes: int, n_runs: int = 1):
        super().__init__()
        self.cfg, self.n_vocab, self.n_classes, self.n_runs = cfg, n_vocab, n_classes, n_runs
        d, h = cfg.d_embed, cfg.d_hidden
        d_in = d if cfg.merge == "sum" else 2 * d
        self._param("W_E", (n_vocab, d), "normal", 1.0)
        self._param("W_in", (d_in, h), "uniform", 1 / math.sqrt(d_in))
        self._param("b_in", (1, h), "uniform", 1 / math.sqrt(d_in))
        self.hidden = nn.ModuleList(_Dense(h, h, n_runs) for _ in range(cfg.n_hidden - 1))
        self._param("W_out", (h, n_classes), "uniform", 1 / math.sqrt(h))
        self._param("b_out", (1, n_classes), "uniform", 1 / math.sqrt(h))
        self.act = ACTIVATIONS[cfg.act]
        self.hook_pre = HookPoint()
        self.hook_hidden = HookPoint()
        self.hook_logits = HookPoint()

    def forward(self, x: Tensor) -> Tensor:
        x, squeeze = self._batched(x)
        d = self.cfg.d_embed
        if self.cfg.merge == "sum":
            table_a = table_b = self.W_E @ self.W_in
        else:
            table_a, table_b = self.W_E @ self.W_in[:, :d], self.W_E @ self.W_in[:, d:]
        pre = take_sum(torch.stack([table_a + self.b_in, table_b], 1), x)  # table_a[a] + table_b[b]
        h = self.hook_hidden(self.act(self.hook_pre(pre)))
        for layer in self.hidden:
            h = self.act(layer(h))
        logits = self.hook_logits(torch.baddbmm(self.b_out, h, self.W_out))  # h @ W_out + b_out, one kernel
        return logits[0] if squeeze else logits


class _Dense(StackedModule):
    def __init__(self, d_in: int, d_out: int, n_runs: int):
        super().__init__()
        self.n_runs = n_runs
        self._param("W", (d_in, d_out), "uniform", 1 / math.sqrt(d_in))
        self._param("b", (1, d_out), "uniform", 1 / math.sqrt(d_in))
        self.hook_pre = HookPoint()

    def forward(self, x: Tensor) -> Tensor:
        return self.hook_pre(torch.baddbmm(self.b, x, self.W))  # x @ W + b


class _LayerNorm(StackedModule):
    def __init__(self, d: int, n_runs: int):
        super().__init__()
        self.n_runs = n_runs
        self._param("w", (1, 1, d), "ones")
        self._param("b", (1, 1, d), "zeros")

    def forward(self, x: Tensor) -> Tensor:
        x = (x - x.mean(-1, keepdim=True)) / (x.var(-1, keepdim=True, unbiased=False) + 1e-5).sqrt()
        return x * self.w + self.b


class Block(StackedModule):
    """Attention then MLP, each added to the residual stream (pre-LayerNorm when enabled)."""

    def __init__(self, cfg: TrainConfig, n_ctx: int, n_runs: int):
        super().__init__()
        self.n_runs, self.cfg = n_runs, cfg
        d, h, dh, dm = cfg.d_model, cfg.n_heads, cfg.d_model // cfg.n_heads, cfg.d_mlp
        for name in ("W_Q", "W_K", "W_V"):
            self._param(name, (h, d, dh), "normal", 1 / math.sqrt(d))
        self._param("W_O", (h, dh, d), "normal", 1 / math.sqrt(d))
        self._param("W_in", (d, dm), "normal", 1 / math.sqrt(d))
        self._param("b_in", (1, 1, dm), "zeros")
        self._param("W_out", (dm, d), "normal", 1 / math.sqrt(d))
        self._param("b_out", (1, 1, d), "zeros")
        self.ln1 = _LayerNorm(d, n_runs) if cfg.layernorm else nn.Identity()
        self.ln2 = _LayerNorm(d, n_runs) if cfg.layernorm else nn.Identity()
        self.register_buffer("causal", torch.tril(torch.ones(n_ctx, n_ctx, dtype=torch.bool)), persistent=False)
        self.act = ACTIVATIONS[cfg.act]
        for name in ("q", "k", "v", "scores", "pattern", "z", "attn_out", "resid_mid", "mlp_pre", "mlp_post",
                     "mlp_out", "resid_post"):
            setattr(self, f"hook_{name}", HookPoint())

    def forward(self, resid: Tensor, last_only: bool = False) -> Tensor:
        """resid: [N, B, T, d]. With ``last_only`` only the final position is computed
        past the keys and values: all the readout needs, at a quarter of the work."""
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


class Transformer(StackedModule):
    """Decoder-only transformer reading ``a op b =`` and predicting the answer at ``=``.

    Defaults follow Nanda et al. (2023): one layer, d_model 128, 4 heads, d_mlp 512,
    ReLU, no LayerNorm, learned positional embeddings, no biases in attention.
    """

    n_ctx = 4

    def __init__(self, cfg: TrainConfig, n_vocab: int, n_classes: int, n_runs: int = 1):
        super().__init__()
        self.cfg, self.n_vocab, self.n_classes, self.n_runs = cfg, n_vocab, n_classes, n_runs
        d = cfg.d_model
        self._param("W_E", (n_vocab, d), "normal", 1 / math.sqrt(d))
        self._param("W_pos", (self.n_ctx, d), "normal", 1 / math.sqrt(d))
        self.blocks = nn.ModuleList(Block(cfg, self.n_ctx, n_runs) for _ in range(cfg.n_layers))
        self.ln_final = _LayerNorm(d, n_runs) if cfg.layernorm else nn.Identity()
        self._param("W_U", (d, n_classes), "normal", 1 / math.sqrt(n_classes))
        self.hook_embed = HookPoint()
        self.hook_logits = HookPoint()
        self._full_positions = False

    def forward(self, x: Tensor) -> Tensor:
        x, squeeze = self._batched(x)
        resid = self.hook_embed(take(self.W_E, x) + self.W_pos.unsqueeze(1))
        for i, block in enumerate(self.blocks):
            resid = block(resid, last_only=not self._full_positions and i == len(self.blocks) - 1)
        final = self.ln_final(resid)[:, :, -1]
        logits = self.hook_logits(final @ self.W_U)
        return logits[0] if squeeze else logits


def build_model(cfg: TrainConfig, n_vocab: int, n_classes: int, seeds: list[int] | None = None) -> StackedModule:
    """The model a config names, initialised from ``seeds`` (default: the config's seed)."""
    seeds = [cfg.seed] if seeds is None else seeds
    cls = MLP if cfg.model == "mlp" else Transformer
    model = cls(cfg, n_vocab, n_classes, n_runs=len(seeds))
    model.reset_parameters(seeds)
    return model.to(getattr(torch, cfg.dtype))
