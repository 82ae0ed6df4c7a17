"""One entry point that trains one run or many stacked runs, logging what the course plots.

``train(config)`` trains a single run; ``train_many(configs)`` groups configs that share an
architecture and trains each group as one stacked model (see `models`), each run with its own
split, seed, learning rate, weight decay, budget and early stop. A run trained in a stack
logs the same history as when trained alone.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from grok_lib.models import StackedModule
from grok_lib.task.data import tokens, training_split, vocab_size
from grok_lib.task.operations import get_operation, operation_table

from .build import build_model
from .config import THRESHOLD, TrainConfig
from .cpu import fast_cpu
from .device import environment, resolve_device
from .optimizers import StackedOptimizer
from .record import METRICS, Run

EVAL_CHUNK_FLOATS = 2**22  # hidden activations per evaluation chunk, across the stack (16 MB in fp32)


def log_steps(steps: int, log_every: int) -> list[int]:
    """Steps at which a run is evaluated: every ``log_every``, plus about 16 per decade
    before the first of those (so a log-step axis shows the early, fast phase), plus the last."""
    dense = {int(round(10 ** (k / 16))) for k in range(0, 64)} | {0}
    out = {s for s in dense if s < log_every} | set(range(0, steps + 1, log_every)) | {steps}
    return sorted(s for s in out if s <= steps)


class _Stack:
    """Per-run data of a stacked group: padded training indices, labels and masks.

    The network sees *rows*; examples read their logits from a row. For a summed-embedding
    MLP, (a, b) and (b, a) give the same logits, so both read one row: at 30% training
    data about 15% fewer rows pass through the network each step, and half as many when
    the full table is evaluated -- for the same loss and gradient, as each example keeps
    its own label. Other models get one row per pair.

    The full batch is ``batch_x`` [N, rows, tokens]; example i of run n reads row
    ``batch_row[n, i]``. Evaluation runs ``eval_x`` [rows, tokens] (shared by all runs);
    pair j of the table reads row ``eval_row[j]``, and ``eval_order`` lists the pairs by row.
    """

    _PER_RUN = ("n_train", "n_val", "train_idx", "train_y", "weight", "is_train", "table_y", "batch_x", "batch_row")

    def __init__(self, configs: list[TrainConfig], device: torch.device, dtype: torch.dtype):
        c0 = configs[0]
        a, b, c = operation_table(c0.op, c0.p)
        self.n_classes = get_operation(c0.op).n_elements(c0.p)
        self.inputs = tokens(a, b, self.n_classes, c0.model).to(device)
        n_pairs, n = len(c), len(configs)
        rows_of = lambda pairs: _rows(a, b, pairs, symmetric=c0.model == "mlp" and c0.merge == "sum")  # noqa: E731
        splits = [training_split(c, self.n_classes, cfg.train_frac, cfg.split_seed, cfg.label_noise)
                  for cfg in configs]
        self.n_train = torch.tensor([len(tr) for tr, _, _ in splits], device=device, dtype=dtype)
        self.n_val = torch.tensor([len(va) for _, va, _ in splits], device=device, dtype=dtype)
        width = int(self.n_train.max())
        self.train_idx = torch.zeros(n, width, dtype=torch.long)
        self.train_y = torch.zeros(n, width, dtype=torch.long)
        self.weight = torch.zeros(n, width, dtype=dtype)
        self.batch_row = torch.zeros(n, width, dtype=torch.long)
        self.is_train = torch.zeros(n, n_pairs, dtype=torch.bool)
        self.table_y = c.repeat(n, 1)  # what each run is graded against on the full table
        row_pairs = []  # per run: the pair shown at each batch row
        for r, (tr, _, y) in enumerate(splits):
            self.train_idx[r, : len(tr)] = tr
            self.train_y[r, : len(tr)] = y
            self.weight[r, : len(tr)] = 1.0 / len(tr)
            self.is_train[r, tr] = True
            self.table_y[r, tr] = y
            shown, self.batch_row[r, : len(tr)] = rows_of(tr)
            row_pairs.append(shown)
        rows = torch.zeros(n, max(len(rp) for rp in row_pairs), dtype=torch.long)
        for r, rp in enumerate(row_pairs):
            rows[r, : len(rp)] = rp
        for name in ("train_idx", "train_y", "weight", "batch_row", "is_train", "table_y"):
            setattr(self, name, getattr(self, name).to(device))
        self.batch_x = self.inputs[rows.to(device)]  # full-batch inputs, gathered once
        shown, eval_row = rows_of(torch.arange(n_pairs))
        self.eval_x, self.eval_row = self.inputs[shown.to(device)], eval_row.to(device)
        self.eval_order = torch.argsort(self.eval_row, stable=True)  # pairs grouped by the row they read

    def keep(self, idx: Tensor) -> None:
        for name in self._PER_RUN:
            setattr(self, name, getattr(self, name)[idx])


def _rows(a: Tensor, b: Tensor, pairs: Tensor, symmetric: bool) -> tuple[Tensor, Tensor]:
    """The pairs to show the network for ``pairs`` (indices into the operation table), and
    the row each of ``pairs`` reads: one row per unordered pair {a, b} when ``symmetric``."""
    if not symmetric:
        return pairs, torch.arange(len(pairs))
    lo, hi = torch.minimum(a[pairs], b[pairs]), torch.maximum(a[pairs], b[pairs])
    values, row = torch.unique(lo * (int(hi.max()) + 1) + hi, return_inverse=True)
    first = torch.full((len(values),), len(pairs)).scatter_reduce_(0, row, torch.arange(len(pairs)), "amin")
    return pairs[first], row


def example_loss(logits: Tensor, row: Tensor, y: Tensor) -> Tensor:
    """Cross-entropy of each example [N, B]: ``-log softmax(logits[n, row[n, i]])[y[n, i]]``."""
    logp = logits.log_softmax(-1)
    return -logp.flatten(1).gather(1, row * logp.shape[-1] + y)


@torch.no_grad()
def _evaluate(model: StackedModule, data: _Stack, width: int) -> Tensor:
    """[N, 5] per run: train loss, train acc, val loss, val acc, weight norm (on the full table).

    The table's rows go through the network in chunks small enough for a large stack;
    each chunk grades the pairs that read its rows.
    """
    n = data.is_train.shape[0]
    chunk = max(256, EVAL_CHUNK_FLOATS // (n * width))
    order = data.eval_order
    bounds = torch.searchsorted(data.eval_row[order], torch.arange(0, len(data.eval_x) + chunk, chunk,
                                                                    device=order.device)).tolist()
    totals = torch.zeros(n, 4, dtype=data.weight.dtype, device=data.weight.device)
    for k, start in enumerate(range(0, len(data.eval_x), chunk)):
        x = data.eval_x[start : start + chunk]
        logits = model(x.expand(n, *x.shape))
        pairs = order[bounds[k] : bounds[k + 1]]
        row, y = (data.eval_row[pairs] - start).expand(n, -1), data.table_y[:, pairs]
        loss = example_loss(logits, row, y)
        correct = (logits.argmax(-1).gather(1, row) == y).to(loss.dtype)
        tr = data.is_train[:, pairs].to(loss.dtype)
        totals += torch.stack([(loss * tr).sum(1), (correct * tr).sum(1),
                               (loss * (1 - tr)).sum(1), (correct * (1 - tr)).sum(1)], 1)
    sq = sum(p.detach().pow(2).flatten(1).sum(1) for p in model.parameters())
    sizes = torch.stack([data.n_train, data.n_train, data.n_val, data.n_val], 1)
    return torch.cat([totals / sizes, sq.sqrt()[:, None]], 1)


def _train_group(configs: list[TrainConfig], device: torch.device, bar: Any,
                 callback: Callable[[int, list[Run]], None] | None, stop: threading.Event | None) -> list[Run]:
    c0 = configs[0]
    dtype = getattr(torch, c0.dtype)
    data = _Stack(configs, device, dtype)
    seeds = [c.seed for c in configs]
    model = build_model(c0, vocab_size(data.n_classes, c0.model), data.n_classes, seeds=seeds).to(device)
    as_t = lambda xs: torch.tensor(xs, device=device, dtype=dtype)  # noqa: E731
    lr = as_t([c.lr for c in configs])
    warmup = as_t([max(c.warmup_steps, 1) for c in configs])
    warm_until = max(max(c.warmup_steps, 1) for c in configs)
    shared = len({(c.lr, c.warmup_steps) for c in configs}) == 1  # one learning-rate schedule
    opt = StackedOptimizer(list(model.parameters()), c0.optimizer, lr, as_t([c.weight_decay for c in configs]),
                           c0.betas, c0.momentum, shared=shared)
    schedules = [set(log_steps(c.steps, c.log_every)) for c in configs]
    eval_at = set().union(*schedules)
    runs = [Run(c) for c in configs]
    active = list(range(len(configs)))  # stack position -> run index
    held_since: list[int | None] = [None] * len(configs)
    done = [False] * len(configs)
    gens = [torch.Generator().manual_seed(c.seed + 104_729) for c in configs]
    perms: list[Tensor] = [torch.empty(0, dtype=torch.long) for _ in configs]
    max_steps = max(c.steps for c in configs)
    last_step = 0
    t0 = time.perf_counter()
    status = "budget"
    step = 0
    pending: Tensor | None = None  # last logged metrics waiting for this step's grad norm
    try:
        for step in range(max_steps + 1):
            logging = step in eval_at
            if logging:
                metrics = _evaluate(model, data, c0.d_hidden if c0.model == "mlp" else c0.d_mlp)
            if step == max_steps:
                pending = metrics
                break
            # ---- one optimisation step for every active run ----
            if c0.batch_size is None:
                x, row, y, w = data.batch_x, data.batch_row, data.train_y, data.weight
            else:
                pos = _minibatch_positions(active, data, gens, perms, c0.batch_size)
                x = data.inputs[data.train_idx.gather(1, pos)]
                row = torch.arange(c0.batch_size, device=device).expand(pos.shape)
                y, w = data.train_y.gather(1, pos), torch.full(pos.shape, 1.0 / c0.batch_size, device=device,
                                                                dtype=dtype)
            ce = example_loss(model(x), row, y)
            for p in opt.params:
                p.grad = None
            (ce * w).sum().backward()
            # past every run's warm-up the schedule is constant: skip three small kernels a step
            lr_now = opt.lr if step + 1 >= warm_until else opt.lr * torch.clamp((step + 1) / warmup, max=1.0)
            if logging:
                gnorm = sum(p.grad.pow(2).flatten(1).sum(1) for p in model.parameters()).sqrt()
                wn = metrics[:, 4]
                row = torch.cat([metrics, gnorm[:, None], (lr_now / wn**2)[:, None], (gnorm * wn)[:, None]], 1)
                finished = _record(row.cpu(), step, active, runs, schedules, held_since, done, configs)
                if callback:
                    callback(step, runs)
                bar.update((step - last_step) * len(active)
                           + sum(configs[r].steps - step for r in active if done[r]))
                last_step = step
                if finished:
                    for pos, r in enumerate(active):
                        if done[r]:  # keep a finished run's weights before it leaves the stack
                            runs[r].state_dict = _weights(model, pos)
                    keep = [i for i, r in enumerate(active) if not done[r]]
                    if not keep:
                        break
                    idx = torch.tensor(keep, device=device)
                    active = [active[i] for i in keep]
                    data.keep(idx)
                    model.keep_runs(idx)
                    opt.keep(idx, list(model.parameters()))
                    warmup = warmup[idx]
                    lr_now = opt.lr * torch.clamp((step + 1) / warmup, max=1.0)
            if stop is not None and stop.is_set():
                status = "stopped"
                break
            opt.step(lr_now)
    except KeyboardInterrupt:
        status = "interrupted"
    if pending is not None:  # the final evaluation (no step after it, so no gradient)
        nan = torch.full((pending.shape[0], 3), math.nan, dtype=pending.dtype, device=pending.device)
        _record(torch.cat([pending, nan], 1).cpu(), step, active, runs, schedules, held_since, done, configs)
    wall = time.perf_counter() - t0
    meta = environment(device) | {"wall_time_s": round(wall, 3), "stacked_runs": len(configs)}
    for r, run in enumerate(runs):
        run.meta = meta | {"status": "early_stop" if done[r] and run.history["step"][-1] < configs[r].steps
                           else status if not done[r] else "budget",
                           "steps_done": run.history["step"][-1] if run.history["step"] else 0}
    for pos, r in enumerate(active):
        if runs[r].state_dict is None:
            runs[r].state_dict = _weights(model, pos)
    return runs


def _weights(model: StackedModule, pos: int) -> dict[str, Tensor]:
    """Run ``pos`` of a stack as a one-run state dict on the CPU."""
    return {k: v[pos : pos + 1].detach().cpu().clone() for k, v in model.state_dict().items()}


def _record(row: Tensor, step: int, active: list[int], runs: list[Run], schedules: list[set[int]],
            held_since: list[int | None], done: list[bool], configs: list[TrainConfig]) -> bool:
    """Append logged metrics to each active run's history; mark runs that are finished."""
    finished = False
    for pos, r in enumerate(active):
        if step not in schedules[r] or done[r]:
            continue
        hist, cfg = runs[r].history, configs[r]
        hist["step"].append(step)
        values = row[pos].tolist()
        if step >= cfg.steps:  # a run's last row has no update after it, so no gradient (as when alone)
            values[-3:] = [math.nan] * 3
        for name, value in zip(METRICS, values, strict=True):
            hist[name].append(value)
        if hist["val_acc"][-1] >= THRESHOLD:
            held_since[r] = step if held_since[r] is None else held_since[r]
        else:
            held_since[r] = None
        if step >= cfg.steps or (cfg.early_stop and held_since[r] is not None
                                 and step - held_since[r] >= cfg.patience):
            done[r] = finished = True
    return finished


