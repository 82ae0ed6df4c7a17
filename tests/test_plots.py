"""Figures of one run: the right number of axes, held-out table cells left blank, the palette's colours."""

from __future__ import annotations

import io

import numpy as np
import pytest
from matplotlib.figure import Figure

from grok_lib.presentation.run_plots import compare, plot_run, table_image
from grok_lib.presentation.style import TRAIN, VAL, cyclic_colors, series_color
from grok_lib.task.data import split_indices
from grok_lib.training.record import Run

STEPS = [0, 1, 10, 100, 1000]
HIST = {
    "step": STEPS,
    "train_acc": [0.0, 0.1, 0.5, 1.0, 1.0], "val_acc": [0.0, 0.0, 0.1, 0.3, 1.0],
    "train_loss": [3.0, 2.5, 1.0, 0.01, 0.001], "val_loss": [3.0, 3.0, 3.5, 4.0, 0.01],
    "weight_norm": [10.0, 10.1, 11.0, 12.0, 8.0],
}


@pytest.mark.parametrize("norm, n_axes", [(True, 3), (False, 2)])
def test_plot_run(norm, n_axes):
    fig = plot_run(HIST, title="t", norm=norm)
    assert isinstance(fig, Figure) and len(fig.axes) == n_axes
    assert len(fig.axes[0].lines) >= 2  # train and validation
    fig.savefig(io.BytesIO(), format="png")  # renders without pyplot


def test_plot_run_accepts_a_run():
    from grok_lib.training.config import TrainConfig

    fig = plot_run(Run(TrainConfig(), HIST))
    assert len(fig.axes) == 3


def test_compare():
    fig = compare({"a": HIST, "b": HIST | {"val_acc": [0.0] * 5}}, kind="val_acc", title="x")
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    assert len(fig.axes[0].lines) == 2
    assert compare({"a": HIST}, kind="val_loss").axes[0].get_yscale() == "log"


def _image(fig: Figure) -> np.ndarray:
    return np.ma.filled(np.ma.asarray(fig.axes[0].images[0].get_array(), dtype=float), np.nan)


@pytest.mark.parametrize("op, p, frac, missing_cols", [("add", 23, 0.3, 0), ("div", 23, 0.5, 1), ("sub", 11, None, 0)])
def test_table_image_blanks_held_out_cells(op, p, frac, missing_cols):
    fig = table_image(op, p, train_frac=frac, seed=2)
    img = _image(fig)
    assert img.shape == (p, p)
    n_pairs = p * (p - missing_cols)
    n_val = 0 if frac is None else len(split_indices(n_pairs, frac, 2)[1])
    assert int(np.isnan(img).sum()) == n_val + missing_cols * p
    if op == "div":
        assert np.isnan(img[:, 0]).all()  # b = 0 has no quotient


def test_table_image_values_and_s5():
    img = _image(table_image("add", 7))
    a, b = np.meshgrid(np.arange(7), np.arange(7), indexing="ij")
    assert np.array_equal(img, (a + b) % 7)
    assert _image(table_image("s5_xy", 0)).shape == (120, 120)
    assert len(table_image("add", 5, max_labels=10).axes[0].texts) == 25


def test_curves_use_the_palette():
    ax = plot_run(HIST).axes[0]
    assert [line.get_color() for line in ax.lines[:2]] == [TRAIN, VAL]
    fig = compare({str(i): HIST for i in range(12)})
    assert [line.get_color() for line in fig.axes[0].lines][9:] == ["C9", "C0", "C1"]  # the cycle wraps


def test_series_colors_wrap_and_table_colours_are_cyclic():
    assert [series_color(k) for k in (0, 9, 10, 23)] == ["C0", "C9", "C0", "C3"]
    hues = cyclic_colors(12)
    assert hues.shape == (12, 4) and len({tuple(h) for h in hues}) == 12
    step = np.abs(np.diff(hues[:, :3], axis=0)).sum(axis=1)
    assert np.abs(hues[-1, :3] - hues[0, :3]).sum() <= 2 * step.max()  # the last residue sits next to the first
