"""Counts that follow from a config and the task alone, before any training: parameters,
training pairs, and the best accuracy a model that cannot tell (a, b) from (b, a) can reach."""

from __future__ import annotations

import math
from collections.abc import Sequence

from grok_lib.task.data import split_indices, split_pairs, train_size
from grok_lib.task.operations import get_operation, operation_table
from grok_lib.training.config import TrainConfig


def mlp_param_count(cfg: TrainConfig) -> int:
    """Trainable parameters of the course MLP for a config (embedding, hidden layers, readout)."""
    if cfg.model != "mlp":
        raise ValueError("mlp_param_count counts the MLP only")
    op = get_operation(cfg.op)
    n = op.n_elements(cfg.p)
    d, h = cfg.d_embed, cfg.d_hidden
    d_in = d if cfg.merge == "sum" else 2 * d
    return n * d + (d_in + 1) * h + (cfg.n_hidden - 1) * (h + 1) * h + (h + 1) * n


def n_train(cfg: TrainConfig) -> int:
    """Training pairs of a config (as `data.split_pairs` counts them)."""
    if cfg.split == "ordered":
        return train_size(get_operation(cfg.op).n_pairs(cfg.p), cfg.train_frac)
    a, b, _ = operation_table(cfg.op, cfg.p)
    return len(split_pairs(a, b, cfg.train_frac, cfg.split_seed, cfg.split)[0])


def symmetric_ceiling(op: str, p: int, idx: Sequence[int] | None = None) -> float:
    """The best accuracy *any* function with f(a, b) = f(b, a) can reach on the cells ``idx``
    of an operation's table (all cells when None).

    A model that sums the two embeddings is such a function, whatever its weights. For each
    unordered pair {a, b} whose two cells are both in ``idx`` it must give one answer, so it
    gets both right only if the two labels agree, and one of them otherwise.
    """
    a, b, c = (t.tolist() for t in operation_table(op, p))
    cells = range(len(c)) if idx is None else [int(i) for i in idx]
    where = {(a[i], b[i]): i for i in cells}
    right = 0
    for (x, y), i in where.items():
        j = where.get((y, x))
        if j is None or x == y or c[i] == c[j]:
            right += 1
        elif (x, y) < (y, x):  # a disagreeing pair: one of the two, counted once
            right += 1
    return right / len(where) if where else math.nan


def train_ceiling(op: str, p: int, train_frac: float, seed: int = 0) -> float:
    """`symmetric_ceiling` on the training cells of the split with this fraction and seed: what
    a sum-merging model can at best memorise of that training set."""
    train_idx, _ = split_indices(get_operation(op).n_pairs(p), train_frac, seed)
    return symmetric_ceiling(op, p, train_idx)


def transpose_freebie(cfg: TrainConfig) -> float:
    """The share of held-out cells (a, b) whose mirror cell (b, a) is a training cell with the same
    answer: what a model with f(a, b) = f(b, a), such as the summed-embedding MLP, gets right on
    validation as soon as it has memorised its training cells, without generalising at all.

    About ``train_frac`` on an ordered split of a commutative table, and 0 on a symmetric split."""
    table = operation_table(cfg.op, cfg.p)
    tr, va = split_pairs(*table[:2], cfg.train_frac, cfg.split_seed, cfg.split)
    a, b, c = (t.tolist() for t in table)
    answer = {(a[i], b[i]): c[i] for i in tr.tolist()}
    free = sum(1 for i in va.tolist() if answer.get((b[i], a[i])) == c[i])
    return free / len(va)
