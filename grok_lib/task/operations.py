"""The registry of binary operations a∘b that the course trains on.

Every operation builds its whole table at once with tensor arithmetic (no Python
loop over the p² pairs), so a table for p=97 costs microseconds and a test can
compare it against independent integer arithmetic.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

P_MIN, P_MAX = 2, 1000
S5_SIZE = 120


def is_prime(n: int) -> bool:
    """Trial division; p is at most P_MAX so this is instant."""
    if n < 2:
        return False
    return all(n % d for d in range(2, int(n**0.5) + 1))


def mod_inverse(b: Tensor, p: int) -> Tensor:
    """b^(p-2) mod p by square-and-multiply on int64 tensors (Fermat; p prime)."""
    result = torch.ones_like(b)
    base = b % p
    e = p - 2
    while e:
        if e & 1:
            result = result * base % p
        base = base * base % p
        e >>= 1
    return result


def _s5_elements() -> Tensor:
    """The 120 permutations of (0..4), in lexicographic order; index = element id."""
    return torch.tensor(list(itertools.permutations(range(5))), dtype=torch.long)


def _s5_ids(perms: Tensor) -> Tensor:
    """Map permutations [..., 5] back to their element ids through a base-5 code."""
    code_of = (perms * (5 ** torch.arange(5))).sum(-1)
    lookup = torch.full((5**5,), -1, dtype=torch.long)
    elements = _s5_elements()
    lookup[(elements * (5 ** torch.arange(5))).sum(-1)] = torch.arange(S5_SIZE)
    return lookup[code_of]


def s5_compose(x: Tensor, y: Tensor) -> Tensor:
    """Element ids of x·y, where (x·y)(i) = x(y(i)): apply y first, then x."""
    el = _s5_elements()
    return _s5_ids(torch.gather(el[x], -1, el[y]))


def s5_inverse(x: Tensor) -> Tensor:
    """Element ids of x⁻¹ (the argsort of a permutation is its inverse)."""
    return _s5_ids(torch.argsort(_s5_elements()[x], dim=-1))


@dataclass(frozen=True)
class Operation:
    """One binary operation: its name, how it reads, and how to tabulate it.

    ``fn(a, b, p)`` receives int64 tensors of operands and returns the results.
    Modular operations have ``n = p`` elements; S5 operations have 120 and ignore p.
    """

    name: str
    formula: str
    fn: Callable[[Tensor, Tensor, int], Tensor]
    group: str = "modular"  # "modular" or "s5"
    needs_prime: bool = False
    b_nonzero: bool = False
    commutative: bool = False
    source: str = "Power et al. 2022"

    def n_elements(self, p: int) -> int:
        return S5_SIZE if self.group == "s5" else p

    def n_pairs(self, p: int) -> int:
        """Rows of the table: every (a, b), less b = 0 where b must be invertible."""
        n = self.n_elements(p)
        return n * (n - 1) if self.b_nonzero else n * n

    def check_p(self, p: int) -> None:
        """Refuse a modulus the operation cannot use, saying what would work."""
        if self.group == "s5":
            return
        if not isinstance(p, int) or not P_MIN <= p <= P_MAX:
            raise ValueError(f"p={p!r} is out of range: use an integer from {P_MIN} to {P_MAX}.")
        if self.needs_prime and not is_prime(p):
            nearby = [q for q in range(max(P_MIN, p - 20), p + 21) if is_prime(q)]
            raise ValueError(
                f"operation {self.name!r} ({self.formula}) needs a modular inverse, so p must be "
                f"prime; {p} is not. Nearby primes: {nearby}."
            )


def _sin_op(a: Tensor, b: Tensor, p: int) -> Tensor:
    s = torch.sin((a + b).to(torch.float64)).abs()
    return torch.floor(s * 3 * p).long() % p


def _random_labels(a: Tensor, b: Tensor, p: int) -> Tensor:
    gen = torch.Generator().manual_seed(1_000_003 * p + 17)
    table = torch.randint(0, p, (p, p), generator=gen)
    return table[a, b]


def _div(a: Tensor, b: Tensor, p: int) -> Tensor:
    return a * mod_inverse(b, p) % p


_OPS = [
    Operation("add", "a + b (mod p)", lambda a, b, p: (a + b) % p, commutative=True),
    Operation("sub", "a − b (mod p)", lambda a, b, p: (a - b) % p),
    Operation("div", "a / b (mod p), b ≠ 0", _div, needs_prime=True, b_nonzero=True),
    Operation(
        "div_odd_else_sub",
        "a / b if b is odd, else a − b (mod p)",
        lambda a, b, p: torch.where(b % 2 == 1, _div(a, b, p), (a - b) % p),
        needs_prime=True,
    ),
    Operation("x2_y2", "a² + b² (mod p)", lambda a, b, p: (a * a + b * b) % p, commutative=True),
    Operation("x2_xy_y2", "a² + ab + b² (mod p)", lambda a, b, p: (a * a + a * b + b * b) % p, commutative=True),
    Operation("x2_xy_y2_x", "a² + ab + b² + a (mod p)", lambda a, b, p: (a * a + a * b + b * b + a) % p),
    Operation("x3_xy", "a³ + ab (mod p)", lambda a, b, p: (a * a % p * a + a * b) % p),
    Operation("x3_xy2_y", "a³ + ab² + b (mod p)", lambda a, b, p: (a * a % p * a + a * (b * b % p) + b) % p),
    Operation("s5_xy", "x·y in S5", lambda a, b, p: s5_compose(a, b), group="s5"),
    Operation("s5_xyx_inv", "x·y·x⁻¹ in S5", lambda a, b, p: s5_compose(s5_compose(a, b), s5_inverse(a)), group="s5"),
    Operation("s5_xyx", "x·y·x in S5", lambda a, b, p: s5_compose(s5_compose(a, b), a), group="s5"),
    Operation("mul", "a · b (mod p)", lambda a, b, p: a * b % p, commutative=True, source="course seeds"),
    Operation("sin", "⌊|sin(a + b)|·3p⌋ (mod p)", _sin_op, commutative=True, source="course seeds"),
    Operation("xy_y2", "a·b + b² (mod p)", lambda a, b, p: (a * b + b * b) % p, source="course seeds"),
    Operation("random", "random labels (a control)", _random_labels, source="control"),
]

OPERATIONS: dict[str, Operation] = {op.name: op for op in _OPS}


def get_operation(name: str) -> Operation:
    """Look an operation up by name, listing the valid names when it is unknown."""
    try:
        return OPERATIONS[name]
    except KeyError:
        raise ValueError(f"unknown operation {name!r}; choose one of: {', '.join(OPERATIONS)}") from None


def operation_table(name: str, p: int) -> tuple[Tensor, Tensor, Tensor]:
    """All (a, b, a∘b) of an operation as three flat int64 tensors, row-major in (a, b)."""
    op = get_operation(name)
    op.check_p(p)
    n = op.n_elements(p)
    a = torch.arange(n).repeat_interleave(n)
    b = torch.arange(n).repeat(n)
    if op.b_nonzero:
        keep = b != 0
        a, b = a[keep], b[keep]
    return a, b, op.fn(a, b, p)
