"""Training chapter 6's two-layer network on the digits: several seeds of one setting stacked in one model,
full-batch AdamW on the cross-entropy, the test error and loss logged at log-spaced steps.

Kept apart from `trainer` (the loop for the modular tasks and their `TrainConfig`): the digits have inputs
rather than token pairs, a fixed test set and no early stop; what is shared is the stacked model
(`models.pixel_mlp`), the label noise (`task.data`) and the device choice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

from grok_lib.models.pixel_mlp import PixelMLP
from grok_lib.task.digits import N_CLASSES, load_digits, training_set

from .device import resolve_device

History = dict[str, list[float]]
METRICS = ("train_loss", "train_error", "test_loss", "test_error")


@dataclass(frozen=True)
class PixelSetting:
    """One point of a sweep: the network's width, the data, and how long and how it trains."""

    width: int
    n_train: int = 1000
    label_noise: float = 0.2
    weight_decay: float = 0.0
    lr: float = 1e-3
    steps: int = 10_000

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def log_steps(steps: int, per_decade: int = 12) -> list[int]:
    """Step 0 and about ``per_decade`` steps per decade up to ``steps``: what an epoch-wise curve needs."""
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    n = max(2, int(per_decade * torch.log10(torch.tensor(float(steps))).item()) + 1)
    grid = torch.logspace(0, torch.log10(torch.tensor(float(steps))).item(), n).round().long().tolist()
    return sorted({0, *grid, steps})


def train_pixel_mlp(settings: list[PixelSetting], seeds: list[int], device: str | torch.device | None = None,
                    callback: Callable[[int, list[History]], None] | None = None,
                    stop: threading.Event | None = None) -> list[History]:
    """Train one network per (setting, seed) pair, side by side in one stacked model; one history each.

    The settings may differ in label noise and weight decay, not in width, training-set size, learning rate
    or steps. Seed s draws the training set and its wrong labels (`task.digits.training_set`) and the initial
    weights. Training errors are against the labels trained on (wrong ones included); test errors against the
    true labels of the fixed test set. ``callback(step, histories)`` is called at each logged step; setting
    ``stop`` ends training after the current step, keeping what was logged.
    """
    if len(settings) != len(seeds) or not settings:
        raise ValueError("need one seed per setting, and at least one")
    first = settings[0]
    shared = {(s.width, s.n_train, s.lr, s.steps) for s in settings}
    if len(shared) > 1:
        raise ValueError(f"stacked runs must share width, training-set size, lr and steps, got {sorted(shared)}")
    dev = resolve_device(device)
    digits = load_digits()
    sets = [training_set(s.n_train, s.label_noise, seed, digits) for s, seed in zip(settings, seeds, strict=True)]
    x = torch.stack([t.x for t in sets]).to(dev, torch.float32)  # [run, example, pixel]
    y = torch.stack([t.y for t in sets]).to(dev)  # [run, example]
    x_test = digits.x_test.to(dev, torch.float32).expand(len(seeds), -1, -1)
    y_test = digits.y_test.to(dev).expand(len(seeds), -1)
    model = PixelMLP(digits.n_inputs, first.width, N_CLASSES, n_runs=len(seeds))
    model.reset_parameters([10_007 + s for s in seeds])
    model.to(dev)
    # AdamW's decoupled decay, per run: shrink by lr * weight_decay, then take the Adam step without decay
    shrink = torch.tensor([1 - s.lr * s.weight_decay for s in settings], device=dev)
    opt = torch.optim.Adam(model.parameters(), lr=first.lr)
    logged = set(log_steps(first.steps))
    hist: list[History] = [{"step": [], **{k: [] for k in METRICS}} for _ in seeds]

    def loss_error(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        per = F.cross_entropy(logits.transpose(1, 2), labels, reduction="none").mean(1)  # [run]
        return per, (logits.argmax(-1) != labels).double().mean(1)

    for step in range(first.steps + 1):
        if step in logged:
            with torch.no_grad():
                tr = loss_error(model(x), y)
                te = loss_error(model(x_test), y_test)
            values = torch.stack([tr[0], tr[1], te[0], te[1]], 1).double().cpu().tolist()
            for h, row in zip(hist, values, strict=True):
                h["step"].append(step)
                for k, v in zip(METRICS, row, strict=True):
                    h[k].append(v)
            if callback is not None:
                callback(step, hist)
        if step == first.steps or (stop is not None and stop.is_set()):
            break
        logits = model(x)
        loss = F.cross_entropy(logits.transpose(1, 2), y, reduction="none").mean(1).sum()  # runs are independent
        opt.zero_grad(set_to_none=True)
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p.mul_(shrink.view(-1, *([1] * (p.dim() - 1))))
        opt.step()
    return hist
