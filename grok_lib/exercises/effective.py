"""Checks for exercise 4, part 4: the effective learning rate lr / ‖w‖² and the effective gradient
‖g‖ · ‖w‖ (the reference: `grok_lib.analysis.effective`).

Each check runs the learner's function on small course models after one backward pass: the
MLP, the transformer, then an MLP with a frozen parameter (it does not train, so it is not in
‖w‖) and one with a layer that took no part in the loss (its ``.grad`` is None, so it adds
nothing to ‖g‖). A wrong value is compared with the usual slips (no square, the square root
forgotten, biases left out, the frozen parameter counted) and the message names the one that
fits. Success prints one line starting with ✓. CPU only, instant.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import torch
from torch import nn

from grok_lib.analysis.effective import effective_gradient, effective_lr, gradient_norm, weight_norm
from grok_lib.models import PlainMLP, PlainTransformer
from grok_lib.task.data import make_task

from .answers import fail, fn_name

RTOL = 1e-5  # float32 sums of squares, added in any order


def _with_gradient(model: nn.Module, layout: str, seed: int, frozen: tuple[str, ...] = ()) -> nn.Module:
    """``model`` with seeded weights, the parameters named in ``frozen`` frozen (they get no gradient),
    and the gradient of its loss on a small table."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.5)
            p.requires_grad_(name not in frozen)
    task = make_task("add", 5, 0.6, seed=seed, layout=layout)
    logits = model(task.inputs[task.train_idx])
    nn.functional.cross_entropy(logits, task.train_labels).backward()
    return model


def _models() -> dict[str, nn.Module]:
    """The named models the checks read, each after one backward pass."""
    mlp = _with_gradient(PlainMLP(5, 5, d_embed=6, d_hidden=7), "mlp", 0)
    transformer = _with_gradient(PlainTransformer(7, 5, d_model=8, n_heads=2, d_mlp=12), "transformer", 1)
    frozen = _with_gradient(PlainMLP(5, 5, d_embed=6, d_hidden=7, merge="concat"), "mlp", 2, ("embed.weight",))
    unused = PlainMLP(5, 5, d_embed=6, d_hidden=7)
    unused.spare = nn.Linear(4, 3)  # takes no part in the loss: no .grad after backward
    _with_gradient(unused, "mlp", 3)
    return {"an MLP": mlp, "a transformer": transformer, "an MLP whose embedding is frozen": frozen,
            "an MLP with a layer that got no gradient (.grad is None)": unused}


def _variant(model: nn.Module, *, all_train: bool = False, weights_only: bool = False) -> nn.Module:
    """A copy of ``model`` with its parameters' requires_grad changed, to measure a slip with the library."""
    new = copy.deepcopy(model)
    for name, p in new.named_parameters():
        if all_train:
            p.requires_grad_(True)
        if weights_only and not name.endswith("weight"):
            p.requires_grad_(False)
    return new


def _number(x: object, call: str) -> float:
    if isinstance(x, torch.Tensor) and x.numel() == 1:
        x = x.item()
    if not isinstance(x, (int, float)):
        fail(f"{call} should return a number (a float, or a one-element tensor); it returned {type(x).__name__}.")
    return float(x)


def _close(got: float, want: float) -> bool:
    return math.isclose(got, want, rel_tol=RTOL)


def _slips(model: nn.Module, lr: float | None) -> dict[str, float]:
    """What the usual slips give for lr / ‖w‖² (lr is None: for ‖g‖ · ‖w‖)."""
    w, g = weight_norm(model), gradient_norm(model)
    with_frozen, weights_only = weight_norm(_variant(model, all_train=True)), weight_norm(
        _variant(model, weights_only=True))
    added = sum(float(p.detach().double().norm()) for p in model.parameters() if p.requires_grad)
    summed = "each tensor's norm added up: ‖w‖ is the root of the sum of all squares, every tensor in one vector"
    if lr is not None:
        return {summed: lr / added**2,
                "lr / ‖w‖: square the norm": lr / w,
                "lr · ‖w‖²: divide by the squared norm": lr * w**2,
                "lr / ‖w‖⁴: ‖w‖² is already the sum of squares, so square the norm once": lr / w**4,
                "the frozen parameter counted: ‖w‖ runs over parameters with requires_grad only": lr / with_frozen**2,
                "the biases left out: ‖w‖ runs over every trainable parameter": lr / weights_only**2}
    return {summed: g * added, "‖g‖ alone: multiply by ‖w‖": g, "‖w‖ alone: multiply by ‖g‖": w,
            "‖g‖ / ‖w‖: multiply, don't divide": g / w,
            "‖g‖ · ‖w‖²: ‖w‖ once, not squared": g * w**2,
            "‖g‖² · ‖w‖²: take the square roots of the sums of squares": (g * w) ** 2,
            "the frozen parameter counted: ‖w‖ runs over parameters with requires_grad only": g * with_frozen,
            "the biases left out: ‖w‖ runs over every trainable parameter": g * weights_only}


def _verdict(call: str, got: float, want: float, slips: dict[str, float], what: str) -> None:
    for slip, value in slips.items():
        if _close(got, value):
            fail(f"{call} returned {got:.6g}, but {what} is {want:.6g}. Yours fits {slip}.")
    fail(f"{call} returned {got:.6g}, but {what} is {want:.6g}.")


def check_effective_lr(fn: Callable[[float, nn.Module], object]) -> None:
    """``fn(lr, model)`` should return lr / ‖w‖² as `grok_lib.analysis.effective.effective_lr` does."""
    for lr in (1e-3, 0.3):
        for name, model in _models().items():
            call = f"{fn_name(fn)}({lr}, model) for {name}"
            got, want = _number(fn(lr, model), call), effective_lr(lr, model)
            if not _close(got, want):
                _verdict(call, got, want, _slips(model, lr), "lr / ‖w‖²")
    print("✓ effective learning rate lr / ‖w‖² matches on an MLP, a transformer, a frozen parameter and a layer "
          "without gradient")


def check_effective_gradient(fn: Callable[[nn.Module], object]) -> None:
    """``fn(model)`` should return ‖g‖ · ‖w‖ as `grok_lib.analysis.effective.effective_gradient` does."""
    for name, model in _models().items():
        call = f"{fn_name(fn)}(model) for {name}"
        try:
            got = _number(fn(model), call)
        except (AttributeError, TypeError) as err:
            if any(p.grad is None for p in model.parameters()):
                fail(f"{call} raised {type(err).__name__}: {err}. A parameter that took no part in the loss has "
                     "p.grad None: skip it (it adds nothing to ‖g‖).")
            raise
        want = effective_gradient(model)
        if not _close(got, want):
            _verdict(call, got, want, _slips(model, None), "‖g‖ · ‖w‖")
    print("✓ effective gradient ‖g‖ · ‖w‖ matches on an MLP, a transformer, a frozen parameter and a layer "
          "without gradient")
