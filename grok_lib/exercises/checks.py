"""Automatic checks for the exercises: call a learner's function, compare with the library.

Each ``check_*`` function runs the learner's code on several inputs, edge cases included,
and compares the answers with the reference in `grok_lib.ops` or `grok_lib.data`. A
mismatch raises an ``AssertionError`` whose message says what differs and where (the
first wrong cell, the first wrong index, ...); success prints one short line starting
with ✓. The checks use only the CPU and take well under a second.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from grok_lib.task.data import noisy_labels as _ref_noisy_labels
from grok_lib.task.data import split_indices as _ref_split_indices
from grok_lib.task.operations import get_operation, is_prime, mod_inverse, operation_table

TABLE_PS = (2, 3, 5, 7, 11, 97)
INVERSE_PS = (2, 3, 5, 7, 97, 997)
NON_PRIMES = (4, 9, 91)


def _name(fn: Callable) -> str:
    name = getattr(fn, "__name__", "")
    return name if name.isidentifier() else "your function"


def _fail(message: str) -> None:
    raise AssertionError(message)


def _as_int_tensor(x: object, what: str) -> Tensor:
    """The learner's value as a CPU int64 tensor, or a clear complaint about its type."""
    if not isinstance(x, Tensor):
        _fail(f"{what} should be a torch.Tensor, but it is a {type(x).__name__}.")
    if x.dtype.is_floating_point or x.dtype.is_complex or x.dtype == torch.bool:
        _fail(f"{what} has dtype {x.dtype}; use integers (torch.long) so that every result is exact.")
    return x.detach().to("cpu", torch.long)


def _unpack(result: object, names: tuple[str, ...], call: str) -> list[Tensor]:
    if not isinstance(result, (tuple, list)) or len(result) != len(names):
        _fail(f"{call} should return a tuple ({', '.join(names)}), but it returned {type(result).__name__}"
              + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else "") + ".")
    tensors = [_as_int_tensor(x, f"{name} from {call}") for x, name in zip(result, names, strict=True)]
    for t, name in zip(tensors, names, strict=True):
        if t.dim() != 1:
            _fail(f"{name} from {call} should be one-dimensional (a flat list), but its shape is {tuple(t.shape)}.")
    return tensors


# --------------------------------------------------------------------------- tables


def _check_table(fn: Callable[[int], object], op_name: str, symbol: str, ps: tuple[int, ...]) -> None:
    op = get_operation(op_name)
    for p in ps:
        call = f"{_name(fn)}({p})"
        a, b, c = _unpack(fn(p), ("a", "b", "c"), call)
        ref_a, ref_b, ref_c = operation_table(op_name, p)
        n = len(ref_c)
        if not len(a) == len(b) == len(c):
            _fail(f"{call}: a, b and c should have the same length, but they have {len(a)}, {len(b)}, {len(c)}.")
        if len(a) != n:
            hint = ""
            if op.b_nonzero and len(a) == p * p:
                hint = (" You kept the pairs with b = 0; division by 0 is undefined, so leave those "
                        f"{p} pairs out.")
            elif op.b_nonzero:
                hint = f" Division keeps every a and every b except b = 0: p·(p−1) = {n} pairs."
            _fail(f"{call} returned {len(a)} rows, expected {n}.{hint}")
        pairs_wrong = ((a != ref_a) | (b != ref_b)).nonzero()
        if len(pairs_wrong):
            i = int(pairs_wrong[0])
            _fail(f"{call}: the pairs are not in the expected order. Row {i} should be "
                  f"(a={int(ref_a[i])}, b={int(ref_b[i])}) but is (a={int(a[i])}, b={int(b[i])}). "
                  "List the pairs row by row: all b for a = 0, then all b for a = 1, and so on.")
        wrong = (c != ref_c).nonzero()
        if len(wrong):
            i = int(wrong[0])
            ai, bi, want, got = int(ref_a[i]), int(ref_b[i]), int(ref_c[i]), int(c[i])
            note = ""
            if not 0 <= got < p:
                note = f" Results should lie in 0..{p - 1}: reduce them mod p."
            _fail(f"{call}: first wrong cell (row {i} of {n}; {len(wrong)} wrong in all) is a={ai}, b={bi}: "
                  f"expected {symbol.format(a=ai, b=bi)} ≡ {want} (mod {p}), got {got}.{note}")


def check_square_sum_table(fn: Callable[[int], object]) -> None:
    """``fn(p)`` should return the flat (a, b, a² + b² mod p) table, like ``operation_table("x2_y2", p)``."""
    _check_table(fn, "x2_y2", "{a}² + {b}²", TABLE_PS)
    print(f"✓ a² + b² table matches for p in {list(TABLE_PS)}")


