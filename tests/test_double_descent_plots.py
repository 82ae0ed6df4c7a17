"""Chapter 6's figures draw what they are given: medians as lines, seeds as bands, marker lines, one legend."""

from __future__ import annotations

import numpy as np
from matplotlib.colors import to_hex

from grok_lib.analysis.double_descent import Band
from grok_lib.presentation.double_descent_plots import Panel, band_panels, live_frame, training_curves
from grok_lib.presentation.style import REFERENCE, VAL

B1 = Band([10, 100, 1000], [0.5, 0.9, 0.1], [0.4, 0.8, 0.05], [0.6, 0.95, 0.2])
B2 = Band([10, 100, 1000], [0.3, 0.3, 0.2], [0.2, 0.25, 0.1], [0.4, 0.35, 0.3])


def test_band_panels_draw_medians_bands_marker_lines_and_one_legend():
    fig = band_panels([Panel({"a": B1, "b": B2}, "test error", percent=True),
                       Panel({"a": B1}, "test loss", logy=True, colors={"a": VAL})],
                      "features", vlines={"N = n": 100}, title="t")
    ax_err, ax_loss = fig.axes
    medians = [line for line in ax_err.lines if line.get_label() in ("a", "b")]
    assert [list(line.get_ydata()) for line in medians] == [B1.median, B2.median]
    band = ax_err.collections[0].get_paths()[0].vertices
    assert np.isclose(band[:, 1].max(), max(B1.high)) and np.isclose(band[:, 1].min(), min(B1.low))
    assert to_hex(ax_loss.lines[0].get_color()) == VAL  # a colour fixed by label
    (marker,) = [line for line in ax_err.lines if line.get_label() == "N = n"]
    assert list(marker.get_xdata()) == [100, 100] and marker.get_color() == REFERENCE
    assert ax_err.get_xscale() == "log" and ax_loss.get_yscale() == "log" and ax_err.get_yscale() == "linear"
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["a", "b", "N = n"]
    assert ax_err.get_legend() is None and fig._suptitle.get_text() == "t"
    assert fig.get_size_inches()[0] <= 8.0


def test_training_curves_one_colour_per_width_dashed_train():
    runs = [dict(width=w, seed=s, step=[0, 10, 100], test_error=[0.9, 0.1, 0.2], train_error=[0.9, 0.2, 0.0],
                 test_loss=[2.3, 0.3, 0.6]) for w in (64, 1024) for s in (0, 1)]
    fig = training_curves(runs)
    ax_err, ax_loss = fig.axes
    solid = [line for line in ax_err.lines if line.get_linestyle() == "-" and len(line.get_xdata())]
    assert len(solid) == 4 and len({line.get_color() for line in solid}) == 2
    assert solid[0].get_xdata()[0] == 1  # step 0 drawn at 1 on the log axis
    assert len(ax_loss.lines) == 4 and ax_loss.get_yscale() == "log"
    assert [t.get_text() for t in fig.legends[0].get_texts()][:2] == ["width 64", "width 1,024"]


def test_live_frame_draws_the_current_curve_last_and_thickest_with_trained_points():
    curves = {"kept": ([10, 100], [0.5, 0.4], [1.0, 2.0]), "now": ([10, 100, 400], [0.3, 0.2, 0.9], [1, 2, 50])}
    fig = live_frame(curves, "N", vline=("N = n", 400), points=[(12, 0.4, 3.0)])
    ax_err, ax_loss = fig.axes
    kept, now = ax_err.lines[:2]
    assert now.get_linewidth() > kept.get_linewidth() and list(now.get_ydata()) == [0.3, 0.2, 0.9]
    stars = [line for line in ax_err.lines if line.get_marker() == "*" and len(line.get_xdata())]
    assert [(line.get_xdata()[0], line.get_ydata()[0]) for line in stars] == [(12, 0.4)]
    assert ax_err.get_ylim() == (0, 1) and ax_loss.get_yscale() == "log"
    assert "N = n" in [t.get_text() for t in fig.legends[0].get_texts()]
    empty = live_frame({}, "N")
    assert not empty.legends and empty.axes[1].get_yscale() == "linear"
