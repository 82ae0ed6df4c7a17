"""Checks for exercise 3, part 2: a full-batch AdamW training loop that logs accuracy and the weight norm.

`check_training_loop` runs the learner's ``train_loop(model, task, steps, lr, weight_decay, log_every)``
twice over. First, 20 steps in float64 from the very weights the library's trainer starts from
(`grok_lib.training.trainer.train` with no warm-up is the reference): the rows must match the
trainer's history step for step, and the logged norms must match a recomputation from the model
itself. When a row differs it probes the usual causes (weight decay ignored, Adam's L2 penalty
instead of AdamW's decay, PyTorch's default betas) by running the trainer or the loop once more.
Second, 1,000 steps in float32 on the same small task, which the loop must generalise. Success
prints one line starting with ✓. CPU only, a few seconds.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence

import torch
from torch import nn

from grok_lib.analysis.effective import weight_norm
from grok_lib.analysis.phases import first_step_at
from grok_lib.models import PlainMLP
from grok_lib.task.data import Task, make_task
from grok_lib.training.build import build_model
from grok_lib.training.config import THRESHOLD, TrainConfig
from grok_lib.training.trainer import train

from .answers import fail, fn_name

KEYS = ("step", "train_loss", "train_acc", "val_loss", "val_acc", "weight_norm")
# a + b mod 31 from 60% of the table, chapter 4's network (width 64, lr 1e-2, weight decay 1), no warm-up
TASK = TrainConfig(op="add", p=31, train_frac=0.6, d_embed=64, d_hidden=64, lr=1e-2, weight_decay=1.0,
                   warmup_steps=0, early_stop=False, seed=0)
EXACT = TASK.replace(dtype="float64", steps=20, log_every=5)
GEN_STEPS, GEN_LOG_EVERY = 1000, 50

History = Mapping[str, Sequence[float]]


def start(cfg: TrainConfig) -> tuple[PlainMLP, Task]:
    """The model the trainer starts ``cfg`` from, as a `PlainMLP`, and the task it trains on."""
    return PlainMLP.from_stacked(build_model(cfg)), make_task(cfg.op, cfg.p, cfg.train_frac, cfg.seed)


def _call(fn: Callable[..., object], cfg: TrainConfig, steps: int, weight_decay: float | None = None) -> str:
    """The call as the learner would write it, to open each complaint."""
    wd = cfg.weight_decay if weight_decay is None else weight_decay
    return f"{fn_name(fn)}(model, task, steps={steps}, lr={cfg.lr}, weight_decay={wd}, log_every={cfg.log_every})"


def _run(fn: Callable[..., object], cfg: TrainConfig, model: nn.Module, task: Task, steps: int,
         weight_decay: float | None = None) -> dict[str, list[float]]:
    """The learner's loop on ``cfg``'s settings, its history read as lists of floats (or a complaint)."""
    call = _call(fn, cfg, steps, weight_decay)
    hist = fn(model, task, steps, cfg.lr, cfg.weight_decay if weight_decay is None else weight_decay,
              cfg.log_every)
    if not isinstance(hist, Mapping):
        fail(f"{call} should return a dict of lists, one per key of {list(KEYS)}; it returned {type(hist).__name__}.")
    missing = [k for k in KEYS if k not in hist]
    if missing:
        fail(f"{call} returned a history without the keys {missing}; it needs all of {list(KEYS)}.")
    try:
        out = {k: [(int if k == "step" else float)(v) for v in hist[k]] for k in KEYS}
    except (TypeError, ValueError) as err:
        fail(f"{call}: every logged value should be a number (use loss.item()); reading them failed: {err}.")
    want = sorted(set(range(0, steps + 1, cfg.log_every)) | {steps})
    if out["step"] != want:
        fail(f"{call} logged steps {out['step'][:8]}...; expected {want[:8]}...: step 0 "
             "(before any update), every log_every steps, and the last step (after all updates).")
    lengths = {k: len(out[k]) for k in KEYS}
    if len(set(lengths.values())) != 1:
        fail(f"{call}: every list in the history needs one value per logged step; their lengths are {lengths}.")
    return out


def _first_row(hist: History, ref: History, w0: float, call: str) -> None:
    """Step 0 describes the model before any update: compare it with the trainer's first row."""
    for key in KEYS[1:]:
        got, want = hist[key][0], ref[key][0]
        if abs(got - want) <= (1e-6 if key.endswith("acc") else 1e-9 * max(1.0, abs(want))):
            continue
        hint = ""
        if key == "weight_norm" and abs(got - w0**2) < 1e-6 * w0**2:
            hint = " Yours is the sum of squares: take its square root."
        elif key == "weight_norm":
            hint = " ‖w‖ runs over every parameter (embedding, weights and biases) as one vector, before any update."
        elif key.endswith("acc") and abs(got - 100 * want) < 1e-6:
            hint = " Log accuracy as a fraction between 0 and 1, not a percentage."
        elif key.endswith("acc"):
            other = "val_acc" if key == "train_acc" else "train_acc"
            hint = (f" That is the {other.split('_')[0]} accuracy: swap the sets." if abs(got - ref[other][0]) < 1e-6
                    else " Grade the argmax of the logits against the labels, on the right set.")
        elif key.endswith("loss"):
            hint = (" The loss is the mean cross-entropy (F.cross_entropy's default), not the sum."
                    if got > 10 * want else " Use F.cross_entropy(logits, labels) on that set.")
        fail(f"{call}: at step 0, before any update, {key} should be {want:.6g}; yours is {got:.6g}.{hint}")


