"""Checks for exercise 9, parts 2 to 4: the total weight norm held fixed after a step, Omnigrok's scaled
initialisation, and the losses of a network with all its weights scaled by c.

The references are the library's own: ``NormConstraint`` in `grok_lib.training.weight_changes`, ``scale_init`` in
`grok_lib.training.build`, and ``scaled`` with ``losses_and_accuracies`` in `grok_lib.analysis.why.landscape`. These
act on stacks of runs; the models here hold one run, and the learner's code need not know about the run axis
(scaling every entry, or summing every square, treats it like any other). Each check says in words what differs
first and, where the numbers show it, the likely slip: a norm per tensor, a squared norm, biases left out, one
layer only, the logits scaled instead of the weights. Success prints one line starting with ✓. CPU only.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from grok_lib.analysis.mechanism.over_training import task_of
from grok_lib.analysis.why.landscape import losses_and_accuracies, scaled
from grok_lib.models import StackedModule
from grok_lib.task.data import Task
from grok_lib.training.build import build_model, scale_init
from grok_lib.training.config import TrainConfig
from grok_lib.training.losses import log_probabilities
from grok_lib.training.weight_changes import NormConstraint

from .answers import fail, fn_name

F64, F32 = torch.float64, torch.float32
RTOL = {F64: 1e-10, F32: 1e-5}  # agreement asked for: float64 to ten digits, float32 to its own precision
LEAF = ("Updating a parameter in place is refused while autograd records it: wrap the loop in "
        "`with torch.no_grad():` (as an optimiser's step is).")


def _close(got: Tensor, want: Tensor, dtype: torch.dtype) -> bool:
    scale = float(want.abs().max()) if want.numel() else 0.0
    return got.shape == want.shape and torch.allclose(got.double(), want.double(), rtol=RTOL[dtype],
                                                      atol=RTOL[dtype] * scale)


def _call(fn: Callable, args: tuple, call: str) -> object:
    """The learner's function called; autograd's refusal of an in-place update explained."""
    try:
        return fn(*args)
    except RuntimeError as err:
        if "leaf Variable" in str(err) or "requires grad" in str(err):
            fail(f"{call} raised: {str(err).rstrip('.')}. {LEAF}")
        raise


def _norm(tensors: list[Tensor]) -> float:
    return float(sum(t.detach().double().square().sum() for t in tensors).sqrt())


def _model(model: str = "mlp", dtype: str = "float32", seed: int = 0, **kw: object) -> tuple[TrainConfig, nn.Module]:
    cfg = TrainConfig(op="add", p=11, model=model, dtype=dtype, seed=seed, d_embed=16, d_hidden=24, d_model=16,
                      d_mlp=32, n_heads=2, **kw)
    return cfg, build_model(cfg)


# ---------------------------------------------------------------- part 2: the norm held fixed


def norm_cases() -> list[tuple[str, list[Tensor], float]]:
    """(description, one run's parameters, target norm): a model's nn.Parameters (float32), tensors of one to three
    axes above and below the target, a target equal to the norm, and tensors of very different sizes."""
    gen = torch.Generator().manual_seed(1)
    shapes = [(2,), (5,), (3, 4), (2, 3, 2)]
    mixed = [torch.randn(s, generator=gen, dtype=F64) for s in shapes]
    spread = [10.0 ** k * torch.randn(3, 3, generator=gen, dtype=F64) for k in (3, 0, -3)]
    one = torch.randn(4, 6, generator=gen, dtype=F64)
    return [("the parameters of a small MLP (float32), target 30", list(_model()[1].parameters()), 30.0),
            ("4 tensors of 1 to 3 axes (float64), target 25", mixed, 25.0),
            ("the same 4 tensors, target 0.5", [t.clone() for t in mixed], 0.5),
            ("one 4×6 matrix, target its own norm", [one], _norm([one])),
            ("3 matrices of norms about 3000, 3 and 0.003, target 1", spread, 1.0)]


def _library_norm(params: list[Tensor], target: float) -> list[Tensor]:
    """The library's constraint on copies of one run's parameters (a leading run axis added, then dropped)."""
    stack = [p.detach().clone()[None] for p in params]
    NormConstraint([TrainConfig(norm_constraint=target)], torch.device("cpu"), params[0].dtype).apply(stack)
    return [s[0] for s in stack]


def _norm_slip(before: list[Tensor], after: list[Tensor], target: float, dtype: torch.dtype) -> str:
    """What the learner's rescaled parameters show, in words (empty when nothing is recognised)."""
    flat_b, flat_a = torch.cat([b.double().flatten() for b in before]), torch.cat([a.double().flatten() for a in after])
    sumsq = float(flat_b.square().sum())
    if len(after) > 1 and all(abs(_norm([a]) / target - 1) < 1e-4 for a in after):
        return ("Each tensor now has norm equal to the target: you rescaled them one by one. Hold the norm of all of "
                "them together, sqrt(Σ over every parameter of its squares), with one factor for all.")
    for factor, what in ((target / sumsq, "target / Σθ²"), ((target / sumsq ** 0.5) ** 2, "(target / ‖θ‖)²"),
                         (target ** 2 / sumsq ** 0.5, "target² / ‖θ‖")):
        if _close(flat_a, flat_b * factor, dtype):
            return (f"You multiplied by {what}: a squared norm where the norm belongs. The factor is target / ‖θ‖, "
                    "with ‖θ‖ = sqrt(Σ θ²).")
    cos = float(F.cosine_similarity(flat_a, flat_b, dim=0))
    if cos < 1 - 1e-6:
        return (f"The direction changed (cosine {cos:.6f} with the parameters before): multiply every parameter by "
                "the same number.")
    return f"Your total norm is {_norm(after):.8g}, not {target:g}: the factor is target / ‖θ‖."


def check_hold_norm(fn: Callable[[list[Tensor], float], object]) -> None:
    """``fn(params, target)`` should rescale one run's parameters in place, all by one factor, so that their total
    norm sqrt(Σ θ²) equals ``target``, like the library's ``NormConstraint`` after each step."""
    for what, params, target in norm_cases():
        before, call = [p.detach().clone() for p in params], f"{fn_name(fn)}(params, target={target:g}) on {what}"
        dtype = params[0].dtype
        returned = _call(fn, (params, target), call)
        after, want = [p.detach().clone() for p in params], _library_norm(before, target)
        if any(a.dtype != b.dtype or a.shape != b.shape for a, b in zip(after, before, strict=True)):
            fail(f"{call} changed a parameter's dtype or shape; multiply each in place, in its own dtype.")
        if all(_close(a, w, dtype) for a, w in zip(after, want, strict=True)):
            continue
        if all(torch.equal(a, b) for a, b in zip(after, before, strict=True)):
            fail(f"{call} left the parameters as they were" + (" and returned new tensors" if returned is not None
                 else "") + ". Rescale them in place, as the trainer must: p.mul_(factor) (`p = p * factor` only "
                 "rebinds a name).")
        fail(f"{call}: {_norm_slip(before, after, target, dtype)}")
    print(f"✓ the norm is held like the library's on {len(norm_cases())} sets of parameters (a model's, one to three "
          "axes, a target equal to the norm, very different sizes)")


# ---------------------------------------------------------------- part 3: the scaled initialisation


def init_cases() -> list[tuple[str, TrainConfig, float]]:
    """(description, config, α): MLPs and a transformer, α above, below and equal to 1, float32 and float64."""
    return [("a small MLP (float32), α = 10", _model()[0], 10.0),
            ("a small transformer (float32), α = 0.3", _model("transformer")[0], 0.3),
            ("an MLP with 2 hidden layers (float64), α = 2.5", _model(dtype="float64", n_hidden=2, seed=3)[0], 2.5),
            ("a small MLP (float64), α = 1", _model(dtype="float64", seed=4)[0], 1.0)]


def _init_slip(model: nn.Module, before: dict[str, Tensor], alpha: float) -> str:
    """Which parameters were scaled by α, which were left alone, which got something else."""
    groups: dict[str, list[str]] = {"right": [], "left": [], "twice": [], "other": []}
    for name, p in model.named_parameters():
        b, dtype = before[name], p.dtype
        kind = next((k for k, f in (("right", alpha), ("left", 1.0), ("twice", alpha ** 2))
                     if _close(p.detach(), b * f, dtype)), "other")
        groups[kind].append(name)
    left, biases = groups["left"], [n for n in before if n.rsplit(".", 1)[-1].startswith("b_")]
    if groups["twice"]:
        return f"{', '.join(groups['twice'])} got α² = {alpha ** 2:g}: multiply each parameter once."
    if left and set(left) == set(biases):
        return (f"You left the biases ({', '.join(left)}) as they were: Omnigrok's initialisation multiplies every "
                "parameter by α, biases and embeddings included, so the whole network's norm grows by α.")
    if len(groups["right"]) == 1:
        return (f"Only {groups['right'][0]} was multiplied by α: scale every layer's parameters "
                "(model.parameters() lists them all).")
    if left:
        return f"{', '.join(left)} were left as they were: multiply every parameter by α."
    return f"{', '.join(groups['other'])} differ from θ·α: multiply each parameter by α, in place."


def check_scale_init(fn: Callable[[nn.Module, float], object]) -> None:
    """``fn(model, alpha)`` should multiply every parameter of ``model`` by ``alpha`` in place, like the library's
    ``scale_init`` (what ``build_model`` does for a config's ``init_scale``)."""
    for what, cfg, alpha in init_cases():
        model, want, call = build_model(cfg), build_model(cfg), f"{fn_name(fn)}(model, alpha={alpha:g}) on {what}"
        scale_init(want, [alpha])
        before = {n: p.detach().clone() for n, p in model.named_parameters()}
        returned = _call(fn, (model, alpha), call)
        target = dict(want.named_parameters())
        got = dict(model.named_parameters())
        if any(got[n].dtype != target[n].dtype for n in target):
            fail(f"{call} changed the parameters' dtype; scale them in their own ({cfg.dtype}).")
        if all(_close(got[n].detach(), target[n].detach(), got[n].dtype) for n in target):
            continue
        if alpha != 1 and all(torch.equal(got[n].detach(), before[n]) for n in before):
            fail(f"{call} left the model's parameters as they were" + (" and returned something else" if returned is
                 not None else "") + ": multiply them in place (p.mul_(alpha)), since the optimiser already holds "
                 "these tensors.")
        fail(f"{call}: {_init_slip(model, before, alpha)}")
    print(f"✓ your scaled initialisation matches the library's on {len(init_cases())} models (MLPs, a transformer, "
          "float32 and float64, α = 1)")


# ---------------------------------------------------------------- part 4: the losses at c·θ


def landscape_cases() -> list[tuple[str, nn.Module, Task, float]]:
    """(description, model, task, c): MLPs and a transformer at c below and above 1, one task with noisy labels."""
    out = []
    for what, (cfg, model), c in (("a small MLP (float32), c = 0.5", _model(), 0.5),
                                  ("a small MLP (float64), 30% of its labels wrong, c = 3",
                                   _model(dtype="float64", seed=5, label_noise=0.3), 3.0),
                                  ("a small transformer (float32), c = 2", _model("transformer", seed=6), 2.0)):
        out.append((what, model, task_of(cfg), c))
    return out


def _losses_of(logp: Tensor, task: Task) -> tuple[float, float]:
    tr, va = task.train_idx, task.val_idx
    return float(F.nll_loss(logp[tr], task.train_labels)), float(F.nll_loss(logp[va], task.labels[va]))


@torch.no_grad()
def _landscape_slips(model: StackedModule, task: Task, c: float) -> list[tuple[tuple[float, float], str]]:
    logits, at_c, no_bias = model(task.inputs).double(), scaled(model, c), scaled(model, c)
    for name, p in no_bias.named_parameters():
        if name.rsplit(".", 1)[-1].startswith("b_"):
            p.div_(c)
    logp = log_probabilities(at_c(task.inputs), "softmax")
    train, val = _losses_of(logp, task)
    tr, va = task.train_idx, task.val_idx
    return [
        (_losses_of((c * logits).log_softmax(-1), task), "You multiplied the logits by c; multiply the weights: in a "
         "network of several layers the logits then change by a higher power of c, not by c."),
        (_losses_of(log_probabilities(no_bias(task.inputs), "softmax"), task), "You left the biases as they were: "
         "scale every parameter (as in part 3)."),
        ((val, train), "Your two losses are swapped: return (train loss, validation loss)."),
        ((float(F.nll_loss(logp[tr], task.labels[tr])), val), "Your training loss uses the true labels; the network "
         "trained on task.train_labels (noisy here): use those."),
        ((float(F.nll_loss(logp, task.labels)), float(F.nll_loss(logp, task.labels))), "You used every pair; take "
         "the training pairs (task.train_idx) and the validation pairs (task.val_idx) apart."),
        ((train * len(tr), val * len(va)), "You summed over the pairs; take the mean."),
    ]


def check_losses_at_scale(fn: Callable[[nn.Module, Task, float], tuple[float, float]]) -> None:
    """``fn(model, task, c)`` should return (training loss, validation loss) of the model with every parameter
    multiplied by ``c``, leaving ``model`` as it was, like the library's ``losses_and_accuracies(scaled(model, c))``."""
    for what, model, task, c in landscape_cases():
        before, call = copy.deepcopy(model.state_dict()), f"{fn_name(fn)}(model, task, c={c:g}) on {what}"
        got = _call(fn, (model, task, c), call)
        if not all(torch.equal(before[k], v) for k, v in model.state_dict().items()):
            fail(f"{call} changed the model it was given; scale a copy (copy.deepcopy(model)) and leave the model "
                 "as it is.")
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            fail(f"{call} should return a pair (training loss, validation loss), but it returned {type(got).__name__}.")
        got = tuple(float(x) for x in got)
        ref = losses_and_accuracies(scaled(model, c), task)
        want = (ref["train_loss"], ref["val_loss"])
        dtype = next(model.parameters()).dtype
        same = lambda a, b: all(abs(x - y) <= RTOL[dtype] * max(abs(y), 1e-3) for x, y in zip(a, b, strict=True))
        if same(got, want):
            continue
        at = f"{call}: yours are {got[0]:.8g} and {got[1]:.8g}, the library's {want[0]:.8g} and {want[1]:.8g}"
        for value, hint in _landscape_slips(model, task, c):
            if same(got, value):
                fail(f"{at}. {hint}")
        fail(f"{at}. Multiply every parameter of a copy by c, then take the mean cross-entropy on the training pairs "
             "(against task.train_labels) and on the validation pairs.")
    print(f"✓ your losses at c·θ match the library's on {len(landscape_cases())} models (MLPs and a transformer, "
          "c below and above 1, noisy labels)")
