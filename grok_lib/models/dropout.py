"""Dropout for stacked models: every run drops its own units, from random numbers of its own.

While training, a dropout step zeroes each activation with probability ``p`` and scales the rest by
``1 / (1 - p)``, so the layer's expected output is unchanged; at evaluation it does nothing. A stack
of N runs needs N independent masks, and a run must draw the same mask whether it trains alone or
stacked. So each run's mask is drawn from a generator seeded by the run's seed, the training step
and the dropout site (`mask_seed`), on the CPU, one run at a time, in the run's own shape
(``x.shape[1:]``). A stack pads every run's batch to its longest one, and a CPU generator fills a
tensor in order, so a run's real rows get the same numbers in a padded batch as alone.

The trainer switches dropout on for the training pass only (`dropping_out`); a `Dropout` that has
not been switched on is the identity, so evaluation, analysis and ``run_with_cache`` never drop.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import torch
from torch import Tensor, nn

DROPOUT_STREAM = 0x0D50  # tags the dropout masks' seeds, apart from every other use of a run's seed


def mask_seed(run_seed: int, step: int, site: int) -> int:
    """The seed of one run's mask at one step and one dropout site (sites numbered in module order)."""
    return int(np.random.SeedSequence([DROPOUT_STREAM, run_seed, step, site]).generate_state(1, np.uint64)[0])


class Dropout(nn.Module):
    """Inverted dropout with one mask per run: ``x * keep / (1 - p)``, ``keep ~ Bernoulli(1 - p)``.

    ``seeds`` holds this pass's seed per run, set by `dropping_out`; while it is None the step is
    the identity."""

    def __init__(self, p: float):
        super().__init__()
        self.p = p
        self.seeds: list[int] | None = None

    def forward(self, x: Tensor) -> Tensor:
        if self.seeds is None or not self.training or self.p == 0:
            return x
        if len(self.seeds) != x.shape[0]:
            raise ValueError(f"{len(self.seeds)} dropout seeds for {x.shape[0]} runs")
        keep = torch.stack([torch.rand(x.shape[1:], generator=torch.Generator().manual_seed(s), dtype=x.dtype)
                            >= self.p for s in self.seeds])
        return x * keep.to(x.device) / (1 - self.p)


@contextmanager
def dropping_out(model: nn.Module, run_seeds: Sequence[int], step: int) -> Iterator[None]:
    """Within the block, every `Dropout` of ``model`` drops units, run r's from ``run_seeds[r]`` and ``step``."""
    sites = [m for m in model.modules() if isinstance(m, Dropout)]
    for i, site in enumerate(sites):
        site.seeds = [mask_seed(seed, step, i) for seed in run_seeds]
    try:
        yield
    finally:
        for site in sites:
            site.seeds = None
