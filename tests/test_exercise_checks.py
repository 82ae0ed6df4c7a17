"""The exercise checks accept right answers and reject typical wrong ones with a message
that points at the mistake (the notebooks they serve: tests/test_exercises.py)."""

from __future__ import annotations

import itertools

import pytest
import torch
from check_slips import assert_names_the_slip

import grok_lib.task.operations as ops
from grok_lib.exercises import splits, tables
from grok_lib.task import data


def _table(p, f):
    a = torch.arange(p).repeat_interleave(p)
    b = torch.arange(p).repeat(p)
    return a, b, f(a, b)


def _div_reference(p):
    return ops.operation_table("div", p)


def _naive_inverse(b, p):
    return b ** (p - 2) % p


def _fermat_off_by_one(b, p):
    return ops.mod_inverse(b, p + 1) % p


def _inverse_as_list(b, p):
    return [pow(int(x), p - 2, p) for x in b.flatten()]


def _div_loop_with_zero(p):
    rows = [(a, b, a * pow(b, p - 2, p) % p) for a in range(p) for b in range(p)]
    return tuple(torch.tensor(col) for col in zip(*rows, strict=True))


def _div_no_prime_check(p):
    a, b, _ = ops.operation_table("mul", p)
    keep = b != 0
    a, b = a[keep], b[keep]
    return a, b, a * ops.mod_inverse(b, p) % p


def _div_wrong_error(p):
    if not ops.is_prime(p):
        raise ZeroDivisionError("no inverse")
    return _div_reference(p)


def _div_vague_error(p):
    if not ops.is_prime(p):
        raise ValueError("bad p")
    return _div_reference(p)


def _div_as_mul(p):
    a, b, _ = _div_reference(p)
    return a, b, a * b % p


def _split_global_rng(n, frac, seed):
    torch.manual_seed(seed)
    n_train = min(max(round(frac * n), 1), n - 1)
    perm = torch.randperm(n)
    return perm[:n_train].sort().values, perm[n_train:].sort().values


_calls = itertools.count()


def _split_unseeded(n, frac, seed):
    """Seeded, but by something that changes from call to call (like the time of day)."""
    gen = torch.Generator().manual_seed(seed + 1000 * next(_calls))
    n_train = min(max(round(frac * n), 1), n - 1)
    perm = torch.randperm(n, generator=gen)
    return perm[:n_train].sort().values, perm[n_train:].sort().values


def _split_variant(floor=False, clamp=True, sort=True, tail=False, check_frac=True):
    def split(n, frac, seed):
        if check_frac and not 0 < frac < 1:
            raise ValueError("train_frac must lie in (0, 1)")
        n_train = int(frac * n) if floor else round(frac * n)
        if clamp:
            n_train = min(max(n_train, 1), n - 1)
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
        train, val = (perm[n - n_train:], perm[: n - n_train]) if tail else (perm[:n_train], perm[n_train:])
        return (train.sort().values, val.sort().values) if sort else (train, val)
    return split


def _noise_variant(shift_one=False, inplace=False, independent=False, first_k=False, may_repeat=False):
    def noisy(labels, n_classes, fraction, seed):
        out = labels if inplace else labels.clone()
        gen = torch.Generator().manual_seed(seed)
        k = round(fraction * len(labels))
        if independent:
            which = (torch.rand(len(labels), generator=gen) < fraction).nonzero().flatten()
        elif first_k:
            which = torch.arange(k)
        else:
            which = torch.randperm(len(labels), generator=gen)[:k]
        if may_repeat:
            out[which] = torch.randint(0, n_classes, (len(which),), generator=gen)
            return out
        shift = torch.ones(len(which), dtype=torch.long) if shift_one else torch.randint(
            1, n_classes, (len(which),), generator=gen)
        out[which] = (labels[which] + shift) % n_classes
        return out
    return noisy


def test_checks_accept_the_library(capsys):
    tables.check_square_sum_table(lambda p: ops.operation_table("x2_y2", p))
    tables.check_mod_inverse(ops.mod_inverse)
    tables.check_division_table(_div_reference)
    splits.check_split(data.split_indices)
    splits.check_label_noise(data.noisy_labels)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 5 and all(line.startswith("✓") for line in out)
    assert "division table matches for p in [2, 3, 5, 7, 11, 97]" in out[2]


