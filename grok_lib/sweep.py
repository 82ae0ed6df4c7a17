"""Sweeps: a grid of configs in, stored results out.

`sweep` skips runs already in the store and hands the rest to a *backend*. The default
backend trains stacks of runs in this process (`train_many`); another (a process pool, a
cluster queue) only has to be a function with the same signature, registered in `BACKENDS`,
and callers choose it by name without changing anything else.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .config import TrainConfig
from .store import Store, load_or_train
from .train import Run

Backend = Callable[..., list[Run]]


def _local(configs: list[TrainConfig], store: Store, device: str | None, progress: bool) -> list[Run]:
    return load_or_train(configs, store=store, device=device, progress=progress)  # type: ignore[return-value]


BACKENDS: dict[str, Backend] = {"local": _local}


def grid(base: TrainConfig | None = None, **axes: Iterable[Any]) -> list[TrainConfig]:
    """Every combination of the given axes applied to ``base`` (last axis varies fastest).

    ``grid(TrainConfig(p=59), weight_decay=[0.1, 1], seed=range(3))`` gives 6 configs.
    """
    base = base or TrainConfig()
    names = list(axes)
    combos = itertools.product(*(list(axes[n]) for n in names))
    return [base.replace(**dict(zip(names, values, strict=True))) for values in combos]


def sweep(configs: Iterable[TrainConfig], store: str | Path | Store | None = None, device: str | None = None,
          progress: bool = True, backend: str = "local") -> list[Run]:
    """Stored runs for every config, training (and storing) only the missing ones."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {sorted(BACKENDS)}")
    st = store if isinstance(store, Store) else Store(store)
    return BACKENDS[backend](list(configs), st, device, progress)
