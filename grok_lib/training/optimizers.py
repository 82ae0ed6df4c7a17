"""AdamW, Adam, SGD and TrueGrad-style AdamW for stacked parameters, with a learning rate and weight
decay per run.

The update rules of the first three are PyTorch's (``torch.optim.AdamW`` etc.); the only difference
is that hyper-parameters are tensors of shape [N], so N runs with different settings step together.
A test checks these against ``torch.optim`` on a single run.

Weight decay pulls towards the origin, or with ``decay_to="init"`` towards the weights the run
started from, ``w0`` (Power et al. compared the two): AdamW's and TrueGrad's decoupled decay becomes
``w ← w − lr·wd·(w − w0)``, and Adam's and SGD's L2 penalty adds ``wd·(w − w0)`` to the gradient.

**TrueGrad** (``kind="truegrad"``) is AdamW whose second moment is taken from the per-example
squared gradients rather than from the square of the mean gradient, as the TrueGrad project's
``TGAdamW`` (``truegrad/optim.py`` of ClashLuke/TrueGrad) defines it. With g the gradient and S the
sum over the batch of each example's contribution to g, squared (`per_example`), per parameter::

    w ← w (1 − lr·wd)                                (decoupled decay, as AdamW)
    m ← β1 m + (1 − β1) g
    v_true ← β3 v_true + (1 − β3) S,    u = m / max(sqrt(v_true / (1 − β3^t)), eps)
    v ← β2 v + (1 − β2) g²,             a = m / max(sqrt(v / (1 − β2^t)), eps)     (plain Adam's step)
    w ← w − lr / (1 − β1^t) · |a| / (|u| + eps) · u

The last line is their grafting (on by default there, always on here): each parameter tensor moves
in TrueGrad's direction by the length of plain Adam's step (norms per run and per tensor). Two betas
mean β3 = β2, as in their code; eps is the config's ``adam_eps`` (the package's own default is
1e-12), and it bounds the denominator from below rather than being added to it, as in their
current code (an earlier version added it).
"""

from __future__ import annotations

import torch
from torch import Tensor


def _per_run(x: Tensor, like: Tensor) -> Tensor:
    return x.view(-1, *([1] * (like.dim() - 1)))


def _has_fused_adam() -> bool:
    """PyTorch's fused Adam runs on CPUs as well as GPUs from version 2.4."""
    major, minor = (int(v) for v in torch.__version__.split(".")[:2])
    return (major, minor) >= (2, 4) and hasattr(torch, "_fused_adam_")


DECOUPLED = ("adamw", "truegrad")  # kinds whose weight decay acts on the weights rather than the gradient


