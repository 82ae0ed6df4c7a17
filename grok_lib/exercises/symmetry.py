"""Checks for exercise 5 (chapter 5, sum or concatenate): the best accuracy a symmetric model can reach, and the
held-out cells it gets right for free.

A model that sums its two embeddings gives the same answer for (a, b) and (b, a), whatever its weights. The
learner computes what that costs on a table (`grok_lib.analysis.counts.symmetric_ceiling`) and what it gives away
on a split (`grok_lib.analysis.counts.transpose_freebie`); each check runs their function on edge cases first
(one cell, one pair in both orders), then on whole tables and splits of several operations, and says in words
what differs first. Success prints one short line starting with ✓. CPU only, about a second.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from grok_lib.analysis.counts import symmetric_ceiling as _ref_ceiling
from grok_lib.analysis.counts import transpose_freebie as _ref_freebie
from grok_lib.task.data import split_pairs
from grok_lib.task.operations import get_operation, operation_table
from grok_lib.training.config import TrainConfig

from .answers import fail, fn_name

Cells = tuple[Tensor, Tensor, Tensor]
TOLERANCE = 1e-6  # distinct shares of at most 14,400 cells differ by more; a float32 answer is within it


def _as_fraction(x: object, call: str) -> float:
    """The learner's answer as a float, or a complaint about its form."""
    if isinstance(x, Tensor):
        if x.numel() != 1:
            fail(f"{call} should return one number, but it returned a tensor of shape {tuple(x.shape)}.")
        x = x.item()
    try:
        value = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        fail(f"{call} should return a number (a float), but it returned a {type(x).__name__}.")
    if not math.isfinite(value):
        fail(f"{call} returned {value}; a share of cells is a finite number between 0 and 1.")
    return value


def _describe(a: Tensor, b: Tensor, c: Tensor) -> str:
    if len(c) > 3:
        return f"{len(c)} cells"
    return "the cells " + ", ".join(f"({int(x)}, {int(y)}) → {int(z)}" for x, y, z in zip(a, b, c, strict=True))


def _table_name(op: str, p: int) -> str:
    formula = get_operation(op).formula
    return formula if get_operation(op).group == "s5" else f"{formula}, p = {p}"


# (operation, p, which cells): "all", a list of (a, b) pairs, or (train_frac, seed) for a split's training cells
EDGE_CASES = (("sub", 5, [(3, 3)]), ("sub", 5, [(1, 2)]), ("sub", 5, [(1, 2), (2, 1)]),
              ("add", 5, [(1, 2), (2, 1)]), ("sub", 5, [(1, 2), (2, 1), (0, 4)]))
TABLE_CASES = (("add", 5, "all"), ("sub", 5, "all"), ("sub", 2, "all"), ("sub", 31, "all"), ("div", 7, "all"),
               ("xy_y2", 31, "all"), ("s5_xy", 5, "all"), ("random", 11, "all"),
               ("sub", 31, (0.3, 0)), ("sub", 31, (0.8, 1)), ("xy_y2", 31, (0.5, 2)), ("div", 13, (0.6, 0)))


def _cells(op: str, p: int, which: object) -> tuple[list[int] | None, Cells]:
    """The indices into the operation's table and the cells they pick (shuffled, so order cannot matter)."""
    a, b, c = operation_table(op, p)
    if which == "all":
        idx = None
        pick = torch.randperm(len(c), generator=torch.Generator().manual_seed(p))
    elif isinstance(which, list):
        where = {(int(x), int(y)): i for i, (x, y) in enumerate(zip(a, b, strict=True))}
        idx = [where[pair] for pair in which]
        pick = torch.tensor(idx)
    else:
        frac, seed = which  # type: ignore[misc]
        idx = split_pairs(a, b, frac, seed)[0].tolist()
        pick = torch.tensor(idx)[torch.randperm(len(idx), generator=torch.Generator().manual_seed(seed))]
    return idx, (a[pick], b[pick], c[pick])