def check_mod_inverse(fn: Callable[[Tensor, int], Tensor]) -> None:
    """``fn(b, p)`` should return b⁻¹ mod p elementwise for an int64 tensor b of non-zero residues."""
    for p in INVERSE_PS:
        b = torch.arange(1, p)
        call = f"{_name(fn)}(b, {p})"
        got = _as_int_tensor(fn(b.clone(), p), f"the result of {call}")
        if got.shape != b.shape:
            _fail(f"{call} should return one inverse per element of b: shape {tuple(b.shape)}, "
                  f"got {tuple(got.shape)}.")
        bad = ((b * (got % p)) % p != 1) | (got < 0) | (got >= p)
        if bad.any():
            i = int(bad.nonzero()[0])
            bi, gi = int(b[i]), int(got[i])
            hint = ""
            if gi < 0 or gi >= p:
                hint = f" An inverse mod {p} is a number in 1..{p - 1}; reduce mod p."
            if p > 50:
                hint += (" If small p work but this one does not, the power probably overflowed int64: "
                         "reduce mod p after every multiplication.")
            _fail(f"{call}: the inverse of {bi} should satisfy {bi}·x ≡ 1 (mod {p}); you gave x = {gi}, "
                  f"and {bi}·{gi} ≡ {bi * gi % p} (mod {p}). {int(bad.sum())} of {p - 1} inverses are wrong."
                  + hint)
    # Elementwise on any shape: the operands of a whole table at once.
    b = torch.arange(1, 7).reshape(2, 3)
    got = _as_int_tensor(fn(b, 7), f"the result of {_name(fn)}(b, 7) for b of shape (2, 3)")
    if got.shape != b.shape or not torch.equal(got, mod_inverse(b, 7)):
        _fail(f"{_name(fn)}(b, 7) with b = {b.tolist()} (shape (2, 3)) should give {mod_inverse(b, 7).tolist()}, "
              f"got {got.tolist()}. Use only elementwise tensor operations, so any shape works.")
    print(f"✓ modular inverses are right for p in {list(INVERSE_PS)}")


def check_division_table(fn: Callable[[int], object]) -> None:
    """``fn(p)`` should return ``operation_table("div", p)`` and refuse a non-prime p."""
    _check_table(fn, "div", "{a}/{b}", TABLE_PS)
    for q in NON_PRIMES:
        assert not is_prime(q)
        try:
            fn(q)
        except ValueError as err:
            text = str(err)
            if "prime" not in text.lower() or str(q) not in text:
                _fail(f"{_name(fn)}({q}) raised ValueError({text!r}). Good, but make the message useful: "
                      f"say that p must be prime and that {q} is not.")
        except Exception as err:
            _fail(f"{_name(fn)}({q}) raised {type(err).__name__}; raise a ValueError instead, saying that "
                  f"p must be prime and that {q} is not.")
        else:
            _fail(f"{_name(fn)}({q}) returned a table, but {q} is not prime: some b have no inverse mod {q}, "
                  "so a/b is undefined. Raise a ValueError that says p must be prime.")
    print(f"✓ division table matches for p in {list(TABLE_PS)}; non-primes {list(NON_PRIMES)} raise ValueError")


# --------------------------------------------------------------------------- splits and noise


def _expect_value_error(fn: Callable[..., object], args: tuple, why: str) -> None:
    call = f"{_name(fn)}{args}"
    try:
        fn(*args)
    except ValueError:
        return
    except Exception as err:
        _fail(f"{call} raised {type(err).__name__}; raise a ValueError, since {why}.")
    _fail(f"{call} returned normally; it should raise a ValueError, since {why}.")


def _same_rng(before: Tensor, call: str) -> None:
    if not torch.equal(before, torch.get_rng_state()):
        _fail(f"{call} changed PyTorch's global random state (torch.manual_seed or an unseeded draw). "
              "Draw from your own torch.Generator().manual_seed(...) instead, so the split does not "
              "disturb, or depend on, anything else the notebook does.")


SPLIT_CASES = ((10, 0.3, 0), (100, 0.5, 1), (9409, 0.3, 0), (10, 0.01, 0), (10, 0.99, 5), (2, 0.5, 3),
               (1000, 0.001, 2), (1000, 0.999, 2))


