"""Every registered operation against independent Python integer arithmetic."""

from __future__ import annotations

import itertools
import math
import time
from collections import Counter

import pytest
import torch

from grok_lib.task.operations import OPERATIONS, P_MAX, P_MIN, get_operation, is_prime, operation_table

PRIMES = [7, 11, 23, 97]


def _inv(b: int, p: int) -> int:
    return pow(b, -1, p)


# reference definitions, written from the formulas, one Python int pair at a time
REFERENCE = {
    "add": lambda a, b, p: (a + b) % p,
    "sub": lambda a, b, p: (a - b) % p,
    "div": lambda a, b, p: a * _inv(b, p) % p,
    "div_odd_else_sub": lambda a, b, p: a * _inv(b, p) % p if b % 2 == 1 else (a - b) % p,
    "x2_y2": lambda a, b, p: (a**2 + b**2) % p,
    "x2_xy_y2": lambda a, b, p: (a**2 + a * b + b**2) % p,
    "x2_xy_y2_x": lambda a, b, p: (a**2 + a * b + b**2 + a) % p,
    "x3_xy": lambda a, b, p: (a**3 + a * b) % p,
    "x3_xy2_y": lambda a, b, p: (a**3 + a * b**2 + b) % p,
    "mul": lambda a, b, p: a * b % p,
    "sin": lambda a, b, p: math.floor(abs(math.sin(a + b)) * 3 * p) % p,
    "xy_y2": lambda a, b, p: (a * b + b * b) % p,
}


def _rows(name: str, p: int) -> list[tuple[int, int, int]]:
    a, b, c = operation_table(name, p)
    return list(zip(a.tolist(), b.tolist(), c.tolist(), strict=True))


@pytest.mark.parametrize("p", PRIMES)
@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_modular_op_matches_python_arithmetic(name, p):
    rows = _rows(name, p)
    b_domain = range(1, p) if name == "div" else range(p)
    assert [(a, b) for a, b, _ in rows] == list(itertools.product(range(p), b_domain))
    ref = REFERENCE[name]
    wrong = [(a, b, c, ref(a, b, p)) for a, b, c in rows if c != ref(a, b, p)]
    assert not wrong, wrong[:5]


def test_every_modular_op_has_a_reference():
    modular = {n for n, op in OPERATIONS.items() if op.group == "modular"} - {"random"}
    assert modular == set(REFERENCE)


@pytest.mark.parametrize("p", PRIMES)
def test_division_skips_zero_divisor(p):
    a, b, c = operation_table("div", p)
    assert len(c) == p * (p - 1)
    assert bool((b != 0).all())
    # a / b * b == a: the defining property, independent of how the inverse is found
    assert bool(((c * b) % p == a).all())


@pytest.mark.parametrize("p", [2, 23, 97])
def test_results_lie_in_range(p):
    for name, op in OPERATIONS.items():
        if op.group == "s5" or (op.needs_prime and not is_prime(p)):
            continue
        _, _, c = operation_table(name, p)
        assert c.dtype == torch.int64
        assert int(c.min()) >= 0 and int(c.max()) < p, name


def test_random_labels_deterministic_in_range_and_roughly_uniform():
    p = 97
    first, second = operation_table("random", p)[2], operation_table("random", p)[2]
    assert torch.equal(first, second)
    assert int(first.min()) >= 0 and int(first.max()) < p
    counts = Counter(first.tolist())
    expected = p  # p² labels over p classes
    assert len(counts) == p
    assert max(counts.values()) < 2 * expected and min(counts.values()) > expected / 2
    # not secretly a simple function of a + b
    assert len({c for a, b, c in _rows("random", p) if a + b == 50}) > 10
    assert not torch.equal(operation_table("random", 89)[2][:100], first[:100])


# ---- S5 -----------------------------------------------------------------------------------

PERMS = list(itertools.permutations(range(5)))


def _compose(x: tuple, y: tuple) -> tuple:
    """(x·y)(i) = x(y(i))."""
    return tuple(x[y[i]] for i in range(5))


def _inverse(x: tuple) -> tuple:
    out = [0] * 5
    for i, xi in enumerate(x):
        out[xi] = i
    return tuple(out)


def test_s5_elements_are_the_120_distinct_permutations():
    from grok_lib.task.operations import _s5_elements

    el = [tuple(row) for row in _s5_elements().tolist()]
    assert len(el) == 120 and len(set(el)) == 120
    assert set(el) == set(PERMS)


@pytest.mark.parametrize(
    "name, ref",
    [
        ("s5_xy", lambda x, y: _compose(x, y)),
        ("s5_xyx_inv", lambda x, y: _compose(_compose(x, y), _inverse(x))),
        ("s5_xyx", lambda x, y: _compose(_compose(x, y), x)),
    ],
)
def test_s5_ops_match_tuple_composition(name, ref):
    from grok_lib.task.operations import _s5_elements

    el = [tuple(row) for row in _s5_elements().tolist()]
    rows = _rows(name, 0)  # S5 ignores p
    assert len(rows) == 120 * 120
    for a, b, c in rows:
        assert el[c] == ref(el[a], el[b])


def test_s5_group_axioms():
    a, b, c = operation_table("s5_xy", 7)
    table = torch.full((120, 120), -1)
    table[a, b] = c
    assert int(table.min()) >= 0 and int(table.max()) < 120  # closure
    identity = [e for e in range(120) if torch.equal(table[e], torch.arange(120))]
    assert len(identity) == 1
    e = identity[0]
    assert torch.equal(table[:, e], torch.arange(120))
    assert all(int((table[x] == e).sum()) == 1 for x in range(120))  # every element has one inverse
    gen = torch.Generator().manual_seed(0)
    x, y, z = torch.randint(0, 120, (3, 500), generator=gen)
    assert torch.equal(table[table[x, y], z], table[x, table[y, z]])  # associativity
    assert not torch.equal(table, table.T)  # S5 is not abelian


# ---- errors and speed --------------------------------------------------------------------

def test_unknown_operation_lists_valid_names():
    with pytest.raises(ValueError) as err:
        get_operation("addd")
    for name in ("add", "div", "s5_xy", "random"):
        assert name in str(err.value)


@pytest.mark.parametrize("name", ["div", "div_odd_else_sub"])
def test_division_needs_prime_and_suggests_nearby(name):
    with pytest.raises(ValueError, match="prime") as err:
        operation_table(name, 100)
    for q in (97, 101):
        assert str(q) in str(err.value)
    operation_table("add", 100)  # composite moduli are fine where no inverse is needed


@pytest.mark.parametrize("p", [P_MIN - 1, 0, -5, P_MAX + 1])
def test_p_out_of_range(p):
    with pytest.raises(ValueError, match="out of range") as err:
        operation_table("add", p)
    assert str(P_MIN) in str(err.value) and str(P_MAX) in str(err.value)


def test_is_prime_matches_trial_division():
    ref = [n for n in range(200) if n >= 2 and all(n % d for d in range(2, n))]
    assert [n for n in range(200) if is_prime(n)] == ref


def test_table_is_vectorised():
    t0 = time.perf_counter()
    a, b, c = operation_table("add", 997)
    elapsed = time.perf_counter() - t0
    assert c.shape == (997 * 997,)
    assert int(c[-1]) == (996 + 996) % 997
    assert elapsed < 2.0, f"building a p=997 table took {elapsed:.2f} s: is there a Python loop over pairs?"
