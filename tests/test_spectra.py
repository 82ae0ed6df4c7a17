"""Singular-value spectra and effective ranks (`analysis.why.spectra`): ranks of matrices whose
spectrum is known, the weight matrices a model holds, and the spectra over a stored run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from grok_lib.analysis.why import (
    entropy_rank,
    normalised_spectrum,
    ranks_over_training,
    singular_values,
    singular_values_over_training,
    stable_rank,
    weight_matrices,
)
from grok_lib.models import MLP, Transformer
from grok_lib.runs import experiments
from grok_lib.runs.store import Store

ROOT = Path(__file__).resolve().parents[1]


def _with_spectrum(sv: list[float], rows: int = 12, cols: int = 9, seed: int = 0) -> torch.Tensor:
    """U diag(sv) Vᵀ with random orthonormal U, V."""
    g = torch.Generator().manual_seed(seed)
    u, _ = torch.linalg.qr(torch.randn(rows, len(sv), generator=g, dtype=torch.float64))
    v, _ = torch.linalg.qr(torch.randn(cols, len(sv), generator=g, dtype=torch.float64))
    return u @ torch.diag(torch.tensor(sv, dtype=torch.float64)) @ v.T


@pytest.mark.parametrize("k", [1, 2, 5, 9])
def test_k_equal_singular_values_have_both_ranks_k(k):
    sv = torch.linalg.svdvals(_with_spectrum([2.5] * k))
    assert float(entropy_rank(sv)) == pytest.approx(k, rel=1e-9)
    assert float(stable_rank(sv)) == pytest.approx(k, rel=1e-9)


@pytest.mark.parametrize("n", [1, 7, 64])
def test_the_identity_has_full_rank(n):
    sv = torch.linalg.svdvals(torch.eye(n, dtype=torch.float64))
    assert float(entropy_rank(sv)) == pytest.approx(n) and float(stable_rank(sv)) == pytest.approx(n)


def test_ranks_ignore_scale_and_follow_their_formulas():
    w = torch.randn(20, 11, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    sv = torch.linalg.svdvals(w)
    for c in (1e-3, 0.5, 40.0):
        assert float(entropy_rank(c * sv)) == pytest.approx(float(entropy_rank(sv)))
        assert float(stable_rank(c * sv)) == pytest.approx(float(stable_rank(sv)))
    s = np.linalg.svd(w.numpy(), compute_uv=False)
    q = s / s.sum()
    assert float(entropy_rank(sv)) == pytest.approx(np.exp(-(q * np.log(q)).sum()))
    frobenius, spectral = np.linalg.norm(w.numpy(), "fro"), np.linalg.norm(w.numpy(), 2)
    assert float(stable_rank(sv)) == pytest.approx(frobenius**2 / spectral**2)
    assert 1 <= float(stable_rank(sv)) <= float(entropy_rank(sv)) <= 11
    assert float(normalised_spectrum(sv)[0]) == 1.0 and bool((normalised_spectrum(sv) <= 1).all())


def test_a_stacked_mlp_has_its_three_matrices_per_run():
    model = MLP(n_vocab=11, n_classes=11, d_embed=6, d_hidden=8, n_runs=3)
    model.reset_parameters([0, 1, 2])
    mats = weight_matrices(model)
    assert {k: tuple(v.shape) for k, v in mats.items()} == {"W_E": (3, 11, 6), "W_in": (3, 6, 8), "W_out": (3, 8, 11)}
    sv = singular_values(model)
    for r in range(3):
        one = singular_values(model.single(r))
        for name in sv:
            assert torch.allclose(sv[name][r], one[name][0])
            expected = np.linalg.svd(getattr(model, name)[r].detach().double().numpy(), compute_uv=False)
            assert np.allclose(sv[name][r].numpy(), expected)


def test_a_transformers_heads_are_read_as_one_matrix_per_layer():
    """x @ W_Q(merged) is every head's query side by side; z(merged) @ W_O(merged) is the sum over heads."""
    model = Transformer(n_vocab=9, n_classes=7, d_model=8, n_heads=2, d_mlp=16, n_runs=1)
    model.reset_parameters([0])
    mats = weight_matrices(model)
    block = model.blocks[0]
    wq, wo = block.W_Q[0].detach().double(), block.W_O[0].detach().double()  # [h, d, dh], [h, dh, d]
    x = torch.randn(5, 8, dtype=torch.float64)
    assert torch.allclose(x @ mats["blocks.0.W_Q"][0], torch.cat([x @ wq[h] for h in range(2)], 1))
    z = torch.randn(5, 2, wq.shape[-1], dtype=torch.float64)
    assert torch.allclose(z.reshape(5, -1) @ mats["blocks.0.W_O"][0], sum(z[:, h] @ wo[h] for h in range(2)))
    assert not any(name.split(".")[-1].startswith("b") for name in mats)  # no biases


def _stored(name: str):
    store = Store(ROOT / "results")  # the checkout's store, not a test's
    config = experiments.get(name)[0]
    if not store.has(config):
        pytest.skip(f"{name} is not stored under {store.root}")
    return store.load(config)


def test_spectra_over_a_stored_runs_checkpoints():
    run = _stored("mechanism_mlp")
    steps = sorted(run.checkpoints)[:: len(run.checkpoints) // 2]  # three checkpoints: first, middle, last
    got_steps, sv = singular_values_over_training(run, steps)
    assert got_steps == steps and set(sv) == {"W_E", "W_in", "W_out"}
    assert sv["W_E"].shape == (len(steps), min(run.config.p, run.config.d_embed))
    assert torch.allclose(sv["W_in"][-1], singular_values(run.model_at(steps[-1]))["W_in"][0])
    ranks = ranks_over_training(run, steps)
    assert ranks["step"] == steps and len(ranks["W_E entropy"]) == len(steps)
