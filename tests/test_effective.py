"""grok_lib.analysis.effective against hand computations, and against what the trainer logs."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from grok_lib.analysis.effective import effective_gradient, effective_lr, gradient_norm, weight_norm
from grok_lib.models import PlainMLP
from grok_lib.task.data import make_task
from grok_lib.training.build import build_model
from grok_lib.training.config import TrainConfig
from grok_lib.training.trainer import train


def _layer() -> nn.Linear:
    """w = (3, 4), b = 12: ‖w‖ = 13. Gradients (1, 2) and none for the bias: ‖g‖ = √5."""
    layer = nn.Linear(2, 1)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[3.0, 4.0]]))
        layer.bias.copy_(torch.tensor([12.0]))
    layer.weight.grad = torch.tensor([[1.0, 2.0]])
    return layer


def test_by_hand():
    layer = _layer()
    assert weight_norm(layer) == 13.0
    assert gradient_norm(layer) == pytest.approx(math.sqrt(5))
    assert effective_lr(0.1, layer) == pytest.approx(0.1 / 169)
    assert effective_gradient(layer) == pytest.approx(13 * math.sqrt(5))


def test_frozen_parameters_are_not_part_of_w():
    layer = _layer()
    layer.bias.requires_grad_(False)
    assert weight_norm(layer) == 5.0
    assert effective_lr(1.0, layer) == pytest.approx(1 / 25)


def test_a_model_without_gradients_has_none():
    layer = _layer()
    layer.weight.grad = None
    assert gradient_norm(layer) == 0.0 and effective_gradient(layer) == 0.0


def test_the_trainer_logs_the_same_numbers_at_step_0():
    """The trainer's first row: its starting weights, the full-batch gradient, and the warm-up's first rate."""
    cfg = TrainConfig(p=7, d_embed=8, d_hidden=8, steps=2, log_every=1, early_stop=False, dtype="float64")
    hist = train(cfg, device="cpu", progress=False).history
    model = PlainMLP.from_stacked(build_model(cfg))
    task = make_task(cfg.op, cfg.p, cfg.train_frac, cfg.seed)
    nn.functional.cross_entropy(model(task.inputs[task.train_idx]), task.train_labels).backward()
    assert weight_norm(model) == pytest.approx(hist["weight_norm"][0], rel=1e-12)
    assert gradient_norm(model) == pytest.approx(hist["grad_norm"][0], rel=1e-9)
    assert effective_lr(cfg.lr / cfg.warmup_steps, model) == pytest.approx(hist["eff_lr"][0], rel=1e-9)
    assert effective_gradient(model) == pytest.approx(hist["eff_grad"][0], rel=1e-9)