def check_symmetric_ceiling(fn: Callable[[Tensor, Tensor, Tensor], object]) -> None:
    """``fn(a, b, c)`` should return the best accuracy any f with f(a, b) = f(b, a) reaches on the cells
    (a, b) → c, like ``grok_lib.analysis.counts.symmetric_ceiling``."""
    for op, p, which in EDGE_CASES + TABLE_CASES:
        idx, (a, b, c) = _cells(op, p, which)
        kept = (a.clone(), b.clone(), c.clone())
        where = "the whole table" if which == "all" else _describe(a, b, c) if isinstance(which, list) else (
            f"the {len(c)} training cells of a {which[0]:.0%} split (seed {which[1]})")
        call = f"{fn_name(fn)}(a, b, c) on {_table_name(op, p)}, {where}"
        got = _as_fraction(fn(a, b, c), call)
        if not all(torch.equal(x, y) for x, y in zip((a, b, c), kept, strict=True)):
            fail(f"{call} changed the tensors it was given; read them, do not edit them.")
        want = _ref_ceiling(op, p, idx)
        if abs(got - want) <= TOLERANCE:
            continue
        hint = ""
        if abs(got - 100 * want) <= 1e-6:
            hint = " You returned a percentage; return a fraction between 0 and 1."
        elif abs(got - (2 * want - 1)) <= TOLERANCE:
            hint = (" You count both cells of a pair whose answers differ as wrong; but f may give either answer, "
                    "so it gets one of the two right.")
        elif len(c) == 1 and a[0] != b[0]:
            hint = (f" The mirror cell ({int(b[0])}, {int(a[0])}) is not among the cells, so nothing stops f from "
                    f"giving ({int(a[0])}, {int(b[0])}) its own answer.")
        elif len(c) == 1:
            hint = " A cell (a, a) is its own mirror: f can always get it right."
        elif got > want:
            hint = (" That is more than any symmetric function can do: f(a, b) and f(b, a) are one answer, so of two "
                    "cells with different answers at most one is right.")
        elif isinstance(which, list):
            hint = " A cell whose mirror is not among the cells can always be right."
        elif isinstance(which, tuple):
            hint = (" On a split, a cell whose mirror is not a training cell can always be right; only pairs with "
                    "both orders present can cost anything.")
        fail(f"{call}: expected {want:.6g}, got {got:.6g}.{hint}")
    print(f"✓ symmetric ceiling matches on {len(EDGE_CASES)} small cases, {len(TABLE_CASES) - 4} whole tables "
          "and 4 training sets")


# (operation, p, train_frac, seed, split)
FREEBIE_CASES = (("add", 31, 0.5, 0, "ordered"), ("sub", 31, 0.5, 0, "ordered"), ("add", 31, 0.5, 0, "symmetric"),
                 ("sub", 2, 0.5, 1, "ordered"), ("x2_y2", 11, 0.3, 2, "ordered"), ("xy_y2", 31, 0.8, 0, "ordered"),
                 ("div", 7, 0.3, 3, "ordered"), ("add", 97, 0.3, 0, "ordered"))


def check_transpose_freebie(fn: Callable[[Tensor, Tensor, Tensor, Tensor, Tensor], object]) -> None:
    """``fn(a, b, c, train_idx, val_idx)`` should return the share of held-out cells whose mirror (b, a) is a
    training cell with the same answer, like ``grok_lib.analysis.counts.transpose_freebie``."""
    for op, p, frac, seed, split in FREEBIE_CASES:
        cfg = TrainConfig(op=op, p=p, train_frac=frac, seed=seed, split=split)
        a, b, c = operation_table(op, p)
        train_idx, val_idx = split_pairs(a, b, frac, cfg.split_seed, split)
        call = (f"{fn_name(fn)}(a, b, c, train_idx, val_idx) on {_table_name(op, p)}, an {split} "
                f"{frac:.0%} split (seed {seed})")
        got = _as_fraction(fn(a, b, c, train_idx, val_idx), call)
        want = _ref_freebie(cfg)
        if abs(got - want) <= TOLERANCE:
            continue
        hint = ""
        if want > 0 and abs(got - want * len(val_idx) / len(train_idx)) <= TOLERANCE:
            hint = f" Divide by the number of held-out cells ({len(val_idx)}), not of training cells."
        elif abs(got - 100 * want) <= 1e-6:
            hint = " You returned a percentage; return a fraction between 0 and 1."
        elif want == 0 and split == "symmetric":
            hint = (" A symmetric split puts both orders of a pair on the same side, so no held-out cell has its "
                    "mirror among the training cells: look the mirror up among the training cells only.")
        elif want == 0 and op == "sub":
            hint = (" On a − b the mirror of a cell with answer c has answer −c, which differs unless a = b: compare "
                    "the mirror's answer with the cell's, not only whether the mirror was trained on.")
        elif got > want:
            hint = (" You count too many: the mirror must be a training cell (not a held-out one, and a cell (a, a) "
                    "is its own mirror, held out), with the same answer.")
        fail(f"{call}: expected {want:.6g}, got {got:.6g}.{hint}")
    print(f"✓ transpose freebie matches on {len(FREEBIE_CASES)} splits (ordered and symmetric, commutative or not)")
