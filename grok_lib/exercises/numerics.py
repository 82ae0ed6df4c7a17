"""Checks for exercise 8 (numerics): StableMax's probabilities and its cross-entropy, the ⊥Grad projection of a
gradient, and Grokfast's EMA filter.

The references are the library's own: ``log_stablemax`` and ``log_probabilities`` in `grok_lib.training.losses`,
``orthogonalise`` and ``EMAFilter`` in `grok_lib.training.gradient_filters`. These act on stacks of runs (a leading
run axis); the learner's code handles one run, so the checks add that axis for the library and take it off after.
Each check tries several inputs, edge cases included (logits at exactly 0, a zero weight, a constant gradient), and
says in words what differs first and, where the numbers show it, the likely slip (often by running the library again
with one thing changed). Success prints one line starting with ✓. CPU only, well under a second.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from grok_lib.training.gradient_filters import EMAFilter, orthogonalise
from grok_lib.training.losses import log_probabilities, log_stablemax, stablemax_s

from .answers import fail, fn_name

F64, F32 = torch.float64, torch.float32
RTOL = {F64: 1e-8, F32: 1e-5}  # agreement asked for: float64 to eight digits, float32 to its own precision


def _differ(got: Tensor, want: Tensor, dtype: torch.dtype = F64) -> Tensor:
    """Where the learner's numbers differ from the library's, at the agreement asked for in ``dtype``."""
    scale = float(want.abs().max()) if want.numel() and want.isfinite().all() else 0.0  # entries near 0 cancel
    return ~torch.isclose(got.to(F64), want.to(F64), rtol=RTOL[dtype], atol=max(RTOL[dtype] * scale, 1e-300))


def _close(got: Tensor, want: Tensor, dtype: torch.dtype = F64) -> bool:
    return got.shape == want.shape and not bool(_differ(got, want, dtype).any())


def _result(x: object, like: Tensor, call: str, shape: tuple[int, ...] | None = None) -> Tensor:
    """The learner's tensor, checked for type, shape and dtype (that of ``like``), on the CPU."""
    if not isinstance(x, Tensor):
        fail(f"{call} should return a torch.Tensor, but it returned a {type(x).__name__}.")
    shape = tuple(like.shape) if shape is None else shape
    if tuple(x.shape) != shape:
        fail(f"{call} should return shape {shape}, got {tuple(x.shape)}.")
    if x.dtype != like.dtype:
        why = ("the check asks agreement to eight digits, and float32 keeps about seven" if like.dtype == F64 else
               "as the library does: one setting decides the precision of a whole run")
        fail(f"{call} returned {x.dtype} for {like.dtype} input; compute in the input's own dtype ({why}).")
    return x.detach().cpu()


def _first_difference(got: Tensor, want: Tensor, dtype: torch.dtype = F64) -> str:
    i = tuple(int(k) for k in _differ(got, want, dtype).nonzero()[0])
    return f"entry {list(i)} is {float(got[i]):.10g}, the library's {float(want[i]):.10g}"


def _cos(a: Tensor, b: Tensor) -> float:
    return float(F.cosine_similarity(a.flatten(), b.flatten(), dim=0, eps=1e-300))


def _unchanged(given: Tensor, kept: Tensor, call: str, what: str) -> None:
    if not torch.equal(given, kept):
        fail(f"{call} changed the {what} it was given (in place); work on a new tensor.")


def _logits(shape: tuple[int, ...], scale: float, seed: int, dtype: torch.dtype = F64) -> Tensor:
    gen = torch.Generator().manual_seed(seed)
    return (scale * torch.randn(*shape, generator=gen, dtype=F64)).to(dtype)


def stablemax_cases() -> list[tuple[str, Tensor]]:
    """(description, logits): ordinary batches, rows at exactly 0 or far below it, three axes, float32."""
    edges = torch.tensor([[0.0, -1.0, 1.0, -3.5, 2.5], [0.0] * 5, [-1e6, -2.0, -0.5, -7.0, -1e-9]], dtype=F64)
    return [("a 4×7 batch", _logits((4, 7), 3.0, 0)), ("rows at exactly 0, all negative or far below 0", edges),
            ("a 3×97 batch of large logits", _logits((3, 97), 40.0, 1)), ("a 2×3×5 batch", _logits((2, 3, 5), 2.0, 2)),
            ("a 5×4 batch in float32", _logits((5, 4), 3.0, 3, F32))]


