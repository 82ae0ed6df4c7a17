"""grokking_summary and classify on synthetic histories whose answers are known (the rule itself, on
the logging grids, is tested in test_phases.py)."""

from __future__ import annotations

import math

import pytest

from grok_lib.analysis.phases import PHASES, classify, delay_ratio, first_step_at, grokking_summary

STEPS = [0, 10, 100, 200, 500, 1000, 2000, 5000]


def _hist(train, val):
    return {"step": STEPS, "train_acc": train, "val_acc": val}


CONFUSION = _hist([0.1, 0.2, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9], [0.0, 0.1, 0.1, 0.1, 0.2, 0.2, 0.3, 0.3])
MEMORISATION = _hist([0.1, 0.5, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [0.0, 0.1, 0.2, 0.3, 0.3, 0.3, 0.3, 0.3])
COMPREHENSION = _hist([0.1, 0.5, 0.995, 1.0, 1.0, 1.0, 1.0, 1.0], [0.0, 0.3, 0.9, 0.99, 1.0, 1.0, 1.0, 1.0])
GROKKING = _hist([0.1, 0.5, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [0.0, 0.1, 0.2, 0.3, 0.4, 0.98, 1.0, 1.0])


@pytest.mark.parametrize(
    "hist, memorised, generalised, phase",
    [
        (CONFUSION, None, None, "confusion"),
        (MEMORISATION, 100, None, "memorisation"),
        (COMPREHENSION, 100, 200, "comprehension"),
        (GROKKING, 100, 2000, "grokking"),
    ],
)
def test_summary_and_phase(hist, memorised, generalised, phase):
    s = grokking_summary(hist)
    assert (s.memorised_at, s.generalised_at) == (memorised, generalised)
    assert s.final_train_acc == hist["train_acc"][-1] and s.final_val_acc == hist["val_acc"][-1]
    assert s.last_step == 5000
    assert classify(hist) == phase
    assert phase in PHASES


def test_delay_and_ratio():
    s = grokking_summary(GROKKING)
    assert s.delay == 2000 - 100 and s.ratio == pytest.approx(20.0)
    m = grokking_summary(MEMORISATION)
    assert m.delay is None and m.ratio is None


def test_grok_factor_is_the_boundary():
    # read between rows: COMPREHENSION's training accuracy crosses 99% at 10 + 90 * 0.49 / 0.495 = 99.09,
    # its validation at 200 (0.99 is logged there): 2.018x as late; GROKKING's at 10 + 90 * 0.49 / 0.5 = 98.2
    # and 1000 + 1000 * 0.01 / 0.02 = 1500: 15.27x as late
    assert delay_ratio(COMPREHENSION) == pytest.approx(200 / (10 + 90 * 0.49 / 0.495))
    assert delay_ratio(GROKKING) == pytest.approx(1500 / 98.2)
    assert classify(COMPREHENSION, grok_factor=2.0) == "grokking"  # at least the factor: grokking
    assert classify(COMPREHENSION, grok_factor=2.1) == "comprehension"
    assert classify(GROKKING, grok_factor=15) == "grokking" and classify(GROKKING, grok_factor=16) == "comprehension"


def test_threshold_is_respected():
    assert classify(CONFUSION, threshold=0.85) == "memorisation"
    assert grokking_summary(GROKKING, threshold=0.95).generalised_at == 1000


def test_memorised_at_step_zero():
    hist = {"step": [0, 10, 100], "train_acc": [1.0, 1.0, 1.0], "val_acc": [0.0, 0.5, 1.0]}
    s = grokking_summary(hist)
    assert s.memorised_at == 0 and s.delay == 100 and s.ratio is None
    assert classify(hist) == "grokking"  # validation took 100 steps after an instant memorisation


def test_first_step_at():
    assert first_step_at([1, 2, 3], [0.5, 0.99, 1.0]) == 2
    assert first_step_at([1, 2], [0.1, math.nan]) is None
