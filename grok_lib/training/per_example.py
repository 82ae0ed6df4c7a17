"""Per-example squared gradients, summed over the batch: the second input of TrueGrad (see `optimizers`).

The training loss of a run is ``L = Σ_i w_i ℓ_i`` (``w_i`` = 1 / examples in the batch, 0 on padding),
so its gradient ``g = Σ_i w_i ∇ℓ_i`` is a sum of per-example contributions. TrueGrad's second moment
is fed

    S = Σ_i (w_i ∇ℓ_i)²        (elementwise, one tensor per parameter)

the scale the TrueGrad project's preferred route (BackPack's ``SumGradSquared`` on a mean loss)
gives; the mean of the squared per-example gradients would be ``S`` times the batch size. When every
example has the same gradient, ``S = g² / B``: TrueGrad's un-grafted step is then ``sqrt(B)`` times
Adam's, but its grafted step (the only one here) takes its length from Adam's step and its
direction from ``m / sqrt(S)``, which a constant factor on ``S`` leaves alone (except where eps bounds
the denominator).

Two routes give the same sums (``tests/test_training_options.py`` checks both against a loop over
examples):

- **The MLP** (`mlp_square_sums`): each of its layers is ``z = x @ W + b``, so one example's gradient
  of ``W`` is the outer product ``x_iᵀ δ_i`` (``δ_i`` = the gradient of the batch loss with respect to
  that example's ``z``, which already carries ``w_i``), and the squares sum as ``(x²)ᵀ(δ²)`` -- one
  matrix product per layer. The embedding rows of a and b receive the first layer's input gradient
  (added, where a = b). One ordinary backward pass gives every ``δ``. For five stacked canonical MLPs
  on one CPU thread this costs about 3 times the training step's own forward and backward pass, against
  about 150 times by the general route (``benchmarks/truegrad_cost.py``, T1 in ``benchmarks/RESULTS.md``).
- **Any other model** (`copied_square_sums`): a stacked model runs N independent models side by side,
  so the runs axis can carry *examples* instead. For each run, its weights are copied once per example
  (``[C, ...]`` for a chunk of C examples), example c is shown only to copy c, and one backward pass of
  ``Σ_c w_c ℓ_c`` leaves each copy holding exactly its example's contribution ``w_c ∇ℓ_c``. This is
  exact and uses the models' own code (including their custom kernels, which ``torch.func.vmap``
  cannot see through), but every example is its own forward and backward pass: about 13 times a
  forward and backward pass for the leaderboard's 1-layer transformer (T1), so a TrueGrad run of a
  larger transformer is a GPU job, or a short one. Memory is bounded by copying ``CHUNK_FLOATS`` worth
  of weights at a time.

Both read each example from the row it trains on, so the summed MLP's shared rows for (a, b) and
(b, a) (see `batches.Stack`) still give one gradient per *example*, each with its own label.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.func import functional_call

from grok_lib.models import MLP, StackedModule
from grok_lib.models.kernels import take

from .batches import example_loss

CHUNK_FLOATS = 2**22  # weights copied at once (16 MB in float32), however many examples that makes


def square_gradient_sums(model: StackedModule, x: Tensor, row: Tensor, y: Tensor, w: Tensor, output: str,
                         weights: dict[str, Tensor] | None = None) -> list[Tensor]:
    """``S = Σ_i (w_i ∇ℓ_i)²`` for each parameter of ``model`` (in ``named_parameters`` order), each
    ``[N, ...]`` like the parameter, for the batch ``(x, row, y, w)`` of `batches`.

    ``weights`` are the weights the gradient was taken at, by name (the noisy ones, with weight
    noise); by default the model's own. The MLP takes its own, faster route."""
    named = dict(model.named_parameters()) if weights is None else weights
    if isinstance(model, MLP):
        return mlp_square_sums(model, named, x, row, y, w, output)
    return copied_square_sums(model, named, x, row, y, w, output)


