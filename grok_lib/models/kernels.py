"""Speed kernels the stacked models call, each a plain formula computed faster on a CPU.

- `embed_first_layer`: the MLP's first layer, computed on the embedding table (the table trick);
- `take_sum`, `take`: row lookups per run, fused into one gather-and-add (`flat_rows` indexes it);
- `per_run_matmul`: ``x @ W`` per run as one batched matrix product.

Each docstring states the formula; ``tests/test_kernels.py`` checks each kernel against it.
The models read as formulas and call these for the heavy lifting.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def embed_first_layer(W_E: Tensor, W_in: Tensor, b_in: Tensor, x: Tensor, merge: str) -> Tensor:
    """The MLP's first layer, ``merge(W_E[a], W_E[b]) @ W_in + b_in``, for every run and example.

    With W_in = [W_a; W_b] (W_a = W_b = W_in for a sum) this equals
    ``(W_E @ W_a + b_in)[a] + (W_E @ W_b)[b]``: we multiply the small embedding table once
    per step instead of every example's embedding, add the bias to a table row instead of
    to every example, and let one fused lookup (`take_sum`) add each example's two rows.
    Shapes: W_E [N, V, d], W_in [N, d or 2d, h], b_in [N, 1, h], x [N, ..., 2] -> [N, ..., h].
    """
    d = W_E.shape[-1]
    if merge == "sum":
        table_a = table_b = W_E @ W_in
    else:
        table_a, table_b = W_E @ W_in[:, :d], W_E @ W_in[:, d:]
    return take_sum(torch.stack([table_a + b_in, table_b], 1), x)


def take_sum(tables: Tensor, idx: Tensor) -> Tensor:
    """``sum_k tables[n, k, idx[n, ..., k]]`` for tables ``[N, K, V, d]`` and idx ``[N, ..., K]``.

    With K=2 this is the MLP's first layer: one table row per operand, added.
    """
    n, k, v, d = tables.shape
    return _LookupSum.apply(tables.reshape(n * k * v, d), flat_rows(idx, v)).view(*idx.shape[:-1], d)


def take(table: Tensor, idx: Tensor) -> Tensor:
    """Row lookup per run: ``table[n, idx[n, ...]]`` for table ``[N, V, d]`` and idx ``[N, ...]``."""
    return take_sum(table.unsqueeze(1), idx.unsqueeze(-1))


def flat_rows(idx: Tensor, n_rows: int) -> Tensor:
    """Rows of ``tables.reshape(N * K * V, d)`` for idx ``[N, ..., K]`` into tables ``[N, K, V, d]``
    (V = ``n_rows``), as ``[M, K]``: the indices `take_sum`'s fused lookup reads."""
    n, k = idx.shape[0], idx.shape[-1]
    offset = torch.arange(n * k, device=idx.device).view(n, *([1] * (idx.dim() - 2)), k) * n_rows
    return (idx + offset).reshape(-1, k)


def per_run_matmul(x: Tensor, W: Tensor) -> Tensor:
    """``x @ W`` for each run: x ``[N, ..., d]``, W ``[N, d, e]``, as one batched matmul.

    Broadcasting ``x @ W.unsqueeze(1)`` gives the same numbers, but it multiplies every
    example separately and its backward builds one d×e outer product per example before
    summing them into W's gradient: ten times slower for the course's transformer on a CPU.
    """
    return torch.bmm(x.flatten(1, -2), W).view(*x.shape[:-1], W.shape[-1])


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