class StackedOptimizer:
    """``shared=True`` promises that every run gets the same learning rate at every step
    (a single run, or a sweep over weight decay, data or seeds): Adam and AdamW then
    apply each run's weight decay themselves and hand the moment update to PyTorch's fused
    kernel, one pass per parameter -- five times faster than the general code at our sizes."""

    def __init__(self, params: list[Tensor], kind: str, lr: Tensor, weight_decay: Tensor,
                 betas: tuple[float, float] = (0.9, 0.98), momentum: float = 0.0, eps: float = 1e-8,
                 shared: bool = False, decay_to: str = "origin"):
        self.params, self.kind = params, kind
        self.lr, self.wd = lr, weight_decay
        self.betas, self.momentum, self.eps = betas, momentum, eps
        self.t = 0
        self.state: list[list[Tensor]] = [[] for _ in params]
        # what weight decay pulls towards: the origin (None), or the weights as they are now, before any step
        self.anchor = [p.detach().clone() for p in params] if decay_to == "init" else None
        self.fused = shared and kind in ("adam", "adamw") and _has_fused_adam()
        if self.fused:
            if not bool((lr == lr[0]).all()):
                raise ValueError("shared=True needs one learning rate for all runs")
            self._t = torch.zeros((), device=lr.device, dtype=torch.float32)  # self.t, as the kernel wants it

    @torch.no_grad()
    def step(self, lr: Tensor, square_sums: list[Tensor] | None = None) -> None:
        """One update; ``lr`` [N] is this step's learning rate per run (after warm-up);
        ``square_sums`` (TrueGrad only) the per-example squared gradients summed, one per parameter.

        Each line updates every parameter at once (``torch._foreach_*``): a handful of
        kernels per step instead of a handful per parameter, which is most of an
        optimizer step's cost at these sizes. Per-run factors are [N] tensors viewed to
        broadcast against each parameter.
        """
        self.t += 1
        b1, b2 = self.betas
        params = self.params
        grads = self._decay([p.grad for p in params], lr)
        per_run = lambda x: [_per_run(x, p) for p in params]  # noqa: E731
        if self.kind == "truegrad":
            if square_sums is None:
                raise ValueError("TrueGrad needs the per-example squared gradients of this step")
            self._truegrad_step(grads, square_sums, lr)
            return
        if self.fused:  # the rest of Adam's update (below), in PyTorch's fused kernel
            self._t += 1
            m, v = self._moments()
            try:
                torch._fused_adam_(params, grads, m, v, [], [self._t] * len(params), lr=lr[0], beta1=b1,
                                   beta2=b2, weight_decay=0.0, eps=self.eps, amsgrad=False, maximize=False)
                return
            except (RuntimeError, NotImplementedError):  # not built for this device or dtype: the code below
                self.fused = False
        if self.kind == "sgd":
            if self.momentum:
                if not self.state[0]:
                    for st, g in zip(self.state, grads, strict=True):
                        st.append(g.clone())
                else:
                    bufs = [st[0] for st in self.state]
                    torch._foreach_mul_(bufs, self.momentum)
                    torch._foreach_add_(bufs, grads)
                grads = [st[0] for st in self.state]
            torch._foreach_sub_(params, torch._foreach_mul(grads, per_run(lr)))
            return
        m, v = self._moments()
        torch._foreach_lerp_(m, grads, 1 - b1)
        torch._foreach_mul_(v, b2)
        torch._foreach_addcmul_(v, grads, grads, value=1 - b2)
        denom = torch._foreach_sqrt(v)
        torch._foreach_div_(denom, (1 - b2**self.t) ** 0.5)
        torch._foreach_add_(denom, self.eps)
        update = torch._foreach_div(m, denom)
        torch._foreach_mul_(update, per_run(lr / (1 - b1**self.t)))
        torch._foreach_sub_(params, update)

    def _decay(self, grads: list[Tensor], lr: Tensor) -> list[Tensor]:
        """Weight decay towards the anchor (the origin, or ``w0``): on the weights for AdamW and
        TrueGrad, as an L2 penalty folded into the gradient otherwise. Returns the gradients to use."""
        params = self.params
        per_run = lambda x: [_per_run(x, p) for p in params]  # noqa: E731
        if self.kind in DECOUPLED:
            if self.anchor is None:
                torch._foreach_mul_(params, per_run(1 - lr * self.wd))
            else:  # w ← w − lr·wd·(w − w0)
                pull = torch._foreach_sub(params, self.anchor)
                torch._foreach_mul_(pull, per_run(lr * self.wd))
                torch._foreach_sub_(params, pull)
            return grads
        away = params if self.anchor is None else torch._foreach_sub(params, self.anchor)
        return torch._foreach_add(grads, torch._foreach_mul(away, per_run(self.wd)))

    def _truegrad_step(self, grads: list[Tensor], square_sums: list[Tensor], lr: Tensor) -> None:
        """The rest of TrueGrad's update (the module docstring's lines 2 to 5), decay already done."""
        b1, b2 = self.betas
        b3 = b2
        m, v, v_true = self._moments(3)
        torch._foreach_lerp_(m, grads, 1 - b1)
        torch._foreach_mul_(v, b2)
        torch._foreach_addcmul_(v, grads, grads, value=1 - b2)
        torch._foreach_mul_(v_true, b3)
        torch._foreach_add_(v_true, square_sums, alpha=1 - b3)
        true_step = self._adam_direction(m, v_true, 1 - b3**self.t)
        adam_step = self._adam_direction(m, v, 1 - b2**self.t)
        for p, u, a in zip(self.params, true_step, adam_step, strict=True):
            graft = a.flatten(1).norm(dim=1) / (u.flatten(1).norm(dim=1) + self.eps)  # per run
            p.sub_(u * _per_run(lr / (1 - b1**self.t) * graft, p))

    def _adam_direction(self, m: list[Tensor], v: list[Tensor], correction: float) -> list[Tensor]:
        """``m / max(sqrt(v / correction), eps)`` per parameter."""
        denom = torch._foreach_sqrt(torch._foreach_div(v, correction))
        torch._foreach_clamp_min_(denom, self.eps)
        return torch._foreach_div(m, denom)

    def _moments(self, n: int = 2) -> list[list[Tensor]]:
        """``n`` running moments per parameter, zeros before the first step: Adam's first and second
        (and TrueGrad's per-example second moment as a third)."""
        if not self.state[0]:
            for st, p in zip(self.state, self.params, strict=True):
                st.extend(torch.zeros_like(p) for _ in range(n))
        return [[st[k] for st in self.state] for k in range(n)]

    def keep(self, idx: Tensor, params: list[Tensor]) -> None:
        """Keep only runs ``idx`` (after finished runs are dropped from the stack)."""
        self.params = params
        self.lr, self.wd = self.lr[idx], self.wd[idx]
        self.state = [[s[idx] for s in st] for st in self.state]
        if self.anchor is not None:
            self.anchor = [a[idx] for a in self.anchor]
