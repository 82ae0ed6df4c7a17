"""The delay scatter: each run at (t_mem, t_gen) read between logged rows, its bars the rows around
each moment, its colour its phase, and the rule's line at t_gen = 10 t_mem; on histories whose
crossings are known by hand."""

from __future__ import annotations

import io

import numpy as np
import pytest
from matplotlib.colors import to_rgba

from grok_lib.presentation.delay_plots import delay_scatter
from grok_lib.presentation.style import PHASE_COLORS
from grok_lib.training.config import TrainConfig
from grok_lib.training.record import Run

STEPS = [0, 10, 20, 40, 100, 200, 400, 1000]
BUDGET = 1000


def run(train: list[float], val: list[float]) -> Run:
    return Run(TrainConfig(steps=BUDGET), {"step": STEPS, "train_acc": train, "val_acc": val})


UP_AT_20 = [0.0, 0.5, 0.995, 1.0, 1.0, 1.0, 1.0, 1.0]  # 99% at 10 + 10 * 0.49 / 0.495 = 19.9
RUNS = [
    run(UP_AT_20, [0.0, 0.0, 0.5, 0.99, 1.0, 1.0, 1.0, 1.0]),  # generalised at 40 exactly: 2x, comprehension
    run(UP_AT_20, [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 1.0]),  # at 400 + 600 * 0.49 / 0.5 = 988: grokking
    run(UP_AT_20, [0.0] * 8),  # never: memorisation
    run([0.1] * 8, [0.1] * 8),  # never memorised: confusion, no point
]
T_MEM = 10 + 10 * 0.49 / 0.495


def drawn():
    fig = delay_scatter(RUNS, title="delays")
    fig.savefig(io.BytesIO(), format="png")
    return fig, fig.axes[0]


def test_one_point_per_run_that_memorised_at_its_moments_in_its_phase_colour():
    _, ax = drawn()
    points = [c.lines[0] for c in ax.containers]
    assert len(points) == 3
    xy = [(p.get_xdata()[0], p.get_ydata()[0]) for p in points]
    assert xy[0] == pytest.approx((T_MEM, 40.0)) and xy[1] == pytest.approx((T_MEM, 400 + 600 * 0.49 / 0.5))
    assert xy[2][1] == pytest.approx(BUDGET * 1.4)  # never generalised: above the budget line
    phases = ["comprehension", "grokking", "memorisation"]
    assert [to_rgba(p.get_color()) for p in points] == [to_rgba(PHASE_COLORS[ph]) for ph in phases]
    assert [p.get_markerfacecolor() == "none" for p in points] == [False, False, True]


def test_bars_span_the_logged_rows_around_each_moment():
    _, ax = drawn()
    comprehension = ax.containers[0]
    xbar, ybar = comprehension.lines[2]  # (x error bars, y error bars) as line collections
    assert np.allclose(xbar.get_segments()[0][:, 0], [10, 20])  # train crossed between rows 10 and 20
    assert np.allclose(ybar.get_segments()[0][:, 1], [20, 40])  # validation below at 20, at 99% by 40


def test_the_rule_s_line_and_the_diagonal():
    fig, ax = drawn()
    lines = {line.get_label(): line for line in ax.lines if not line.get_label().startswith("_")}
    diagonal, rule = lines["t_gen = t_mem"], lines["t_gen = 10 × t_mem"]
    assert np.allclose(diagonal.get_ydata(), diagonal.get_xdata())
    assert np.allclose(rule.get_ydata(), 10 * np.asarray(rule.get_xdata()))
    assert (ax.get_xscale(), ax.get_yscale(), ax.get_title()) == ("log", "log", "delays")
    assert ax.get_legend().get_window_extent().x0 >= ax.get_window_extent().x1  # beside the data
