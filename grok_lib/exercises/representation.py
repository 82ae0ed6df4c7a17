"""Checks for exercise 9, part 1: Liu et al.'s (2022) representation quality index (RQI) of an embedding.

The reference is the library's own ``rqi`` in `grok_lib.analysis.why.representation` (addition without wrapping,
their toy's table, the tolerance δ = 0.01 of their code). The learner's ``rqi(embedding)`` is tried on lines, on
noisy lines near the tolerance, on a random table, on a table with a constant feature, and on the smallest table
with a parallelogram (p = 3). When the number differs, the check recomputes the index with one thing changed
(not standardised, the squares summed, j = m left out, a sign flipped, ...) from the library's parallelograms and
names the first variant that gives the learner's number. Success prints one line starting with ✓. CPU only.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from grok_lib.analysis.why.representation import TOLERANCE, closing_errors, parallelograms, rqi, standardise

from .answers import fail, fn_name

F64 = torch.float64


def _noisy_line(p: int, d: int, noise: float, seed: int, scale: float = 1.0) -> Tensor:
    """E_k = k·v + c plus Gaussian noise of std ``noise`` per entry, times ``scale``."""
    gen = torch.Generator().manual_seed(seed)
    v, c = torch.randn(d, generator=gen, dtype=F64), torch.randn(d, generator=gen, dtype=F64)
    line = torch.arange(p, dtype=F64)[:, None] * v + c
    return scale * (line + noise * torch.randn(p, d, generator=gen, dtype=F64))


def rqi_cases() -> list[tuple[str, Tensor]]:
    """(description, embedding [p, d]): lines (RQI 1), noisy lines whose closing errors straddle δ, a random table,
    a constant feature, and p = 3, whose one parallelogram ({0, 2} and {1, 1}) has j = m."""
    constant = _noisy_line(11, 5, 0.03, 3)
    constant[:, 2] = 4.0
    return [("a line of 10 numbers in 1 dimension", 3.0 * torch.arange(10, dtype=F64)[:, None] - 2.0),
            ("a line of 13 numbers in 8 dimensions", _noisy_line(13, 8, 0.0, 0)),
            ("a noisy line of 12 numbers in 6 dimensions", _noisy_line(12, 6, 0.03, 1)),
            ("a noisy line of 12 numbers in 6 dimensions, all times 0.001", _noisy_line(12, 6, 0.06, 2, 1e-3)),
            ("a random table of 10 numbers in 8 dimensions",
             torch.randn(10, 8, generator=torch.Generator().manual_seed(5), dtype=F64)),
            ("a noisy line of 11 numbers in 5 dimensions whose third feature is constant", constant),
            ("a line of 3 numbers in 2 dimensions", torch.tensor([[0.0, 1.0], [1.0, 3.0], [2.0, 5.0]], dtype=F64))]


def _closes(diff: Tensor, summed: bool = False, root: bool = False) -> float:
    """The share of rows of ``diff`` [parallelogram, feature] whose mean (or sum) of squares is below δ."""
    err = diff.square().sum(-1) if summed else diff.square().mean(-1)
    return float(((err.sqrt() if root else err) < TOLERANCE).double().mean()) if len(err) else float("nan")


def _slips(e: Tensor) -> list[tuple[float, str]]:
    """(the index with one thing changed, what was changed) for the usual slips."""
    p = e.shape[0]
    rows = parallelograms(p)
    i, n, j, m = rows.T
    z = standardise(e)
    kept = e[:, e.std(0) > 0]

    def diff(x: Tensor, signs: tuple[int, int, int, int] = (1, 1, -1, -1)) -> Tensor:
        return signs[0] * x[i] + signs[1] * x[n] + signs[2] * x[j] + signs[3] * x[m]

    errors = closing_errors(e)
    return [
        (_closes(diff(e - e.mean(0))), "You did not standardise: divide each feature by its standard deviation over "
         "the numbers first (after subtracting its mean), so that δ means the same at every scale."),
        (_closes(diff((kept - kept.mean(0)) / kept.std())), "You divided by one standard deviation of the whole "
         "table; standardise each feature (column) on its own."),
        (_closes(diff((kept - kept.mean(0)) / kept.std(0, correction=0))), "You standardised with the population "
         "standard deviation (np.std's default); the library, as the authors' code, uses torch.std, which divides by "
         "p − 1."),
        (_closes(diff(z), summed=True), "You summed the squares over the features; average them (the authors' "
         "(dists ** 2).mean(1)), so that δ does not grow with the width."),
        (_closes(diff(z), root=True), "You compared the distance itself with δ; compare its square, averaged over "
         "the features."),
        (float((errors[j != m] < TOLERANCE).double().mean()) if bool((j != m).any()) else float("nan"),
         "You left out the parallelograms with j = m, such as {0, 4} and {2, 2}: the quadruples are i < j ≤ m < n."),
        (_closes(diff(z, (1, 1, 1, 1))), "A sign: you added all four; the closing error is E_i + E_n − E_j − E_m."),
        *[(_closes(diff(z, signs)), "A sign or the pairing: the pairs with equal sums are {i, n} and {j, m}, so the "
           "closing error is E_i + E_n − E_j − E_m.") for signs in ((1, -1, -1, 1), (1, -1, 1, -1))],
        (rqi(e, modulus=p), f"You counted the sums mod p (wrapping around at {p}); the toy adds without wrapping, so "
         "i + n = j + m exactly."),
    ]


def _same(a: float, b: float) -> bool:
    """Equal counts give equal fractions (to float32's rounding: two counts out of a few hundred differ by far more);
    both NaN (no parallelogram counted) is the same answer too."""
    return abs(a - b) < 1e-6 or (a != a and b != b)


def _number(x: object, call: str) -> float:
    if isinstance(x, Tensor) and x.numel() == 1:
        x = x.item()
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        fail(f"{call} should return a number (the fraction of parallelograms that close), but it returned a "
             f"{type(x).__name__}.")
    return float(x)


def check_rqi(fn: Callable[[Tensor], float]) -> None:
    """``fn(embedding)`` should return the fraction of the table's parallelograms (i < j ≤ m < n, i + n = j + m)
    whose mean squared closing error in the standardised embedding is below δ = 0.01, like the library's ``rqi``."""
    cases, got = rqi_cases(), []
    for what, e in cases:  # every table first: a slip is named only when it explains all of the learner's numbers
        kept, call = e.clone(), f"{fn_name(fn)}(embedding) on {what}"
        try:
            value = fn(e)
        except ZeroDivisionError:
            fail(f"{call} divided by zero: you found no parallelogram among {len(e)} numbers. You left out the "
                 "parallelograms with j = m, it seems: {0, 2} and {1, 1} have the same sum, and the quadruples are "
                 "i < j ≤ m < n.")
        if not torch.equal(e, kept):
            fail(f"{call} changed the embedding it was given (in place); standardise a new tensor.")
        got.append(_number(value, call))
    want = [rqi(e) for _, e in cases]
    wrong = [k for k in range(len(cases)) if not _same(got[k], want[k])]
    if wrong:
        (what, e), k = cases[wrong[0]], wrong[0]
        at = f"{fn_name(fn)}(embedding) on {what}: yours is {got[k]:.6g}, the library's {want[k]:.6g}"
        if e.std(0).min() == 0 and (got[k] != got[k] or got[k] == 0):
            fail(f"{at}. A feature that is constant over the numbers has standard deviation 0: dividing by it makes "
                 "every closing error NaN. Drop such features before standardising (the library does).")
        slips = [_slips(e) for _, e in cases]
        for s, (_, hint) in enumerate(slips[0]):
            if all(_same(got[k], slips[k][s][0]) for k in range(len(cases))):
                fail(f"{at}. {hint}")
        fail(f"{at}. Standardise each feature, then count the quadruples i < j ≤ m < n with i + n = j + m whose "
             "mean over features of (Z_i + Z_n − Z_j − Z_m)² is below 0.01, out of all of them.")
    print(f"✓ your RQI matches the library's on {len(rqi_cases())} tables (lines, noisy lines, a random table, a "
          "constant feature, p = 3)")
