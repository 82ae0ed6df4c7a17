"""Curves off histories: the rise and fall of a validation loss (epoch-wise double descent's shape)."""

from __future__ import annotations

import math

from grok_lib.analysis import rise_then_fall


def test_rise_then_fall():
    i, low, high, last = rise_then_fall([5.0, 3.0, 1.0, 2.0, 4.0, 3.0, 0.5])
    assert (i, low, high, last) == (4, 1.0, 4.0, 0.5)
    assert rise_then_fall([3.0, 2.0, 1.0]) is None
    # NaNs are skipped, in the rise and in the final value
    assert rise_then_fall([2.0, math.nan, 1.0, 3.0, math.nan]) == (3, 1.0, 3.0, 3.0)


def test_largest_spike_is_the_largest_ratio_above_an_earlier_low():
    from grok_lib.analysis.curves import largest_spike

    steps = [0, 10, 20, 30, 40, 50, 60]
    loss = [2.0, 1e-3, 1e-6, 1e-2, 1e-7, 1e-4, 1e-8]
    assert largest_spike(steps, loss) == (30, 1e-6, 1e-2)  # 1e4, beating 1e-4 / 1e-7 = 1e3
    assert largest_spike(steps, loss, after=30) == (50, 1e-7, 1e-4)
    assert largest_spike(steps, sorted(loss, reverse=True)) is None  # a curve that only falls