def check_split(fn: Callable[[int, float, int], object]) -> None:
    """``fn(n, train_frac, seed)`` should return ``grok_lib.data.split_indices(n, train_frac, seed)``."""
    for n, frac, seed in SPLIT_CASES:
        call = f"{_name(fn)}({n}, {frac}, seed={seed})"
        before = torch.get_rng_state()
        train, val = _unpack(fn(n, frac, seed), ("train", "val"), call)
        _same_rng(before, call)
        n_train = min(max(round(frac * n), 1), n - 1)
        if len(train) != n_train or len(val) != n - n_train:
            _fail(f"{call}: expected {n_train} training and {n - n_train} validation indices, got {len(train)} and "
                  f"{len(val)}. The training set has round(train_frac·n) indices, but at least 1, and at least 1 "
                  "index must be left for validation.")
        both = torch.cat([train, val])
        if both.min() < 0 or both.max() >= n:
            _fail(f"{call}: indices must lie in 0..{n - 1}; yours range from {int(both.min())} to {int(both.max())}.")
        overlap = set(train.tolist()) & set(val.tolist())
        if overlap:
            _fail(f"{call}: {len(overlap)} indices are in both sets, e.g. {min(overlap)}. "
                  "A pair used for training must never be used to measure generalisation.")
        if len(set(both.tolist())) != n:
            _fail(f"{call}: some indices repeat, so some of 0..{n - 1} are missing from both sets.")
        for name, t in (("train", train), ("val", val)):
            if len(t) > 1 and not bool((t[1:] > t[:-1]).all()):
                _fail(f"{call}: return the {name} indices sorted (t.sort().values), so the order is canonical.")
        again = _unpack(fn(n, frac, seed), ("train", "val"), call)
        if not (torch.equal(train, again[0]) and torch.equal(val, again[1])):
            _fail(f"{call} gave a different split when called again with the same seed. A split must be "
                  "deterministic: seed a torch.Generator with the seed and draw from it.")
        ref_train, ref_val = _ref_split_indices(n, frac, seed)
        if not torch.equal(train, ref_train):
            i = int((train != ref_train).nonzero()[0])
            _fail(f"{call} is a valid split, but not the course's: training index {i} is {int(train[i])}, "
                  f"the library has {int(ref_train[i])}. Use torch.randperm(n, generator=...) with a generator "
                  "seeded by `seed`, and take the first n_train entries of the permutation for training.")
    a, _ = fn(100, 0.5, 0)
    b, _ = fn(100, 0.5, 1)
    if torch.equal(torch.as_tensor(a), torch.as_tensor(b)):
        _fail(f"{_name(fn)}(100, 0.5, seed=0) and seed=1 give the same split: the seed should change it.")
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
        call = f"{_name(fn)}(labels, {n_classes}, {fraction}, seed={seed})"
        before = torch.get_rng_state()
        out = _as_int_tensor(fn(labels, n_classes, fraction, seed), f"the result of {call}")
        _same_rng(before, call)
        if not torch.equal(labels, keep):
            _fail(f"{call} changed the labels it was given; work on a copy (labels.clone()) so that the "
                  "true labels survive.")
        if out.shape != labels.shape:
            _fail(f"{call} should return {n} labels, got shape {tuple(out.shape)}.")
        if out.min() < 0 or out.max() >= n_classes:
            _fail(f"{call}: labels must lie in 0..{n_classes - 1}; yours range from {int(out.min())} "
                  f"to {int(out.max())}.")
        k = round(fraction * n)
        changed = int((out != labels).sum())
        if changed != k:
            _fail(f"{call}: expected exactly round({fraction}·{n}) = {k} labels to change, but {changed} did. "
                  "Choose k distinct positions (a permutation, not independent draws) and give each a "
                  "different class (a shift by 1..n_classes−1 never lands on the true one).")
        again = _as_int_tensor(fn(labels, n_classes, fraction, seed), call)
        if not torch.equal(out, again):
            _fail(f"{call} gave different labels when called again with the same seed: seed a "
                  "torch.Generator and draw from it.")
        identical = identical and torch.equal(out, _ref_noisy_labels(labels, n_classes, fraction, seed))
    # Large sample: are the positions and the wrong classes spread evenly?
    n, n_classes = 20_000, 5
    labels = torch.randint(0, n_classes, (n,), generator=gen)
    out = _as_int_tensor(fn(labels, n_classes, 0.5, 0), f"{_name(fn)}(labels, 5, 0.5, seed=0)")
    other = _as_int_tensor(fn(labels, n_classes, 0.5, 1), f"{_name(fn)}(labels, 5, 0.5, seed=1)")
    if torch.equal(out, other):
        _fail(f"{_name(fn)} gives the same noise for seed=0 and seed=1: the seed should change it.")
    changed = out != labels
    first_half = int(changed[: n // 2].sum())
    if not 0.4 * n / 2 < first_half < 0.6 * n / 2:
        _fail(f"with fraction 0.5, {first_half} of the first {n // 2} labels changed (about {n // 4} expected): "
              "pick the positions at random over the whole tensor.")
    shift = ((out - labels) % n_classes)[changed]
    counts = torch.bincount(shift, minlength=n_classes)[1:].tolist()
    expected = int(changed.sum()) / (n_classes - 1)
    if not all(0.8 * expected < c < 1.2 * expected for c in counts):
        _fail(f"with 5 classes, a corrupted label should move to each of the 4 wrong classes equally often; the "
              f"shifts 1..4 (mod 5) occurred {counts} times (about {round(expected)} each expected).")
    note = " (draw for draw the same as grok_lib.data.noisy_labels)" if identical else ""
    print(f"✓ label noise changes exactly round(fraction·n) labels, each to a uniformly chosen wrong class{note}")
