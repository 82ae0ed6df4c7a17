"""Checks for exercise 7, parts 1 to 3 (chapter 7, inside the network): the real Fourier basis of Z_n, an embedding's
squared norm per frequency, and its key frequencies by the fair-share rule.

The references are `grok_lib.analysis.mechanism.fourier` (``fourier_basis``, ``frequency_power``) and
`grok_lib.analysis.mechanism.frequencies.fair_share_keys`. Each check runs the learner's function on several sizes,
odd and even (where the frequency n/2 has a cosine only), and on tables with planted frequencies, and says in words
what differs first: a row in the wrong place, of the wrong sign or norm, a transform along the wrong axis, a
frequency off by one. Success prints one short line starting with ✓. CPU only, well under a second.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from grok_lib.analysis.mechanism.fourier import component_names, fourier_basis, frequency_power
from grok_lib.analysis.mechanism.frequencies import FACTOR, fair_share_keys

from .answers import fail, fn_name

BASIS_SIZES = (5, 3, 7, 97, 2, 4, 8)  # odd first; an even n adds the frequency n/2, a cosine only


def _float64(x: object, shape: tuple[int, ...], call: str) -> Tensor:
    """The learner's tensor, checked for type, shape and dtype, on the CPU."""
    if not isinstance(x, Tensor):
        fail(f"{call} should return a torch.Tensor, but it returned a {type(x).__name__}.")
    if tuple(x.shape) != shape:
        fail(f"{call} should return shape {shape}, got {tuple(x.shape)}.")
    if x.dtype != torch.float64:
        fail(f"{call} returned {x.dtype}; use float64, so that sums of many squares keep their small terms.")
    return x.detach().cpu()


def _which_row(row: Tensor, ref: Tensor) -> tuple[int, float] | None:
    """(index, factor) of the library's basis row that ``row`` is a multiple of, or None."""
    coef = ref @ row
    j = int(coef.abs().argmax())
    if float(coef[j].abs()) > 1e-9 and torch.allclose(row, coef[j] * ref[j], atol=1e-9):
        return j, float(coef[j])
    return None


def _row_hint(r: int, got_row: Tensor, ref: Tensor, names: list[str]) -> str:
    match = _which_row(got_row, ref)
    if match is None:
        return f"row {r} should be '{names[r]}' but is not a multiple of any one basis function."
    j, factor = match
    if j == r and abs(factor + 1) < 1e-9:
        return (f"row {r} is minus '{names[r]}': write sin(2πkx/n), not sin(−2πkx/n) (a complex FFT's conjugate "
                "convention flips it).")
    scale = "" if abs(abs(factor) - 1) < 1e-9 else f"{abs(factor):.4g} × "
    got_name = ("−" if factor < 0 else "") + scale + f"'{names[j]}'"
    hint = f"row {r} should be '{names[r]}' but is {got_name}."
    freq = lambda i: 0 if i == 0 else int(names[i].split()[-1])  # noqa: E731
    if abs(freq(j) - freq(r)) == 1 and names[j].split()[0] in (names[r].split()[0], "const"):
        return hint + " A frequency off by one: k runs from 1 to (n − 1) // 2; row 2k − 1 is cos k, row 2k is sin k."
    return hint + " Order the rows: the constant, then for each k = 1, 2, ... its cos and then its sin."


