"""The chapter analyses on synthetic histories whose answers are known by construction."""

from __future__ import annotations

import math

import pytest

import grok_lib.presentation.sweep_plots as figures
from grok_lib.analysis import (
    majority,
    markdown_table,
    mlp_param_count,
    n_train,
    peak,
    phase_table,
    rise_then_fall,
    smallest_generalising_fraction,
    spread,
    summary_row,
    summary_rows,
)
from grok_lib.training.build import build_model
from grok_lib.training.config import TrainConfig
from grok_lib.training.record import Run

STEPS = list(range(0, 1001, 100))


def history(mem: int | None, gen: int | None) -> dict[str, list[float]]:
    """Accuracy jumps from 0 to 1 at step ``mem`` (train) and ``gen`` (validation); None = never."""
    up = lambda at: [1.0 if at is not None and s >= at else 0.0 for s in STEPS]
    return {"step": STEPS, "train_acc": up(mem), "val_acc": up(gen),
            "val_loss": [1.0] * len(STEPS), "train_loss": [1.0] * len(STEPS)}


def run(mem, gen, **cfg) -> Run:
    return Run(TrainConfig(p=7, steps=1000, **cfg), history(mem, gen))


@pytest.mark.parametrize("mem, gen, phase", [
    (None, None, "confusion"), (100, None, "memorisation"), (100, 200, "comprehension"),
    (100, 300, "grokking"), (200, 900, "grokking"),
])
def test_summary_row_phase_follows_the_stated_rule(mem, gen, phase):
    row = summary_row(run(mem, gen))
    assert row["phase"] == phase
    assert row["memorised_at"] == mem and row["generalised_at"] == gen
    assert row["delay"] == (None if mem is None or gen is None else gen - mem)


def test_majority_breaks_ties_towards_the_less_successful_phase():
    assert majority(["grokking", "grokking", "confusion"]) == "grokking"
    assert majority(["grokking", "memorisation"]) == "memorisation"
    assert majority(["comprehension", "grokking"]) == "grokking"
    with pytest.raises(ValueError):
        majority([])


def test_phase_table_collects_seeds_per_cell():
    runs = [run(100, None, weight_decay=0.0, train_frac=0.3, seed=s) for s in range(3)]
    runs += [run(100, 500, weight_decay=1.0, train_frac=0.3, seed=s) for s in range(2)]
    runs += [run(100, None, weight_decay=1.0, train_frac=0.3, seed=2)]
    runs += [run(100, 150, weight_decay=1.0, train_frac=0.6, seed=0)]
    table = phase_table(summary_rows(runs))
    assert table.rows == [0.0, 1.0] and table.cols == [0.3, 0.6]
    assert table.majority(0.0, 0.3) == "memorisation"
    assert table.majority(1.0, 0.3) == "grokking"
    assert table.majority(1.0, 0.6) == "comprehension"
    assert table.majority(0.0, 0.6) is None
    assert table.counts()["grokking"] == 2
    assert table.agreement() == pytest.approx(6 / 7)
    fig = figures.phase_diagram(table)  # draws without error
    assert fig.axes


def test_spread_counts_runs_that_never_got_there():
    s = spread([300, None, 100, 200, math.nan])
    assert s.values == (100.0, 200.0, 300.0) and s.n == 5 and s.missing == 2
    assert s.median == 200 and s.min == 100 and s.max == 300
    assert "3 of 5" in s.text()
    assert "never" in spread([None]).text()
    assert math.isnan(spread([]).median)


def test_smallest_generalising_fraction_needs_every_larger_fraction_to_work():
    rows = summary_rows([
        run(100, None, op="add", train_frac=0.2), run(100, 400, op="add", train_frac=0.4),
        run(100, 300, op="add", train_frac=0.6),
        run(100, 400, op="sub", train_frac=0.2), run(100, None, op="sub", train_frac=0.4),
        run(100, 300, op="sub", train_frac=0.6),
        run(100, None, op="mul", train_frac=0.2), run(100, None, op="mul", train_frac=0.6),
    ])
    assert smallest_generalising_fraction(rows) == {"add": 0.4, "sub": 0.6, "mul": None}


def test_mlp_param_count_matches_the_model():
    for cfg in [TrainConfig(p=7, d_embed=8, d_hidden=5), TrainConfig(p=7, d_embed=8, d_hidden=5, merge="concat"),
                TrainConfig(p=7, d_embed=4, d_hidden=6, n_hidden=3), TrainConfig(op="s5_xy", d_embed=4, d_hidden=3)]:
        model = build_model(cfg, n_vocab=cfg.p if cfg.op != "s5_xy" else 120,
                            n_classes=cfg.p if cfg.op != "s5_xy" else 120)
        assert mlp_param_count(cfg) == sum(p.numel() for p in model.parameters())


def test_n_train_matches_the_split():
    assert n_train(TrainConfig(p=31, train_frac=0.5)) == round(0.5 * 961)
    assert n_train(TrainConfig(op="div", p=31, train_frac=0.5)) == round(0.5 * 31 * 30)


def test_peak_and_rise_then_fall():
    assert peak([1, 2, 3, 4], [0.1, 0.5, 0.2, 0.1]) == (2, 0.5)
    with pytest.raises(ValueError):
        peak([], [])
    i, low, high, last = rise_then_fall([5.0, 3.0, 1.0, 2.0, 4.0, 3.0, 0.5])
    assert (i, low, high, last) == (4, 1.0, 4.0, 0.5)
    assert rise_then_fall([3.0, 2.0, 1.0]) is None


def test_markdown_table():
    text = markdown_table(["a", "b"], [[1, None], [12345, "x"]])
    assert text.splitlines() == ["| a | b |", "| --- | --- |", "| 1 | — |", "| 12,345 | x |"]


def test_symmetric_ceiling():
    from grok_lib.analysis import symmetric_ceiling

    p = 7
    assert symmetric_ceiling("add", p) == 1.0  # commutative: no loss
    # a - b: only the diagonal agrees with its mirror, so (p + (p² - p) / 2) / p² of the table
    assert symmetric_ceiling("sub", p) == pytest.approx((p + (p * p - p) / 2) / (p * p))
    # cells without their mirror in the set cost nothing
    assert symmetric_ceiling("sub", p, [1, 2, 3]) == 1.0
    assert symmetric_ceiling("sub", p, [1, p]) == pytest.approx(0.5)  # (0,1) and (1,0)