@torch.enable_grad()
def mlp_square_sums(model: MLP, named: dict[str, Tensor], x: Tensor, row: Tensor, y: Tensor, w: Tensor,
                    output: str) -> list[Tensor]:
    """`square_gradient_sums` for the MLP, from one backward pass: per layer ``(x²)ᵀ(δ²)`` for the
    weights and ``Σ δ²`` for the bias (the module docstring)."""
    p = {k: t.detach() for k, t in named.items()}
    a, b = x.gather(1, row.unsqueeze(-1).expand(*row.shape, 2)).unbind(-1)  # each example's own row
    e_a, e_b = take(p["W_E"], a), take(p["W_E"], b)
    merged = (e_a + e_b if model.merge == "sum" else torch.cat([e_a, e_b], -1)).requires_grad_(True)
    layers = [("W_in", "b_in")] + [(f"hidden.{i}.W", f"hidden.{i}.b") for i in range(len(model.hidden))]
    inputs, pres, h = [], [], merged
    for weight, bias in layers:
        inputs.append(h)
        pres.append(torch.baddbmm(p[bias], h, p[weight]))
        h = model.act(pres[-1])
    inputs.append(h)
    pres.append(torch.baddbmm(p["b_out"], h, p["W_out"]))
    loss = example_loss(pres[-1], torch.arange(row.shape[1], device=row.device).expand_as(row), y, output)
    deltas = torch.autograd.grad((loss * w).sum(), [merged, *pres])  # δ of each example, w_i included
    sums: dict[str, Tensor] = {}
    for (weight, bias), inp, delta in zip([*layers, ("W_out", "b_out")], inputs, deltas[1:], strict=True):
        sums[weight] = torch.bmm(inp.detach().square().transpose(1, 2), delta.square())
        sums[bias] = delta.square().sum(1, keepdim=True)
    sums["W_E"] = _embedding_square_sums(deltas[0], a, b, p["W_E"].shape[1], model.merge)
    return [sums[k] for k in named]


def _embedding_square_sums(d_merged: Tensor, a: Tensor, b: Tensor, n_vocab: int, merge: str) -> Tensor:
    """``Σ_i G_i²`` for the embedding table, where example i's gradient ``G_i`` puts ``g_a`` on row a and
    ``g_b`` on row b (``g_a = g_b`` = the merged input's gradient for a sum, its two halves for a concat).
    Where a = b the row holds ``(g_a + g_b)²``: the two squares and a cross term ``2 g_a g_b``."""
    g_a, g_b = (d_merged, d_merged) if merge == "sum" else d_merged.chunk(2, -1)
    n, _, d = g_a.shape
    out = torch.zeros(n, n_vocab, d, dtype=g_a.dtype, device=g_a.device)
    cross = 2 * g_a * g_b * (a == b).unsqueeze(-1)
    for idx, val in ((a, g_a.square()), (b, g_b.square()), (a, cross)):
        out.scatter_add_(1, idx.unsqueeze(-1).expand_as(val), val)
    return out


def copied_square_sums(model: StackedModule, named: dict[str, Tensor], x: Tensor, row: Tensor, y: Tensor,
                       w: Tensor, output: str) -> list[Tensor]:
    """`square_gradient_sums` for any stacked model, one copy of the weights per example (the module
    docstring)."""
    sums = [torch.zeros_like(t, requires_grad=False) for t in named.values()]
    per_copy = sum(t[0].numel() for t in named.values())
    chunk = max(1, CHUNK_FLOATS // per_copy)
    for n in range(x.shape[0]):
        counted = w[n].nonzero().squeeze(1)  # padding carries weight 0 and contributes nothing
        for start in range(0, len(counted), chunk):
            ex = counted[start : start + chunk]
            contributions = _contributions(model, named, n, x[n, row[n, ex]], y[n, ex], w[n, ex], output)
            for s, c in zip(sums, contributions, strict=True):
                s[n] += c.square().sum(0)
    return sums


@torch.enable_grad()
def _contributions(model: StackedModule, named: dict[str, Tensor], n: int, x: Tensor, y: Tensor, w: Tensor,
                   output: str) -> tuple[Tensor, ...]:
    """``w_c ∇ℓ_c`` for each example c of ``x`` [C, tokens] under run ``n``'s weights: one tensor
    ``[C, ...]`` per parameter, from one backward pass through C copies of the weights."""
    c = len(x)
    copies = {k: t[n : n + 1].detach().expand(c, *t.shape[1:]).clone().requires_grad_(True) for k, t in named.items()}
    logits = functional_call(model, copies, (x.unsqueeze(1),))  # copy c sees example c alone: [C, 1, classes]
    loss = example_loss(logits, torch.zeros_like(y).unsqueeze(1), y.unsqueeze(1), output)[:, 0]
    return torch.autograd.grad((loss * w).sum(), list(copies.values()))
