"""The data of a stack of runs: what each run trains on, and what it is graded against.

`Stack` holds every run's training split, padded to one width so the whole stack trains
in one pass, and `DigitsStack` the same for the digits (``task="digits"``); `Minibatches` draws
one run's minibatches; `example_loss` is the loss of each example, read from the network row
that shows it.
"""

from __future__ import annotations

import torch
from torch import Tensor

from grok_lib.task.data import tokens, training_split, unordered_pairs
from grok_lib.task.digits import N_CLASSES, load_digits, training_set
from grok_lib.task.operations import get_operation, operation_table

from .config import TrainConfig
from .losses import log_probabilities, squared_error

MINIBATCH_SEED_OFFSET = 104_729  # a run's minibatch order is drawn from seed + this, apart from its initialisation

Batch = tuple[Tensor, Tensor, Tensor, Tensor]  # inputs [N, rows, tokens], row per example, label, weight [N, B]


class _RunData:
    """What both kinds of stack do alike: drop the runs that finished, hand out the full batch, and draw
    each run's next minibatch positions (with their rows and weights)."""

    _PER_RUN: tuple[str, ...] = ()
    n_train: Tensor
    batch_x: Tensor
    batch_row: Tensor
    train_y: Tensor
    weight: Tensor

    def keep(self, idx: Tensor) -> None:
        """Keep only runs ``idx`` (the runs still training)."""
        for name in self._PER_RUN:
            setattr(self, name, getattr(self, name)[idx])

    def full_batch(self) -> Batch:
        """Every run's whole training set (padding carries weight 0)."""
        return self.batch_x, self.batch_row, self.train_y, self.weight

    def _next_positions(self, samplers: list[Minibatches], batch_size: int) -> tuple[Tensor, Tensor, Tensor]:
        """Each run's next minibatch as positions in its training set [N, B], with a row per example and
        equal weights."""
        pos = torch.stack([s.next(int(self.n_train[i]), batch_size) for i, s in enumerate(samplers)])
        pos = pos.to(self.weight.device)
        row = torch.arange(batch_size, device=pos.device).expand(pos.shape)
        return pos, row, torch.full(pos.shape, 1.0 / batch_size, device=pos.device, dtype=self.weight.dtype)


class Stack(_RunData):
    """Per-run data of a stacked group: padded training indices, labels and masks.

    The network sees *rows*; examples read their logits from a row. For a summed-embedding
    MLP, (a, b) and (b, a) give the same logits, so both read one row: at 30% training
    data about 15% fewer rows pass through the network each step, and half as many when
    the full table is evaluated -- for the same loss and gradient, as each example keeps
    its own label. Other models get one row per pair, and so does the summed MLP's training batch
    when it trains with dropout (each example must draw its own dropout mask).

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
        shared = c0.model == "mlp" and c0.merge == "sum"  # (a, b) and (b, a) may read one row
        rows_of = lambda pairs, share: _rows(a, b, pairs, symmetric=share)
        splits = [training_split(a, b, c, self.n_classes, cfg.train_frac, cfg.split_seed, cfg.label_noise,
                                 cfg.split) for cfg in configs]
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
            shown, self.batch_row[r, : len(tr)] = rows_of(tr, shared and c0.dropout == 0)  # a mask per example
            row_pairs.append(shown)
        rows = torch.zeros(n, max(len(rp) for rp in row_pairs), dtype=torch.long)
        for r, rp in enumerate(row_pairs):
            rows[r, : len(rp)] = rp
        for name in ("train_idx", "train_y", "weight", "batch_row", "is_train", "table_y"):
            setattr(self, name, getattr(self, name).to(device))
        self.batch_x = self.inputs[rows.to(device)]  # full-batch inputs, gathered once
        shown, eval_row = rows_of(torch.arange(n_pairs), shared)
        self.eval_x, self.eval_row = self.inputs[shown.to(device)], eval_row.to(device)
        self.eval_order = torch.argsort(self.eval_row, stable=True)  # pairs grouped by the row they read

    def minibatch(self, samplers: list[Minibatches], batch_size: int) -> Batch:
        """The next minibatch of each run, one sampler per run in stack order; one row per example."""
        pos, row, w = self._next_positions(samplers, batch_size)
        return self.inputs[self.train_idx.gather(1, pos)], row, self.train_y.gather(1, pos), w


class DigitsStack(_RunData):
    """The digits runs of a stacked group: each run's training images, padded to one width, and the
    fixed test set that every run is graded on (its "val" columns).

    A run trains on ``digits_train_size(cfg)`` images drawn from `task.digits`'s pool by its split seed;
    the inputs are the pool-centred pixels of `task.digits`, in the run's precision. The network sees one
    row per example, so ``batch_row`` is simply each example's position."""

    _PER_RUN = ("n_train", "n_val", "batch_x", "train_y", "weight", "batch_row")

    def __init__(self, configs: list[TrainConfig], device: torch.device, dtype: torch.dtype):
        digits = load_digits()
        sets = [training_set(digits_train_size(cfg), cfg.label_noise, cfg.split_seed, digits) for cfg in configs]
        n, width = len(configs), max(len(s.y) for s in sets)
        self.n_classes = N_CLASSES
        self.n_train = torch.tensor([len(s.y) for s in sets], device=device, dtype=dtype)
        self.n_val = torch.full((n,), float(len(digits.y_test)), device=device, dtype=dtype)
        self.batch_x = torch.zeros(n, width, digits.n_inputs, dtype=dtype)
        self.train_y = torch.zeros(n, width, dtype=torch.long)
        self.weight = torch.zeros(n, width, dtype=dtype)
        for r, s in enumerate(sets):
            self.batch_x[r, : len(s.y)], self.train_y[r, : len(s.y)] = s.x, s.y
            self.weight[r, : len(s.y)] = 1.0 / len(s.y)
        self.batch_x, self.train_y, self.weight = (t.to(device) for t in (self.batch_x, self.train_y, self.weight))
        self.batch_row = torch.arange(width, device=device).expand(n, width)
        self.test_x = digits.x_test.to(device, dtype)
        self.test_y = digits.y_test.to(device)

    def minibatch(self, samplers: list[Minibatches], batch_size: int) -> Batch:
        """The next minibatch of each run, one sampler per run in stack order."""
        pos, row, w = self._next_positions(samplers, batch_size)
        x = self.batch_x.gather(1, pos[..., None].expand(*pos.shape, self.batch_x.shape[-1]))
        return x, row, self.train_y.gather(1, pos), w


