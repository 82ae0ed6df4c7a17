"""The ``"ray"`` backend of `sweep`: a sweep's stacks trained as tasks on a Ray cluster.

The missing configs are grouped into stacks exactly as in-process training groups them
(`stack_groups`), and each stack becomes one Ray task that runs the same trainer. The same
stacks through the same code give the same histories, bit for bit, as the local backend.
Workers only train and return their runs; the driver hands each finished stack to
``on_done`` as soon as it arrives, and the runner stores it there, so a sweep that is
interrupted, or whose worker fails, keeps every stack that finished, and a rerun trains
only what is missing.

Failures: a task whose code raised, or whose worker process died, is reported with the runs
it held and submitted again, up to ``tries`` times. A stack that fails every try is split in
two halves with tries of their own (a stack too large for a GPU's memory then trains in two;
one bad run does not take its stack-mates down with it). Runs that fail every try on their
own are named in a `SweepError` once everything else is stored. Ctrl-C stops submitting,
hands over the stacks that already finished and cancels the rest.

Ray is an optional extra (``pip install -e ".[cluster]"``), imported only when this backend runs.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from grok_lib.training.config import TrainConfig
from grok_lib.training.record import Run
from grok_lib.training.trainer import progress_bar, stack_groups, train_many

from .runner import OnDone, SweepError

INSTALL = 'pip install -e ".[cluster]" in the course checkout (or pip install "ray>=2.9")'
PACKAGE = Path(__file__).resolve().parents[1]  # grok_lib/, shipped to a remote cluster's workers

TrainStack = Callable[[list[TrainConfig], str, int], list[Run]]
Report = Callable[[str], None]


def require_ray() -> Any:
    """The ``ray`` module, or an ImportError that says what to install."""
    try:
        import ray
    except ImportError as e:
        raise ImportError(f"the Ray backend needs Ray, which is not installed here: {INSTALL}") from e
    return ray


def connect(address: str | None = None, **init_kwargs: Any) -> None:
    """Attach this process to a Ray cluster; nothing happens if it is attached already.

    ``address`` is the head node's ``host:port`` (printed by ``ray start --head`` there);
    the driver's copy of grok_lib then travels to the workers, so every node trains with
    the same code. Without an address Ray joins the cluster named in ``$RAY_ADDRESS``, or
    starts a local one on this machine (``init_kwargs`` such as ``num_cpus=2`` size it).
    """
    ray = require_ray()
    if ray.is_initialized():
        return
    if address:
        _check_reachable(address)
        init_kwargs.setdefault("runtime_env", {"py_modules": [str(PACKAGE)]})
    ray.init(address=address, logging_level="warning", **init_kwargs)


def _check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """Fail within seconds where nothing listens at a ``host:port`` (Ray itself retries for minutes)."""
    host, _, port = address.rpartition(":")
    if "://" in address or not host or not port.isdigit():
        return  # "auto", "ray://...": left to Ray
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as e:
        raise ConnectionError(f"nothing answers at {address} ({e}); is `ray start --head` running there?") from e


def train_stack(configs: list[TrainConfig], device: str, threads: int) -> list[Run]:
    """What one task runs: one stack, trained by the in-process trainer on the worker.

    Weights travel back only for configs that store them (``save_model``).
    """
    torch.set_num_threads(threads)
    runs = train_many(configs, device=device, progress=False, max_stack=len(configs))
    for run in runs:
        if not run.config.save_model:
            run.state_dict = None
    return runs


def describe(config: TrainConfig) -> str:
    """A config as its store key and the fields it sets away from the defaults."""
    default = TrainConfig().to_dict()
    changed = ", ".join(f"{k}={v}" for k, v in config.to_dict().items() if v != default[k])
    return f"{config.key()} ({changed})" if changed else config.key()


def _report(message: str) -> None:
    """Print above the progress bar, on stderr."""
    from tqdm.auto import tqdm

    tqdm.write(message, file=sys.stderr)


def _why(error: Exception) -> str:
    """One line on what went wrong in a task: the worker's own exception, or how the worker was lost."""
    cause = getattr(error, "cause", None)
    shown = cause if isinstance(cause, BaseException) else error
    lines = str(shown).strip().splitlines()
    return f"{type(shown).__name__}: {lines[0] if lines else 'no message'}"


def _device(ray: Any, device: str | None) -> str:
    """The device each task trains on: CUDA when asked for or, by default, when the cluster has GPUs."""
    gpus = ray.cluster_resources().get("GPU", 0)
    if device is None or device == "auto":
        return "cuda" if gpus else "cpu"
    kind = torch.device(device).type
    if kind == "cuda" and not gpus:
        raise RuntimeError("device='cuda' was asked for, but the Ray cluster has no GPU; use device='cpu' "
                           "or start the cluster's nodes on machines with GPUs")
    return kind  # a task sees only the GPU Ray gave it, so "cuda:1" would name none


