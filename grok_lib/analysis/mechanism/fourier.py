"""The real Fourier basis of Z_n and what a network's weights and activations look like in it.

The basis (Nanda et al. 2023 use the same one, in the same order) has ``n`` orthonormal rows:

    const = 1/sqrt(n),   cos_k(x) = sqrt(2/n) cos(2πkx/n),   sin_k(x) = sqrt(2/n) sin(2πkx/n),
    k = 1 .. (n-1)//2, and for even n one more row, (-1)^x / sqrt(n), the frequency n/2.

Frequency 0 is the constant. A network that adds mod p with a few "key frequencies" has
weights that are sparse in this basis; before it generalises they are dense.
"""

from __future__ import annotations

import math

import torch
from einops import einsum
from torch import Tensor


def fourier_basis(n: int, dtype: torch.dtype = torch.float64) -> Tensor:
    """The basis as a matrix [component, x]: row r is the r-th basis function on 0..n-1."""
    x = torch.arange(n, dtype=torch.float64)
    rows = [torch.full((n,), 1 / math.sqrt(n), dtype=torch.float64)]
    for k in range(1, (n - 1) // 2 + 1):
        angle = 2 * math.pi * k * x / n
        rows += [torch.cos(angle) * math.sqrt(2 / n), torch.sin(angle) * math.sqrt(2 / n)]
    if n % 2 == 0:
        rows.append(torch.cos(math.pi * x) / math.sqrt(n))
    return torch.stack(rows).to(dtype)


def component_frequency(n: int) -> Tensor:
    """The frequency of each row of `fourier_basis` (0 for the constant): [0, 1, 1, 2, 2, ...]."""
    return torch.tensor([0] + [(r + 1) // 2 for r in range(1, n)])


def component_names(n: int) -> list[str]:
    """Labels of the basis rows, for axes: 'const', 'cos 1', 'sin 1', ..."""
    names = ["const"] + [f"{'cos' if r % 2 else 'sin'} {(r + 1) // 2}" for r in range(1, n)]
    if n % 2 == 0:
        names[-1] = f"cos {n // 2}"
    return names


def to_fourier(table: Tensor) -> Tensor:
    """A table [x, feature] over the n elements, in the basis: [component, feature]."""
    basis = fourier_basis(table.shape[0], torch.float64)
    return einsum(basis, table.to(torch.float64), "component x, x feature -> component feature")


def _grouping(n: int) -> Tensor:
    """[component, frequency] one-hot: which frequency each basis row belongs to."""
    return torch.nn.functional.one_hot(component_frequency(n), n // 2 + 1).to(torch.float64)


def frequency_power(table: Tensor) -> Tensor:
    """Squared norm per frequency of a table [x, feature] (an embedding: one row per element).

    Entry 0 is the constant's; entries 1..n//2 add the cos and sin rows of each frequency.
    The basis is orthonormal, so the entries add up to the table's squared Frobenius norm."""
    sq = to_fourier(table).square().sum(-1)
    return einsum(_grouping(table.shape[0]).to(sq.device), sq, "component frequency, component -> frequency")


def frequency_norms(table: Tensor) -> Tensor:
    """Norm per frequency (the square root of `frequency_power`): the embedding's spectrum."""
    return frequency_power(table).sqrt()


def fourier_2d(maps: Tensor) -> Tensor:
    """Maps over the (a, b) grid [..., a, b] in the 2-D basis: [..., component_a, component_b]."""
    basis = fourier_basis(maps.shape[-1], torch.float64).to(maps.device)
    return basis @ maps.to(torch.float64) @ basis.T  # two matrix products: einsum's order made a p⁴ intermediate


def frequency_power_2d(maps: Tensor) -> Tensor:
    """Squared 2-D coefficients summed by frequency pair: [..., frequency_a, frequency_b]."""
    sq = fourier_2d(maps).square()
    group = _grouping(sq.shape[-1]).to(sq.device)  # [component, frequency]
    return group.T @ sq @ group


def dominant_frequencies(maps: Tensor) -> tuple[Tensor, Tensor]:
    """Each map's dominant frequency and the fraction of its variance that frequency explains.

    ``maps`` [neuron, a, b] (activation of each neuron over the grid). As in Nanda et al.'s
    code, a frequency k "explains" the 2-D components whose a- and b-frequencies are each 0
    or k (the terms linear in cos/sin of ka or kb and the products of the two), the constant
    (0, 0) left out: the fraction is their squared coefficients over the map's variance
    times p². Returns (frequency [neuron], fraction [neuron]); a constant map gets (0, 0)."""
    power = frequency_power_2d(maps)  # [neuron, fa, fb]
    k = torch.arange(1, power.shape[-1])
    explained = power[:, k, k] + power[:, 0, k] + power[:, k, 0]  # [neuron, frequency 1..]
    total = power.flatten(1).sum(1) - power[:, 0, 0]
    best = explained.argmax(1)
    frac = explained.gather(1, best[:, None])[:, 0] / total.clamp_min(1e-300)
    constant = total <= 1e-24 * power[:, 0, 0].clamp_min(1.0)
    return torch.where(constant, 0, best + 1), torch.where(constant, 0.0, frac)
