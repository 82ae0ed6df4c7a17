"""What a stack of runs is graded on at each logged step: the loss and accuracy on its training and
validation pairs, and its weight norm, all from one pass over the operation table (for the digits: one
pass over each run's training images and one over the shared test set, its "validation").

The evaluation sees the stored weights as they are: no dropout, no weight noise (those are steps of
training only).
"""

from __future__ import annotations

import torch
from torch import Tensor

from grok_lib.models import StackedModule, run_norms

from .batches import DigitsStack, Stack, example_loss

EVAL_CHUNK_FLOATS = 2**22  # hidden activations per evaluation chunk, across the stack (16 MB in fp32)


@torch.no_grad()
def evaluate(model: StackedModule, data: Stack | DigitsStack, width: int, output: str,
             loss_kind: str = "cross_entropy") -> Tensor:
    """[N, 5] per run: train loss, train acc, val loss, val acc, weight norm (on the full table);
    the losses under the runs' ``output`` (softmax or StableMax) and ``loss_kind``, as in training.

    The table's rows go through the network in chunks small enough for a large stack;
    each chunk grades the pairs that read its rows.
    """
    if isinstance(data, DigitsStack):
        return _evaluate_digits(model, data, output, loss_kind)
    n = data.is_train.shape[0]
    chunk = max(256, EVAL_CHUNK_FLOATS // (n * width))
    order = data.eval_order
    bounds = torch.searchsorted(data.eval_row[order], torch.arange(0, len(data.eval_x) + chunk, chunk,
                                                                    device=order.device)).tolist()
    totals = torch.zeros(n, 4, dtype=data.weight.dtype, device=data.weight.device)
    for k, start in enumerate(range(0, len(data.eval_x), chunk)):
        x = data.eval_x[start : start + chunk]
        logits = model(x.expand(n, *x.shape))
        pairs = order[bounds[k] : bounds[k + 1]]
        row, y = (data.eval_row[pairs] - start).expand(n, -1), data.table_y[:, pairs]
        loss = example_loss(logits, row, y, output, loss_kind)
        correct = (logits.argmax(-1).gather(1, row) == y).to(loss.dtype)
        tr = data.is_train[:, pairs].to(loss.dtype)
        totals += torch.stack([(loss * tr).sum(1), (correct * tr).sum(1),
                               (loss * (1 - tr)).sum(1), (correct * (1 - tr)).sum(1)], 1)
    sizes = torch.stack([data.n_train, data.n_train, data.n_val, data.n_val], 1)
    return torch.cat([totals / sizes, run_norms(p.detach() for p in model.parameters())[:, None]], 1)


def _evaluate_digits(model: StackedModule, data: DigitsStack, output: str, loss_kind: str) -> Tensor:
    """As `evaluate`, for digits runs: each run's own training images, then the shared test set."""
    x, row, y, w = data.full_batch()
    out = model(x)
    loss = example_loss(out, row, y, output, loss_kind)
    counted = (w > 0).to(loss.dtype)  # padding is not graded
    correct = (out.argmax(-1) == y).to(loss.dtype)
    test_out = model(data.test_x.expand(len(x), *data.test_x.shape))
    test_y = data.test_y.expand(len(x), -1)
    test_loss = example_loss(test_out, torch.arange(len(data.test_y), device=x.device).expand_as(test_y), test_y,
                             output, loss_kind)
    test_correct = (test_out.argmax(-1) == test_y).to(loss.dtype)
    norm = run_norms(p.detach() for p in model.parameters())
    return torch.stack([(loss * counted).sum(1) / data.n_train, (correct * counted).sum(1) / data.n_train,
                        test_loss.mean(1), test_correct.mean(1), norm], 1)

