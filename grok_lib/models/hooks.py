"""Named hook points and `run_with_cache`: how the course looks inside a model.

A `HookPoint` is an identity layer with a name (its attribute name in the model). Models
pass each activation worth looking at through one, so `run_with_cache` can return every
activation of a forward pass by name, as TransformerLens does.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn


class HookPoint(nn.Module):
    """An identity layer that names an activation, so hooks and caches can find it."""

    def forward(self, x: Tensor) -> Tensor:
        return x


class HookedModule(nn.Module):
    """A module whose named activations can be collected in one forward pass."""

    def hook_points(self) -> dict[str, HookPoint]:
        """Every hook point, by its dotted name (``blocks.0.hook_pattern``)."""
        return {name: m for name, m in self.named_modules() if isinstance(m, HookPoint)}

    def run_with_cache(self, x: Tensor, **forward_kwargs: Any) -> tuple[Tensor, dict[str, Tensor]]:
        """Forward pass (without gradients) that also returns every named activation, detached."""
        cache: dict[str, Tensor] = {}
        handles = [
            hp.register_forward_hook(lambda _m, _i, out, name=name: cache.__setitem__(name, out.detach()))
            for name, hp in self.hook_points().items()
        ]
        try:
            with torch.no_grad():
                out = self(x, **forward_kwargs)
        finally:
            for h in handles:
                h.remove()
        return out, cache
