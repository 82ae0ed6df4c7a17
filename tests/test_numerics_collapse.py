"""Softmax collapse measured against closed forms: logits whose true class leads the C - 1 others by a
known gap g, so that p_true = 1 / (1 + (C - 1) e^-g) and the logit gradient is (softmax - onehot) / N."""

from __future__ import annotations

import math

import pytest
import torch

from grok_lib.analysis.numerics import collapse_stats

C = 5  # classes


def gap_logits(gaps: list[float]) -> tuple[torch.Tensor, torch.Tensor]:
    """One example per gap: the true class (label 2) at +g, the others at 0 (built in float64)."""
    x = torch.zeros(len(gaps), C, dtype=torch.float64)
    x[:, 2] = torch.tensor(gaps, dtype=torch.float64)
    return x, torch.full((len(gaps),), 2)


def exact(gap: float) -> tuple[float, float, float]:
    """Closed forms for one example at ``gap``: its loss, 1 - p_true, and p of each other class."""
    rest = (C - 1) * math.exp(-gap)
    return math.log1p(rest), rest / (1 + rest), math.exp(-gap) / (1 + rest)


def test_a_small_gap_has_not_collapsed_in_either_precision():
    logits, labels = gap_logits([10.0])
    loss, miss, other = exact(10.0)
    for dtype, rtol in (("float32", 1e-3), ("float64", 1e-10)):
        s = collapse_stats(logits, labels, dtype)
        assert s.zero_loss == 0 and s.prob_one == 0
        assert s.loss == pytest.approx(loss, rel=rtol)
        assert s.grad_norm == pytest.approx(math.sqrt(miss**2 + (C - 1) * other**2), rel=rtol)


def test_a_gap_of_30_collapses_in_float32_but_not_in_float64():
    # (C - 1) e^-30 = 3.7e-13: below float32's half-ulp of 1 (6e-8), above float64's (1.1e-16)
    logits, labels = gap_logits([30.0])
    loss, miss, other = exact(30.0)
    s32 = collapse_stats(logits, labels, "float32")
    assert s32.zero_loss == 1 and s32.prob_one == 1 and s32.loss == 0
    # the true class's part of the gradient (p - 1) is gone; the others' e^-g remain
    assert s32.grad_norm == pytest.approx(math.sqrt(C - 1) * other, rel=1e-5)
    s64 = collapse_stats(logits, labels, "float64")
    assert s64.zero_loss == 0 and s64.prob_one == 0
    assert s64.loss == pytest.approx(loss, rel=1e-6)
    # float64 computes 1 - p_true as a difference of two numbers near 1 (absolute error ~2^-53 = 1.1e-16),
    # so its true-class part, 3.7e-13, is good to ~3e-4 only
    assert s64.grad_norm == pytest.approx(math.sqrt(miss**2 + (C - 1) * other**2), rel=1e-3)
    assert s64.grad_norm / s32.grad_norm == pytest.approx(math.sqrt(C), rel=1e-3)  # sqrt((C-1)^2 + C-1) / sqrt(C-1)


def test_a_gap_of_50_collapses_in_both_precisions():
    logits, labels = gap_logits([50.0])  # 4 e^-50 = 7.7e-22 < 1.1e-16
    for dtype in ("float32", "float64"):
        s = collapse_stats(logits, labels, dtype)
        assert s.zero_loss == 1 and s.prob_one == 1


def test_fractions_and_the_mean_over_a_mixed_set():
    gaps = [10.0, 30.0, 30.0, 30.0]
    logits, labels = gap_logits(gaps)
    s = collapse_stats(logits, labels, "float32")
    assert s.zero_loss == 0.75 and s.prob_one == 0.75
    assert s.loss == pytest.approx(exact(10.0)[0] / 4, rel=1e-3)  # collapsed rows add exactly 0
    # gradient of the mean: each row's (softmax - onehot) divided by N = 4
    _, miss, other = exact(10.0)
    expected = math.sqrt(miss**2 + (C - 1) * other**2 + 3 * (C - 1) * exact(30.0)[2] ** 2) / 4
    assert s.grad_norm == pytest.approx(expected, rel=1e-3)


def test_stablemax_does_not_collapse_at_the_same_gap():
    # StableMax: s(g) = g + 1 against s(0) = 1 for the others, p_true = (g + 1) / (g + C)
    logits, labels = gap_logits([30.0])
    s = collapse_stats(logits, labels, "float32", output="stablemax")
    assert s.zero_loss == 0
    assert s.loss == pytest.approx(math.log((30 + C) / 31), rel=1e-5)


def test_bad_settings_raise():
    logits, labels = gap_logits([1.0])
    with pytest.raises(ValueError, match="dtype"):
        collapse_stats(logits, labels, "float16")
    with pytest.raises(ValueError, match="examples"):
        collapse_stats(logits[0], labels, "float32")