def check_fourier_basis(fn: Callable[[int], Tensor]) -> None:
    """``fn(n)`` should return the real Fourier basis of Z_n as a float64 matrix [component, x], in the library's
    order and normalisation (``grok_lib.analysis.mechanism.fourier_basis``)."""
    for n in BASIS_SIZES:
        call = f"{fn_name(fn)}({n})"
        got = fn(n)
        if isinstance(got, Tensor) and got.dim() == 2 and got.shape[1] == n and got.shape[0] == n - 1:
            even = ", or, n being even, the last row (−1)^x/√n (the frequency n/2, a cosine only)" if n % 2 == 0 else ""
            fail(f"{call} has {n - 1} row{'s' if n > 2 else ''}, one short of {n}: did you leave out the constant "
                 f"row 1/√n (frequency 0){even}?")
        got = _float64(got, (n, n), call)
        ref = fourier_basis(n)
        if torch.allclose(got, ref, atol=1e-9):
            continue
        if torch.allclose(got.T, ref, atol=1e-9):
            fail(f"{call} is transposed: each *row* should be one basis function over x = 0..{n - 1}.")
        gram = got @ got.T
        off = gram - torch.diag(torch.diag(gram))
        if off.abs().max() < 1e-9 and not torch.allclose(torch.diag(gram), torch.ones(n, dtype=torch.float64)):
            r = int((torch.diag(gram) - 1).abs().argmax())
            fail(f"{call}: the rows are orthogonal but not normalised: row {r} ('{component_names(n)[r]}') has norm "
                 f"{float(gram[r, r]) ** 0.5:.4g}, not 1. Scale the constant by 1/√n and each cos and sin by √(2/n).")
        r = int(((got - ref).abs().max(1).values > 1e-9).nonzero()[0])
        fail(f"{call}: {_row_hint(r, got[r], ref, component_names(n))}")
    print(f"✓ Fourier basis matches for n in {list(BASIS_SIZES)}")


