"""Each speed kernel of `grok_lib.models.kernels` against the plain formula in its docstring,
values and gradients (the lookup's backward is written by hand)."""

from __future__ import annotations

import pytest
import torch

from grok_lib.models.kernels import embed_first_layer, flat_rows, per_run_matmul, take, take_sum

N, V, D = 3, 6, 5  # runs, table rows, width


def _gen() -> torch.Generator:
    return torch.Generator().manual_seed(0)


def _randn(*shape: int, gen: torch.Generator) -> torch.Tensor:
    return torch.randn(*shape, generator=gen, dtype=torch.float64, requires_grad=True)


def _grads(out: torch.Tensor, inputs: list[torch.Tensor], gen: torch.Generator) -> tuple[torch.Tensor, ...]:
    """Gradients of a random projection of ``out``: a vector-Jacobian product to compare."""
    return torch.autograd.grad(out, inputs, torch.randn(out.shape, generator=gen, dtype=out.dtype))


def test_flat_rows_points_at_each_runs_table_row():
    gen = _gen()
    tables = torch.randn(N, 2, V, D, generator=gen)
    idx = torch.randint(0, V, (N, 4, 3, 2), generator=gen)
    rows = flat_rows(idx, V)
    assert rows.shape == (N * 4 * 3, 2)
    flat = tables.reshape(-1, D)
    for n, b, t, k in [(0, 0, 0, 0), (1, 2, 1, 1), (2, 3, 2, 0), (2, 3, 2, 1)]:
        m = (n * 4 + b) * 3 + t
        assert torch.equal(flat[rows[m, k]], tables[n, k, idx[n, b, t, k]])


def test_take_sum_formula_and_gradient():
    gen = _gen()
    tables = _randn(N, 2, V, D, gen=gen)
    idx = torch.randint(0, V, (N, 7, 2), generator=gen)
    plain = torch.stack([tables[n, 0, idx[n, :, 0]] + tables[n, 1, idx[n, :, 1]] for n in range(N)])
    torch.testing.assert_close(take_sum(tables, idx), plain, rtol=1e-14, atol=1e-14)
    torch.testing.assert_close(_grads(take_sum(tables, idx), [tables], _gen()), _grads(plain, [tables], _gen()))
    assert torch.autograd.gradcheck(lambda t: take_sum(t, idx), (tables,))


def test_take_is_a_row_lookup_per_run():
    gen = _gen()
    table = _randn(N, V, D, gen=gen)
    idx = torch.randint(0, V, (N, 8, 4), generator=gen)  # [run, batch, pos], as the transformer reads tokens
    plain = torch.stack([table[n][idx[n]] for n in range(N)])
    assert torch.equal(take(table, idx), plain)  # one row per output: nothing to round
    torch.testing.assert_close(_grads(take(table, idx), [table], _gen()), _grads(plain, [table], _gen()))


def test_per_run_matmul_is_x_at_W_for_each_run():
    gen = _gen()
    x, W = _randn(N, 8, 4, D, gen=gen), _randn(N, D, 7, gen=gen)
    plain = x @ W.unsqueeze(1)  # [N, 8, 4, D] @ [N, 1, D, 7]
    out = per_run_matmul(x, W)
    assert out.shape == (N, 8, 4, 7)
    torch.testing.assert_close(out, plain, rtol=1e-13, atol=1e-13)
    torch.testing.assert_close(_grads(out, [x, W], _gen()), _grads(plain, [x, W], _gen()), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("merge", ["sum", "concat"])
def test_embed_first_layer_is_the_merged_embeddings_times_W_in(merge):
    gen = _gen()
    h = 9
    W_E = _randn(N, V, D, gen=gen)
    W_in = _randn(N, D if merge == "sum" else 2 * D, h, gen=gen)
    b_in = _randn(N, 1, h, gen=gen)
    x = torch.randint(0, V, (N, 11, 2), generator=gen)
    a, b = (torch.stack([W_E[n][x[n, :, i]] for n in range(N)]) for i in (0, 1))  # [N, batch, D] each
    merged = a + b if merge == "sum" else torch.cat([a, b], dim=-1)
    plain = merged @ W_in + b_in
    out = embed_first_layer(W_E, W_in, b_in, x, merge)
    torch.testing.assert_close(out, plain, rtol=1e-12, atol=1e-12)
    params = [W_E, W_in, b_in]
    torch.testing.assert_close(_grads(out, params, _gen()), _grads(plain, params, _gen()), rtol=1e-12, atol=1e-12)
