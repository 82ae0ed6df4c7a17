"""Chapter 5's figures, drawn from small synthetic pairs, rows and runs whose content is known:
where the points, medians, bands and counts must be."""

from __future__ import annotations

import io
import math
import statistics

import numpy as np
import pytest
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from grok_lib.presentation import merge_plots
from grok_lib.presentation.merge_plots import MERGE_COLORS, NEVER_BAND
from grok_lib.presentation.style import series_color
from grok_lib.training.config import TrainConfig
from grok_lib.training.record import Run

BUDGET = 1000


def rendered(fig: Figure) -> Figure:
    fig.savefig(io.BytesIO(), format="png")  # lays out and draws without pyplot
    return fig


def legend_texts(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_paired_steps_nevers_in_the_band_and_neither_counted_not_stacked():
    pairs = [(100, 200), (None, 300), (None, None), (400, None), (None, None), (None, None)]
    groups = ["a", "a", "a", "b", "b", "b"]
    fig = rendered(merge_plots.paired_steps(pairs, ("sum", "concat"), BUDGET, groups=groups, title="pairs"))
    ax = fig.axes[0]
    a, b = (c.get_offsets() for c in ax.collections[:2])
    lo_band, hi_band = BUDGET * NEVER_BAND[0], BUDGET * NEVER_BAND[1]
    assert len(a) == 2 and len(b) == 1  # the three "neither" pairs are not drawn
    assert tuple(a[0]) == (100, 200) and a[1][1] == 300 and lo_band < a[1][0] < hi_band
    assert b[0][0] == 400 and lo_band < b[0][1] < hi_band
    assert a[1][0] != b[0][1]  # the two groups sit apart in the band
    assert [tuple(c.get_facecolors()[0][:3]) for c in ax.collections[:2]] == [to_rgba(series_color(k))[:3]
                                                                             for k in (0, 1)]
    assert legend_texts(ax) == ["a (1 of 3: neither)", "b (2 of 3: neither)"]
    assert "3\nneither" in [t.get_text() for t in ax.texts]
    diagonal = ax.lines[0]
    assert list(diagonal.get_xdata()) == list(diagonal.get_ydata())
    assert ax.get_xscale() == ax.get_yscale() == "log" and ax.get_xlim()[1] == pytest.approx(hi_band)
    assert ax.get_xlabel() == "sum: step of generalisation" and ax.get_title() == "pairs"
    plain = merge_plots.paired_steps([(100, 200)], ("x", "y"), BUDGET).axes[0]
    assert plain.get_legend() is None and "neither" not in " ".join(t.get_text() for t in plain.texts)


def _row(setting: str, merge: str, beta2: float, seed: int, mem: int, gen: int | None, **slow) -> dict:
    return {"setting": setting, "merge": merge, "beta2": beta2, "seed": seed, "memorised_at": mem,
            "generalised_at": gen, **{f"slow_{k}": v for k, v in slow.items()}}


ROWS = [_row(s, m, b, seed, 100 + seed, (1000 if m == "sum" else 5000) * (1 + seed) // (2 if b > 0.99 else 1),
             decay_share=(0.1 if m == "sum" else 0.02) * (2 if b > 0.99 else 1), train_loss_then=1e-6 / (1 - b),
             norm_at_generalised=60.0 + seed)
        for s in ("one", "two") for m in ("sum", "concat") for b in (0.98, 0.999) for seed in range(3)]


def test_steps_vs_beta2_one_panel_per_setting_medians_at_the_memory_of_beta2():
    fig = rendered(merge_plots.steps_vs_beta2(ROWS, 50_000, marks={"short budget": 20_000}))
    axes = [ax for ax in fig.axes]
    assert [ax.get_title() for ax in axes] == ["one", "two"]
    ax = axes[0]
    assert list(ax.get_xticks()) == pytest.approx([50, 1000])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.98\n(50)", "0.999\n(1000)"]
    medians = {line.get_label(): list(line.get_ydata()) for line in ax.lines if not line.get_label().startswith("_")}
    assert medians["concatenated: generalised"] == [10_000, 5_000]  # seeds 5,000 / 10,000 / 15,000, halved at 0.999
    assert medians["summed: memorised"] == [101, 101]
    assert to_rgba(next(ln for ln in ax.lines if ln.get_label() == "summed: generalised").get_color()) == \
        to_rgba(MERGE_COLORS["sum"])
    assert {round(line.get_ydata()[0]) for line in ax.lines if line.get_label().startswith("_")} >= {50_000, 20_000}
    assert ax.get_yscale() == "log"
    assert {"budget 50,000", "short budget"} <= {t.get_text() for t in ax.texts}
    assert len(fig.legends[0].get_texts()) == 4


def _run(beta2: float, gen: int) -> Run:
    steps = list(range(0, 4001, 100))
    hist = {"step": steps, "train_acc": [float(s >= 200) for s in steps], "val_acc": [float(s >= gen) for s in steps],
            "weight_norm": [100 - s / 100 for s in steps], "train_loss": [10 ** (-s / 1000) for s in steps],
            "grad_norm": [10 ** (-s / 2000) for s in steps]}
    return Run(TrainConfig(betas=(0.9, beta2)), hist)


def test_slow_phase_curves_from_memorisation_with_a_dot_at_generalisation():
    runs = {"β2 = 0.98": _run(0.98, 3000), "β2 = 0.999": _run(0.999, 1500)}
    fig = rendered(merge_plots.slow_phase_curves(runs, window=1000, title="T"))
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == ["weight norm ‖w‖", "training loss", "gradient norm ‖g‖"]
    assert [ax.get_yscale() for ax in axes] == ["linear", "log", "log"]
    norm = axes[0]
    assert [line.get_label() for line in norm.lines] == list(runs)
    assert norm.lines[0].get_xdata()[0] == 200  # drawn from memorisation on
    dots = [c.get_offsets()[0] for c in norm.collections if len(c.get_offsets()) == 1]
    assert [tuple(d) for d in dots] == [(3000, 70), (1500, 85)]
    shaded = [p for p in norm.patches]
    assert shaded and shaded[0].get_x() == 200 and shaded[0].get_width() == pytest.approx(1000)
    assert "shaded: the first 1,000 steps" in fig.legends[0].get_title().get_text()
    assert not rendered(merge_plots.slow_phase_curves(runs, window=None)).axes[0].patches


def test_slow_phase_summary_medians_per_setting_and_merge():
    fig = rendered(merge_plots.slow_phase_summary(ROWS))
    share, loss, norm = fig.axes
    assert len(share.lines) == 4  # two settings x two merges
    by_label = {line.get_label(): line for line in share.lines}
    assert list(by_label["one, concatenated"].get_ydata()) == pytest.approx([0.02, 0.04])
    assert list(by_label["two, summed"].get_xdata()) == pytest.approx([50, 1000])
    assert by_label["one, summed"].get_marker() != by_label["two, summed"].get_marker()
    assert list(loss.lines[0].get_ydata()) == pytest.approx([1e-6 / 0.02, 1e-6 / 0.001])
    assert list(norm.lines[0].get_ydata()) == [statistics.median([60.0, 61.0, 62.0])] * 2
    assert share.get_yscale() == loss.get_yscale() == "log" and norm.get_yscale() == "linear"
    assert not any(math.isnan(y) for line in share.lines for y in np.asarray(line.get_ydata(), dtype=float))