def test_noise_check_accepts_a_different_but_valid_generator(capsys):
    splits.check_label_noise(_noise_variant())
    out = capsys.readouterr().out
    assert out.startswith("✓") and "draw for draw" not in out


WRONG = [
    ("square sum, off by one", tables.check_square_sum_table,
     lambda p: _table(p, lambda a, b: (a * a + b * b + 1) % p), "first wrong cell"),
    ("square sum, not reduced", tables.check_square_sum_table,
     lambda p: _table(p, lambda a, b: a * a + b * b), "reduce them mod p"),
    ("square sum, column-major", tables.check_square_sum_table,
     lambda p: (torch.arange(p).repeat(p), torch.arange(p).repeat_interleave(p),
                (torch.arange(p).repeat(p) ** 2 + torch.arange(p).repeat_interleave(p) ** 2) % p), "order"),
    ("square sum, floats", tables.check_square_sum_table,
     lambda p: _table(p, lambda a, b: ((a * a + b * b) % p).float()), "dtype"),
    ("square sum, a 2-D table", tables.check_square_sum_table,
     lambda p: tuple(t.reshape(p, p) for t in _table(p, lambda a, b: (a * a + b * b) % p)), "one-dimensional"),
    ("inverse, power overflows", tables.check_mod_inverse, _naive_inverse, "overflowed int64"),
    ("inverse, Fermat exponent off by one", tables.check_mod_inverse, _fermat_off_by_one, "should satisfy"),
    ("inverse, a Python list", tables.check_mod_inverse, _inverse_as_list, "torch.Tensor"),
    ("division, loop keeping b = 0", tables.check_division_table, _div_loop_with_zero, "b = 0"),
    ("division, multiplication instead", tables.check_division_table, _div_as_mul, "first wrong cell"),
    ("division, no prime check", tables.check_division_table, _div_no_prime_check, "is not prime"),
    ("division, wrong exception", tables.check_division_table, _div_wrong_error, "raise a ValueError"),
    ("division, vague message", tables.check_division_table, _div_vague_error, "make the message useful"),
    ("split, global random state", splits.check_split, _split_global_rng, "global random state"),
    ("split, not deterministic", splits.check_split, _split_unseeded, "different split"),
    ("split, int() instead of round()", splits.check_split, _split_variant(floor=True), "round(train_frac·n)"),
    ("split, empty training set", splits.check_split, _split_variant(clamp=False), "at least 1"),
    ("split, unsorted", splits.check_split, _split_variant(sort=False), "sorted"),
    ("split, other end of the permutation", splits.check_split, _split_variant(tail=True), "not the course's"),
    ("split, accepts train_frac = 0", splits.check_split, _split_variant(check_frac=False), "ValueError"),
    ("noise, always the next class", splits.check_label_noise, _noise_variant(shift_one=True), "wrong classes"),
    ("noise, edits its input", splits.check_label_noise, _noise_variant(inplace=True), "clone"),
    ("noise, independent draws", splits.check_label_noise, _noise_variant(independent=True), "exactly"),
    ("noise, may keep the true class", splits.check_label_noise, _noise_variant(may_repeat=True), "exactly"),
    ("noise, the first k labels", splits.check_label_noise, _noise_variant(first_k=True), "at random"),
]


@pytest.mark.parametrize(("check", "fn", "message"), [w[1:] for w in WRONG], ids=[w[0] for w in WRONG])
def test_checks_reject_wrong_implementations(check, fn, message, capsys):
    assert_names_the_slip(check, fn, message, capsys)


def test_messages_name_the_first_wrong_cell():
    with pytest.raises(AssertionError, match=r"square_sum_table\(2\): first wrong cell .* a=0, b=0: "
                       r"expected 0² \+ 0² ≡ 0 \(mod 2\), got 1"):
        def square_sum_table(p):
            return _table(p, lambda a, b: (a * a + b * b + 1) % p)
        tables.check_square_sum_table(square_sum_table)


def test_messages_use_a_readable_name_for_lambdas():
    with pytest.raises(AssertionError, match=r"^your function\(2\)"):
        tables.check_square_sum_table(lambda p: _table(p, lambda a, b: a + b))