def digits_train_size(cfg: TrainConfig) -> int:
    """How many images a digits run trains on: ``train_frac`` of `task.digits`'s 1,000-image pool, rounded."""
    return max(1, round(cfg.train_frac * load_digits().n_pool))


def make_stack(configs: list[TrainConfig], device: torch.device, dtype: torch.dtype) -> Stack | DigitsStack:
    """The data of a stack of runs that share a task."""
    return (DigitsStack if configs[0].task == "digits" else Stack)(configs, device, dtype)


class Minibatches:
    """One run's minibatch positions: a fresh permutation of its training set each epoch, from
    a generator of its own, so a run draws the same batches alone or in any stack."""

    def __init__(self, seed: int):
        self.generator = torch.Generator().manual_seed(seed + MINIBATCH_SEED_OFFSET)
        self.perm = torch.empty(0, dtype=torch.long)

    def next(self, n_train: int, batch_size: int) -> Tensor:
        """``batch_size`` positions into the run's training set; a set smaller than a batch repeats."""
        if len(self.perm) < min(batch_size, n_train):  # this epoch has no full batch left: start the next
            self.perm = torch.randperm(n_train, generator=self.generator)
        take, self.perm = self.perm[:batch_size], self.perm[batch_size:]
        return torch.cat([take, take[torch.arange(batch_size - len(take)) % len(take)]])


def _rows(a: Tensor, b: Tensor, pairs: Tensor, symmetric: bool) -> tuple[Tensor, Tensor]:
    """The pairs to show the network for ``pairs`` (indices into the operation table), and
    the row each of ``pairs`` reads: one row per unordered pair {a, b} when ``symmetric``."""
    if not symmetric:
        return pairs, torch.arange(len(pairs))
    row = unordered_pairs(a[pairs], b[pairs])
    first = torch.full((int(row.max()) + 1,), len(pairs)).scatter_reduce_(0, row, torch.arange(len(pairs)), "amin")
    return pairs[first], row


def example_loss(logits: Tensor, row: Tensor, y: Tensor, output: str = "softmax", loss: str = "cross_entropy"
                 ) -> Tensor:
    """The loss of each example [N, B], read from the row it shows: cross-entropy
    ``-log p(logits[n, row[n, i]])[y[n, i]]`` with ``p`` softmax or StableMax (``output``, see `losses`),
    or with ``loss="mse"`` the squared error of those raw outputs against the one-hot label."""
    if loss == "mse":
        return squared_error(logits.gather(1, row[..., None].expand(*row.shape, logits.shape[-1])), y)
    logp = log_probabilities(logits, output)
    return -logp.flatten(1).gather(1, row * logp.shape[-1] + y)
