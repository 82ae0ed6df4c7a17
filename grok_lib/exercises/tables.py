"""Checks for exercise 1 (the tables): the a² + b² table, the modular inverse, the division table.

Each ``check_*`` function runs the learner's code on several inputs, edge cases included,
and compares the answers with `grok_lib.task.operations`. A mismatch raises an
``AssertionError`` whose message says what differs and where (the first wrong cell, the
first wrong inverse); success prints one short line starting with ✓. CPU only, well under
a second.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from grok_lib.task.operations import get_operation, is_prime, mod_inverse, operation_table

from .answers import as_int_tensor, fail, fn_name, unpack

TABLE_PS = (2, 3, 5, 7, 11, 97)
INVERSE_PS = (2, 3, 5, 7, 97, 997)
NON_PRIMES = (4, 9, 91)


def _check_table(fn: Callable[[int], object], op_name: str, symbol: str, ps: tuple[int, ...]) -> None:
    op = get_operation(op_name)
    for p in ps:
        call = f"{fn_name(fn)}({p})"
        a, b, c = unpack(fn(p), ("a", "b", "c"), call)
        ref_a, ref_b, ref_c = operation_table(op_name, p)
        n = len(ref_c)
        if not len(a) == len(b) == len(c):
            fail(f"{call}: a, b and c should have the same length, but they have {len(a)}, {len(b)}, {len(c)}.")
        if len(a) != n:
            hint = ""
            if op.b_nonzero and len(a) == p * p:
                hint = (" You kept the pairs with b = 0; division by 0 is undefined, so leave those "
                        f"{p} pairs out.")
            elif op.b_nonzero:
                hint = f" Division keeps every a and every b except b = 0: p·(p−1) = {n} pairs."
            fail(f"{call} returned {len(a)} rows, expected {n}.{hint}")
        pairs_wrong = ((a != ref_a) | (b != ref_b)).nonzero()
        if len(pairs_wrong):
            i = int(pairs_wrong[0])
            fail(f"{call}: the pairs are not in the expected order. Row {i} should be "
                 f"(a={int(ref_a[i])}, b={int(ref_b[i])}) but is (a={int(a[i])}, b={int(b[i])}). "
                 "List the pairs row by row: all b for a = 0, then all b for a = 1, and so on.")
        wrong = (c != ref_c).nonzero()
        if len(wrong):
            i = int(wrong[0])
            ai, bi, want, got = int(ref_a[i]), int(ref_b[i]), int(ref_c[i]), int(c[i])
            note = ""
            if not 0 <= got < p:
                note = f" Results should lie in 0..{p - 1}: reduce them mod p."
            fail(f"{call}: first wrong cell (row {i} of {n}; {len(wrong)} wrong in all) is a={ai}, b={bi}: "
                 f"expected {symbol.format(a=ai, b=bi)} ≡ {want} (mod {p}), got {got}.{note}")


def check_square_sum_table(fn: Callable[[int], object]) -> None:
    """``fn(p)`` should return the flat (a, b, a² + b² mod p) table, like ``operation_table("x2_y2", p)``."""
    _check_table(fn, "x2_y2", "{a}² + {b}²", TABLE_PS)
    print(f"✓ a² + b² table matches for p in {list(TABLE_PS)}")


def check_mod_inverse(fn: Callable[[Tensor, int], Tensor]) -> None:
    """``fn(b, p)`` should return b⁻¹ mod p elementwise for an int64 tensor b of non-zero residues."""
    for p in INVERSE_PS:
        b = torch.arange(1, p)
        call = f"{fn_name(fn)}(b, {p})"
        got = as_int_tensor(fn(b.clone(), p), f"the result of {call}")
        if got.shape != b.shape:
            fail(f"{call} should return one inverse per element of b: shape {tuple(b.shape)}, "
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
            fail(f"{call}: the inverse of {bi} should satisfy {bi}·x ≡ 1 (mod {p}); you gave x = {gi}, "
                 f"and {bi}·{gi} ≡ {bi * gi % p} (mod {p}). {int(bad.sum())} of {p - 1} inverses are wrong."
                 + hint)
    # Elementwise on any shape: the operands of a whole table at once.
    b = torch.arange(1, 7).reshape(2, 3)
    got = as_int_tensor(fn(b, 7), f"the result of {fn_name(fn)}(b, 7) for b of shape (2, 3)")
    if got.shape != b.shape or not torch.equal(got, mod_inverse(b, 7)):
        fail(f"{fn_name(fn)}(b, 7) with b = {b.tolist()} (shape (2, 3)) should give {mod_inverse(b, 7).tolist()}, "
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
                fail(f"{fn_name(fn)}({q}) raised ValueError({text!r}). Good, but make the message useful: "
                     f"say that p must be prime and that {q} is not.")
        except Exception as err:
            fail(f"{fn_name(fn)}({q}) raised {type(err).__name__}; raise a ValueError instead, saying that "
                 f"p must be prime and that {q} is not.")
        else:
            fail(f"{fn_name(fn)}({q}) returned a table, but {q} is not prime: some b have no inverse mod {q}, "
                 "so a/b is undefined. Raise a ValueError that says p must be prime.")
    print(f"✓ division table matches for p in {list(TABLE_PS)}; non-primes {list(NON_PRIMES)} raise ValueError")
