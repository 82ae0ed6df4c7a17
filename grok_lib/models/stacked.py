"""What every stacked model shares: N independent runs held in one module.

Every parameter carries a leading *runs* dimension ``N``: one object holds N models that
share an architecture, so a sweep trains them in one pass. With ``n_runs=1`` a model takes
``[batch, tokens]`` and returns ``[batch, classes]``; with more it takes and returns a
leading ``N``. Each run is initialised from its own seed, so a run gets the same weights
whether it is trained alone or stacked with others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .hooks import HookedModule

ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {"relu": F.relu, "gelu": F.gelu}
INITS: dict[str, Callable[[tuple[int, ...], torch.Generator, float], Tensor]] = {
    "normal": lambda shape, gen, scale: torch.randn(shape, generator=gen, dtype=torch.float64) * scale,
    "uniform": lambda shape, gen, scale: (torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1) * scale,
    "zeros": lambda shape, gen, scale: torch.zeros(shape),
    "ones": lambda shape, gen, scale: torch.ones(shape),
}


class StackedModule(HookedModule):
    """Per-run parameters, per-run initialisation, and taking runs out of the stack."""

    def __init__(self, n_runs: int, **hparams: Any):
        super().__init__()
        self.n_runs = n_runs
        self.hparams = hparams  # what `single` needs to build a one-run copy
        self.init_specs: dict[str, tuple[str, float]] = {}

    def add_param(self, name: str, shape: tuple[int, ...], init: str, scale: float = 1.0) -> None:
        """Register a parameter of shape ``[n_runs, *shape]`` and how to initialise it (`INITS`)."""
        self.register_parameter(name, nn.Parameter(torch.empty(self.n_runs, *shape)))
        self.init_specs[name] = (init, scale)

    @torch.no_grad()
    def reset_parameters(self, seeds: list[int]) -> None:
        """Initialise run r from a generator seeded with ``seeds[r]``, parameters in a fixed order."""
        if len(seeds) != self.n_runs:
            raise ValueError(f"need {self.n_runs} seeds, got {len(seeds)}")
        for r, seed in enumerate(seeds):
            gen = torch.Generator().manual_seed(seed)
            for module in self.modules():
                for name, (init, scale) in getattr(module, "init_specs", {}).items():
                    param = getattr(module, name)
                    param[r] = INITS[init](param.shape[1:], gen, scale).to(param.dtype)

    def run_with_cache(self, x: Tensor, **forward_kwargs: Any) -> tuple[Tensor, dict[str, Tensor]]:
        """As `HookedModule.run_with_cache`; for one run's ``[batch, tokens]`` input the cache
        drops the runs axis too."""
        out, cache = super().run_with_cache(x, **forward_kwargs)
        if x.dim() == 2:
            cache = {k: v[0] for k, v in cache.items()}
        return out, cache

    def single(self, r: int) -> StackedModule:
        """A one-run copy of run ``r`` (for analysis or storage)."""
        like = next(self.parameters())
        clone = type(self)(**self.hparams, n_runs=1).to(like.device, like.dtype)
        clone.load_state_dict({k: v[r : r + 1].clone() for k, v in self.state_dict().items()})
        return clone

    @torch.no_grad()
    def keep_runs(self, idx: Tensor) -> None:
        """Keep only runs ``idx`` (in place): finished runs leave the stack, the rest go on.
        Gradients are kept with their runs; parameters are replaced, so an optimiser must be
        handed the new ones."""
        for module in self.modules():
            for name, p in list(module.named_parameters(recurse=False)):
                kept = nn.Parameter(p.data[idx])
                kept.grad = None if p.grad is None else p.grad[idx]
                setattr(module, name, kept)
            if isinstance(module, StackedModule):
                module.n_runs = len(idx)

    def _batched(self, x: Tensor) -> tuple[Tensor, bool]:
        """Inputs with a leading runs axis, and whether it was added here (one run, no axis)."""
        if x.dim() == 2:
            if self.n_runs != 1:
                raise ValueError(f"this object holds {self.n_runs} models: give inputs as [N, batch, tokens]")
            return x.unsqueeze(0), True
        return x, False


def run_norms(tensors: Iterable[Tensor]) -> Tensor:
    """Each run's Euclidean norm over all of ``tensors`` together (each [run, ...]): the weight norm the
    trainer logs and the norm constraint holds, or the gradient's norm."""
    return sum(t.reshape(t.shape[0], -1).pow(2).sum(1) for t in tensors).sqrt()
