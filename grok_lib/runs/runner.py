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

from grok_lib.training.config import TrainConfig
from grok_lib.training.record import Run
from grok_lib.training.trainer import train_many

from .store import Store


def load_or_train(config: TrainConfig | Iterable[TrainConfig], store: str | Path | Store | None = None,
                  device: str | None = None, progress: bool = True, retrain: bool = False) -> Run | list[Run]:
    """The stored run for ``config`` if there is one, else train it, store it and return it.

    Give a list of configs to get a list back; the missing ones are trained together
    (stacked where they share an architecture) — this is the sweep entry point.
    """
    single = isinstance(config, TrainConfig)
    configs = [config] if single else list(config)
    st = store if isinstance(store, Store) else Store(store)
    missing = [c for c in dict.fromkeys(configs) if retrain or not st.has(c)]
    fresh: dict[TrainConfig, Run] = {}

    def keep(runs: list[Run]) -> None:
        for run in runs:
            fresh[run.config] = run
            if run.meta.get("status") not in ("interrupted", "stopped"):
                st.save(run)

    if missing:
        train_many(missing, device=device, progress=progress, on_done=keep)
    # stored runs are read back, so a first call and a later one return the same thing;
    # an interrupted run (not stored) comes back from memory with the history it has
    runs = [st.load(c) if st.has(c) else fresh.get(c, Run(c, meta={"status": "not_started"})) for c in configs]
    return runs[0] if single else runs


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
