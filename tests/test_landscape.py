"""Omnigrok's LU slice (`analysis.why.landscape`): losses of a model with its weights scaled by c,
checked against cross-entropy written out by hand and against a stored run's own logged losses."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from grok_lib.analysis.mechanism import task_of
from grok_lib.analysis.why import losses_and_accuracies, run_landscape, scaled, weight_norm, weight_scale_landscape
from grok_lib.runs import experiments
from grok_lib.runs.store import Store
from grok_lib.training.build import build_model
from grok_lib.training.config import TrainConfig

ROOT = Path(__file__).resolve().parents[1]
FACTORS = (0.25, 0.5, 1.0, 2.0, 3.0)


def _small():
    config = TrainConfig(op="add", p=11, train_frac=0.5, model="mlp", d_embed=8, d_hidden=16)
    return build_model(config), task_of(config)


def test_the_norm_scales_linearly_and_the_model_is_left_alone():
    model, task = _small()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    norm = weight_norm(model)
    assert norm == pytest.approx(float(torch.cat([p.detach().double().flatten() for p in model.parameters()]).norm()))
    land = weight_scale_landscape(model, task, FACTORS)
    assert land["factor"] == list(FACTORS)
    assert land["weight_norm"] == pytest.approx([c * norm for c in FACTORS], rel=1e-12)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_losses_are_the_cross_entropy_written_out():
    model, task = _small()
    m = scaled(model, 1.7)
    with torch.no_grad():
        logits = m(task.inputs)
    logp = logits - logits.logsumexp(-1, keepdim=True)
    tr, va = task.train_idx, task.val_idx
    got = losses_and_accuracies(m, task)
    assert got["train_loss"] == pytest.approx(float(-logp[tr, task.train_labels].mean()))
    assert got["val_loss"] == pytest.approx(float(F.cross_entropy(logits[va], task.labels[va])))
    assert got["val_acc"] == pytest.approx(float((logits[va].argmax(-1) == task.labels[va]).double().mean()))
    assert got == pytest.approx(losses_and_accuracies(scaled(model, 1.7), task, "softmax"))


def test_scaling_to_zero_weights_gives_chance():
    model, task = _small()
    got = losses_and_accuracies(scaled(model, 0.0), task)
    assert got["train_loss"] == pytest.approx(torch.log(torch.tensor(11.0)).item())


def test_c_equal_one_reproduces_a_stored_runs_logged_losses():
    """mechanism_mlp's last logged row against its final weights (float32) and its last checkpoint (float16)."""
    store = Store(ROOT / "results")  # the checkout's store, not a test's
    config = experiments.get("mechanism_mlp")[0]
    if not store.has(config):
        pytest.skip(f"mechanism_mlp is not stored under {store.root}")
    run = store.load(config)
    h = run.history
    assert h["step"][-1] == config.steps == max(run.checkpoints)
    for step in (None, config.steps):
        land = run_landscape(run, [1.0, 2.0], step=step)
        # the trainer's loss is float32: a training loss near 1e-6 carries its rounding (a few %)
        assert land["train_loss"][0] == pytest.approx(h["train_loss"][-1], rel=0.05)
        assert land["val_loss"][0] == pytest.approx(h["val_loss"][-1], rel=1e-3)
        assert (land["train_acc"][0], land["val_acc"][0]) == (h["train_acc"][-1], h["val_acc"][-1])
        assert land["weight_norm"][0] == pytest.approx(h["weight_norm"][-1], rel=1e-5)
        assert land["weight_norm"][1] == pytest.approx(2 * land["weight_norm"][0], rel=1e-12)