def _minibatch_positions(active: list[int], data: _Stack, gens: list[torch.Generator], perms: list[Tensor],
                         batch_size: int) -> Tensor:
    """Next minibatch per run: a fresh permutation of its training set each epoch (own generator)."""
    rows = []
    for pos, r in enumerate(active):
        n_train = int(data.n_train[pos])
        if len(perms[r]) < min(batch_size, n_train):
            perms[r] = torch.randperm(n_train, generator=gens[r])
        take, perms[r] = perms[r][:batch_size], perms[r][batch_size:]
        rows.append(torch.cat([take, take[torch.arange(batch_size - len(take)) % len(take)]]))
    return torch.stack(rows).to(data.train_idx.device)


def _progress_bar(configs: list[TrainConfig], enabled: bool):
    """One bar for the whole call, counted in run-steps (a run that stops early jumps ahead)."""
    from tqdm.auto import tqdm

    desc = "training" if len(configs) == 1 else f"training {len(configs)} runs"
    return tqdm(total=sum(c.steps for c in configs), desc=desc, disable=not enabled, leave=False,
                unit="step", unit_scale=True)


def stack_groups(configs: list[TrainConfig], max_stack: int = 64, max_padding: float = 0.1) -> list[list[int]]:
    """Indices of ``configs`` split into groups that can be trained as one stacked model.

    Every run in a stack is padded to the stack's largest training split, so runs are sorted
    by split size and a new stack starts once padding would exceed ``max_padding`` of a
    run's rows (e.g. 30% and 50% splits train as two stacks, not one padded by 67%).
    """
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, cfg in enumerate(configs):
        groups[cfg.batch_signature()].append(i)
    stacks: list[list[int]] = []
    for members in groups.values():
        members = sorted(members, key=lambda i: configs[i].train_frac)
        start = None
        for i in members:
            if start is None or len(stacks[-1]) >= max_stack or (
                    configs[i].train_frac > (1 + max_padding) * configs[start].train_frac):
                stacks.append([])
                start = i
            stacks[-1].append(i)
    return stacks


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
    bar = _progress_bar(configs, progress)
    try:
        for chunk in stack_groups(configs, max_stack):
            with fast_cpu(dev):
                runs = _train_group([configs[i] for i in chunk], dev, bar, callback, stop)
            for i, run in zip(chunk, runs, strict=True):
                out[i] = run
            if on_done:
                on_done(runs)
            if any(r.meta["status"] in ("interrupted", "stopped") for r in runs):
                break
    finally:
        bar.close()
    return out


def train(config: TrainConfig, device: str | torch.device | None = None, progress: bool = True,
          callback: Callable[[int, list[Run]], None] | None = None, stop: threading.Event | None = None) -> Run:
    """Train one run. Ctrl-C (or ``stop.set()``) ends it early and keeps the history so far."""
    return train_many([config], device, progress, callback, stop)[0]
