"""AdamW, Adam and SGD for stacked parameters, with a learning rate and weight decay per run.

The update rules are PyTorch's (``torch.optim.AdamW`` etc.); the only difference is that
hyper-parameters are tensors of shape [N], so N runs with different settings step together.
A test checks these against ``torch.optim`` on a single run.
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


class StackedOptimizer:
    """``shared=True`` promises that every run gets the same learning rate at every step
    (a single run, or a sweep over weight decay, data or seeds): Adam and AdamW then
    apply each run's weight decay themselves and hand the moment update to PyTorch's fused
    kernel, one pass per parameter -- five times faster than the general code at our sizes."""

    def __init__(self, params: list[Tensor], kind: str, lr: Tensor, weight_decay: Tensor,
                 betas: tuple[float, float] = (0.9, 0.98), momentum: float = 0.0, eps: float = 1e-8,
                 shared: bool = False):
        self.params, self.kind = params, kind
        self.lr, self.wd = lr, weight_decay
        self.betas, self.momentum, self.eps = betas, momentum, eps
        self.t = 0
        self.state: list[list[Tensor]] = [[] for _ in params]
        self.fused = shared and kind in ("adam", "adamw") and _has_fused_adam()
        if self.fused:
            if not bool((lr == lr[0]).all()):
                raise ValueError("shared=True needs one learning rate for all runs")
            self._t = torch.zeros((), device=lr.device, dtype=torch.float32)  # self.t, as the kernel wants it

    @torch.no_grad()
    def step(self, lr: Tensor) -> None:
        """One update; ``lr`` [N] is this step's learning rate per run (after warm-up).

        Each line updates every parameter at once (``torch._foreach_*``): a handful of
        kernels per step instead of a handful per parameter, which is most of an
        optimizer step's cost at these sizes. Per-run factors are [N] tensors viewed to
        broadcast against each parameter.
        """
        self.t += 1
        b1, b2 = self.betas
        params = self.params
        grads = [p.grad for p in params]
        per_run = lambda x: [_per_run(x, p) for p in params]  # noqa: E731
        if self.kind == "adamw":
            torch._foreach_mul_(params, per_run(1 - lr * self.wd))
        else:  # L2 penalty folded into the gradient
            grads = torch._foreach_add(grads, torch._foreach_mul(params, per_run(self.wd)))
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

    def _moments(self) -> tuple[list[Tensor], list[Tensor]]:
        """Adam's first and second moment per parameter (zeros before the first step)."""
        if not self.state[0]:
            for st, p in zip(self.state, self.params, strict=True):
                st.extend([torch.zeros_like(p), torch.zeros_like(p)])
        return [st[0] for st in self.state], [st[1] for st in self.state]

    def keep(self, idx: Tensor, params: list[Tensor]) -> None:
        """Keep only runs ``idx`` (after finished runs are dropped from the stack)."""
        self.params = params
        self.lr, self.wd = self.lr[idx], self.wd[idx]
        self.state = [[s[idx] for s in st] for st in self.state]
