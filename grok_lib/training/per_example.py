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

How: a stacked model runs N independent models side by side, so the runs axis can carry *examples*
instead. For each run, its weights are copied once per example (``[C, ...]`` for a chunk of C
examples), example c is shown only to copy c, and one backward pass of ``Σ_c w_c ℓ_c`` leaves each
copy holding exactly its example's contribution ``w_c ∇ℓ_c``. This is exact, uses the models' own
code (including their custom kernels, which ``torch.func.vmap`` cannot see through), and reads each
example from the row it trains on, so the summed MLP's shared rows for (a, b) and (b, a) (see
`batches.Stack`) still give one gradient per *example*, each with its own label.

Cost: every example is its own forward and backward pass through its own copy of the weights.
The MLP pays most, as its first layer is computed on the whole embedding table for each copy
(`kernels.embed_first_layer`), not on two rows. Measured on one CPU thread, these sums took about
130 times a full-batch forward and backward pass of the canonical MLP (a+b mod 97, 30%), and about
30 times for the canonical transformer: a TrueGrad run is a GPU job, or a short one. (An exact and
cheaper route exists for the MLP alone -- each layer's per-example gradient is an outer product,
so its squares sum as ``(x²)ᵀ(δ²)`` -- at the price of a second, hand-written backward pass.)
Memory is bounded by copying ``CHUNK_FLOATS`` worth of weights at a time.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.func import functional_call

from grok_lib.models import StackedModule

from .batches import example_loss

CHUNK_FLOATS = 2**22  # weights copied at once (16 MB in float32), however many examples that makes


def square_gradient_sums(model: StackedModule, x: Tensor, row: Tensor, y: Tensor, w: Tensor, output: str,
                         weights: dict[str, Tensor] | None = None) -> list[Tensor]:
    """``S = Σ_i (w_i ∇ℓ_i)²`` for each parameter of ``model`` (in ``named_parameters`` order), each
    ``[N, ...]`` like the parameter, for the batch ``(x, row, y, w)`` of `batches`.

    ``weights`` are the weights the gradient was taken at, by name (the noisy ones, with weight
    noise); by default the model's own."""
    named = dict(model.named_parameters()) if weights is None else weights
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
