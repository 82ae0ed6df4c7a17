"""Gromov's analytic network and the quadratic model: written-down weights against their maths,
key frequencies, accuracy above the width threshold, and the phase relation a trained network obeys."""

from __future__ import annotations

import math

import pytest
import torch

from grok_lib.analysis import mechanism as M
from grok_lib.analysis.mechanism.analytic import accuracy_on_table, first_layer_tables, single_frequency
from grok_lib.models.quadratic import QuadraticMLP
from grok_lib.task.data import make_task
from grok_lib.training.build import build_model
from grok_lib.training.config import TrainConfig

P = 31
SIGMA = [3, 7, 11]


def test_quadratic_model_is_the_formula():
    model = QuadraticMLP(P, 12, n_runs=2).double()
    model.reset_parameters([0, 1])
    x = make_task("add", P, 0.5, 0).inputs[:50]
    out = model(x.expand(2, *x.shape))
    for r in range(2):
        one_hot = torch.cat([torch.eye(P)[x[:, 0]], torch.eye(P)[x[:, 1]]], 1).double()
        torch.testing.assert_close(out[r], (one_hot @ model.W_in[r]).square() @ model.W_out[r])


def test_analytic_weights_are_gromovs_cosines():
    net = M.analytic_network(P, 6, SIGMA, seed=4)
    u_a, u_b, w_out = first_layer_tables(net)
    freq, frac, phi_a = single_frequency(u_a)
    assert freq.tolist() == SIGMA * 2 and torch.allclose(frac, torch.ones(6, dtype=torch.float64))
    _, _, phi_b = single_frequency(u_b)
    q = torch.arange(P, dtype=torch.float64)[:, None]
    sigma = torch.tensor(SIGMA * 2, dtype=torch.float64)
    torch.testing.assert_close(w_out.T, torch.cos(-2 * math.pi * sigma * q / P - phi_a - phi_b))


def test_key_frequencies_of_the_analytic_network_are_its_sigmas():
    net = M.analytic_network(P, 120, SIGMA, seed=1)
    assert M.key_frequencies(net, "embedding") == SIGMA
    assert M.key_frequencies(net, "neurons") == SIGMA
    assert M.key_fraction(M.embedding(net), SIGMA) == pytest.approx(1.0)


def test_analytic_network_obeys_the_phase_relation():
    rel = M.phase_relation(M.analytic_network(P, 45, seed=2))
    assert bool(rel.same_frequency.all())
    assert float(rel.purity.min()) == pytest.approx(1.0)
    assert float(rel.phase_error.abs().max()) < 1e-9


def test_analytic_network_is_exact_above_its_width_threshold():
    widths = [15, 30, 60, 120, 240]
    acc = M.accuracy_by_width(P, widths, seeds=(0, 1))
    assert max(acc[15]) < 0.7  # one neuron per frequency: the random-phase terms swamp the signal
    assert acc[240] == [1.0, 1.0]
    smallest = M.smallest_perfect_width(P, widths, seeds=(0, 1))
    assert smallest is not None and smallest <= 240
    assert all(a == 1.0 for w in widths if w >= smallest for a in acc[w])
    assert M.smallest_perfect_width(P, [15, 30], seeds=(0,)) is None


def test_analytic_logits_are_the_closed_form():
    """With width = a multiple of the frequencies used, the a+b term sums to m·Σ_σ cos(2πσ(a+b-q)/p)/2 plus
    terms whose random phases leave them far smaller: the argmax is a + b."""
    net = M.analytic_network(P, 600, SIGMA, seed=0)
    assert accuracy_on_table(net, P) == 1.0


def test_trained_quadratic_network_learns_single_frequencies_with_the_phase_relation():
    torch.set_num_threads(1)
    model, hist = M.train_quadratic(P, 96, train_frac=0.5, steps=1500, lr=3e-3, seed=0)
    assert hist["train_acc"][-1] == 1.0 and hist["val_acc"][-1] > 0.95
    rel = M.phase_relation(model)
    main = M.main_neurons(rel, 0.8)
    assert main.sum() >= 10
    assert bool(rel.same_frequency[main].all())
    assert float(rel.purity[main].median()) > 0.8
    assert float(rel.phase_error[main].abs().max()) < 0.2


def test_phase_relation_reads_a_concat_mlp_too():
    model = build_model(TrainConfig(p=P, merge="concat", d_embed=8, d_hidden=16))
    rel = M.phase_relation(model)
    assert rel.freq_a.shape == (16,) and rel.phase_error.abs().max() <= math.pi
    with pytest.raises(TypeError):
        M.phase_relation(build_model(TrainConfig(p=P)))
