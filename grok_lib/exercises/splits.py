"""Checks for exercise 2 (the split): a deterministic train/validation split, and label noise.

Each ``check_*`` function runs the learner's code on several inputs, edge cases included,
and compares the answers with `grok_lib.task.data`: sizes, overlap, order, determinism,
the global random state left alone. A mismatch raises an ``AssertionError`` that says what
differs first; success prints one short line starting with ✓. CPU only, well under a second.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from grok_lib.task.data import noisy_labels as _ref_noisy_labels
from grok_lib.task.data import split_indices as _ref_split_indices

from .answers import as_int_tensor, fail, fn_name, unpack


def _expect_value_error(fn: Callable[..., object], args: tuple, why: str) -> None:
    call = f"{fn_name(fn)}{args}"
    try:
        fn(*args)
    except ValueError:
        return
    except Exception as err:
        fail(f"{call} raised {type(err).__name__}; raise a ValueError, since {why}.")
    fail(f"{call} returned normally; it should raise a ValueError, since {why}.")


def _same_rng(before: Tensor, call: str) -> None:
    if not torch.equal(before, torch.get_rng_state()):
        fail(f"{call} changed PyTorch's global random state (torch.manual_seed or an unseeded draw). "
             "Draw from your own torch.Generator().manual_seed(...) instead, so the split does not "
             "disturb, or depend on, anything else the notebook does.")


SPLIT_CASES = ((10, 0.3, 0), (100, 0.5, 1), (9409, 0.3, 0), (10, 0.01, 0), (10, 0.99, 5), (2, 0.5, 3),
               (1000, 0.001, 2), (1000, 0.999, 2))


def check_split(fn: Callable[[int, float, int], object]) -> None:
    """``fn(n, train_frac, seed)`` should return ``grok_lib.task.data.split_indices(n, train_frac, seed)``."""
    for n, frac, seed in SPLIT_CASES:
        call = f"{fn_name(fn)}({n}, {frac}, seed={seed})"
        before = torch.get_rng_state()
        train, val = unpack(fn(n, frac, seed), ("train", "val"), call)
        _same_rng(before, call)
        n_train = min(max(round(frac * n), 1), n - 1)
        if len(train) != n_train or len(val) != n - n_train:
            fail(f"{call}: expected {n_train} training and {n - n_train} validation indices, got {len(train)} and "
                 f"{len(val)}. The training set has round(train_frac·n) indices, but at least 1, and at least 1 "
                 "index must be left for validation.")
        both = torch.cat([train, val])
        if both.min() < 0 or both.max() >= n:
            fail(f"{call}: indices must lie in 0..{n - 1}; yours range from {int(both.min())} to {int(both.max())}.")
        overlap = set(train.tolist()) & set(val.tolist())
        if overlap:
            fail(f"{call}: {len(overlap)} indices are in both sets, e.g. {min(overlap)}. "
                 "A pair used for training must never be used to measure generalisation.")
        if len(set(both.tolist())) != n:
            fail(f"{call}: some indices repeat, so some of 0..{n - 1} are missing from both sets.")
        for name, t in (("train", train), ("val", val)):
            if len(t) > 1 and not bool((t[1:] > t[:-1]).all()):
                fail(f"{call}: return the {name} indices sorted (t.sort().values), so the order is canonical.")
        again = unpack(fn(n, frac, seed), ("train", "val"), call)
        if not (torch.equal(train, again[0]) and torch.equal(val, again[1])):
            fail(f"{call} gave a different split when called again with the same seed. A split must be "
                 "deterministic: seed a torch.Generator with the seed and draw from it.")
        ref_train, ref_val = _ref_split_indices(n, frac, seed)
        if not torch.equal(train, ref_train):
            i = int((train != ref_train).nonzero()[0])
            fail(f"{call} is a valid split, but not the course's: training index {i} is {int(train[i])}, "
                 f"the library has {int(ref_train[i])}. Use torch.randperm(n, generator=...) with a generator "
                 "seeded by `seed`, and take the first n_train entries of the permutation for training.")
    a, _ = fn(100, 0.5, 0)
    b, _ = fn(100, 0.5, 1)
    if torch.equal(torch.as_tensor(a), torch.as_tensor(b)):
        fail(f"{fn_name(fn)}(100, 0.5, seed=0) and seed=1 give the same split: the seed should change it.")
    for frac in (0.0, 1.0, -0.2, 1.5):
        why = f"train_frac={frac} would leave a set empty, or is not a fraction"
        _expect_value_error(fn, (10, frac, 0), why)
    print(f"✓ split matches for (n, train_frac, seed) in {list(SPLIT_CASES[:4])} and {len(SPLIT_CASES) - 4} "
          "more; train_frac 0 and 1 raise ValueError")


def check_label_noise(fn: Callable[[Tensor, int, float, int], Tensor]) -> None:
    """``fn(labels, n_classes, fraction, seed)`` should corrupt exactly round(fraction·len) labels."""
    gen = torch.Generator().manual_seed(123)
    cases = ((1000, 7, 0.1, 0), (1000, 7, 0.5, 3), (97, 2, 0.3, 1), (50, 97, 0.0, 0), (20, 3, 1.0, 2))
    identical = True
    for n, n_classes, fraction, seed in cases:
        labels = torch.randint(0, n_classes, (n,), generator=gen)
        keep = labels.clone()
        call = f"{fn_name(fn)}(labels, {n_classes}, {fraction}, seed={seed})"
        before = torch.get_rng_state()
        out = as_int_tensor(fn(labels, n_classes, fraction, seed), f"the result of {call}")
        _same_rng(before, call)
        if not torch.equal(labels, keep):
            fail(f"{call} changed the labels it was given; work on a copy (labels.clone()) so that the "
                 "true labels survive.")
        if out.shape != labels.shape:
            fail(f"{call} should return {n} labels, got shape {tuple(out.shape)}.")
        if out.min() < 0 or out.max() >= n_classes:
            fail(f"{call}: labels must lie in 0..{n_classes - 1}; yours range from {int(out.min())} "
                 f"to {int(out.max())}.")
        k = round(fraction * n)
        changed = int((out != labels).sum())
        if changed != k:
            fail(f"{call}: expected exactly round({fraction}·{n}) = {k} labels to change, but {changed} did. "
                 "Choose k distinct positions (a permutation, not independent draws) and give each a "
                 "different class (a shift by 1..n_classes−1 never lands on the true one).")
        again = as_int_tensor(fn(labels, n_classes, fraction, seed), call)
        if not torch.equal(out, again):
            fail(f"{call} gave different labels when called again with the same seed: seed a "
                 "torch.Generator and draw from it.")
        identical = identical and torch.equal(out, _ref_noisy_labels(labels, n_classes, fraction, seed))
    # Large sample: are the positions and the wrong classes spread evenly?
    n, n_classes = 20_000, 5
    labels = torch.randint(0, n_classes, (n,), generator=gen)
    out = as_int_tensor(fn(labels, n_classes, 0.5, 0), f"{fn_name(fn)}(labels, 5, 0.5, seed=0)")
    other = as_int_tensor(fn(labels, n_classes, 0.5, 1), f"{fn_name(fn)}(labels, 5, 0.5, seed=1)")
    if torch.equal(out, other):
        fail(f"{fn_name(fn)} gives the same noise for seed=0 and seed=1: the seed should change it.")
    changed = out != labels
    first_half = int(changed[: n // 2].sum())
    if not 0.4 * n / 2 < first_half < 0.6 * n / 2:
        fail(f"with fraction 0.5, {first_half} of the first {n // 2} labels changed (about {n // 4} expected): "
             "pick the positions at random over the whole tensor.")
    shift = ((out - labels) % n_classes)[changed]
    counts = torch.bincount(shift, minlength=n_classes)[1:].tolist()
    expected = int(changed.sum()) / (n_classes - 1)
    if not all(0.8 * expected < c < 1.2 * expected for c in counts):
        fail(f"with 5 classes, a corrupted label should move to each of the 4 wrong classes equally often; the "
             f"shifts 1..4 (mod 5) occurred {counts} times (about {round(expected)} each expected).")
    note = " (draw for draw the same as grok_lib.task.data.noisy_labels)" if identical else ""
    print(f"✓ label noise changes exactly round(fraction·n) labels, each to a uniformly chosen wrong class{note}")
