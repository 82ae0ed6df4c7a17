"""The live lab's picture: accuracy, loss and weight norm of the current run over the kept ones,
and under them, when the lab shows the inside, the embedding's Fourier spectrum (`lab_inside`).

Drawn on a matplotlib `Figure` (no pyplot state), so the lab's drawing thread can render it
while the notebook goes on. Kept runs are named in one legend under the panels, by the
settings that set them apart, so the labels stay short and the legend is never cut by the frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from grok_lib.presentation.lab_inside import Spectrum
from grok_lib.presentation.lab_settings import describe, tell_apart
from grok_lib.presentation.run_plots import to_png
from grok_lib.presentation.style import FAINT, GRID_ALPHA, KEPT_COLORS, NORM, PHASE_COLORS, TRAIN, VAL
from grok_lib.training.config import TrainConfig

WIDTH, PANELS_HEIGHT = 11.0, 3.4  # inches: the frame without a legend of kept runs
SPECTRUM_HEIGHT = 2.3  # inches added by the spectrum panel
LEGEND_FONT = 7


@dataclass
class Kept:
    """A run kept for comparison: its settings, a copy of its history, and whether Stop ended it."""

    config: TrainConfig
    history: dict[str, list[float]]
    stopped: bool = False


def snapshot(history: dict[str, list[float]]) -> dict[str, list[float]]:
    """A copy of a history that the training thread can go on appending to."""
    return {k: list(v) for k, v in history.items()}


def legend_labels(kept: Sequence[Kept], config: TrainConfig | None, current: bool = True) -> list[str]:
    """The kept runs' labels, then the current run's (when ``current``): what differs between them."""
    configs = [k.config for k in kept] + ([config] if current and config is not None else [])
    differ = tell_apart(configs) + [""]  # "": the current run without a config to compare
    labels = [(d or "same settings") + (" (stopped)" if k.stopped else "") for d, k in zip(differ, kept, strict=False)]
    if current:
        labels.append("this run" + (f": {differ[len(kept)]}" if differ[len(kept)] else ""))
    return labels


def draw(history: dict[str, list[float]] | None, kept: Sequence[Kept] = (), config: TrainConfig | None = None,
         budget: int | None = None, spectrum: Spectrum | None = None, inside: bool = False) -> Figure:
    """The lab's picture: accuracy, loss and weight norm against step (log), current run in
    blue (train) and red (validation), kept runs in other colours (train dashed); ``config``,
    the current run's settings, makes the title. With ``inside``, a panel underneath shows
    ``spectrum`` (empty until the first checkpoint)."""
    fig = Figure(figsize=(WIDTH, PANELS_HEIGHT))
    ax_acc, ax_loss, ax_norm = fig.subplots(1, 3)
    for i, k in enumerate(kept):
        c = KEPT_COLORS[i % len(KEPT_COLORS)]
        x = [max(s, 1) for s in k.history["step"]]
        ax_acc.plot(x, k.history["train_acc"], color=c, ls="--", lw=1, alpha=0.8)
        ax_acc.plot(x, k.history["val_acc"], color=c, lw=1.5)
        ax_loss.plot(x, k.history["train_loss"], color=c, ls="--", lw=1, alpha=0.8)
        ax_loss.plot(x, k.history["val_loss"], color=c, lw=1.5)
        ax_norm.plot(x, k.history["weight_norm"], color=c, lw=1.5)
    current = bool(history and history.get("step"))
    if current:
        x = [max(s, 1) for s in history["step"]]
        ax_acc.plot(x, history["train_acc"], color=TRAIN, lw=2, label="train")
        ax_acc.plot(x, history["val_acc"], color=VAL, lw=2, label="validation")
        ax_loss.plot(x, history["train_loss"], color=TRAIN, lw=2)
        ax_loss.plot(x, history["val_loss"], color=VAL, lw=2)
        ax_norm.plot(x, history["weight_norm"], color=NORM, lw=2)
    for ax, ylabel in [(ax_acc, "accuracy"), (ax_loss, "cross-entropy loss"), (ax_norm, "total weight norm ‖w‖")]:
        ax.set_xscale("log")
        ax.set_xlim(1, max(10, budget or 10))
        ax.set_xlabel("optimisation step")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=GRID_ALPHA)
    ax_acc.set_ylim(-0.02, 1.02)
    if ax_loss.lines:
        ax_loss.set_yscale("log")
    if current:
        ax_acc.legend(fontsize=LEGEND_FONT, loc="lower right")
    legend_height = 0.0
    if kept:
        labels = legend_labels(kept, config, current)
        legend_height = _legend_below(fig, ax_norm.lines, labels)
    below = legend_height + (SPECTRUM_HEIGHT if inside else 0.0)
    height = PANELS_HEIGHT + below
    top = PANELS_HEIGHT * (0.14 if config else 0.05)  # inches above the panels, for the title
    fig.set_size_inches(WIDTH, height)
    fig.subplots_adjust(left=0.06, right=0.99, bottom=(0.5 + below) / height, top=1 - top / height,
                        wspace=0.28)
    if inside:  # between the panels' axis labels and the legend of kept runs
        ax = fig.add_axes((0.06, (legend_height + 0.45) / height, 0.93, (SPECTRUM_HEIGHT - 0.8) / height))
        _spectrum_panel(ax, spectrum)
    if config:
        fig.suptitle(describe(config), fontsize=10)
    return fig


def _spectrum_panel(ax, spectrum: Spectrum | None) -> None:
    """Norm of the embedding per Fourier frequency now (green bars) over its values at step 0 (grey)."""
    ax.set_xlabel("frequency k of the embedding's Fourier basis (cos and sin of 2πkx/p)")
    ax.set_ylabel("norm")
    ax.grid(alpha=GRID_ALPHA, axis="y")
    if spectrum is None:
        ax.set_title("inside: the embedding's norm per frequency, at the next checkpoint", fontsize=9)
        return
    k = list(range(1, len(spectrum.norms) + 1))
    ax.bar(k, spectrum.initial, width=0.9, color=FAINT, label="step 0")
    ax.bar(k, spectrum.norms, width=0.5, color=PHASE_COLORS["comprehension"], label=f"step {spectrum.step:,}")
    ax.set_xlim(0.3, len(k) + 0.7)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize=LEGEND_FONT, loc="upper right", ncol=2)
    ax.set_title(f"inside: the embedding's norm per Fourier frequency at step {spectrum.step:,} "
                 "(after grokking a ± b, a few tall bars: the key frequencies)", fontsize=9)


def _legend_below(fig: Figure, handles: list, labels: list[str]) -> float:
    """One legend of the runs, centred under the panels, in as many columns (up to 3) as fit the width;
    returns the height it needs (inches)."""
    renderer = FigureCanvasAgg(fig).get_renderer()
    for ncol in range(min(3, len(labels)), 0, -1):
        legend = fig.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, 0.0), ncol=ncol,
                            fontsize=LEGEND_FONT, frameon=False, title="runs (validation solid, train dashed)",
                            title_fontsize=LEGEND_FONT)
        box = legend.get_window_extent(renderer)
        if box.width <= 0.98 * fig.bbox.width or ncol == 1:
            break
        legend.remove()
    return box.height / fig.dpi + 0.1


def png(fig: Figure) -> bytes:
    """The lab's frame: the same size while a run is redrawn (no tight crop), taller by the kept runs' legend."""
    return to_png(fig, dpi=80, tight=False)