def _table(n: int, d: int, seed: int, keys: tuple[int, ...] = (), offset: float = 0.0, noise: float = 1.0) -> Tensor:
    """A table [element, feature]: Gaussian noise, plus waves of the frequencies ``keys``, plus a constant."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.arange(n, dtype=torch.float64)[:, None]
    table = noise * torch.randn(n, d, generator=gen, dtype=torch.float64) + offset
    for k in keys:
        phase = 2 * math.pi * torch.rand(1, d, generator=gen, dtype=torch.float64)
        table = table + 3 * torch.cos(2 * math.pi * k * x / n + phase)
    return table


# (n elements, d features, seed, planted frequencies, constant offset, noise)
POWER_CASES = ((31, 4, 1, (5,), 0.0, 0.1), (7, 3, 0, (), 0.0, 1.0), (97, 16, 2, (), 2.0, 1.0), (8, 5, 3, (), 0.0, 1.0),
               (2, 3, 4, (), 0.0, 1.0), (13, 1, 5, (), 0.0, 1.0))


def check_frequency_power(fn: Callable[[Tensor], Tensor]) -> None:
    """``fn(table)`` should return the squared norm per frequency [n//2 + 1] of a table [element, feature] (entry 0
    the constant's), like ``grok_lib.analysis.mechanism.frequency_power``."""
    for n, d, seed, keys, offset, noise in POWER_CASES:
        table = _table(n, d, seed, keys, offset, noise)
        kept = table.clone()
        planted = f" with frequency {keys[0]} planted" if keys else ""
        call = f"{fn_name(fn)}(table) on a {n}×{d} table{planted}"
        got = fn(table)
        if not torch.equal(table, kept):
            fail(f"{call} changed the table it was given; work on a copy.")
        if isinstance(got, Tensor) and tuple(got.shape) != (n // 2 + 1,):
            shape = tuple(got.shape)
            if shape == (n // 2 + 1, d):
                fail(f"{call} returned shape {shape}: one value per frequency and feature. Add the features' squared "
                     "coefficients up, so that each frequency gets one number.")
            if shape == (n // 2,):
                fail(f"{call} returned {n // 2} values; entry 0 must be the constant (frequency 0), then 1..{n // 2}.")
            if shape == (d // 2 + 1,) or (shape and shape[0] == d // 2 + 1):
                fail(f"{call} returned shape {shape}: the transform ran along the features. The frequencies belong to "
                     f"the {n} elements, the rows (axis 0).")
        got = _float64(got, (n // 2 + 1,), call)
        ref = frequency_power(table)
        if torch.allclose(got, ref, rtol=1e-9, atol=1e-12 * float(ref.sum())):
            continue
        k = int(((got - ref).abs() > 1e-9 * float(ref.sum())).nonzero()[0])
        at = f"{call}: entry {k} is {float(got[k]):.6g}, the library's {float(ref[k]):.6g}"
        if keys and int(got[1:].argmax()) + 1 != keys[0]:
            fail(f"{at}. The planted frequency {keys[0]} shows up at entry {int(got[1:].argmax()) + 1}: entry k must "
                 "hold frequency k (its cos and its sin row), with the constant at 0.")
        if torch.allclose(got.square(), ref, rtol=1e-6):
            fail(f"{at}. Those are norms; return their squares (the power), which add up over frequencies.")
        ratio = got[1:] / ref[1:].clamp_min(1e-300)
        if torch.allclose(ratio, ratio[0].expand_as(ratio), rtol=1e-6) and abs(float(ratio[0]) - 1) > 1e-6:
            fail(f"{at}: every frequency is {float(ratio[0]):.4g} times too large, as with an unnormalised FFT. In an "
                 "orthonormal basis the entries add up to the table's squared norm "
                 f"({float(table.square().sum()):.6g}); yours add up to {float(got.sum()):.6g}.")
        fail(f"{at}. Entry k should add the squared coefficients of cos k and sin k over all features (the constant's "
             "for entry 0); the entries add up to the table's squared norm.")
    print(f"✓ power per frequency matches for {len(POWER_CASES)} tables (odd and even n, planted frequencies)")


# (n, d, seed, planted frequencies, constant offset, factor)
KEY_CASES = ((31, 8, 0, (3, 7), 0.0, FACTOR), (31, 8, 1, (3, 7), 20.0, FACTOR), (31, 8, 2, (), 0.0, FACTOR),
             (97, 32, 3, (14, 35, 41), 5.0, FACTOR), (13, 6, 4, (6,), 0.0, FACTOR), (13, 6, 5, (1,), 0.0, FACTOR),
             (13, 6, 4, (1, 6), 0.0, FACTOR), (31, 8, 6, (2, 4, 6, 9, 11, 13), 0.0, 2.0),
             (31, 8, 6, (2, 4, 6, 9, 11, 13), 0.0, FACTOR))


def check_key_frequencies(fn: Callable[[Tensor, float], object]) -> None:
    """``fn(table, factor)`` should return the sorted frequencies holding at least ``factor`` times their fair share of
    the table's non-constant power, like ``fair_share_keys(frequency_power(table), factor)``."""
    for n, d, seed, keys, offset, factor in KEY_CASES:
        table = _table(n, d, seed, keys, offset)
        call = f"{fn_name(fn)}(table, factor={factor:g}) on a {n}×{d} table" + (
            f" with frequencies {list(keys)} planted" if keys else " of noise") + (
            f" and a constant offset of {offset:g}" if offset else "")
        got = fn(table, factor)
        if isinstance(got, Tensor):
            got = got.tolist()
        if not isinstance(got, (list, tuple)) or not all(isinstance(k, int) for k in got):
            fail(f"{call} should return a list of Python ints, got {got!r}.")
        want = fair_share_keys(frequency_power(table), factor)
        if list(got) == want:
            continue
        at = f"{call}: expected {want}, got {list(got)}"
        if sorted(got) == want:
            fail(f"{at}. Return the frequencies in increasing order.")
        if 0 in got:
            fail(f"{at}. Frequency 0, the constant, is never key: leave it out of the shares and of the answer.")
        if [k + 1 for k in got] == want:
            fail(f"{at}. Off by one: the first frequency is 1 (entry 1 of the power, after the constant).")
        if set(got) < set(want) and factor != FACTOR:
            fail(f"{at}: too few. Use the factor argument (here {factor:g}), not a fixed {FACTOR:g}.")
        if set(got) < set(want) and offset:
            fail(f"{at}: too few. The fair share is 1/K of the *non-constant* power, K = n // 2 frequencies; the "
                 "constant's power must not dilute it.")
        fail(f"{at}. A frequency k is key when power[k] / sum(power[1:]) >= factor / K, with K = n // 2 frequencies "
             "(not counting the constant); so at most K / factor frequencies can be key.")
    print(f"✓ key frequencies match for {len(KEY_CASES)} tables (planted frequencies, noise, constant offsets, "
          "factors)")
