"""Runs paired across one field, compared run for run."""

from __future__ import annotations

import pytest

from grok_lib.analysis import PairCounts, compare_pairs, pair_up


def _row(op, merge, seed, gen):
    return {"op": op, "merge": merge, "seed": seed, "generalised_at": gen, "memorised_at": 50}


ROWS = [_row("add", "concat", 0, 400), _row("add", "sum", 0, 300), _row("sub", "sum", 0, None),
        _row("add", "sum", 1, 200), _row("sub", "concat", 0, 700), _row("add", "concat", 1, None)]


def test_pair_up_orders_each_pair_by_the_given_values():
    paired = pair_up(ROWS, ("op", "seed"), "merge", ("sum", "concat"))
    assert paired == {("add", 0): (300, 400), ("sub", 0): (None, 700), ("add", 1): (200, None)}
    assert list(paired) == [("add", 0), ("sub", 0), ("add", 1)]  # first appearance
    assert pair_up(ROWS, ("op", "seed"), "merge", ("concat", "sum"), "memorised_at")[("add", 0)] == (50, 50)


def test_pair_up_refuses_incomplete_or_doubled_groups():
    with pytest.raises(ValueError, match="merge='concat'"):
        pair_up(ROWS[:3], ("op", "seed"), "merge", ("sum", "concat"))
    with pytest.raises(ValueError, match="two rows"):
        pair_up(ROWS, ("op",), "merge", ("sum", "concat"))


def test_compare_pairs_counts_each_outcome():
    counts = compare_pairs([(300, 400), (None, 700), (200, None), (None, None), (500, 500), (600, 100)])
    assert counts == PairCounts(n=6, first_only=1, second_only=1, both=3, second_later=1)
    assert compare_pairs(iter([])) == PairCounts(0, 0, 0, 0, 0)
