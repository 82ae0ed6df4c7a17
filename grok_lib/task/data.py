"""From an operation's table to tensors a trainer can use: splits, noise, token layouts.

The whole table lives on the device once; a run is described by index tensors into it,
so many runs with different splits can share one table.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .operations import get_operation, operation_table


def train_size(n: int, train_frac: float) -> int:
    """How many of ``n`` pairs go to training: round(train_frac·n), leaving each side at least one."""
    return min(max(int(round(train_frac * n)), 1), n - 1)


SPLITS = ("ordered", "symmetric")


def split_indices(n: int, train_frac: float, seed: int) -> tuple[Tensor, Tensor]:
    """A deterministic random split of range(n): (train indices, validation indices).

    The training set has round(train_frac * n) pairs, at least one, leaving at least one
    for validation.
    """
    if not 0.0 < train_frac < 1.0:
        raise ValueError(f"train_frac={train_frac} must lie strictly between 0 and 1.")
    if n < 2:
        raise ValueError(f"cannot split {n} pair(s) into a training and a validation set; need at least 2.")
    n_train = train_size(n, train_frac)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return perm[:n_train].sort().values, perm[n_train:].sort().values


def unordered_pairs(a: Tensor, b: Tensor) -> Tensor:
    """An id per pair of the table, shared by (a, b) and (b, a): ids 0, 1, ... in order of {a, b}."""
    lo, hi = torch.minimum(a, b), torch.maximum(a, b)
    return torch.unique(lo * (int(hi.max()) + 1) + hi, return_inverse=True)[1]


def symmetric_split_indices(a: Tensor, b: Tensor, train_frac: float, seed: int) -> tuple[Tensor, Tensor]:
    """Like `split_indices`, but splitting unordered pairs: (a, b) and (b, a) land on the same side.

    round(train_frac * #unordered pairs) unordered pairs go to training, so about ``train_frac``
    of the table's ordered pairs do (a pair a = a counts once). For a commutative operation this
    removes the "transpose freebie": no held-out (b, a) has its mirror image in training.
    """
    group = unordered_pairs(a, b)
    train_groups, _ = split_indices(int(group.max()) + 1, train_frac, seed)
    in_train = torch.isin(group, train_groups)
    return in_train.nonzero().flatten(), (~in_train).nonzero().flatten()


def noisy_labels(labels: Tensor, n_classes: int, fraction: float, seed: int) -> Tensor:
    """Replace round(fraction·len) labels by a different class, chosen uniformly at random."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"label noise fraction={fraction} must be in [0, 1].")
    if fraction > 0 and n_classes < 2:
        raise ValueError("label noise needs at least 2 classes to move a label to a different one.")
    out = labels.clone()
    k = int(round(fraction * len(labels)))
    if k == 0:
        return out
    gen = torch.Generator().manual_seed(seed + 7919)
    which = torch.randperm(len(labels), generator=gen)[:k]
    shift = torch.randint(1, n_classes, (k,), generator=gen)
    out[which] = (labels[which] + shift) % n_classes
    return out


def vocab_size(n_elements: int, layout: str) -> int:
    """Input vocabulary: the elements, plus the ``op`` and ``=`` tokens in the transformer layout."""
    return n_elements + 2 if layout == "transformer" else n_elements


def split_pairs(a: Tensor, b: Tensor, train_frac: float, seed: int,
                split: str = "ordered") -> tuple[Tensor, Tensor]:
    """Train and validation indices into the table of operands ``a``, ``b``: an ``"ordered"`` split
    draws pairs (a, b), a ``"symmetric"`` one unordered pairs {a, b}."""
    if split == "ordered":
        return split_indices(len(a), train_frac, seed)
    if split == "symmetric":
        return symmetric_split_indices(a, b, train_frac, seed)
    raise ValueError(f"split={split!r} is not one of {SPLITS}.")


def training_split(a: Tensor, b: Tensor, labels: Tensor, n_classes: int, train_frac: float, seed: int,
                   label_noise: float = 0.0, split: str = "ordered") -> tuple[Tensor, Tensor, Tensor]:
    """Train indices, validation indices and the (possibly noisy) training labels of one run
    on the table ``a``, ``b`` -> ``labels``.

    The single place that ties the split and the noise to a run's seed, so a task built for
    a notebook and a run inside the trainer see the same data.
    """
    train_idx, val_idx = split_pairs(a, b, train_frac, seed, split)
    return train_idx, val_idx, noisy_labels(labels[train_idx], n_classes, label_noise, seed)


def tokens(a: Tensor, b: Tensor, n_elements: int, layout: str) -> Tensor:
    """Model inputs: ``(a, b)`` for the MLP, ``(a, op, b, =)`` for the transformer.

    In the transformer layout the tokens ``op`` and ``=`` get ids n and n+1.
    """
    if layout == "mlp":
        return torch.stack([a, b], dim=-1)
    if layout == "transformer":
        op_tok = torch.full_like(a, n_elements)
        eq_tok = torch.full_like(a, n_elements + 1)
        return torch.stack([a, op_tok, b, eq_tok], dim=-1)
    raise ValueError(f"layout={layout!r}; use 'mlp' or 'transformer'.")


@dataclass
class Task:
    """One operation's full table on a device, plus a train/validation split of it."""

    op: str
    p: int
    n_classes: int
    inputs: Tensor  # [n_pairs, 2 or 4] tokens
    labels: Tensor  # [n_pairs] true results
    train_idx: Tensor
    val_idx: Tensor
    train_labels: Tensor  # labels the model is trained on (noisy if asked)

    @property
    def vocab_size(self) -> int:
        return vocab_size(self.n_classes, "transformer" if self.inputs.shape[1] == 4 else "mlp")

    @property
    def a(self) -> Tensor:
        return self.inputs[:, 0]

    @property
    def b(self) -> Tensor:
        return self.inputs[:, -2] if self.inputs.shape[1] == 4 else self.inputs[:, 1]

    def is_train_mask(self) -> Tensor:
        mask = torch.zeros(len(self.labels), dtype=torch.bool, device=self.labels.device)
        mask[self.train_idx] = True
        return mask


def make_task(
    op: str,
    p: int,
    train_frac: float,
    seed: int = 0,
    label_noise: float = 0.0,
    layout: str = "mlp",
    device: str | torch.device = "cpu",
    split: str = "ordered",
) -> Task:
    """Build the table for ``op`` mod ``p`` and split it; everything on ``device``."""
    a, b, c = operation_table(op, p)
    n = get_operation(op).n_elements(p)
    train_idx, val_idx, train_labels = training_split(a, b, c, n, train_frac, seed, label_noise, split)
    dev = torch.device(device)
    return Task(op, p, n, tokens(a, b, n, layout).to(dev), c.to(dev), train_idx.to(dev), val_idx.to(dev),
                train_labels.to(dev))
