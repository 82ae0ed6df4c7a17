"""Liu et al.'s representation quality index and the embedding PCA (`analysis.why.representation`),
checked against brute-force enumeration, hand-standardised counts and embeddings whose answer is
known by construction."""

from __future__ import annotations

import math
from itertools import product

import numpy as np
import pytest
import torch

from grok_lib.analysis.why import closing_errors, embedding_pca, parallelograms, rqi, standardise


def _line(p: int, d: int = 3, seed: int = 0) -> torch.Tensor:
    """E_k = k·v + c: a perfectly linear embedding."""
    g = torch.Generator().manual_seed(seed)
    v, c = torch.randn(d, generator=g, dtype=torch.float64), torch.randn(d, generator=g, dtype=torch.float64)
    return torch.arange(p, dtype=torch.float64)[:, None] * v + c


def _ring(p: int) -> torch.Tensor:
    k = torch.arange(p, dtype=torch.float64)
    return torch.stack([torch.cos(2 * math.pi * k / p), torch.sin(2 * math.pi * k / p)], 1)


@pytest.mark.parametrize("p", range(2, 13))
def test_parallelograms_are_liu_et_als_quadruples(p):
    """Their loops: i < j ≤ m < n with i + n = j + m, each once, as [i, n, j, m]."""
    brute = {(i, n, j, m) for i, j, m, n in product(range(p), repeat=4) if i < j <= m < n and i + n == j + m}
    rows = [tuple(r) for r in parallelograms(p).tolist()]
    assert len(rows) == len(set(rows)) and set(rows) == brute


