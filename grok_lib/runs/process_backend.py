"""The ``"processes"`` backend of `sweep`: a sweep's stacks trained side by side in worker processes.

One GPU runs a small stack far below its capacity: each training step is a few dozen small
kernels, and the time goes into launching them from Python. Several processes launching at
once keep the GPU busy, so a sweep of many stacks finishes several times sooner. On a CPU the
same backend trains one stack per core (each worker gets one thread).

The stacks are grouped exactly as in-process training groups them (`stack_groups`), through
the same trainer, so the histories are those of the local backend. Each finished stack is
handed to ``on_done`` as it arrives (the runner stores it there): an interrupted sweep keeps
every stack that finished. ``$GROK_WORKERS`` sets the number of workers (default: 8 on a GPU,
one per core on a CPU).
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os

import torch

from grok_lib.training.config import TrainConfig
from grok_lib.training.device import resolve_device
from grok_lib.training.record import Run
from grok_lib.training.trainer import progress_bar, stack_groups, train_many

from .runner import OnDone

GPU_WORKERS = 8


def workers(device: torch.device, n_stacks: int) -> int:
    """How many processes to start: ``$GROK_WORKERS``, else 8 on a GPU or one per core, never more than stacks."""
    env = os.environ.get("GROK_WORKERS")
    if env is not None:
        if not env.isdigit() or int(env) < 1:
            raise ValueError(f"GROK_WORKERS={env!r} must be a whole number of processes, 1 or more (e.g. 4).")
        wanted = int(env)
    else:
        wanted = GPU_WORKERS if device.type == "cuda" else os.cpu_count() or 1
    return max(1, min(wanted, n_stacks))


def _train_stack(configs: list[TrainConfig], device: str, threads: int) -> list[Run]:
    """In a worker: train one stack (as the local backend would)."""
    if threads:
        torch.set_num_threads(threads)
    return train_many(configs, device=device, progress=False)


def train_in_processes(configs: list[TrainConfig], device: str | None, progress: bool, on_done: OnDone) -> None:
    """Train every stack of ``configs`` in a pool of worker processes, largest stacks first."""
    dev = resolve_device(device)
    groups = sorted(([configs[i] for i in g] for g in stack_groups(configs)),
                    key=lambda g: -sum(c.steps for c in g))
    n = workers(dev, len(groups))
    threads = 1 if dev.type == "cpu" and n > 1 else 0
    bar = progress_bar(configs, progress, desc=f"training {len(configs)} runs in {n} processes")
    pool = cf.ProcessPoolExecutor(n, mp_context=mp.get_context("spawn"))  # CUDA needs spawned workers
    try:
        futures = {pool.submit(_train_stack, g, str(dev), threads): g for g in groups}
        for future in cf.as_completed(futures):
            runs = future.result()
            on_done(runs)
            bar.update(sum(c.steps for c in futures[future]))
    finally:  # on Ctrl-C too: what finished is stored already, the stacks not started are cancelled
        pool.shutdown(wait=True, cancel_futures=True)
        bar.close()