def check_stablemax(fn: Callable[[Tensor], Tensor]) -> None:
    """``fn(logits)`` should return StableMax's probabilities along the last axis, in the logits' dtype, like
    ``log_stablemax(logits).exp()``."""
    for what, x in stablemax_cases():
        kept, call = x.clone(), f"{fn_name(fn)}(logits) on {what}"
        got = fn(x)
        _unchanged(x, kept, call, "logits")
        got = _result(got, x, call)
        want = log_stablemax(x).exp()
        if _close(got, want, x.dtype):
            continue
        at = f"{call}: {_first_difference(got, want, x.dtype)}"
        if x.dtype == F64 and _close(got, log_stablemax(x.float()).exp(), F32):
            fail(f"{at}. That agrees only to about seven digits: part of your computation runs in float32.")
        if not _close(got.sum(-1), torch.ones_like(got.sum(-1)), x.dtype):
            if _close(got, stablemax_s(x), x.dtype):
                fail(f"{at}. These are s(x) themselves: divide by their sum along the last axis.")
            for dim in range(x.dim() - 1):
                if _close(got, log_stablemax(x, dim).exp(), x.dtype):
                    fail(f"{at}. You normalised along axis {dim}; the classes are the last axis (dim=-1), so each "
                         "row over the classes must sum to 1.")
            fail(f"{at}. The probabilities along the last axis should sum to 1.")
        if _close(got, x.softmax(-1), x.dtype):
            fail(f"{at}. That is softmax: StableMax replaces exp by s(x) = x + 1 for x ≥ 0, 1/(1 − x) below.")
        if _close(got, (x + 1) / (x + 1).sum(-1, keepdim=True), x.dtype):
            fail(f"{at}. You used x + 1 everywhere; below zero s(x) is 1/(1 − x), which stays positive.")
        if _close(got, log_stablemax(x - x.amax(-1, keepdim=True)).exp(), x.dtype):
            fail(f"{at}. You subtracted the largest logit first, a softmax habit: softmax does not change when all "
                 "logits move together, StableMax does. Apply s to the logits themselves.")
        fail(f"{at}. s(x) = x + 1 where x ≥ 0 and 1/(1 − x) where x < 0; then divide by the sum along the last axis.")
    x = stablemax_cases()[1][1].requires_grad_()  # holds a logit of exactly 1, where 1/(1 − x) divides by zero
    out = fn(x)
    if out.requires_grad and not torch.isfinite(torch.autograd.grad(out.sum(), x)[0]).all():
        fail(f"{fn_name(fn)}(logits): the gradient is nan where a logit is exactly 1: torch.where differentiates "
             "both branches, and 1/(1 − x) divides by zero there. Give that branch only min(x, 0).")
    print("✓ StableMax's probabilities match the library's on 5 batches (exact zeros, negatives, three axes, float32)")


def loss_cases() -> list[tuple[str, Tensor, Tensor]]:
    """(description, logits [B, C], labels [B]): ordinary, a collapsed softmax (true class 40 ahead), all zeros."""
    gen = torch.Generator().manual_seed(4)
    far = _logits((4, 97), 5.0, 5)
    far_labels = torch.randint(97, (4,), generator=gen)
    far[torch.arange(4), far_labels] += 40.0
    return [("a 6×5 batch", _logits((6, 5), 3.0, 6), torch.randint(5, (6,), generator=gen)),
            ("a 4×97 batch whose true class leads by 40", far, far_labels),
            ("a 3×4 batch of zeros", torch.zeros(3, 4, dtype=F64), torch.tensor([0, 3, 1])),
            ("a 2×2 batch", torch.tensor([[2.0, -1.0], [0.5, 3.0]], dtype=F64), torch.tensor([1, 0]))]


