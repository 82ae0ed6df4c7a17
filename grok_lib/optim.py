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


class StackedOptimizer:
    def __init__(self, params: list[Tensor], kind: str, lr: Tensor, weight_decay: Tensor,
                 betas: tuple[float, float] = (0.9, 0.98), momentum: float = 0.0, eps: float = 1e-8):
        self.params, self.kind = params, kind
        self.lr, self.wd = lr, weight_decay
        self.betas, self.momentum, self.eps = betas, momentum, eps
        self.t = 0
        self.state: list[list[Tensor]] = [[] for _ in params]

    @torch.no_grad()
    def step(self, lr: Tensor) -> None:
        """One update; ``lr`` [N] is this step's learning rate per run (after warm-up)."""
        self.t += 1
        b1, b2 = self.betas
        for i, p in enumerate(self.params):
            g, st = p.grad, self.state[i]
            lr_p, wd_p = _per_run(lr, p), _per_run(self.wd, p)
            if self.kind == "adamw":
                p.mul_(1 - lr_p * wd_p)
            else:
                g = g.add(p * wd_p)  # L2 penalty folded into the gradient
            if self.kind == "sgd":
                if self.momentum:
                    if not st:
                        st.append(g.clone())
                    else:
                        st[0].mul_(self.momentum).add_(g)
                    g = st[0]
                p.sub_(lr_p * g)
                continue
            if not st:
                st.extend([torch.zeros_like(p), torch.zeros_like(p)])
            m, v = st
            m.lerp_(g, 1 - b1)
            v.mul_(b2).addcmul_(g, g, value=1 - b2)
            denom = (v.sqrt() / (1 - b2**self.t) ** 0.5).add_(self.eps)
            p.sub_((lr_p / (1 - b1**self.t)) * m / denom)

    def keep(self, idx: Tensor, params: list[Tensor]) -> None:
        """Keep only runs ``idx`` (after finished runs are dropped from the stack)."""
        self.params = params
        self.lr, self.wd = self.lr[idx], self.wd[idx]
        self.state = [[s[idx] for s in st] for st in self.state]
