"""Counts from a config and the task alone: parameters, training pairs, symmetric ceilings."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

from grok_lib.analysis import mlp_param_count, n_train, symmetric_ceiling, train_ceiling, transpose_freebie
from grok_lib.task.data import make_task, split_indices
from grok_lib.task.operations import get_operation, operation_table
from grok_lib.training.build import build_model
from grok_lib.training.config import TrainConfig


def test_mlp_param_count_matches_the_model():
    for cfg in [TrainConfig(p=7, d_embed=8, d_hidden=5), TrainConfig(p=7, d_embed=8, d_hidden=5, merge="concat"),
                TrainConfig(p=7, d_embed=4, d_hidden=6, n_hidden=3), TrainConfig(op="s5_xy", d_embed=4, d_hidden=3)]:
        model = build_model(cfg, n_vocab=cfg.p if cfg.op != "s5_xy" else 120,
                            n_classes=cfg.p if cfg.op != "s5_xy" else 120)
        assert mlp_param_count(cfg) == sum(p.numel() for p in model.parameters())


def test_n_train_matches_the_split():
    assert n_train(TrainConfig(p=31, train_frac=0.5)) == round(0.5 * 961)
    assert n_train(TrainConfig(op="div", p=31, train_frac=0.5)) == round(0.5 * 31 * 30)


def test_symmetric_ceiling():
    p = 7
    assert symmetric_ceiling("add", p) == 1.0  # commutative: no loss
    # a - b: only the diagonal agrees with its mirror, so (p + (p² - p) / 2) / p² of the table
    assert symmetric_ceiling("sub", p) == pytest.approx((p + (p * p - p) / 2) / (p * p))
    # cells without their mirror in the set cost nothing
    assert symmetric_ceiling("sub", p, [1, 2, 3]) == 1.0
    assert symmetric_ceiling("sub", p, [1, p]) == pytest.approx(0.5)  # (0,1) and (1,0)


def _best_symmetric_accuracy(op: str, p: int, idx) -> float:
    """By brute force: one answer per unordered pair, the most common label among its cells."""
    a, b, c = operation_table(op, p)
    labels = defaultdict(list)
    for i in idx.tolist():
        labels[frozenset((int(a[i]), int(b[i])))].append(int(c[i]))
    return sum(Counter(ls).most_common(1)[0][1] for ls in labels.values()) / len(idx)


@pytest.mark.parametrize("op, p, frac, seed", [("sub", 7, 0.5, 0), ("xy_y2", 11, 0.8, 1), ("div", 7, 0.6, 2),
                                               ("add", 5, 0.4, 0)])
def test_train_ceiling_is_the_best_a_symmetric_function_can_do(op, p, frac, seed):
    train_idx, _ = split_indices(get_operation(op).n_pairs(p), frac, seed)
    assert train_ceiling(op, p, frac, seed) == pytest.approx(_best_symmetric_accuracy(op, p, train_idx))
    assert (train_ceiling(op, p, frac, seed) == 1.0) == (op == "add")


def test_transpose_freebie_is_the_mirrored_share_of_held_out_cells():
    cfg = TrainConfig(p=11, train_frac=0.4, seed=5)
    task = make_task("add", 11, 0.4, 5)
    train = set(zip(task.a[task.train_idx].tolist(), task.b[task.train_idx].tolist(), strict=True))
    held = list(zip(task.a[task.val_idx].tolist(), task.b[task.val_idx].tolist(), strict=True))
    by_hand = sum((b, a) in train for a, b in held) / len(held)  # + is commutative: a mirror has the same answer
    assert transpose_freebie(cfg) == by_hand
    assert 0.25 < by_hand < 0.55
    assert transpose_freebie(cfg.replace(split="symmetric")) == 0.0
    assert transpose_freebie(cfg.replace(op="sub")) < by_hand  # a - b = b - a only when 2(a - b) = 0
