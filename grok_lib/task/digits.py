"""Chapter 6's data: scikit-learn's handwritten digits (1,797 images of 8x8 pixels, 10 classes).

Double descent needs a task that models *can* generalise on, small enough that a sweep over model sizes takes
seconds: the digits ship with scikit-learn (no download). They are split once, by a fixed seed, into a test set,
a validation set (for choosing a ridge penalty without looking at the test set) and a pool that training sets
are drawn from; each training set is drawn from the pool by its own seed, with a fraction of its labels replaced
by wrong ones (`data.noisy_labels`, the same label noise the modular tasks use).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch
from torch import Tensor

from .data import noisy_labels

N_CLASSES = 10
N_TEST = 500  # held out for every measurement
N_VAL = 297  # held out for choosing a ridge penalty; the remaining 1,000 images are the training pool
SPLIT_SEED = 0


@dataclass(frozen=True)
class Digits:
    """The fixed split: inputs scaled to [0, 1] and centred on the pool's mean (float64, [example, pixel])."""

    x_pool: Tensor
    y_pool: Tensor
    x_val: Tensor
    y_val: Tensor
    x_test: Tensor
    y_test: Tensor

    @property
    def n_pool(self) -> int:
        return len(self.y_pool)

    @property
    def n_inputs(self) -> int:
        return self.x_pool.shape[1]


@dataclass(frozen=True)
class TrainingSet:
    """A training set drawn from the pool: inputs, the labels trained on (some wrong), and the true labels."""

    x: Tensor
    y: Tensor
    y_clean: Tensor

    @property
    def noisy(self) -> Tensor:
        """Which examples carry a wrong label."""
        return self.y != self.y_clean


@functools.lru_cache(maxsize=1)
def load_digits() -> Digits:
    """The digits, split into test, validation and pool by `SPLIT_SEED` (read once per process)."""
    from sklearn.datasets import load_digits as sk_load

    data = sk_load()
    x = torch.as_tensor(data.data, dtype=torch.float64) / 16.0
    y = torch.as_tensor(data.target, dtype=torch.long)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(SPLIT_SEED))
    test, val, pool = order[:N_TEST], order[N_TEST:N_TEST + N_VAL], order[N_TEST + N_VAL:]
    centre = x[pool].mean(0)
    x = x - centre
    return Digits(x[pool], y[pool], x[val], y[val], x[test], y[test])


def training_set(n: int, label_noise: float = 0.0, seed: int = 0, digits: Digits | None = None) -> TrainingSet:
    """``n`` examples drawn from the pool by ``seed``, with ``round(label_noise * n)`` labels made wrong."""
    d = digits or load_digits()
    if not 1 <= n <= d.n_pool:
        raise ValueError(f"training-set size {n} is outside 1 to {d.n_pool} (the pool)")
    which = torch.randperm(d.n_pool, generator=torch.Generator().manual_seed(seed))[:n]
    y_clean = d.y_pool[which]
    return TrainingSet(d.x_pool[which], noisy_labels(y_clean, N_CLASSES, label_noise, seed), y_clean)


def one_hot(y: Tensor, n_classes: int = N_CLASSES) -> Tensor:
    """Labels as float64 one-hot rows: the targets of a least-squares fit."""
    return torch.nn.functional.one_hot(y, n_classes).to(torch.float64)
