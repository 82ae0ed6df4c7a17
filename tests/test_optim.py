"""StackedOptimizer against torch.optim, one run and a stack of runs with their own settings."""

from __future__ import annotations

import pytest
import torch

from grok_lib.training.optimizers import StackedOptimizer

SHAPES = [(4, 5), (1, 5), (7,)]
BETAS = (0.9, 0.98)


def _reference(kind: str, params: list[torch.Tensor], lr: float, wd: float, momentum: float):
    if kind == "adamw":
        return torch.optim.AdamW(params, lr=lr, betas=BETAS, eps=1e-8, weight_decay=wd)
    if kind == "adam":
        return torch.optim.Adam(params, lr=lr, betas=BETAS, eps=1e-8, weight_decay=wd)
    return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=wd)


@pytest.mark.parametrize("kind, momentum, shared", [("adamw", 0.0, False), ("adam", 0.0, False), ("sgd", 0.0, False),
                                                    ("sgd", 0.9, False), ("adamw", 0.0, True), ("adam", 0.0, True)])
def test_stacked_optimizer_matches_torch(kind, momentum, shared):
    """Runs with their own settings (the general code), or one shared learning rate (the fused kernel)."""
    lrs = [1e-2] * 3 if shared else [1e-2, 3e-3, 5e-2]
    wds = [1.0, 0.1, 0.0]
    n = len(lrs)
    gen = torch.Generator().manual_seed(0)
    init = [torch.randn(n, *s, generator=gen, dtype=torch.float64) for s in SHAPES]
    stacked = [t.clone().requires_grad_() for t in init]
    opt = StackedOptimizer(stacked, kind, torch.tensor(lrs, dtype=torch.float64),
                           torch.tensor(wds, dtype=torch.float64), BETAS, momentum, shared=shared)
    assert opt.fused == shared
    singles = [[t[r].clone().requires_grad_() for t in init] for r in range(n)]
    refs = [_reference(kind, singles[r], lrs[r], wds[r], momentum) for r in range(n)]
    for _ in range(20):
        grads = [torch.randn(n, *s, generator=gen, dtype=torch.float64) for s in SHAPES]
        for p, g in zip(stacked, grads, strict=True):
            p.grad = g.clone()
        opt.step(opt.lr)
        for r in range(n):
            for p, g in zip(singles[r], grads, strict=True):
                p.grad = g[r].clone()
            refs[r].step()
    for r in range(n):
        for p_stacked, p_single, p0 in zip(stacked, singles[r], init, strict=True):
            torch.testing.assert_close(p_stacked[r], p_single, rtol=1e-12, atol=1e-12)
            assert not torch.allclose(p_single, p0[r])  # the runs did move


def test_step_uses_the_given_learning_rate():
    """Warm-up hands step() a scaled lr; a zero lr must leave the parameters alone."""
    p = torch.ones(2, 3, dtype=torch.float64, requires_grad=True)
    opt = StackedOptimizer([p], "adamw", torch.tensor([1.0, 1.0]), torch.tensor([1.0, 1.0]))
    p.grad = torch.ones_like(p)
    opt.step(torch.tensor([0.0, 0.5], dtype=torch.float64))
    assert torch.equal(p[0], torch.ones(3, dtype=torch.float64))
    assert bool((p[1] < 1).all())


def test_keep_drops_runs_with_their_state():
    gen = torch.Generator().manual_seed(1)
    p = torch.randn(3, 4, generator=gen, dtype=torch.float64, requires_grad=True)
    opt = StackedOptimizer([p], "adam", torch.tensor([1e-2, 2e-2, 3e-2], dtype=torch.float64),
                           torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64), BETAS)
    twin = p.detach()[2:].clone().requires_grad_()
    ref = torch.optim.Adam([twin], lr=3e-2, betas=BETAS, weight_decay=1.0)
    grads = [torch.randn(3, 4, generator=gen, dtype=torch.float64) for _ in range(6)]
    for g in grads[:3]:
        p.grad = g
        opt.step(opt.lr)
        twin.grad = g[2:].clone()
        ref.step()
    kept = p.detach()[[2]].clone().requires_grad_()
    opt.keep(torch.tensor([2]), [kept])
    for g in grads[3:]:
        kept.grad = g[[2]]
        opt.step(opt.lr)
        twin.grad = g[2:].clone()
        ref.step()
    torch.testing.assert_close(kept, twin, rtol=1e-12, atol=1e-12)


def test_shared_needs_one_learning_rate():
    p = torch.ones(2, 3, requires_grad=True)
    with pytest.raises(ValueError, match="one learning rate"):
        StackedOptimizer([p], "adamw", torch.tensor([1e-3, 2e-3]), torch.tensor([1.0, 0.5]), shared=True)


def test_fused_kernel_missing_falls_back(monkeypatch):
    """A PyTorch without the fused kernel for this device: the same update, by the general code."""
    def missing(*args, **kwargs):
        raise NotImplementedError("no fused Adam here")

    monkeypatch.setattr(torch, "_fused_adam_", missing)
    init = torch.randn(2, 4, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    p = init.clone().requires_grad_()
    opt = StackedOptimizer([p], "adamw", torch.tensor([1e-2, 1e-2], dtype=torch.float64),
                           torch.tensor([1.0, 0.1], dtype=torch.float64), BETAS, shared=True)
    singles = [init[r].clone().requires_grad_() for r in range(2)]
    refs = [_reference("adamw", [singles[r]], 1e-2, wd, 0.0) for r, wd in enumerate([1.0, 0.1])]
    for _ in range(5):
        g = torch.randn(2, 4, 5, dtype=torch.float64)
        p.grad = g.clone()
        opt.step(opt.lr)
        for r in range(2):
            singles[r].grad = g[r].clone()
            refs[r].step()
    assert not opt.fused
    for r in range(2):
        torch.testing.assert_close(p[r], singles[r], rtol=1e-12, atol=1e-12)
