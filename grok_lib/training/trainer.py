"""One entry point that trains one run or many stacked runs, logging what the course plots.

``train(config)`` trains a single run; ``train_many(configs)`` groups configs that share an
architecture and trains each group as one stacked model (see `models`), each run with its own
split, seed, learning rate, weight decay, budget and early stop. A run trained in a stack
logs the same history as when trained alone.

Which configs share a stack is `grouping`'s choice, and what each logged row grades is
`evaluation`'s. The stack's data lives in `batches`, each run's log and early-stop state in `bookkeeping`,
the changes to the gradient before each step (Grokfast, ⊥Grad) in `gradient_filters`, the
changes to the weights around it (weight noise, the norm constraint) in `weight_changes`, and
TrueGrad's per-example squared gradients in `per_example`; this module holds the loop that
drives them. One training step::

    x = the batch;  w̃ = w (+ noise)                   weight noise: the pass sees w + σε
    loss = Σ w_i ℓ_i(w̃; x)   (dropout on)              then backward: the gradient g
    S = Σ (w_i ∇ℓ_i)²                                  TrueGrad only
    log (every so often);  filter g (Grokfast, ⊥Grad)
    optimiser step (decay to 0 or to w0);  rescale to the held norm
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

import torch
from torch import Tensor
from torch.func import functional_call

from grok_lib.models import StackedModule, run_norms
from grok_lib.models.dropout import dropping_out
from grok_lib.task.data import vocab_size

from .batches import Batch, example_loss, make_stack
from .bookkeeping import GRADIENT_METRICS, RunLog
from .build import build_model
from .config import TrainConfig
from .cpu import fast_cpu
from .device import environment, resolve_device
from .diagnostics import Diagnostics
from .evaluation import evaluate
from .gradient_filters import GradientFilters
from .grouping import stack_groups
from .optimizers import StackedOptimizer
from .per_example import square_gradient_sums
from .record import Run
from .weight_changes import NormConstraint, WeightNoise

__all__ = ["progress_bar", "stack_groups", "train", "train_many"]

class _StackTraining:
    """One stack of runs in training: its model, data and optimiser, and a `RunLog` per run.

    ``active`` lists the runs still in the stack, in stack order; a run that is done leaves
    the model, the data, the optimiser and the warm-up schedule together (`keep_runs`).
    """

    def __init__(self, configs: list[TrainConfig], device: torch.device):
        c0 = configs[0]
        dtype = getattr(torch, c0.dtype)
        self.device, self.batch_size = device, c0.batch_size
        self.width = c0.d_hidden if c0.model == "mlp" else c0.d_mlp  # sizes the evaluation chunks
        self.output, self.loss = c0.output, c0.loss
        self.data = make_stack(configs, device, dtype)
        self.model = build_model(c0, vocab_size(self.data.n_classes, c0.model), self.data.n_classes,
                                 seeds=[c.seed for c in configs],
                                 init_scales=[c.init_scale for c in configs]).to(device)
        held = any(c.norm_constraint is not None for c in configs)
        self.norm = NormConstraint(configs, device, dtype) if held else None
        if self.norm is not None:  # the norm is held from the start
            self.norm.apply(list(self.model.parameters()))
        self.noise = WeightNoise(configs, device, dtype) if any(c.weight_noise > 0 for c in configs) else None
        self.dropout = c0.dropout > 0
        self.square_sums: list[Tensor] | None = None  # TrueGrad's S for this step's update
        as_t = lambda xs: torch.tensor(xs, device=device, dtype=dtype)
        lr = as_t([c.lr for c in configs])
        self.warmup = as_t([max(c.warmup_steps, 1) for c in configs])
        self.warm_until = max(max(c.warmup_steps, 1) for c in configs)
        shared = len({(c.lr, c.warmup_steps) for c in configs}) == 1  # one learning-rate schedule
        self.opt = StackedOptimizer(list(self.model.parameters()), c0.optimizer, lr,
                                    as_t([c.weight_decay for c in configs]), c0.betas, c0.momentum,
                                    eps=c0.adam_eps, shared=shared, decay_to=c0.decay_to)
        self.filters = GradientFilters(c0)
        self.diagnostics = Diagnostics(self.model) if c0.diagnostics else None
        self.logs = [RunLog(c) for c in configs]
        self.runs = [log.run for log in self.logs]
        self.active = list(self.logs)
        self.eval_at = set().union(*(log.schedule for log in self.logs))
        self.checkpoint_at = set().union(*(log.checkpoint_at for log in self.logs))
        self.max_steps = max(c.steps for c in configs)

    def train(self, bar: Any, callback: Callable[[int, list[Run]], None] | None,
              stop: threading.Event | None) -> str:
        """Step until every run is done (``budget``) or ``stop`` is set (``stopped``)."""
        last_logged = 0
        for step in range(self.max_steps):
            logging = step in self.eval_at
            if logging:
                metrics = self._evaluate()
            if step in self.checkpoint_at:
                self._checkpoint(step)
            x, row, y, w = self._batch()
            weights = None if self.noise is None else self.noise.perturbed(self.model)
            per_example = example_loss(self._forward(x, weights, step), row, y, self.output, self.loss)
            for p in self.opt.params:
                p.grad = None
            (per_example * w).sum().backward()
            if self.opt.kind == "truegrad":
                self.square_sums = square_gradient_sums(self.model, x, row, y, w, self.output, weights)
            lr = self._lr(step)
            if logging:
                finished = self._record(step, self._with_diagnostics(self._with_gradient(metrics, lr)))
                if callback:
                    callback(step, self.runs)
                bar.update((step - last_logged) * len(self.active)
                           + sum(log.config.steps - step for log in self.active if log.done))
                last_logged = step
                if finished:
                    if not self._drop_finished(step):
                        return "budget"
                    lr = self._lr(step)  # the learning rates of the runs that stay
            if stop is not None and stop.is_set():
                return "stopped"
            self.filters.apply(self.opt.params)  # Grokfast, ⊥Grad (if the config asks): after logging |g|
            if self.diagnostics is not None and step + 1 in self.eval_at:
                self.diagnostics.snapshot(self.opt.params)  # to measure the update that leads to the next row
            self.opt.step(lr, self.square_sums)
            if self.norm is not None:
                self.norm.apply(self.opt.params)
        # the last row: no update after it, so no gradient
        metrics = self._evaluate()
        self._checkpoint(self.max_steps)
        nan = torch.full((metrics.shape[0], GRADIENT_METRICS), math.nan, dtype=metrics.dtype, device=metrics.device)
        self._record(self.max_steps, self._with_diagnostics(torch.cat([metrics, nan], 1)))
        return "budget"

    def _evaluate(self) -> Tensor:
        """The stack's grades [N, 5] (`evaluation`)."""
        return evaluate(self.model, self.data, self.width, self.output, self.loss)

    def _with_diagnostics(self, row: Tensor) -> Tensor:
        """``row`` with the `diagnostics` columns after it, if the runs log them."""
        if self.diagnostics is None:
            return row
        extra = self.diagnostics.row(self.model, self.opt, self.data, self.output, self.loss)
        return torch.cat([row, extra.to(row.dtype)], 1)

    def _forward(self, x: Tensor, weights: dict[str, Tensor] | None, step: int) -> Tensor:
        """The training pass: logits under ``weights`` (the model's own if None), with dropout on if the
        runs use it (each run's masks from its seed and the step, see `grok_lib.models.dropout`)."""
        drop = dropping_out(self.model, [log.config.seed for log in self.active], step) if self.dropout else None
        with drop or nullcontext():
            return self.model(x) if weights is None else functional_call(self.model, weights, (x,))

    def _batch(self) -> Batch:
        """This step's batch: every run's whole training set, or each run's next minibatch."""
        if self.batch_size is None:
            return self.data.full_batch()
        return self.data.minibatch([log.sampler for log in self.active], self.batch_size)

    def _lr(self, step: int) -> Tensor:
        """Each run's learning rate for the update after ``step``: linear warm-up, then constant."""
        if step + 1 >= self.warm_until:  # past every run's warm-up: skip three small kernels a step
            return self.opt.lr
        return self.opt.lr * torch.clamp((step + 1) / self.warmup, max=1.0)

    def _with_gradient(self, metrics: Tensor, lr: Tensor) -> Tensor:
        """``metrics`` [N, 5] and the columns that need this step's gradient: its norm, the
        effective learning rate lr / |w|^2 and the effective gradient |g| |w|."""
        gnorm = run_norms(p.grad for p in self.model.parameters())
        wn = metrics[:, 4]
        return torch.cat([metrics, gnorm[:, None], (lr / wn**2)[:, None], (gnorm * wn)[:, None]], 1)

    def _record(self, step: int, row: Tensor) -> bool:
        """Hand each run in the stack its row of ``row`` if it logs at ``step``; True if one is done."""
        row = row.cpu()
        finished = False
        for pos, log in enumerate(self.active):
            if log.logs_at(step):
                finished |= log.record(step, row[pos].tolist())
        return finished

    def _checkpoint(self, step: int, done_only: bool = False) -> None:
        """Keep, in float16, the weights of the runs that checkpoint at ``step`` (or, with
        ``done_only``, of those that keep checkpoints and just finished: their last one)."""
        for pos, log in enumerate(self.active):
            due = log.done if done_only else step in log.checkpoint_at
            if due and log.config.checkpoint_every:
                log.run.checkpoints[step] = {k: v.half() for k, v in _weights(self.model, pos).items()}

    def _drop_finished(self, step: int) -> bool:
        """Take the runs that are done out of the stack, with their weights; False if none is left."""
        self._checkpoint(step, done_only=True)
        for pos, log in enumerate(self.active):
            if log.done:
                log.run.state_dict = _weights(self.model, pos)
        keep = [pos for pos, log in enumerate(self.active) if not log.done]
        if keep:
            self.keep_runs(keep)
        return bool(keep)

    def keep_runs(self, keep: list[int]) -> None:
        """Keep only stack positions ``keep``: in the model, the data, the optimiser, the gradient
        filters, the weight noise, the norm constraint, this step's TrueGrad sums and the warm-up."""
        idx = torch.tensor(keep, device=self.device)
        self.active = [self.active[i] for i in keep]
        self.data.keep(idx)
        self.model.keep_runs(idx)
        self.opt.keep(idx, list(self.model.parameters()))
        self.filters.keep(idx)
        for part in (self.noise, self.norm, self.diagnostics):
            if part is not None:
                part.keep(idx)
        if self.square_sums is not None:
            self.square_sums = [s[idx] for s in self.square_sums]
        self.warmup = self.warmup[idx]

    def finish(self, status: str, wall_s: float) -> list[Run]:
        """The runs with their metadata, and the weights of those still in the stack."""
        meta = environment(self.device) | {"wall_time_s": round(wall_s, 3), "stacked_runs": len(self.logs)}
        for log in self.logs:
            log.run.meta = meta | {"status": log.status(status),
                                   "steps_done": log.run.steps[-1] if log.run.steps else 0}
        for pos, log in enumerate(self.active):
            if log.run.state_dict is None:
                log.run.state_dict = _weights(self.model, pos)
        return self.runs