def check_stablemax_loss(fn: Callable[[Tensor, Tensor], Tensor]) -> None:
    """``fn(logits, labels)`` should return StableMax's cross-entropy, the mean of ``-log p[label]`` over the batch,
    as a 0-dim tensor in the logits' dtype, like ``F.nll_loss(log_probabilities(logits, "stablemax"), labels)``."""
    for what, x, y in loss_cases():
        kept, call = x.clone(), f"{fn_name(fn)}(logits, labels) on {what}"
        got = fn(x, y)
        _unchanged(x, kept, call, "logits")
        if isinstance(got, Tensor) and tuple(got.shape) == (len(y),):
            fail(f"{call} returned one loss per example (shape {tuple(got.shape)}); return their mean.")
        got = _result(got, x, call, shape=())
        want = F.nll_loss(log_probabilities(x, "stablemax"), y)
        if _close(got, want):
            continue
        at = f"{call}: yours is {float(got):.10g}, the library's {float(want):.10g}"
        log_s, rows = stablemax_s(x).log(), torch.arange(len(y))
        if not math.isfinite(float(got)):
            fail(f"{at}. A log of zero or of a negative number: s must stay positive, with 1/(1 − x) below zero.")
        slips = [
            (F.nll_loss(log_probabilities(x.float(), "stablemax"), y), F32,
             "That agrees only to about seven digits: part of your computation runs in float32."),
            (-want, F64, "The sign: the loss is −log p[label], a positive number."),
            (want * len(y), F64, "You summed over the examples; take their mean."),
            (F.cross_entropy(x, y), F64, "That is softmax's cross-entropy; use StableMax's probabilities."),
            ((stablemax_s(x).sum(-1).log() - x[rows, y]).mean(), F64,
             "You took log s(x) to be x, as log exp(x) = x for softmax; but s is not exp: use log s(x[label])."),
            ((log_s.sum(-1) - log_s[rows, y]).mean(), F64, "You summed log s over the classes; the normaliser is "
             "log Σ s, the log of the sum."),
            (-log_probabilities(x, "stablemax")[:, y].mean(), F64, "Pick each example's own label: "
             "logp[arange(B), labels] (or gather along the last axis); logp[:, labels] takes every label for every "
             "example."),
        ]
        for value, dtype, hint in slips:
            if _close(got, value, dtype):
                fail(f"{at}. {hint}")
        fail(f"{at}. The loss is the mean over the batch of −log p[label], with p StableMax's probabilities along the "
             "last axis.")
    print("✓ StableMax's cross-entropy matches the library's on 4 batches (one where softmax collapses, all zeros)")


def orthogonal_cases() -> list[tuple[str, Tensor, Tensor]]:
    """(description, gradient, weight): tensors of one to three axes, a tiny weight, a zero weight, a zero gradient."""
    return [("a 5×3 matrix", _logits((5, 3), 1.0, 7), _logits((5, 3), 1.0, 8)),
            ("a vector of 7", _logits((7,), 1.0, 9), _logits((7,), 2.0, 10)),
            ("a 2×3×4 tensor", _logits((2, 3, 4), 1.0, 11), _logits((2, 3, 4), 0.5, 12)),
            ("a 4×6 matrix whose weight has norm about 1e-9", _logits((4, 6), 1.0, 13), _logits((4, 6), 2e-10, 14)),
            ("a 3×4 matrix whose weight is zero", _logits((3, 4), 1.0, 15), torch.zeros(3, 4, dtype=F64)),
            ("a 3×4 matrix whose gradient is zero", torch.zeros(3, 4, dtype=F64), _logits((3, 4), 1.0, 16))]


def _library_orthogonal(g: Tensor, w: Tensor, per_row: bool = False) -> Tensor:
    """The library's ⊥Grad of one tensor: a leading run axis added, or (``per_row``) its rows taken as the runs."""
    out = g.clone() if per_row else g.clone()[None]
    orthogonalise([w if per_row else w[None]], [out])
    return out if per_row else out[0]


