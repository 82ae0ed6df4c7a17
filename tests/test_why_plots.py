"""The figures of `presentation.why_plots` draw what they are given (synthetic inputs)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from grok_lib.analysis.mechanism import task_of
from grok_lib.analysis.why import embedding_pca, weight_scale_landscape
from grok_lib.presentation import why_plots as WP
from grok_lib.presentation.style import cyclic_colors
from grok_lib.training.build import build_model
from grok_lib.training.config import TrainConfig


def test_embedding_planes_draws_one_panel_per_stage_in_the_asked_colour_order():
    p = 11
    x = torch.arange(p, dtype=torch.float64)
    ring = torch.stack([torch.cos(2 * math.pi * 3 * x / p), torch.sin(2 * math.pi * 3 * x / p)], 1)
    coords = {"a": embedding_pca(ring).coords, "b": embedding_pca(torch.randn(p, 5)).coords}
    order = [(3 * k) % p for k in range(p)]
    fig = WP.embedding_planes(coords, "t", color_order=order)
    assert len(fig.axes) == 2 and [ax.get_title() for ax in fig.axes] == ["a", "b"]
    drawn = fig.axes[0].collections[0].get_facecolors()
    assert np.allclose(drawn, cyclic_colors(p)[order])
    assert len(fig.axes[0].texts) == p


def test_rqi_ranks_spectra_and_lu_figures_draw():
    steps = [0, 10, 100, 1000]
    fig = WP.rqi_figure(steps, [0, 0.1, 0.9, 1.0], steps, [0.1, 0.9, 1, 1], [0, 0.1, 0.5, 1], 0.95, log_steps=True)
    assert fig.axes[0].get_xscale() == "log" and len(fig.axes[0].lines) == 4
    ranks = {"step": steps, "W_E entropy": [5, 4, 3, 2], "W_E stable": [2, 2, 1, 1]}
    fig = WP.ranks_figure(ranks, "entropy", steps, [0, 0.2, 0.9, 1], generalised_at=100)
    assert len(fig.axes) == 2 and fig.axes[0].get_legend().get_texts()[0].get_text() == "W_E"
    sv = {"start": {"W": torch.tensor([2.0, 1.0, 0.5])}, "end": {"W": torch.tensor([4.0, 1.0, 0.1])}}
    fig = WP.spectra_figure(sv)
    assert np.allclose(fig.axes[0].lines[1].get_ydata(), [1, 0.25, 0.025])
    config = TrainConfig(op="add", p=7, train_frac=0.5, d_embed=4, d_hidden=8)
    land = weight_scale_landscape(build_model(config), task_of(config), [0.5, 1.0, 2.0])
    fig = WP.lu_figure(land)
    assert fig.axes[0].lines[-1].get_xdata()[0] == land["weight_norm"][1]  # the c = 1 marker



def test_chapter_8_figures_draw_what_they_are_given():
    from grok_lib.analysis.why import clocks

    fig = WP.spread_figure([3000, 3500, 4000, 4500], lambda q: 1000 * clocks.random_walk_quantile(q))
    (ax,) = fig.axes
    assert [len(c.get_offsets()) for c in ax.collections] == [4, 4]
    assert "171 × 10th" in " ".join(t.get_text() for t in ax.texts)
    rows = [{"lr": lr, "weight_decay": wd, "generalised_at": 4 / (lr * wd), "memorised_at": 0.3 / lr}
            for lr in (1e-3, 2e-3) for wd in (0.5, 1.0)]
    fig = WP.scaling_figure(rows, -1.0, 4.0)
    assert fig.axes[0].get_xscale() == "log" and len(fig.axes[0].lines) == 1
    hist = {"step": [0, 10, 100], "train_acc": [0.0, 1.0, 1.0], "val_acc": [0.0, 0.2, 1.0], "weight_norm": [9, 8, 7]}
    fig = WP.curves_by_setting({"a": [hist, hist], "b": [hist]})
    assert len(fig.axes) == 3 and all(len(ax.lines) == 3 for ax in fig.axes)
    fig = WP.rank_at_generalisation({"ran": ([0, 10, 20], [9.0, 8.0, 7.0], 15), "never": ([0, 20], [9, 6], None)})
    (ax,) = fig.axes
    assert len(ax.lines) == 2 and len(ax.collections) == 1  # one dot: the run that never generalised has none
    assert ax.collections[0].get_offsets()[0][1] == pytest.approx(7.5)
