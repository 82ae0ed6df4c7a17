"""The runner: configs in, stored results out, training only what the store lacks.

`sweep` is the one runner; `load_or_train` is the same call for one config or a list (the
name the chapters use). What is missing goes to a *backend*: ``"local"`` trains stacks of
runs in this process (`train_many`), ``"processes"`` trains them side by side in worker
processes (`process_backend`: several at once keep one GPU busy), ``"ray"`` trains them as
tasks on a Ray cluster (`ray_backend`, imported only when chosen). Another only has to be a function with
`Backend`'s signature, registered in `BACKENDS`, and callers choose it by name without
changing anything else.
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

OnDone = Callable[[list[Run]], None]
# (configs to train, device, progress bar, on_done): trains every config and hands each finished
# group of runs to on_done as soon as it is done, so an interrupted sweep keeps what it finished
Backend = Callable[[list[TrainConfig], str | None, bool, OnDone], None]


class SweepError(RuntimeError):
    """Raised by a backend, after every other run is stored, for runs it could not train."""

    def __init__(self, failed: list[TrainConfig], message: str):
        super().__init__(message)
        self.failed = failed


def _local(configs: list[TrainConfig], device: str | None, progress: bool, on_done: OnDone) -> None:
    train_many(configs, device=device, progress=progress, on_done=on_done)


def _ray(configs: list[TrainConfig], device: str | None, progress: bool, on_done: OnDone) -> None:
    from .ray_backend import train_on_ray  # Ray is an optional extra: only this backend imports it

    train_on_ray(configs, device, progress, on_done)


def _processes(configs: list[TrainConfig], device: str | None, progress: bool, on_done: OnDone) -> None:
    from .process_backend import train_in_processes

    train_in_processes(configs, device, progress, on_done)


BACKENDS: dict[str, Backend] = {"local": _local, "processes": _processes, "ray": _ray}


def sweep(configs: Iterable[TrainConfig], store: str | Path | Store | None = None, device: str | None = None,
          progress: bool = True, backend: str = "local", retrain: bool = False) -> list[Run]:
    """The stored run of every config, training (and storing) only the missing ones; ``retrain``
    trains them all again. The missing runs are trained together, stacked where they can be,
    by ``backend``: ``"local"`` (this process), ``"processes"`` (worker processes, see
    `process_backend`) or ``"ray"`` (a Ray cluster, see `ray_backend`)."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {sorted(BACKENDS)}")
    configs = list(configs)
    st = store if isinstance(store, Store) else Store(store)
    missing = [c for c in dict.fromkeys(configs) if retrain or not st.has(c)]
    fresh: dict[TrainConfig, Run] = {}

    def keep(runs: list[Run]) -> None:
        for run in runs:
            fresh[run.config] = run
            if not run.cut_short:
                st.save(run)

    if missing:
        BACKENDS[backend](missing, device, progress, keep)
    # stored runs are read back, so a first call and a later one return the same thing;
    # an interrupted run (not stored) comes back from memory with the history it has
    return [st.load(c) if st.has(c) else fresh.get(c, Run(c, meta={"status": "not_started"})) for c in configs]


def load_or_train(config: TrainConfig | Iterable[TrainConfig], store: str | Path | Store | None = None,
                  device: str | None = None, progress: bool = True, retrain: bool = False,
                  backend: str = "local") -> Run | list[Run]:
    """The stored run for ``config`` if there is one, else train it, store it and return it.

    Give a list of configs to get a list back (that is `sweep`).
    """
    if isinstance(config, TrainConfig):
        return sweep([config], store, device, progress, backend, retrain)[0]
    return sweep(config, store, device, progress, backend, retrain)


def grid(base: TrainConfig | None = None, **axes: Iterable[Any]) -> list[TrainConfig]:
    """Every combination of the given axes applied to ``base`` (last axis varies fastest).

    ``grid(TrainConfig(p=59), weight_decay=[0.1, 1], seed=range(3))`` gives 6 configs.
    """
    base = base or TrainConfig()
    names = list(axes)
    combos = itertools.product(*(list(axes[n]) for n in names))
    return [base.replace(**dict(zip(names, values, strict=True))) for values in combos]