def check_orthogonal_gradient(fn: Callable[[Tensor, Tensor], Tensor]) -> None:
    """``fn(grad, weight)`` should return ⊥Grad's gradient, like the library's ``orthogonalise`` for one run: the
    gradient without its component along the weight (the whole tensor, flattened), rescaled to the gradient's
    norm; a zero weight leaves the gradient as it is, a zero gradient stays zero."""
    for what, g, w in orthogonal_cases():
        g_kept, w_kept, call = g.clone(), w.clone(), f"{fn_name(fn)}(grad, weight) on {what}"
        got = fn(g, w)
        _unchanged(g, g_kept, call, "gradient")
        _unchanged(w, w_kept, call, "weight")
        got = _result(got, g, call)
        want = _library_orthogonal(g, w)
        if _close(got, want):
            continue
        at = f"{call}: {_first_difference(got, want)}"
        if not torch.isfinite(got).all():
            zero = "weight" if not w.any() else "gradient" if not g.any() else ""
            fail(f"{at}. A division by zero (0/0 gives nan) with a zero {zero}: add a tiny epsilon (the library's "
                 "1e-30) to w·w and to the new norm, so that a zero weight leaves the gradient unchanged and a zero "
                 "gradient stays zero." if zero else f"{at}. Your result holds nan or inf.")
        if 0 < float(w.norm()) < 1e-6:
            fail(f"{at}. Your epsilon is too large: at this weight's scale it swamps w·w; the library adds 1e-30.")
        if _close(got, g):
            fail(f"{at}. That is the gradient unchanged: remove its component along the weight.")
        if _close(got, _library_orthogonal(g.float(), w.float()), F32):
            fail(f"{at}. That agrees only to about seven digits: part of your computation runs in float32.")
        if g.dim() > 1 and _close(got, _library_orthogonal(g, w, per_row=True)):
            fail(f"{at}. You projected each row on its own; ⊥Grad projects the whole tensor, flattened, at once.")
        if got.any() and want.any() and _close(got / got.norm(), want / want.norm()):
            fail(f"{at}. The direction is right, but the norm is {float(got.norm()):.6g}, not ‖grad‖ = "
                 f"{float(g.norm()):.6g}: rescale the projected gradient to the norm of the gradient you were given.")
        if w.any() and abs(_cos(got, w)) > 1e-8:
            if abs(_cos(got, g)) < 1e-8:
                fail(f"{at}. Your result is orthogonal to the gradient, not to the weight: you projected w onto g. "
                     "Remove from the gradient its component along the weight, (g·w / w·w) w.")
            if abs(abs(_cos(got, w)) - 1) < 1e-8:
                fail(f"{at}. Your result points along the weight: that is the part ⊥Grad removes; keep the rest.")
            fail(f"{at}. Your result is not orthogonal to the weight: cos(result, w) = {_cos(got, w):.3g}. Subtract "
                 "(g·w / w·w) w from g.")
        fail(f"{at}. Subtract (g·w / w·w) w from g, then rescale to ‖g‖ (the whole tensor, flattened).")
    print("✓ ⊥Grad matches the library on 6 tensors (one to three axes, a tiny weight, a zero weight, a zero gradient)")


def ema_cases() -> list[tuple[str, float, float, list[Tensor]]]:
    """(description, α, λ, gradients): random gradients, a constant one (the authors' α and λ), a short run."""
    return [("6 random 3×4 gradients, α = 0.8, λ = 3", 0.8, 3.0, [_logits((3, 4), 1.0, 20 + t) for t in range(6)]),
            ("5 equal 2×3 gradients, α = 0.98, λ = 2", 0.98, 2.0, [torch.full((2, 3), 0.5, dtype=F64)] * 5),
            ("4 random vectors of 5, α = 0.5, λ = 0.1", 0.5, 0.1, [_logits((5,), 2.0, 30 + t) for t in range(4)])]


