"""A float64 run matches its float32 twin early on: both start from the same weights (initialised in
float32, then cast) and the same data, so their losses differ only by float32's rounding at first."""

from __future__ import annotations

import pytest

from grok_lib.analysis.numerics import parting_step, relative_gaps
from grok_lib.training.config import TrainConfig
from grok_lib.training.trainer import train

TINY = TrainConfig(op="add", p=13, train_frac=0.5, d_embed=16, d_hidden=16, lr=1e-2, weight_decay=0.0,
                   steps=30, log_every=10, early_stop=False)


def test_float64_twin_matches_float32_early_on():
    r32 = train(TINY, device="cpu", progress=False)
    r64 = train(TINY.replace(dtype="float64"), device="cpu", progress=False)
    for column in ("train_loss", "val_loss", "weight_norm"):
        steps, gaps = relative_gaps(r32.history, r64.history, column)
        assert steps[0] == 0 and steps[-1] == TINY.steps
        assert max(gaps) < 1e-5, (column, gaps)  # float32 rounding (~1e-7), barely amplified in 30 steps
        assert parting_step(r32.history, r64.history, column, rtol=1e-5) is None
    assert r32.history["train_loss"][-1] < 0.8 * r32.history["train_loss"][0]  # it did train
    assert r32.history["train_acc"] == pytest.approx(r64.history["train_acc"], rel=1e-6)  # the same answers
