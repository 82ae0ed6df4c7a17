"""Curves off histories and sweeps: last values, peaks, double-descent rises, width curves."""

from __future__ import annotations

import math

import pytest

from grok_lib.analysis import (
    curve,
    error_rows,
    final_value,
    narrowest_fit,
    peak,
    rise_then_fall,
    value_at,
    width_curve,
)
from grok_lib.training.config import TrainConfig
from grok_lib.training.record import Run


def test_final_value_skips_trailing_nans():
    hist = {"val_loss": [3.0, 2.0, math.nan, math.nan], "x": [math.nan]}
    assert final_value(hist, "val_loss") == 2.0
    assert math.isnan(final_value(hist, "x"))


def test_peak_and_rise_then_fall():
    assert peak([1, 2, 3, 4], [0.1, 0.5, 0.2, 0.1]) == (2, 0.5)
    with pytest.raises(ValueError):
        peak([], [])
    i, low, high, last = rise_then_fall([5.0, 3.0, 1.0, 2.0, 4.0, 3.0, 0.5])
    assert (i, low, high, last) == (4, 1.0, 4.0, 0.5)
    assert rise_then_fall([3.0, 2.0, 1.0]) is None
    # NaNs are skipped, in the rise and in the final value
    assert rise_then_fall([2.0, math.nan, 1.0, 3.0, math.nan]) == (3, 1.0, 3.0, 3.0)


def _width_run(width: int, frac: float, noise: float, wd: float, train_acc: float, val_acc: float,
               val_loss: float) -> Run:
    cfg = TrainConfig(p=7, steps=100, d_hidden=width, train_frac=frac, label_noise=noise, weight_decay=wd)
    hist = {"step": [0, 100], "train_acc": [0.0, train_acc], "val_acc": [0.0, val_acc],
            "val_loss": [9.0, val_loss], "train_loss": [9.0, 0.1]}
    return Run(cfg, hist)


def test_error_rows_add_final_losses_and_errors():
    run = _width_run(8, 0.5, 0.2, 0.0, train_acc=0.75, val_acc=0.25, val_loss=4.0)
    run.history["val_loss"].append(math.nan)  # a diverged last log does not count
    run.history["step"].append(200)
    run.history["train_acc"].append(0.75)
    run.history["val_acc"].append(0.25)
    (row,) = error_rows([run])
    assert (row["test_loss"], row["test_error"], row["train_error"]) == (4.0, 0.75, 0.25)
    assert row["d_hidden"] == 8 and row["phase"] == "confusion"


@pytest.fixture
def rows():
    """A width sweep at 20% noise, no weight decay, stored out of order, plus other cells."""
    runs = [_width_run(w, 0.5, 0.2, 0.0, acc, 0.5, loss)
            for w, acc, loss in [(16, 1.0, 3.0), (2, 0.5, 1.0), (8, 0.995, 6.0), (4, 0.9375, 2.0), (32, 1.0, 1.5)]]
    runs += [_width_run(w, 0.5, 0.2, 1.0, 0.9, 0.5, 0.5) for w in (2, 4)]  # never fits the noise
    runs += [_width_run(w, 0.3, 0.2, 0.0, 1.0, 0.5, 0.7) for w in (4, 2)]
    return error_rows(runs)


def test_width_curve_selects_one_cell_and_sorts_by_width(rows):
    assert width_curve(rows, 0.5, 0.2, 0.0) == ([2, 4, 8, 16, 32], [1.0, 2.0, 6.0, 3.0, 1.5])
    assert width_curve(rows, 0.3, 0.2, 0.0) == ([2, 4], [0.7, 0.7])
    assert width_curve(rows, 0.5, 0.0, 0.0) == ([], [])
    assert curve(rows, "d_hidden", "weight_decay", train_frac=0.5) == ([2, 2, 4, 4, 8, 16, 32],
                                                                       [0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0])
    widths, errors = width_curve(rows, 0.5, 0.2, 0.0, "train_error")
    assert widths == [2, 4, 8, 16, 32] and errors[:2] == [0.5, 0.0625]


def test_narrowest_fit_is_the_first_width_within_the_error(rows):
    assert narrowest_fit(rows, 0.5, 0.2, 0.0) == 8  # train error 0.005; width 4 still misses 6.25%
    assert narrowest_fit(rows, 0.5, 0.2, 0.0, max_error=0.0625) == 4  # the bound itself counts as fitted
    assert narrowest_fit(rows, 0.5, 0.2, 0.0, max_error=0.5) == 2
    assert narrowest_fit(rows, 0.5, 0.2, 1.0) is None
    assert narrowest_fit(rows, 0.3, 0.2, 0.0) == 2


def test_value_at_and_peak_on_a_width_curve(rows):
    xy = width_curve(rows, 0.5, 0.2, 0.0)
    assert peak(*xy) == (8, 6.0)
    assert value_at(xy, 16) == 3.0
    with pytest.raises(KeyError):
        value_at(xy, 64)
