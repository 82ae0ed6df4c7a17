"""Figures of one run: the right number of axes, held-out table cells in grey, the palette's colours."""

from __future__ import annotations

import io

import numpy as np
import pytest
from matplotlib.figure import Figure

from grok_lib.presentation.run_plots import compare, plot_run, table_image
from grok_lib.presentation.style import HELD_OUT, TRAIN, VAL, cyclic_colors, series_color
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


def _image(fig: Figure, layer: int = 0) -> np.ndarray:
    return np.ma.filled(np.ma.asarray(fig.axes[0].images[layer].get_array(), dtype=float), np.nan)


@pytest.mark.parametrize("op, p, frac, missing_cols", [("add", 23, 0.3, 0), ("div", 23, 0.5, 1), ("sub", 11, None, 0)])
def test_table_image_greys_held_out_cells_and_blanks_missing_ones(op, p, frac, missing_cols):
    fig = table_image(op, p, train_frac=frac, seed=2)
    img = _image(fig)
    assert img.shape == (p, p)
    assert int(np.isnan(img).sum()) == missing_cols * p  # only cells the table does not have are blank
    if op == "div":
        assert np.isnan(img[:, 0]).all()  # b = 0 has no quotient
    if frac is None:
        assert len(fig.axes[0].images) == 1 and "grey" not in fig.axes[0].get_title()
        return
    held = ~np.isnan(_image(fig, 1))
    n_val = len(split_indices(p * (p - missing_cols), frac, 2)[1])
    assert int(held.sum()) == n_val and not (held & np.isnan(img)).any()
    assert "held-out cells grey" in fig.axes[0].get_title()


def test_held_out_cells_render_grey_and_no_value_does():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import to_rgb

    fig = table_image("add", 5, train_frac=0.5, seed=1, max_labels=10)
    FigureCanvasAgg(fig).draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3] / 255
    ax = fig.axes[0]
    held = ~np.isnan(_image(fig, 1))
    for (a, b), is_held in np.ndenumerate(held):
        x, y = ax.transData.transform((b - 0.3, a - 0.3))  # inside the cell, clear of its number
        colour = pixels[int(round(fig.bbox.height - y)), int(round(x))]
        assert np.allclose(colour, to_rgb(HELD_OUT), atol=0.02) == is_held, (a, b)
    assert len(ax.texts) == 25 - held.sum()  # numbers only on the cells shown
    # the grey is far from every colour of the cyclic map; white, 13 away from its palest, was taken for a value
    distance = np.linalg.norm(_lab(cyclic_colors(256)[:, :3]) - _lab(np.array(to_rgb(HELD_OUT))), axis=-1)
    assert distance.min() > 25
    assert np.linalg.norm(_lab(cyclic_colors(256)[:, :3]) - _lab(np.ones(3)), axis=-1).min() < 25


def _lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB (0..1) to CIELAB under D65, where a distance of about 2 is just noticeable."""
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = linear @ np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]).T
    f = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(f > 0.008856, np.cbrt(f), 7.787 * f + 16 / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


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
