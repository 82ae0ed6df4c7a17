"""Picking runs, configs and rows out of a sweep by config fields."""

from __future__ import annotations

import pytest
from synthetic_runs import run

from grok_lib.analysis import best_run, distinct, index_by, pick, summary_rows, where
from grok_lib.training.config import TrainConfig


@pytest.fixture
def runs():
    return [run(100, 300, weight_decay=wd, train_frac=frac, seed=seed)
            for wd in (1.0, 0.0) for frac in (0.6, 0.3) for seed in (0, 1)]


def test_where_works_on_runs_configs_and_rows_alike(runs):
    rows = summary_rows(runs)
    configs = [r.config for r in runs]
    for items in (runs, rows, configs):
        found = where(items, weight_decay=0.0, seed=1)
        assert len(found) == 2 and found == [items[5], items[7]]  # original order kept
    assert where(runs) == runs
    assert where(runs, weight_decay=0.5) == []
    with pytest.raises(AttributeError):
        where(configs, not_a_field=1)
    with pytest.raises(KeyError):
        where(rows, not_a_field=1)


def test_pick_wants_exactly_one(runs):
    assert pick(runs, weight_decay=0.0, train_frac=0.3, seed=0) is runs[6]
    with pytest.raises(ValueError, match="2 items"):
        pick(runs, weight_decay=0.0, train_frac=0.3)
    with pytest.raises(ValueError, match="0 items"):
        pick(runs, weight_decay=3.0)


def test_index_by_sorts_and_refuses_duplicates(runs):
    by_wd = index_by(runs, "weight_decay", train_frac=0.6, seed=1)
    assert list(by_wd) == [0.0, 1.0]
    assert by_wd[0.0] is runs[5] and by_wd[1.0] is runs[1]
    with pytest.raises(ValueError, match="two items have weight_decay=1.0"):
        index_by(runs, "weight_decay", seed=1)


def test_distinct_values_sorted(runs):
    rows = summary_rows(runs)
    assert distinct(rows, "train_frac") == [0.3, 0.6]
    assert distinct(runs, "seed", weight_decay=1.0, train_frac=0.3) == [0, 1]
    assert distinct([TrainConfig(p=5), TrainConfig(p=3), TrainConfig(p=5)], "p") == [3, 5]


def test_best_run_prefers_the_earliest_generalisation():
    a, b, c = run(100, 500), run(100, 300), run(100, None, final_val=0.98)  # c never reaches 99%
    assert best_run([a, b, c]) is b
    tie = run(200, 300)
    assert best_run([a, tie, b]) is tie  # ties: the first


def test_best_run_without_generalisation_takes_the_highest_final_accuracy():
    low, high, also_high = run(100, None, 0.4), run(100, None, 0.9), run(None, None, 0.9)
    assert best_run([low, high, also_high]) is high
    assert best_run([low]) is low
    with pytest.raises(ValueError):
        best_run([])