def _train_group(configs: list[TrainConfig], device: torch.device, bar: Any,
                 callback: Callable[[int, list[Run]], None] | None, stop: threading.Event | None) -> list[Run]:
    """Train one stack; Ctrl-C ends it with the histories so far (status ``interrupted``)."""
    stack = _StackTraining(configs, device)
    t0 = time.perf_counter()
    try:
        status = stack.train(bar, callback, stop)
    except KeyboardInterrupt:
        status = "interrupted"
    return stack.finish(status, time.perf_counter() - t0)


def _weights(model: StackedModule, pos: int) -> dict[str, Tensor]:
    """Run ``pos`` of a stack as a one-run state dict on the CPU."""
    return {k: v[pos : pos + 1].detach().cpu().clone() for k, v in model.state_dict().items()}


def progress_bar(configs: list[TrainConfig], enabled: bool, desc: str | None = None) -> Any:
    """One bar for the whole call, counted in run-steps (a run that stops early jumps ahead)."""
    from tqdm.auto import tqdm

    if desc is None:
        desc = "training" if len(configs) == 1 else f"training {len(configs)} runs"
    return tqdm(total=sum(c.steps for c in configs), desc=desc, disable=not enabled, leave=False,
                unit="step", unit_scale=True)


def train_many(configs: list[TrainConfig], device: str | torch.device | None = None, progress: bool = True,
               callback: Callable[[int, list[Run]], None] | None = None, stop: threading.Event | None = None,
               max_stack: int = 64, on_done: Callable[[list[Run]], None] | None = None) -> list[Run]:
    """Train every config; configs that can share a stacked model are trained together.

    ``on_done`` receives each group's runs as soon as the group finishes (the store saves
    them there, so an interrupted sweep keeps every finished group). After an interrupt
    the remaining groups are skipped and returned as empty runs marked ``not_started``.
    """
    dev = resolve_device(device)
    out = [Run(c, meta={"status": "not_started"}) for c in configs]
    bar = progress_bar(configs, progress)
    try:
        for chunk in stack_groups(configs, max_stack):
            with fast_cpu(dev):
                runs = _train_group([configs[i] for i in chunk], dev, bar, callback, stop)
            for i, run in zip(chunk, runs, strict=True):
                out[i] = run
            if on_done:
                on_done(runs)
            if any(r.cut_short for r in runs):
                break
    finally:
        bar.close()
    return out


def train(config: TrainConfig, device: str | torch.device | None = None, progress: bool = True,
          callback: Callable[[int, list[Run]], None] | None = None, stop: threading.Event | None = None) -> Run:
    """Train one run. Ctrl-C (or ``stop.set()``) ends it early and keeps the history so far."""
    return train_many([config], device, progress, callback, stop)[0]