@pytest.mark.parametrize("p", range(2, 10))
def test_modular_parallelograms_are_every_pair_of_pairs_with_one_sum_mod_p(p):
    pairs = [(a, b) for a in range(p) for b in range(a, p)]
    brute = {frozenset([x, y]) for x in pairs for y in pairs if x != y and (sum(x) - sum(y)) % p == 0}
    rows = parallelograms(p, p).tolist()
    got = [frozenset([(i, n), (j, m)]) for i, n, j, m in rows]
    assert len(got) == len(set(got)) == len(brute) and set(got) == brute
    # without wrap-around, the count is a sum of binomials over the sums s = 0 .. 2p - 2
    r = [min(s, 2 * p - 2 - s) // 2 + 1 for s in range(2 * p - 1)]
    assert len(parallelograms(p)) == sum(math.comb(k, 2) for k in r)


@pytest.mark.parametrize("p, d", [(5, 1), (10, 2), (31, 8), (97, 128)])
def test_a_linear_embedding_has_rqi_one(p, d):
    assert rqi(_line(p, d)) == 1.0
    flat_first = _line(p, d) * torch.tensor([0.0] + [1.0] * (d - 1), dtype=torch.float64)  # one constant feature
    assert rqi(flat_first) == 1.0 if d > 1 else math.isnan(rqi(flat_first))  # nothing varies: undefined


def test_on_a_line_only_the_unwrapped_parallelograms_close_mod_p():
    """Wrapped quadruples (i + n = j + m ± p) miss by p·v: the modular RQI of a line is the share of
    parallelograms that do not wrap."""
    p = 23
    assert rqi(_line(p), p) == pytest.approx(len(parallelograms(p)) / len(parallelograms(p, p)))


@pytest.mark.parametrize("d, expected", [
    (1, math.erf(0.1 / (2 * math.sqrt(2)))),  # Z_i + Z_n - Z_j - Z_m ~ N(0, 4): P(x² < 0.01)
    (2, 1 - math.exp(-0.02 / 8)),  # the sum of two squares of N(0, 4) is exponential with mean 8
    (8, 0.0), (64, 0.0),
])
def test_random_embeddings_close_only_by_chance(d, expected):
    """For independent Gaussian features a parallelogram closes by chance with a probability that
    vanishes with the width: about 4% in 1-D, 0.25% in 2-D, none at 8 or more."""
    values = [rqi(torch.randn(97, d, generator=torch.Generator().manual_seed(s))) for s in range(3)]
    assert np.mean(values) == pytest.approx(expected, rel=0.25, abs=1e-4), values


@pytest.mark.parametrize("p", [7, 11, 13])
def test_an_exact_ring_closes_no_modular_parallelogram(p):
    """|E_i + E_n| = 2|cos(π(n - i)/p)| on a ring: pairs with one sum and different differences never close."""
    assert rqi(_ring(p), p) == 0.0


def test_rqi_ignores_each_features_shift_and_scale_and_order():
    g = torch.Generator().manual_seed(1)
    noisy = _line(20, 4) + 0.3 * torch.randn(20, 4, generator=g, dtype=torch.float64)
    base = rqi(noisy)
    assert 0.05 < base < 0.95  # a case where the tolerance matters
    scale, shift = torch.tensor([3.0, -0.2, 7.0, 1e-3]), torch.tensor([5.0, -1.0, 0.0, 100.0])
    assert rqi(noisy * scale + shift) == base
    assert rqi(noisy[:, [2, 0, 3, 1]]) == base


def test_the_tolerance_is_on_the_mean_over_features_not_the_sum():
    noisy = _line(20, 3) + 0.3 * torch.randn(20, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    assert rqi(torch.cat([noisy] * 5, 1)) == rqi(noisy)


def test_rqi_counts_like_a_hand_written_loop():
    """numpy standardisation (ddof=1) and a plain loop over i < j ≤ m < n, i + n = j + m."""
    p, d = 9, 2
    e = _line(p, d) + 0.08 * torch.randn(p, d, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    z = (e.numpy() - e.numpy().mean(0)) / e.numpy().std(0, ddof=1)
    closed = total = 0
    for i, j, m, n in product(range(p), repeat=4):
        if i < j <= m < n and i + n == j + m:
            total += 1
            closed += np.mean((z[i] + z[n] - z[j] - z[m]) ** 2) < 0.01
    assert 0 < closed < total
    assert rqi(e) == pytest.approx(closed / total)
    assert closing_errors(e).shape == (total,)


def test_standardise_drops_constant_features():
    e = torch.cat([_line(6, 2), torch.full((6, 1), 4.0)], 1)
    z = standardise(e)
    assert z.shape == (6, 2)
    assert torch.allclose(z.mean(0), torch.zeros(2, dtype=z.dtype), atol=1e-12)
    assert torch.allclose(z.std(0), torch.ones(2, dtype=z.dtype))


def test_pca_components_are_orthonormal_and_the_shares_add_up():
    g = torch.Generator().manual_seed(4)
    e = torch.randn(30, 12, generator=g, dtype=torch.float64) * torch.linspace(3, 0.1, 12, dtype=torch.float64)
    pca = embedding_pca(e, k=3)
    assert torch.allclose(pca.components @ pca.components.T, torch.eye(3, dtype=torch.float64), atol=1e-12)
    assert float(pca.explained.sum()) == pytest.approx(1.0)
    assert len(pca.explained) == 12 and bool((pca.explained[:-1] >= pca.explained[1:]).all())
    centred = e - e.mean(0)
    shares = pca.coords.var(0) / centred.var(0).sum()
    assert torch.allclose(shares, pca.explained[:3])


def test_pca_of_a_tilted_ring_is_the_ring():
    """A ring placed in a random plane of 10-D comes back as a circle with two equal shares."""
    q, _ = torch.linalg.qr(torch.randn(10, 2, generator=torch.Generator().manual_seed(5), dtype=torch.float64))
    e = 3.0 * _ring(13) @ q.T + 1.0
    pca = embedding_pca(e)
    assert pca.explained[:2].tolist() == pytest.approx([0.5, 0.5])
    assert torch.allclose(pca.coords.norm(dim=1), torch.full((13,), 3.0, dtype=torch.float64))
    assert torch.allclose(pca.coords @ pca.components + pca.mean, e)

