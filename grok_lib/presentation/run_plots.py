"""Matplotlib pictures the course draws again and again.

Every function returns a `matplotlib.figure.Figure` built without pyplot's global state,
so it displays once in a notebook, and a dashboard can redraw it from another thread.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from grok_lib.analysis.phases import grokking_summary
from grok_lib.presentation.style import GRID_ALPHA, HELD_OUT, NORM, PAPER, TRAIN, VAL, cyclic_colors, series_color
from grok_lib.task.data import split_pairs
from grok_lib.task.operations import get_operation, operation_table
from grok_lib.training.record import Run


def _history(run: Run | Mapping[str, Sequence[float]]) -> Mapping[str, Sequence[float]]:
    return run.history if isinstance(run, Run) else run


def _steps(hist: Mapping[str, Sequence[float]]) -> np.ndarray:
    # step 0 cannot sit on a log axis: draw it at 1, where "before any update" reads naturally
    return np.maximum(np.asarray(hist["step"], dtype=float), 1)


def mark_phases(ax: Axes, run: Run | Mapping[str, Sequence[float]], labels: bool = True) -> None:
    """Dashed lines where train and validation accuracy first reach 99%, and (with ``labels``) their
    steps written one above the other at the left, where an accuracy curve is still at chance and
    the two labels cannot run into each other however close the lines are."""
    s = grokking_summary(_history(run))
    marks = [(s.memorised_at, TRAIN, "memorised"), (s.generalised_at, VAL, "generalised")]
    for row, (step, color, label) in enumerate(marks):
        if step is not None:
            ax.axvline(max(step, 1), color=color, ls="--", lw=1, alpha=0.7)
            if labels:
                ax.text(0.04, 0.66 - 0.1 * row, f"{label}: step {step:,}", transform=ax.transAxes, fontsize=9,
                        color=color)


def curves(ax: Axes, run: Run | Mapping[str, Sequence[float]], kind: str = "acc", label: str = "",
           alpha: float = 1.0, marks: bool = True) -> None:
    """Train and validation accuracy (``kind='acc'``) or loss (``'loss'``) against step, log x."""
    hist = _history(run)
    x = _steps(hist)
    prefix = f"{label} " if label else ""
    ax.plot(x, hist[f"train_{kind}"], color=TRAIN, alpha=alpha, label=f"{prefix}train")
    ax.plot(x, hist[f"val_{kind}"], color=VAL, alpha=alpha, label=f"{prefix}validation")
    ax.set_xscale("log")
    ax.set_xlabel("optimisation step")
    if kind == "acc":
        ax.set_ylabel("accuracy")
        ax.set_ylim(-0.02, 1.02)
    else:
        ax.set_ylabel("cross-entropy loss")
        ax.set_yscale("log")
    if marks:
        mark_phases(ax, hist, labels=kind == "acc")
    ax.grid(alpha=GRID_ALPHA, which="both")


def plot_run(run: Run | Mapping[str, Sequence[float]], title: str = "", norm: bool = True) -> Figure:
    """The standard grokking picture: accuracy, loss and (optionally) total weight norm."""
    hist = _history(run)
    n = 3 if norm else 2
    fig = Figure(figsize=(2.8 * n, 2.9), layout="constrained")  # 8.4 in: the page's width, so text keeps its size
    axes = fig.subplots(1, n)
    curves(axes[0], hist, "acc")
    axes[0].legend(loc="upper left", fontsize=9)  # where training accuracy is still at chance
    curves(axes[1], hist, "loss")
    if norm:
        weight_norm(axes[2], hist)
    if title:
        fig.suptitle(title)
    return fig


def weight_norm(ax: Axes, run: Run | Mapping[str, Sequence[float]], label: str | None = None,
                color: str = NORM) -> None:
    hist = _history(run)
    ax.plot(_steps(hist), hist["weight_norm"], color=color, label=label)
    ax.set_xscale("log")
    ax.set_xlabel("optimisation step")
    ax.set_ylabel("total weight norm ‖w‖")
    mark_phases(ax, hist, labels=False)
    ax.grid(alpha=GRID_ALPHA, which="both")


def compare(runs: Mapping[str, Run], kind: str = "val_acc", ax: Axes | None = None, title: str = "") -> Figure:
    """One metric for several labelled runs on one log-step axis."""
    fig = Figure(figsize=(7, 3.4), layout="constrained") if ax is None else ax.figure
    ax = ax or fig.subplots()
    for i, (label, run) in enumerate(runs.items()):
        hist = _history(run)
        ax.plot(_steps(hist), hist[kind], color=series_color(i), label=label)
    ax.set_xscale("log")
    if "loss" in kind or kind in ("weight_norm", "eff_lr", "eff_grad", "grad_norm"):
        ax.set_yscale("log")
    ax.set_xlabel("optimisation step")
    ax.set_ylabel(kind.replace("_", " "))
    ax.legend(fontsize=9)
    ax.grid(alpha=GRID_ALPHA, which="both")
    if title:
        ax.set_title(title)
    return fig


def table_image(op: str, p: int, train_frac: float | None = None, seed: int = 0, ax: Axes | None = None,
                max_labels: int = 0, split: str = "ordered") -> Figure:
    """The operation's table as an image: row a, column b, colour a∘b. With ``train_frac``, the cells held
    out of training are drawn in dark grey (the title says so), a colour no value takes on the cyclic map;
    cells the table does not have (division's b = 0) stay blank."""
    operation = get_operation(op)
    a, b, c = operation_table(op, p)
    n = operation.n_elements(p)
    grid = np.full((n, n), np.nan)
    grid[a.numpy(), b.numpy()] = c.numpy()
    held = np.full((n, n), np.nan)
    if train_frac is not None:
        _, val = split_pairs(a, b, train_frac, seed, split)
        held[a[val].numpy(), b[val].numpy()] = 1.0
    fig = Figure(figsize=(4.2, 4.0), layout="constrained") if ax is None else ax.figure
    ax = ax or fig.subplots()
    cmap = ListedColormap(cyclic_colors(n)).with_extremes(bad=PAPER)
    ax.imshow(grid, cmap=cmap, interpolation="nearest", vmin=0, vmax=n - 1)
    if train_frac is not None:  # a second layer: grey where held out, see-through elsewhere
        ax.imshow(held, cmap=ListedColormap([HELD_OUT]).with_extremes(bad=(0, 0, 0, 0)), interpolation="nearest")
    ax.set_xlabel("b")
    ax.set_ylabel("a")
    shown = "" if train_frac is None else f"\n{train_frac:.0%} shown, held-out cells grey"
    ax.set_title(f"{operation.formula}{'' if operation.group == 's5' else f', p={p}'}{shown}", fontsize=9)
    if max_labels and n <= max_labels:
        for i, j in zip(*np.nonzero(~np.isnan(grid) & np.isnan(held)), strict=True):
            ax.text(j, i, int(grid[i, j]), ha="center", va="center", fontsize=6)
    return fig


def to_png(fig: Figure, dpi: float | None = None, tight: bool = True) -> bytes:
    """A figure as PNG bytes (for notebook display and the live lab's image widget)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi or fig.dpi, bbox_inches="tight" if tight else None)
    return buf.getvalue()


def _show_figures_in_notebooks() -> None:
    """Let a returned Figure display as a PNG in IPython whatever the matplotlib backend.

    The inline backend registers this itself, but not when MPLBACKEND selects another
    backend (as headless runners often do); figures built without pyplot would then
    show only as ``<Figure size ...>`` text.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return
    ip = get_ipython()
    if ip is None:
        return

    ip.display_formatter.formatters["image/png"].for_type(Figure, to_png)


_show_figures_in_notebooks()
