"""The mechanism analyses against independent maths: the Fourier basis, spectra of planted tables
and maps, the grid readout of each model, and Nanda et al.'s progress measures in their limits."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from grok_lib.analysis import mechanism as M
from grok_lib.analysis.mechanism.fourier import component_frequency, fourier_2d
from grok_lib.analysis.mechanism.frequencies import fair_share_keys
from grok_lib.analysis.mechanism.neurons import Grid, grid_inputs
from grok_lib.analysis.mechanism.progress import grid_loss, project_sum_directions, sum_directions
from grok_lib.task.data import make_task
from grok_lib.training.build import build_model
from grok_lib.training.config import TrainConfig
from grok_lib.training.trainer import train

P = 23
TWO_PI = 2 * math.pi


def planted_table(n: int, k: int, width: int = 16, noise: float = 0.0, seed: int = 0) -> torch.Tensor:
    """An embedding [n, width] whose every column is a cos/sin of frequency k, plus optional noise."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.arange(n, dtype=torch.float64)[:, None]
    amp, phase = torch.rand(2, width, generator=gen, dtype=torch.float64)
    table = (1 + amp) * torch.cos(TWO_PI * k * x / n + TWO_PI * phase)
    return table + noise * torch.randn(n, width, generator=gen, dtype=torch.float64)


@pytest.fixture(scope="module")
def small_run():
    cfg = TrainConfig(p=P, train_frac=0.5, d_embed=32, d_hidden=64, lr=1e-2, steps=600, log_every=50,
                      checkpoint_every=200, save_model=True, early_stop=False, dtype="float64")
    return train(cfg, progress=False)


# ---- the basis --------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [2, 7, 8, 23, 113])
def test_basis_is_orthonormal(n):
    basis = M.fourier_basis(n)
    torch.testing.assert_close(basis @ basis.T, torch.eye(n, dtype=torch.float64))


def test_basis_rows_are_the_named_functions():
    n = 11
    basis, names, x = M.fourier_basis(n), M.component_names(n), torch.arange(n, dtype=torch.float64)
    assert names[:3] == ["const", "cos 1", "sin 1"] and names[-1] == "sin 5"
    torch.testing.assert_close(basis[2 * 3 - 1], torch.cos(TWO_PI * 3 * x / n) / math.sqrt(n / 2))
    torch.testing.assert_close(basis[2 * 3], torch.sin(TWO_PI * 3 * x / n) / math.sqrt(n / 2))
    assert component_frequency(8).tolist() == [0, 1, 1, 2, 2, 3, 3, 4]  # even n: frequency 4 has its cos only