def _probe(fn: Callable[..., object], hist: History, step: int) -> str:
    """Why the rows drift from the trainer's, if one of the usual causes explains it."""
    model, task = start(EXACT)
    if _run(fn, EXACT, model, task, EXACT.steps, weight_decay=0.0)["weight_norm"] == hist["weight_norm"]:
        return (" Your loop gives the same run with weight_decay=0: pass weight_decay to "
                "torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay, betas=(0.9, 0.98)).")
    for change, why in [(dict(optimizer="adam"), "optimizer='adam': torch.optim.Adam's weight_decay adds an L2 "
                         "penalty to the gradient, while AdamW shrinks the weights directly. Use torch.optim.AdamW."),
                        (dict(betas=(0.9, 0.999)), "betas=(0.9, 0.999), PyTorch's default; the course uses "
                         "betas=(0.9, 0.98).")]:
        other = train(EXACT.replace(**change), device="cpu", progress=False).history
        rows = [other["step"].index(s) for s in hist["step"]]
        if all(abs(hist["weight_norm"][i] - other["weight_norm"][j]) < 1e-8 for i, j in enumerate(rows)):
            return f" Your run matches the trainer's run with {why}"
    return (f" From step {step} on your run drifts away. Each step: the mean cross-entropy on the whole training "
            "set, optimizer.zero_grad(), loss.backward(), optimizer.step() with torch.optim.AdamW(model.parameters(), "
            "lr=lr, weight_decay=weight_decay, betas=(0.9, 0.98)); no learning-rate schedule.")


def _norm_matches(logged: float, model: nn.Module, what: str, call: str, rtol: float) -> None:
    """A logged norm against the norm of the model it describes, recomputed here."""
    actual = weight_norm(model)
    if abs(logged - actual) > rtol * actual:
        fail(f"{call}: the weight norm logged {what} is {logged:.6g}, but the model {what} has ‖w‖ = {actual:.6g}. "
             "Log each row before that step's update, so that row s describes the model after s updates.")


def _exact(fn: Callable[..., object]) -> None:
    """20 steps in float64 against the library's trainer from the same weights."""
    model, task = start(EXACT)
    before = copy.deepcopy(model)
    call = _call(fn, EXACT, EXACT.steps)
    hist = _run(fn, EXACT, model, task, EXACT.steps)
    ref = train(EXACT, device="cpu", progress=False).history
    _first_row(hist, ref, weight_norm(before), call)
    if all(torch.equal(p, q) for p, q in zip(model.parameters(), before.parameters(), strict=True)):
        fail(f"{call} left the model it was given unchanged: train that model, in place (no copy).")
    _norm_matches(hist["weight_norm"][-1], model, f"at the last step ({EXACT.steps})", call, 1e-9)
    half = EXACT.steps // 2
    again = copy.deepcopy(before)
    _run(fn, EXACT, again, task, half)
    _norm_matches(hist["weight_norm"][hist["step"].index(half)], again, f"at step {half}", call, 1e-9)
    for i, step in enumerate(hist["step"]):
        j = ref["step"].index(step)
        for key in KEYS[1:]:
            got, want = hist[key][i], ref[key][j]
            if abs(got - want) > (1e-6 if key.endswith("acc") else 1e-7 * max(1.0, abs(want))):  # acc: float32 ok
                fail(f"{call}: at step {step}, {key} is {got:.8g}; the library's trainer, from the same weights, "
                     f"logs {want:.8g}." + _probe(fn, hist, step))


def check_training_loop(fn: Callable[..., object]) -> None:
    """``fn(model, task, steps, lr, weight_decay, log_every)`` trains ``model`` in place with full-batch
    AdamW and returns its history: lists under `KEYS`, one entry per logged step."""
    _exact(fn)
    model, task = start(TASK)
    cfg = TASK.replace(log_every=GEN_LOG_EVERY)
    hist = _run(fn, cfg, model, task, GEN_STEPS)
    call = _call(fn, cfg, GEN_STEPS)
    _norm_matches(hist["weight_norm"][-1], model, f"at the last step ({GEN_STEPS})", call, 1e-5)
    generalised = first_step_at(hist["step"], hist["val_acc"], THRESHOLD)
    if generalised is None:
        fail(f"{call} did not generalise: validation accuracy peaked at {max(hist['val_acc']):.1%}, short of "
             f"{THRESHOLD:.0%} within {GEN_STEPS:,} steps. The library's trainer gets there on this task.")
    print(f"✓ your loop matches the library's trainer row for row over {EXACT.steps} steps (float64), its logged "
          f"norms match a recomputation, and it generalises a + b mod {TASK.p} from {TASK.train_frac:.0%} of the "
          f"table within {GEN_STEPS:,} steps")