def _library_ema(alpha: float, lamb: float, grads: list[Tensor]) -> tuple[list[Tensor], list[Tensor]]:
    """The library's filtered gradients and its μ after each step, for one run (a leading run axis added)."""
    ema, outs, mus = EMAFilter(alpha, lamb), [], []
    for g in grads:
        step = [g.clone()[None]]
        ema(step)
        outs.append(step[0][0])
        mus.append(ema.mu[0][0].clone())
    return outs, mus


def _run_learner(make: Callable, alpha: float, lamb: float, grads: list[Tensor], buffer: bool) -> list[Tensor]:
    """The learner's filtered gradients: each a fresh tensor, or (``buffer``) written into one tensor in place."""
    flt, held, outs = make(alpha, lamb), grads[0].clone(), []
    for g in grads:
        held = held.copy_(g) if buffer else g.clone()
        out = flt(held)
        outs.append(out.detach().clone() if isinstance(out, Tensor) else out)
    return outs


def _ema_slips(alpha: float, lamb: float, grads: list[Tensor]) -> list[tuple[list[Tensor], str]]:
    """(filtered gradients, hint) for the usual slips, each a whole sequence."""
    want, mus = _library_ema(alpha, lamb, grads)
    return [
        (_library_ema(alpha, lamb, [torch.zeros_like(grads[0])] + grads)[0][1:], "μ starts at zero in yours; the "
         "library, as the authors, starts it at the first gradient, so that the first step is already (1 + λ) g."),
        (_library_ema(1 - alpha, lamb, grads)[0], "α and 1 − α are swapped: μ keeps α of itself and takes 1 − α of "
         "the new gradient."),
        (_library_ema(0.98, 2.0, grads)[0], "Those are the authors' defaults α = 0.98, λ = 2; use the α and λ you "
         "were given."),
        (mus, "You returned μ; return the gradient plus λ μ."),
        ([lamb * m for m in mus], "You returned λ μ alone; add it to the gradient."),
        ([lamb * g + m for g, m in zip(grads, mus, strict=True)], "λ multiplies the gradient in yours; it multiplies "
         "μ: g + λ μ."),
        ([g + m for g, m in zip(grads, mus, strict=True)], "λ is missing: g + λ μ."),
        (grads, "That is the gradient unchanged: add λ μ."),
        (want[:1] + [g + lamb * m for g, m in zip(grads[1:], mus, strict=False)], "You used μ before updating it "
         "with this step's gradient: first μ ← α μ + (1 − α) g, then g + λ μ."),
    ]


def check_grokfast_ema(make: Callable[[float, float], Callable[[Tensor], Tensor]]) -> None:
    """``make(alpha, lamb)`` should return a filter (a class instance or a closure) that, called on each step's
    gradient in turn, returns it filtered as the library's ``EMAFilter`` does: ``μ ← α μ + (1 − α) g`` with μ starting
    at the first gradient, then ``g + λ μ``."""
    for what, alpha, lamb, grads in ema_cases():
        want = _library_ema(alpha, lamb, grads)[0]
        for buffer in (False, True):
            calls = [f"{fn_name(make)}({alpha:g}, {lamb:g}) on {what}, step {t + 1}" for t in range(len(grads))]
            got = [_result(out, ref, call) for out, ref, call in
                   zip(_run_learner(make, alpha, lamb, grads, buffer), want, calls, strict=True)]
            wrong = [t for t in range(len(grads)) if not _close(got[t], want[t])]
            if not wrong:
                continue
            at = f"{calls[wrong[0]]}: {_first_difference(got[wrong[0]], want[wrong[0]])}"
            if buffer:
                fail(f"{at}, when each gradient is written into the same tensor in place (as backward() does). "
                     "Your μ shares that tensor's memory: keep a copy, μ = grad.clone().")
            for values, hint in _ema_slips(alpha, lamb, grads):
                if all(_close(a, b) for a, b in zip(got, values, strict=True)):
                    fail(f"{at}. {hint}")
            fail(f"{at}. Each step: μ ← α μ + (1 − α) g (μ starts at the first gradient), then return g + λ μ.")
    print("✓ Grokfast's EMA filter matches the library on 3 sequences of gradients (random, constant, reused tensors)")