class _RaySweep:
    """The driver's side of one sweep: tasks in flight, the tries each has had, and what failed for good."""

    def __init__(self, ray: Any, remote: Any, device: str, threads: int, tries: int, on_done: OnDone,
                 report: Report, bar: Any):
        self.ray, self.remote, self.device, self.threads, self.tries = ray, remote, device, threads, tries
        self.on_done, self.report, self.bar = on_done, report, bar
        self.pending: dict[Any, tuple[list[TrainConfig], int]] = {}  # task -> (its configs, which try)
        self.failed: list[TrainConfig] = []
        self.stopping = False

    def submit(self, configs: list[TrainConfig], attempt: int = 1) -> None:
        self.pending[self.remote.remote(configs, self.device, self.threads)] = (configs, attempt)

    def run(self) -> None:
        """Collect tasks as they finish until none is left; on Ctrl-C, `stop`."""
        try:
            while self.pending:
                [ref], _ = self.ray.wait(list(self.pending), num_returns=1)
                self.collect(ref)
        except KeyboardInterrupt:
            self.stop()

    def collect(self, ref: Any) -> None:
        """Hand a finished task's runs to on_done, or report its failure and try again."""
        configs, attempt = self.pending[ref]
        try:
            runs = self.ray.get(ref)
        except self.ray.exceptions.RayError as e:  # the task raised, or its worker died or was lost
            del self.pending[ref]
            held = "; ".join(describe(c) for c in configs)
            self.report(f"a stack of {len(configs)} run(s) failed on try {attempt} of {self.tries} ({_why(e)}); "
                        f"it held: {held}")
            self.retry(configs, attempt)
            return
        del self.pending[ref]  # only now: a Ctrl-C while fetching leaves it to `stop`
        self.on_done(runs)
        self.bar.update(sum(c.steps for c in configs))

    def retry(self, configs: list[TrainConfig], attempt: int) -> None:
        if self.stopping:
            self.failed += configs
        elif attempt < self.tries:
            self.submit(configs, attempt + 1)
        elif len(configs) > 1:  # train the halves apart, so that one bad run fails alone
            half = len(configs) // 2
            self.submit(configs[:half])
            self.submit(configs[half:])
        else:
            self.failed += configs

    def stop(self) -> None:
        """After Ctrl-C: submit nothing more, hand over the tasks that have finished, cancel the others."""
        self.stopping = True
        refs = list(self.pending)
        done, running = self.ray.wait(refs, num_returns=len(refs), timeout=0) if refs else ([], [])
        for ref in done:
            self.collect(ref)
        for ref in running:
            self.ray.cancel(ref, force=True)
        left = sum(len(configs) for configs, _ in self.pending.values()) + len(self.failed)
        self.pending.clear()
        self.failed.clear()
        self.report(f"interrupted: {left} run(s) not trained; every stack that finished is kept, and a rerun "
                    "trains only what is missing")


def train_on_ray(configs: list[TrainConfig], device: str | None, progress: bool, on_done: OnDone, *,
                 tries: int = 3, max_stack: int = 64, cpus_per_stack: int = 1, gpus_per_stack: float = 1.0,
                 train_fn: TrainStack = train_stack, report: Report = _report) -> None:
    """Train ``configs`` as one Ray task per stack, handing each finished stack's runs to ``on_done``.

    ``train_fn`` is what a task runs (tests put a failing one in its place); ``report`` receives
    one line for each failed try and one for an interrupt.
    """
    ray = require_ray()
    connect()
    dev = _device(ray, device)
    remote = ray.remote(train_fn).options(num_cpus=cpus_per_stack, num_gpus=gpus_per_stack if dev == "cuda" else 0,
                                          max_retries=0)  # retried by the driver, which reports each failure
    bar = progress_bar(configs, progress, desc=f"training {len(configs)} runs on Ray")  # moves as stacks return
    sweep = _RaySweep(ray, remote, dev, cpus_per_stack, tries, on_done, report, bar)
    try:
        for stack in stack_groups(configs, max_stack):
            sweep.submit([configs[i] for i in stack])
        sweep.run()
    finally:
        bar.close()
    if sweep.failed:
        raise SweepError(sweep.failed, f"{len(sweep.failed)} run(s) failed on every try ({tries} each); every "
                                       "other run is stored, and a rerun retries only these: "
                                       + "; ".join(describe(c) for c in sweep.failed))
