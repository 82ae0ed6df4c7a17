"""The experiment chapters' figures, drawn from small synthetic rows and histories whose
content is known: what each figure must show (panels, labels, markers, legends, titles)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from grok_lib.analysis.tables import PhaseTable
from grok_lib.presentation import sweep_plots
from grok_lib.presentation.style import PHASE_ABBREV, PHASE_COLORS, PHASE_ORDER, TRAIN, VAL, series_color
from grok_lib.training.config import TrainConfig
from grok_lib.training.record import Run

STEPS = [0, 10, 100, 1000]
BUDGET = 1000


def run(val_acc: list[float], scale: float = 1.0) -> Run:
    """A run that memorises by step 100; its validation accuracy is given; the norms grow with ``scale``."""
    hist = {"step": STEPS, "train_acc": [0.0, 0.5, 1.0, 1.0], "val_acc": val_acc,
            "train_loss": [3.0, 1.0, 0.1, 0.01], "val_loss": [3.0, 3.0, 2.0, 1.0],
            "weight_norm": [10 * scale, 11 * scale, 12 * scale, 9 * scale],
            "eff_lr": [1e-3, 1e-3, 2e-3, 3e-3], "eff_grad": [1.0, 2.0, 0.5, 0.1]}
    return Run(TrainConfig(steps=BUDGET), hist)


GROKS = run([0.0, 0.1, 0.3, 1.0])
NEVER = run([0.0, 0.1, 0.2, 0.3], scale=2.0)


def row(frac: float, seed: int, gen: int | None, mem: int | None = 50, **extra) -> dict:
    return {"train_frac": frac, "seed": seed, "steps": BUDGET, "memorised_at": mem, "generalised_at": gen, **extra}


def legend_texts(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def suptitle(fig: Figure) -> str:
    return fig._suptitle.get_text() if fig._suptitle else ""


def rendered(fig: Figure) -> Figure:
    fig.savefig(io.BytesIO(), format="png")  # lays out and draws without pyplot
    return fig


# ---- curves of several runs ------------------------------------------------------------------

def test_accuracy_panels_one_panel_per_run_spare_panels_hidden():
    fig = rendered(sweep_plots.accuracy_panels({"wd 0": NEVER, "wd 1": GROKS, "wd 3": GROKS}, ncols=2, title="T"))
    assert len(fig.axes) == 4
    shown = [ax for ax in fig.axes if ax.axison]
    assert [ax.get_title() for ax in shown] == ["wd 0", "wd 1", "wd 3"]
    assert not fig.axes[3].axison and legend_texts(fig.axes[3]) == ["train", "validation"]  # in the spare slot
    for ax in shown:
        colors = [line.get_color() for line in ax.lines[:2]]
        assert colors == [TRAIN, VAL] and ax.get_xscale() == "log"
    assert fig.axes[0].get_legend() is None
    assert suptitle(fig) == "T"
    full = rendered(sweep_plots.accuracy_panels({"wd 0": NEVER, "wd 1": GROKS}, ncols=2))  # no spare slot
    assert legend_texts(full.axes[0]) == ["train", "validation"]
    # the run that never generalises has a memorisation mark only, the one that groks has both
    assert [t.get_text().split(":")[0] for t in fig.axes[0].texts] == ["memorised"]
    assert [t.get_text().split(":")[0] for t in fig.axes[1].texts] == ["memorised", "generalised"]


def test_loss_panels_side_by_side_on_log_axes():
    fig = rendered(sweep_plots.loss_panels({"a": GROKS, "b": NEVER}))
    assert [ax.get_title() for ax in fig.axes] == ["a", "b"]
    assert all(ax.get_yscale() == "log" and ax.get_xscale() == "log" for ax in fig.axes)
    assert np.allclose(fig.axes[0].lines[1].get_ydata(), GROKS.history["val_loss"])
    assert suptitle(fig) == ""


def test_optimizer_dynamics_four_quantities_one_colour_per_optimiser():
    fig = rendered(sweep_plots.optimizer_dynamics({"adamw": GROKS, "sgd": NEVER}, title="opt"))
    assert len(fig.axes) == 4
    assert [ax.get_title().split(" ")[0] for ax in fig.axes] == ["validation", "weight", "effective", "effective"]
    assert [ax.get_yscale() for ax in fig.axes] == ["linear", "log", "log", "log"]
    for ax in fig.axes:
        assert [line.get_color() for line in ax.lines] == [series_color(0), series_color(1)]
    assert np.allclose(fig.axes[1].lines[1].get_ydata(), NEVER.history["weight_norm"])
    assert [ax.get_xlabel() for ax in fig.axes] == ["", "", "optimisation step", "optimisation step"]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["adamw", "sgd"] and suptitle(fig) == "opt"
    assert all(ax.get_legend() is None for ax in fig.axes)  # one legend, below the panels, off the curves
    assert all(not ax.patches for ax in fig.axes)  # no warm-up asked for: none shaded


def test_optimizer_dynamics_shades_the_warm_up_on_every_panel():
    fig = rendered(sweep_plots.optimizer_dynamics({"adamw": GROKS}, warmup=10))
    for ax in fig.axes:
        (span,) = ax.patches
        assert (span.get_x(), span.get_x() + span.get_width()) == (1, 10)
    assert "10 steps" in fig.axes[2].texts[0].get_text()


def test_optimizer_dynamics_step_axis_is_log_unless_asked_linear():
    assert {ax.get_xscale() for ax in rendered(sweep_plots.optimizer_dynamics({"a": GROKS})).axes} == {"log"}
    linear = rendered(sweep_plots.optimizer_dynamics({"a": GROKS}, log_steps=False))
    assert {ax.get_xscale() for ax in linear.axes} == {"linear"}


# ---- timing against a setting ----------------------------------------------------------------

TIMING_ROWS = [row(0.3, 0, 400), row(0.3, 1, 600), row(0.3, 2, None),  # 2 of 3 generalised: a median
               row(0.6, 0, 200), row(0.6, 1, None), row(0.6, 2, None)]  # 1 of 3: no median


def _dots(ax, color: str, hollow: bool) -> np.ndarray:
    """Offsets of the scatter points of ``color``, either filled or open."""
    pts = []
    for c in ax.collections:
        face, edge = c.get_facecolors(), c.get_edgecolors()
        is_hollow = len(face) == 0
        rgba = edge[0] if is_hollow else face[0]
        if is_hollow == hollow and np.allclose(rgba[:3], to_rgba(color)[:3]):
            pts.extend(c.get_offsets())
    return np.array(pts)


def test_timing_vs_draws_never_generalised_as_open_markers_on_the_budget():
    fig = rendered(sweep_plots.timing_vs(TIMING_ROWS, "train_frac", ax_title="when", xlabel="fraction"))
    ax = fig.axes[0]
    hollow = _dots(ax, VAL, hollow=True)
    assert len(hollow) == 3 and np.all(hollow[:, 1] == BUDGET)
    assert sorted(np.round(hollow[:, 0], 1)) == [0.3, 0.6, 0.6]
    assert sorted(_dots(ax, VAL, hollow=False)[:, 1]) == [200, 400, 600]
    assert len(_dots(ax, TRAIN, hollow=False)) == 6 and len(_dots(ax, TRAIN, hollow=True)) == 0
    budget_lines = [line for line in ax.lines if list(line.get_ydata()) == [BUDGET, BUDGET]]
    assert len(budget_lines) == 1
    medians = {line.get_label(): (list(line.get_xdata()), list(line.get_ydata())) for line in ax.lines
               if not line.get_label().startswith("_")}
    assert medians["validation ≥ 99%\n(generalised)"] == ([0.3], [500.0])  # no median where most never got there
    assert medians["train ≥ 99%\n(memorised)"] == ([0.3, 0.6], [50.0, 50.0])
    assert legend_texts(ax) == ["train ≥ 99%\n(memorised)", "validation ≥ 99%\n(generalised)",
                                "budget\n(open: not reached)"]
    # the legend sits beside the axes, over none of the data
    assert ax.get_legend().get_window_extent().x0 >= ax.get_window_extent().x1
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("fraction", "optimisation step", "when")
    assert ax.get_yscale() == "log"


def test_timing_vs_budget_defaults_to_the_longest_run():
    rows = [row(0.3, 0, None), row(0.5, 0, None) | {"steps": 3000}]
    ax = sweep_plots.timing_vs(rows).axes[0]
    assert set(_dots(ax, VAL, hollow=True)[:, 1]) == {3000}
    assert ax.get_xlabel() == "train frac"


# ---- grids -----------------------------------------------------------------------------------

def test_phase_diagram_colours_cells_by_majority_and_counts_seeds():
    cells = {(0.0, 0.3): ["memorisation"] * 3, (1.0, 0.3): ["grokking", "grokking", "memorisation"],
             (1.0, 0.6): ["comprehension"]}
    table = PhaseTable("weight_decay", "train_frac", [0.0, 1.0], [0.3, 0.6], cells)
    fig = rendered(sweep_plots.phase_diagram(table, title="phases", col_label="fraction shown"))
    ax = fig.axes[0]
    codes = np.ma.filled(np.ma.asarray(ax.images[0].get_array(), dtype=float), np.nan)
    assert codes[0, 0] == PHASE_ORDER.index("memorisation") and np.isnan(codes[0, 1])  # (0, 0.6) not tried
    assert codes[1, 0] == PHASE_ORDER.index("grokking") and codes[1, 1] == PHASE_ORDER.index("comprehension")
    cmap = ax.images[0].get_cmap()
    for i, phase in enumerate(PHASE_ORDER):
        assert np.allclose(cmap(i / (len(PHASE_ORDER) - 1)), to_rgba(PHASE_COLORS[phase]))
    assert sorted(t.get_text() for t in ax.texts) == ["1C", "2G 1M", "3M"]
    assert all(t.get_fontsize() >= 9 for t in ax.texts)
    # the counts in black on every phase colour of the palette: it contrasts more than white on each
    assert {to_rgba(t.get_color()) for t in ax.texts} == {to_rgba("k")}
    assert [t.get_text() for t in ax.get_xticklabels()] == ["30%", "60%"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0", "1"]
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("fraction shown", "weight decay", "phases")
    assert legend_texts(ax) == [f"{p} ({PHASE_ABBREV[p]})" for p in PHASE_ORDER[::-1]]
    handles = ax.get_legend().legend_handles
    assert [tuple(h.get_facecolor()) for h in handles] == [to_rgba(PHASE_COLORS[p]) for p in PHASE_ORDER[::-1]]


@pytest.mark.parametrize("background, text", [("#000000", "#fff"), ("#ffffff", "k"), ("#0000ff", "#fff"),
                                              ("#ffff00", "k")])
def test_cell_text_takes_the_colour_that_contrasts_more(background, text):
    assert to_rgba(sweep_plots._text_on(background)) == to_rgba(text)


def test_step_grid_medians_dashes_and_blanks():
    rows = [row(0.3, s, g, op="add") for s, g in enumerate([100, 300, None])]  # median of 100 and 300
    rows += [row(0.6, s, g, op="add") for s, g in enumerate([50, None, None])]  # most never: a dash
    rows += [row(0.3, 0, 1000, op="div")]  # (div, 60%) never tried: blank
    fig = rendered(sweep_plots.step_grid(rows, "op", "train_frac", row_labels={"add": "a + b"}, title="grid"))
    ax, bar = fig.axes
    grid = np.ma.filled(np.ma.asarray(ax.images[0].get_array(), dtype=float), np.nan)
    assert grid.shape == (2, 2)
    assert grid[0, 0] == 200 and grid[1, 0] == 1000 and np.isnan(grid[0, 1]) and np.isnan(grid[1, 1])
    texts = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts}
    assert texts == {(0, 0): "200", (0, 1): "—", (1, 0): "1,000", (1, 1): ""}
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a + b", "div"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["30%", "60%"]
    assert bar.get_ylabel() == "generalised at (step)" and ax.get_title() == "grid"


# ---- seeds and pairs -------------------------------------------------------------------------

def test_seed_spread_histogram_median_and_count_of_nevers():
    fig = rendered(sweep_plots.seed_spread([100, 300, None, 500, None], BUDGET, title="spread"))
    ax = fig.axes[0]
    assert sum(p.get_height() for p in ax.patches) == 3
    assert [line.get_xdata()[0] for line in ax.lines] == [300]
    assert ax.texts[0].get_text() == "median 300"
    assert ax.get_title() == "spread (5 seeds, 2 never within 1,000 steps)"
    assert ax.get_xlim() == (0, BUDGET)
    assert sweep_plots.seed_spread([100, 200], BUDGET).axes[0].get_title() == "2 seeds"


def test_seed_spread_when_no_seed_got_there():
    ax = sweep_plots.seed_spread([None, None], BUDGET).axes[0]
    assert not ax.patches and not ax.lines
    assert ax.get_title() == "2 seeds, 2 never within 1,000 steps"


@pytest.mark.parametrize("value, key, text", [(0.3, "train_frac", "30%"), (0.1, "label_noise", "10%"),
                                              (0.3, "weight_decay", "0.3"), (3, "train_frac", "3"),
                                              ("add", "op", "add")])
def test_tick_labels_show_fractions_as_percentages(value, key, text):
    assert sweep_plots._fmt(value, key) == text