def test_power_adds_up_to_the_squared_norm():
    table = torch.randn(P, 9, dtype=torch.float64)
    power = M.frequency_power(table)
    assert power.shape == (P // 2 + 1,)
    torch.testing.assert_close(power.sum(), table.square().sum())
    torch.testing.assert_close(power[0], table.mean(0).square().sum() * P)  # the constant: n·mean²


# ---- spectra of planted tables and maps ----------------------------------------------------

@pytest.mark.parametrize("k", [1, 5, 11])
def test_planted_single_frequency_embedding_is_recovered(k):
    table = planted_table(P, k, noise=0.05)
    power = M.frequency_power(table)
    assert int(power[1:].argmax()) + 1 == k
    assert fair_share_keys(power) == [k]
    assert M.key_fraction(table, [k]) > 0.95
    assert M.key_fraction(planted_table(P, k), [k]) == pytest.approx(1.0)


def test_planted_embedding_in_a_model_is_its_key_frequency():
    model = build_model(TrainConfig(p=P, d_embed=16))
    with torch.no_grad():
        model.W_E[0] = planted_table(P, 7, width=16).float()
    assert M.key_frequencies(model, "embedding") == [7]


def test_a_random_embedding_has_no_key_frequency():
    assert fair_share_keys(M.frequency_power(torch.randn(P, 128, dtype=torch.float64))) == []
    assert M.key_fraction(torch.randn(P, 4096, dtype=torch.float64), [1, 2]) == pytest.approx(2 / 11, abs=0.03)


def test_dominant_frequency_of_planted_maps():
    x = torch.arange(P, dtype=torch.float64)
    a, b = x[:, None], x[None, :]
    pure = torch.cos(TWO_PI * 4 * (a + b) / P + 0.3)
    mixed = pure + 0.5 * torch.cos(TWO_PI * 9 * a / P) + 0 * b  # variances 1/2 and 1/8: fraction 0.8
    flat = torch.ones(P, P)
    freq, frac = M.dominant_frequencies(torch.stack([pure, mixed, flat]))
    assert freq.tolist() == [4, 4, 0]
    torch.testing.assert_close(frac, torch.tensor([1.0, 0.8, 0.0], dtype=torch.float64))


def test_2d_transform_is_the_basis_on_both_axes():
    m = torch.randn(2, P, P, dtype=torch.float64)
    basis = M.fourier_basis(P)
    torch.testing.assert_close(fourier_2d(m), basis @ m @ basis.T)


# ---- the grid readout -------------------------------------------------------------------------

@pytest.mark.parametrize("model_kind", ["mlp", "transformer"])
def test_grid_logits_are_the_model_and_neurons_feed_them_linearly(model_kind):
    model = build_model(TrainConfig(p=P, model=model_kind, d_model=32, d_mlp=64, d_embed=16, d_hidden=32,
                                    dtype="float64"))
    g = M.run_grid(model)
    with torch.no_grad():
        direct = model(grid_inputs(model)).double().view(P, P, P)
    torch.testing.assert_close(g.logits, direct)
    rest = g.logits - torch.einsum("abn,nc->abc", g.neurons, g.readout)
    if model_kind == "mlp":  # logits = h @ W_out + b_out
        torch.testing.assert_close(rest, model.b_out[0, 0].double().expand(P, P, P))
    else:  # logits = (resid_mid + b_out) @ W_U at "="
        _, cache = model.run_with_cache(grid_inputs(model))
        resid = cache["blocks.0.hook_resid_mid"][:, -1] + model.blocks[0].b_out[0, 0]
        torch.testing.assert_close(rest, (resid @ model.W_U[0]).view(P, P, P))
    assert M.neuron_maps(model).shape == (g.neurons.shape[-1], P, P)


# ---- progress measures ------------------------------------------------------------------------

def test_sum_directions_are_orthonormal_and_functions_of_a_plus_b():
    d = sum_directions(P, range(1, P // 2 + 1))
    assert d.shape == (P - 1, P, P)
    torch.testing.assert_close(torch.einsum("iab,jab->ij", d, d), torch.eye(P - 1, dtype=torch.float64))
    shifted = torch.roll(torch.roll(d, 1, dims=1), -1, dims=2)  # (a, b) -> (a - 1, b + 1): same a + b
    torch.testing.assert_close(shifted, d)


def test_excluded_loss_with_nothing_removed_is_the_training_loss(small_run):
    task = M.task_of(small_run.config)
    m = M.progress_measures(M.run_grid(small_run.model()), task, keys=[])
    assert m.excluded_loss == pytest.approx(m.train_loss, rel=1e-12)
    assert m.train_loss == pytest.approx(small_run.history["train_loss"][-1], rel=1e-6)
    assert m.val_loss == pytest.approx(small_run.history["val_loss"][-1], rel=1e-6)


def test_restricted_loss_with_every_frequency_is_the_diagonal_average(small_run):
    """Keeping the constant and every cos/sin(k(a+b)) keeps each neuron's mean over its diagonal
    a + b = c: computed here by grouping pairs, with no Fourier transform."""
    task, g = M.task_of(small_run.config), M.run_grid(small_run.model())
    everything = list(range(1, P // 2 + 1))
    c = (torch.arange(P)[:, None] + torch.arange(P)[None, :]) % P
    sums = torch.zeros(P, g.neurons.shape[-1], dtype=torch.float64).index_add_(0, c.flatten(), g.neurons.flatten(0, 1))
    averaged = (sums / P)[c]  # each diagonal has p pairs
    logits = averaged @ g.readout
    logits = logits + (g.logits - logits).mean((0, 1))
    expected = grid_loss(logits, task, "val")
    assert M.progress_measures(g, task, everything).restricted_loss == pytest.approx(expected, rel=1e-9)


def test_restricted_loss_with_every_frequency_is_the_full_loss_for_neurons_of_a_plus_b():
    """A planted model whose neurons depend on a + b only: keeping every frequency changes nothing."""
    gen = torch.Generator().manual_seed(0)
    c = (torch.arange(P)[:, None] + torch.arange(P)[None, :]) % P
    neurons = torch.randn(P, 8, generator=gen, dtype=torch.float64)[c]
    readout = torch.randn(8, P, generator=gen, dtype=torch.float64)
    g = Grid(neurons @ readout + 0.7, neurons, readout)
    task = make_task("add", P, 0.3, 0)
    torch.testing.assert_close(M.restricted_logits(g, range(1, P // 2 + 1)), g.logits)
    full = grid_loss(g.logits, task, "val")
    assert M.progress_measures(g, task, range(1, P // 2 + 1)).restricted_loss == pytest.approx(full, rel=1e-12)


def test_clock_logits_restricted_to_their_frequency_and_excluded():
    """Logits cos(2πk(a+b-c)/p): restricting to k keeps them; excluding every frequency leaves the
    same constant for each answer, so the loss is exactly log p."""
    x = torch.arange(P, dtype=torch.float64)
    logits = 5 * torch.cos(TWO_PI * 3 * (x[:, None, None] + x[None, :, None] - x[None, None, :]) / P)
    g = Grid(logits, logits, torch.eye(P, dtype=torch.float64))  # neurons = logits, readout = identity
    task = make_task("add", P, 0.3, 0)
    torch.testing.assert_close(M.restricted_logits(g, [3]), logits)
    m = M.progress_measures(g, task, list(range(1, P // 2 + 1)))
    assert m.excluded_loss == pytest.approx(math.log(P), rel=1e-12)
    assert m.restricted_accuracy == 1.0
    assert M.progress_measures(g, task, [3]).excluded_loss == pytest.approx(math.log(P), rel=1e-12)
    assert M.progress_measures(g, task, [4]).excluded_loss == pytest.approx(m.train_loss, rel=1e-12)


def test_projection_removes_exactly_the_planted_component():
    x = torch.arange(P, dtype=torch.float64)
    wave = torch.sin(TWO_PI * 2 * (x[:, None] + x[None, :]) / P)[..., None]
    other = torch.cos(TWO_PI * 2 * x[:, None] / P).expand(P, P)[..., None]  # a alone: no (a+b) component
    torch.testing.assert_close(project_sum_directions(wave + other, [2]), wave)


def test_sub_uses_a_minus_b():
    x = torch.arange(P, dtype=torch.float64)
    logits = 5 * torch.cos(TWO_PI * 3 * (x[:, None, None] - x[None, :, None] - x[None, None, :]) / P)
    g = Grid(logits, logits, torch.eye(P, dtype=torch.float64))
    m = M.progress_measures(g, make_task("sub", P, 0.3, 0), [3])
    assert m.restricted_accuracy == 1.0 and m.excluded_loss == pytest.approx(math.log(P), rel=1e-12)
    with pytest.raises(ValueError, match="defined for"):
        M.progress_measures(g, make_task("mul", P, 0.3, 0), [3])


# ---- through training -------------------------------------------------------------------------

def test_progress_curves_read_every_checkpoint(small_run):
    curves = M.progress_curves(small_run, keys=[1, 2])
    assert curves["step"] == [0, 200, 400, 600] and curves["keys"] == [1, 2]
    first = small_run.history["train_loss"][0]
    assert curves["train_loss"][0] == pytest.approx(first, rel=1e-3)  # float16 checkpoint of the initialisation
    assert curves["weight_sq"][0] == pytest.approx(small_run.history["weight_norm"][0] ** 2, rel=1e-3)
    steps, spectra = M.spectra_over_training(small_run)
    assert steps == curves["step"] and spectra.shape == (4, P // 2 + 1)
    _, fractions = M.key_fraction_over_training(small_run, [1, 2])
    assert all(0 <= f <= 1 for f in fractions)


def test_task_of_reproduces_the_trainers_split(small_run):
    task = M.task_of(small_run.config)
    model = small_run.model()
    with torch.no_grad():
        val = F.cross_entropy(model(task.inputs[task.val_idx]), task.labels[task.val_idx]).item()
    assert val == pytest.approx(small_run.history["val_loss"][-1], rel=1e-6)
