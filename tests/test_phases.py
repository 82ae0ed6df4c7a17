"""The phase rule (`classify`) and the moments it reads between logged rows, on synthetic
histories whose answers are known in closed form, sampled on the course's own logging grids
(`log_steps`: ~16 rows per decade early on, then every ``log_every``)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from grok_lib.analysis.phases import (
    GROK_RATIO,
    classify,
    crossing_bracket,
    crossing_step,
    delay_ratio,
    first_step_at,
    ratio_range,
)
from grok_lib.training.bookkeeping import log_steps

THR = 0.99
BUDGET = 2500
GRIDS = {"every step": list(range(BUDGET + 1)), "log_every 10": log_steps(BUDGET, 10),
         "log_every 50 (chapter 4)": log_steps(BUDGET, 50), "log_every 100": log_steps(BUDGET, 100)}
CH4 = GRIDS["log_every 50 (chapter 4)"]


def logistic(steps, t_cross: float, width: float = 0.15, top: float = 1.0) -> list[float]:
    """Accuracy rising as a logistic in log10(step) to ``top``; with top = 1 it equals THR exactly
    at ``t_cross`` (centre log10(t_cross) - width * ln 99, since logit(0.99) = ln 99)."""
    centre = math.log10(t_cross) - width * math.log(THR / (1 - THR))
    return [0.0 if s == 0 else top / (1 + math.exp(-(math.log10(s) - centre) / width)) for s in steps]


def ramp(steps, t_cross: float, slope: float = 1e-4) -> list[float]:
    """A straight line through (t_cross, THR), clipped to [0, 1]: straight over t_cross +- 100."""
    return [min(1.0, max(0.0, THR + slope * (s - t_cross))) for s in steps]


def hist(steps, train, val) -> dict[str, list]:
    return {"step": list(steps), "train_acc": list(train), "val_acc": list(val)}


def test_logistic_reaches_the_threshold_where_planted():
    assert logistic([137], 137)[0] == pytest.approx(THR)


@pytest.mark.parametrize("grid", GRIDS)
@pytest.mark.parametrize("phase, train, val", [
    ("confusion", lambda s: logistic(s, 40, top=0.9), lambda s: logistic(s, 60, top=0.5)),
    ("memorisation", lambda s: logistic(s, 40), lambda s: logistic(s, 300, top=0.6)),
    ("comprehension", lambda s: logistic(s, 40), lambda s: logistic(s, 120)),  # 3x as late
    ("grokking", lambda s: logistic(s, 40), lambda s: logistic(s, 1200)),  # 30x as late
])
def test_each_phase_is_found_on_every_grid(grid, phase, train, val):
    steps = GRIDS[grid]
    assert classify(hist(steps, train(steps), val(steps))) == phase


@pytest.mark.parametrize("grid", GRIDS)
@pytest.mark.parametrize("t_true", [3.3, 12.0, 45.0, 49.6, 77.0, 140.0, 612.0, 2222.0])
def test_the_true_moment_lies_in_its_bracket_and_the_estimate_too(grid, t_true):
    steps = GRIDS[grid]
    values = logistic(steps, t_true)
    lo, hi = crossing_bracket(steps, values, THR)
    assert lo <= t_true <= hi and lo in steps and hi in steps
    assert lo <= crossing_step(steps, values, THR) <= hi


@pytest.mark.parametrize("grid", GRIDS)
@pytest.mark.parametrize("t_true", [41.0, 49.5, 75.0, 410.0, 1234.5])  # 49.5: where the dense rows end
def test_interpolation_is_exact_for_a_straight_segment(grid, t_true):
    steps = GRIDS[grid]
    assert crossing_step(steps, ramp(steps, t_true), THR) == pytest.approx(t_true, abs=1e-6)


def test_the_widest_bracket_of_the_chapter_grid_is_fifty_to_a_hundred():
    # between the last dense row (49) and the second linear one (100) nothing is logged but step 50
    assert crossing_bracket(CH4, logistic(CH4, 75.0), THR) == (50, 100)


@pytest.mark.parametrize("grid", GRIDS)
def test_the_boundary_is_drawn_at_the_stated_ratio_on_every_grid(grid):
    steps = GRIDS[grid]
    train = ramp(steps, 41.0)
    late, early = hist(steps, train, ramp(steps, 410.05)), hist(steps, train, ramp(steps, 409.95))
    assert delay_ratio(late) == pytest.approx(410.05 / 41) and classify(late) == "grokking"
    assert delay_ratio(early) == pytest.approx(409.95 / 41) and classify(early) == "comprehension"


def test_the_old_rule_s_artefact_is_gone():
    """Memorised at 45, generalised at 80: validation took 1.8x as long. The chapter grid logs
    them at 49 and 100, more than twice apart, so a rule on logged steps saw 'grokking'."""
    h = hist(CH4, logistic(CH4, 45), logistic(CH4, 80))
    assert (first_step_at(CH4, h["train_acc"]), first_step_at(CH4, h["val_acc"])) == (49, 100)
    assert classify(h) == "comprehension"
    assert delay_ratio(h) == pytest.approx(80 / 45, rel=0.15)


@pytest.mark.parametrize("grid", GRIDS)
@pytest.mark.parametrize("t_mem, ratio", [(20, 2.0), (45, 9.0), (60, 11.0), (75, 30.0), (90, 0.5)])
def test_ratio_range_holds_the_true_ratio_and_the_estimate(grid, t_mem, ratio):
    steps = GRIDS[grid]
    h = hist(steps, logistic(steps, t_mem), logistic(steps, t_mem * ratio))
    lo, hi = ratio_range(h)
    assert lo <= ratio <= hi
    assert lo <= delay_ratio(h) <= hi


@pytest.mark.parametrize("t_mem", [20.0, 30.0, 45.0, 60.0, 75.0, 90.0])
@pytest.mark.parametrize("ratio", [3.0, 4.9, 20.5, 25.0])  # t_gen within the budget
def test_the_chapter_grid_decides_every_ratio_a_factor_two_from_the_threshold(t_mem, ratio):
    h = hist(CH4, logistic(CH4, t_mem), logistic(CH4, t_mem * ratio))
    lo, hi = ratio_range(h)
    assert not lo < GROK_RATIO <= hi  # the whole range on one side of the threshold
    assert classify(h) == ("grokking" if ratio >= GROK_RATIO else "comprehension")


def test_a_first_row_already_there_and_rows_after_nan():
    steps = [0, 1, 2, 5, 10, 20]
    assert crossing_step(steps, [1.0] * 6) == 0.0 and crossing_bracket(steps, [1.0] * 6) == (0, 0)
    val = [0.0, math.nan, math.nan, 0.5, 1.0, 1.0]
    assert crossing_step(steps, val) == pytest.approx(5 + 0.49 / 0.5 * 5)
    assert crossing_step(steps, [0.0, 0.2, math.nan, 1.0, 1.0, 1.0]) == 5.0  # no line through a NaN
    h = hist(steps, [1.0] * 6, [0.0, 0.0, 0.0, 0.0, 1.0, 1.0])  # memorised before the first update
    assert delay_ratio(h) == pytest.approx(5 + 0.99 * 5)  # a step is the unit: t_mem counts as 1
    assert classify(h) == "comprehension" and classify(h, grok_factor=9.0) == "grokking"


def test_never_and_confusion_even_if_validation_gets_there():
    steps = [0, 10, 100]
    assert crossing_step(steps, [0.1, 0.5, 0.9]) is None and crossing_bracket(steps, [0.1, 0.5, 0.9]) is None
    h = hist(steps, [0.1, 0.5, 0.98], [0.1, 0.995, 1.0])
    assert classify(h) == "confusion" and delay_ratio(h) is None and ratio_range(h) is None


def test_the_factor_is_the_callers_to_state():
    steps = GRIDS["every step"]
    h = hist(steps, ramp(steps, 40.0), ramp(steps, 200.0))  # five times as late
    assert classify(h) == "comprehension"
    assert classify(h, grok_factor=5.0) == "grokking" and classify(h, grok_factor=5.01) == "comprehension"
    assert np.isclose(GROK_RATIO, 10.0)
