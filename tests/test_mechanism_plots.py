"""The mechanism figures: what each draws, in the palette's colours, rendered without pyplot."""

from __future__ import annotations

import io

import numpy as np
import torch
from matplotlib.colors import to_hex

from grok_lib.analysis import mechanism as M
from grok_lib.presentation import mechanism_plots as MP
from grok_lib.presentation.style import FAINT, PHASE_COLORS, TRAIN, VAL

P = 23


def _render(fig) -> None:
    fig.savefig(io.BytesIO(), format="png")


def test_embedding_spectrum_draws_a_bar_per_frequency_and_stage():
    spectra = {"initialisation": torch.ones(P // 2 + 1), "generalised": torch.arange(P // 2 + 1.0)}
    fig = MP.embedding_spectrum(spectra, keys=[3, 5])
    ax = fig.axes[0]
    assert len(ax.patches) == 2 * (P // 2)  # the constant is left out
    heights = [p.get_height() for p in ax.patches]
    assert heights[: P // 2] == [1.0] * (P // 2) and heights[P // 2 :] == list(range(1, P // 2 + 1))
    assert to_hex(ax.patches[0].get_facecolor()) == to_hex(FAINT)
    assert to_hex(ax.patches[-1].get_facecolor()) == PHASE_COLORS["comprehension"]
    assert [line.get_xdata()[0] for line in ax.lines] == [3, 5]
    _render(fig)


def test_neuron_maps_figure_has_a_row_per_neuron_and_a_column_per_stage():
    maps = {"initialisation": torch.rand(4, P, P), "memorised": torch.randn(4, P, P),
            "generalised": torch.rand(4, P, P)}
    fig = MP.neuron_maps_figure(maps, [0, 2])
    assert len(fig.axes) == 6  # row-major: neuron 0 in the three stages, then neuron 2
    np.testing.assert_allclose(fig.axes[3].images[0].get_array(), maps["initialisation"][2].numpy())
    assert fig.axes[0].images[0].get_cmap().name == "Blues"  # never negative: scale from 0
    assert fig.axes[1].images[0].get_cmap().name == "RdBu_r"  # signed: centred on 0
    assert fig.axes[0].get_title() == "initialisation"
    _render(fig)


def test_neuron_frequency_figure_counts_neurons_per_frequency():
    freq = torch.tensor([3, 3, 3, 5, 0])
    frac = torch.tensor([0.9, 0.8, 0.95, 0.4, 0.0])
    fig = MP.neuron_frequency_figure(freq, frac, keys=[3], n_frequencies=P // 2)
    bars = fig.axes[0].patches
    assert len(bars) == P // 2 and bars[2].get_height() == 3 and bars[4].get_height() == 1
    assert to_hex(bars[2].get_facecolor()) == PHASE_COLORS["comprehension"]
    assert len(fig.axes[1].collections[0].get_offsets()) == 5
    _render(fig)


def test_restricted_logits_figure_draws_both_curves_and_marks_the_answer():
    full, restricted = torch.randn(P, P, P), torch.randn(P, P, P)
    fig = MP.restricted_logits_figure(full, restricted, [(3, 5), (20, 10), (1, 1)], keys=[2])
    assert sum(ax.get_visible() for ax in fig.axes) == 3
    ax = fig.axes[1]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), full[20, 10].numpy())
    np.testing.assert_allclose(ax.lines[1].get_ydata(), restricted[20, 10].numpy())
    assert ax.lines[2].get_xdata()[0] == (20 + 10) % P
    _render(fig)


def test_progress_figure_draws_four_losses_and_the_weights():
    curves = {"step": [0, 100, 200], "train_loss": [3, 0.1, 0.01], "val_loss": [3, 4, 0.1],
              "restricted_loss": [3, 2, 0.05], "excluded_loss": [3, 0.2, 2.0], "weight_sq": [100, 80, 40]}
    fig = MP.progress_figure(curves, memorised_at=100, generalised_at=200, log_steps=True)
    ax_l, ax_w = fig.axes
    assert [to_hex(line.get_color()) for line in ax_l.lines[:2]] == [TRAIN, VAL]
    np.testing.assert_allclose(ax_l.lines[3].get_ydata(), [3, 0.2, 2.0])
    np.testing.assert_allclose(ax_w.lines[0].get_ydata(), [100, 80, 40])
    assert ax_l.get_yscale() == "log" and ax_l.get_xscale() == "log"
    assert len(ax_l.lines) == 6  # four losses and the two milestones
    _render(fig)


def test_analytic_width_figure_marks_the_smallest_perfect_width():
    acc = {15: [0.4, 0.5], 30: [0.8, 0.9], 60: [1.0, 1.0]}
    fig = MP.analytic_width_figure(acc, smallest=60)
    ax = fig.axes[0]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [0.45, 0.85, 1.0])
    assert ax.lines[1].get_xdata()[0] == 60
    assert len(ax.collections) == 3
    _render(fig)


def test_phase_relation_figure_puts_gromovs_network_on_the_diagonal():
    rel = M.phase_relation(M.analytic_network(31, 30, seed=0))
    fig = MP.phase_relation_figure(rel)
    ax = fig.axes[0]
    points = np.concatenate([c.get_offsets() for c in ax.collections])
    assert len(points) == 30
    two_pi = 2 * np.pi
    gap = np.abs((points[:, 0] - points[:, 1] + np.pi) % two_pi - np.pi)
    assert gap.max() < 1e-9
    _render(fig)
