"""Liu et al.'s (2022) representation quality index (RQI), and the 2-D PCA of an embedding.

A representation of the numbers 0..p-1 (an embedding table E, one row per number) is *linear* when
E_k = k·v + c. Then every *parallelogram* of the addition table, two distinct pairs {i, n} and
{j, m} with i + n = j + m, closes: E_i + E_n = E_j + E_m. The RQI is the fraction of the table's
parallelograms that close in E, to a tolerance:

    RQI(E) = #{(i, n, j, m) : mean_d (Z_i + Z_n - Z_j - Z_m)_d² < δ} / #{all parallelograms},

with Z = E standardised per feature (zero mean, unit variance over the p rows) and δ = 0.01.
This follows the authors' code (``train_add.py`` in the ``grokking-squared`` repository): the
same quadruples (i < j ≤ m < n, i + n = j + m: every parallelogram once), the same per-feature
standardisation (``std`` with Bessel's correction), the same tolerance on the squared distance
*averaged over features* (not summed, so δ does not grow with the width), and the same
denominator, the number of parallelograms the table has (all of which a linear E closes).
We drop constant features (zero variance), which their code would divide by zero.

**For addition mod p** (our tasks) we count a parallelogram whenever i + n ≡ j + m (mod p)
(``modulus=p``): the pairs that a network adding mod p must send to the same answer. The authors'
code computes the index for the non-modular toy; this wrap-around reading is ours. A line closes
only the parallelograms that do not wrap (the others miss by p·v). A ring E_k = (cos 2πk/p,
sin 2πk/p), the picture of a network that adds mod p, closes none exactly (only near-misses within
δ, more of them as p grows): E_i + E_n has length 2|cos(π(n-i)/p)|, so two pairs with the same sum
but different differences give different vectors. The RQI measures *linear* structure; a ring is a
different structure, and a chapter should read a low RQI on a modular network in that light.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch
from torch import Tensor

TOLERANCE = 0.01  # δ of Liu et al.'s code: mean squared closing error of a parallelogram, standardised units


@functools.lru_cache(maxsize=16)
def _sum_groups(p: int, modulus: int | None) -> tuple[Tensor, ...]:
    """The unordered pairs (a, b), a ≤ b < p, grouped by a + b (or by it mod ``modulus``): one [g, 2]
    tensor per sum, its pairs in order of their smaller element."""
    by_sum: dict[int, list[tuple[int, int]]] = {}
    for a in range(p):
        for b in range(a, p):
            by_sum.setdefault(a + b if modulus is None else (a + b) % modulus, []).append((a, b))
    return tuple(torch.tensor(group, dtype=torch.long) for group in by_sum.values())


def parallelograms(p: int, modulus: int | None = None) -> Tensor:
    """Every parallelogram of the addition table on 0..p-1 once, as rows [i, n, j, m]: the pairs
    {i, n} != {j, m} (an element may repeat within a pair) with i + n = j + m, or ≡ mod ``modulus``.

    Without a modulus the rows come out as i < j ≤ m < n (Liu et al.'s enumeration): in each group
    the pair with the smaller least element comes first, and it is the outer one."""
    rows = []
    for group in _sum_groups(p, modulus):
        first, second = torch.triu_indices(len(group), len(group), 1)
        rows.append(torch.cat([group[first], group[second]], 1))
    return torch.cat(rows) if rows else torch.zeros(0, 4, dtype=torch.long)


def standardise(embedding: Tensor) -> Tensor:
    """Each feature (column) shifted to zero mean and scaled to unit standard deviation over the rows
    (Bessel-corrected, as ``torch.std``); constant features are dropped."""
    e = embedding.detach().to(torch.float64)
    std = e.std(0)
    keep = std > 1e-12 * max(float(e.abs().max()), 1.0)
    return (e[:, keep] - e[:, keep].mean(0)) / std[keep]


def closing_errors(embedding: Tensor, modulus: int | None = None) -> Tensor:
    """Each parallelogram's mean squared closing error mean_d (Z_i + Z_n - Z_j - Z_m)_d² in the
    standardised embedding Z: one value per row of `parallelograms`, in its order."""
    z = standardise(embedding)
    out = []
    for group in _sum_groups(embedding.shape[0], modulus):  # pairs with one sum: compare their Z_a + Z_b
        pair_sums = z[group[:, 0]] + z[group[:, 1]]
        first, second = torch.triu_indices(len(group), len(group), 1)
        out.append(torch.cdist(pair_sums, pair_sums).square()[first, second] / z.shape[1])
    return torch.cat(out) if out else torch.zeros(0, dtype=torch.float64)


def rqi(embedding: Tensor, modulus: int | None = None, tolerance: float = TOLERANCE) -> float:
    """The fraction of the table's parallelograms that close in ``embedding`` [p, d] to ``tolerance``
    (see the module docstring): 1 for a linear embedding, near 0 for a random one; NaN when there is
    no parallelogram (p < 3) or no feature varies."""
    errors = closing_errors(embedding, modulus)
    if len(errors) == 0 or errors.isnan().all():
        return float("nan")
    return float((errors < tolerance).double().mean())


@dataclass
class PCA:
    """Principal components of an embedding: ``coords`` [p, k] (the rows projected on the first k
    components), ``components`` [k, d] (orthonormal rows), ``explained`` [r] (each component's share
    of the total variance, all r = min(p - 1, d) of them, summing to 1), ``mean`` [d]."""

    coords: Tensor
    components: Tensor
    explained: Tensor
    mean: Tensor


def embedding_pca(embedding: Tensor, k: int = 2) -> PCA:
    """The first ``k`` principal components of ``embedding`` [p, d] (rows centred, not scaled): the
    plane in which a chapter draws the numbers (a line, a ring, or a cloud). Signs follow the SVD.

    Do not project on one Fourier frequency's cos/sin pair instead: any embedding's part there is an
    ellipse by construction, learned or not. A ring in the top two components is evidence, because
    one frequency then carries more of the variance than any other direction."""
    e = embedding.detach().to(torch.float64)
    mean = e.mean(0)
    _, s, vh = torch.linalg.svd(e - mean, full_matrices=False)
    s = s[: min(e.shape[0] - 1, e.shape[1])]
    var = s.square()
    explained = var / var.sum() if var.sum() > 0 else var
    return PCA((e - mean) @ vh[:k].T, vh[:k], explained, mean)


def plane_frequency(coords: Tensor) -> tuple[int, float]:
    """The frequency k whose cosine and sine best describe a plane's coordinates [p, 2] (e.g. `embedding_pca`'s
    ``coords``, row x for number x), and the share of the plane's non-constant squared Fourier amplitude it
    holds: near 1 when the numbers sit on a ring visited in the order k·x mod p, near 2/p for a cloud."""
    power = torch.fft.rfft(coords.detach().to(torch.float64), dim=0).abs().square().sum(1)[1:]
    k = int(power.argmax()) + 1
    return k, float(power[k - 1] / power.sum())
