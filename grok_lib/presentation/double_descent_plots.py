"""Chapter 6's figures: curves over seeds (median line, min-max band) against a model's size, the amount of data
or training time, side by side in panels that share the x axis; and the training curves of the long runs.

Like the other figure modules, each function returns a `matplotlib.figure.Figure` built without pyplot.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from grok_lib.analysis.double_descent import Band
from grok_lib.presentation.style import GRID_ALPHA, REFERENCE, VAL, series_color

FIGSIZE = (8.0, 3.4)


@dataclass
class Panel:
    """One axis of a figure: its curves (label -> `Band`), y label, and whether y is a percentage or on a log
    scale. ``colors`` fixes a curve's colour by label (otherwise the k-th default colour)."""

    bands: Mapping[str, Band]
    ylabel: str
    percent: bool = False
    logy: bool = False
    title: str = ""
    colors: Mapping[str, str] = field(default_factory=dict)


def draw_bands(ax: Any, panel: Panel, markers: bool = True) -> None:
    """Each curve as its median over seeds with a band from the lowest to the highest seed."""
    for k, (label, b) in enumerate(panel.bands.items()):
        color = panel.colors.get(label, series_color(k))
        ax.fill_between(b.x, b.low, b.high, color=color, alpha=0.18, lw=0)
        ax.plot(b.x, b.median, color=color, lw=1.5, marker="o" if markers else None, ms=2.5, label=label)
    if panel.percent:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    if panel.logy:
        ax.set_yscale("log")
    ax.set_ylabel(panel.ylabel)
    if panel.title:
        ax.set_title(panel.title, fontsize=10)
    ax.grid(alpha=GRID_ALPHA, which="both")


def band_panels(panels: Sequence[Panel], xlabel: str, vlines: Mapping[str, float] | None = None, logx: bool = True,
                title: str = "", legend_panel: int = 0, figsize: tuple[float, float] = FIGSIZE,
                legend_cols: int = 4) -> Figure:
    """Panels side by side sharing x (e.g. test error and test loss against the number of features), each
    with named vertical marker lines (e.g. the interpolation threshold) and one legend under the figure."""
    fig = Figure(figsize=figsize, layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(panels), sharex=True))
    for ax, panel in zip(axes, panels, strict=True):
        draw_bands(ax, panel)
        for k, (name, x) in enumerate((vlines or {}).items()):
            ax.axvline(x, color=REFERENCE, ls=["--", ":", "-."][k % 3], lw=0.9, label=name)
        if logx:
            ax.set_xscale("log")
        ax.set_xlabel(xlabel)
    handles, labels = axes[legend_panel].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), legend_cols), fontsize=9,
               frameon=False)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def training_curves(runs: Sequence[Mapping[str, Any]], label_key: str = "width", title: str = "",
                    figsize: tuple[float, float] = FIGSIZE) -> Figure:
    """Long runs against training step (log axis): test error (solid) and train error (dashed) on the left,
    test loss on the right; one colour per ``label_key`` value, one line per run (seeds in the same colour)."""
    fig = Figure(figsize=figsize, layout="constrained")
    ax_err, ax_loss = fig.subplots(1, 2, sharex=True)
    keys = list(dict.fromkeys(r[label_key] for r in runs))
    for r in runs:
        color = series_color(keys.index(r[label_key]))
        steps = np.maximum(np.asarray(r["step"], dtype=float), 1)  # step 0 drawn at 1 on the log axis
        first = r is next(q for q in runs if q[label_key] == r[label_key])
        label = f"{label_key} {r[label_key]:,}" if first else None
        ax_err.plot(steps, r["test_error"], color=color, lw=1.3, label=label)
        ax_err.plot(steps, r["train_error"], color=color, lw=1.0, ls="--", alpha=0.8)
        ax_loss.plot(steps, r["test_loss"], color=color, lw=1.3)
    ax_err.plot([], [], color=REFERENCE, lw=1.3, label="test")
    ax_err.plot([], [], color=REFERENCE, lw=1.0, ls="--", label="train (labels trained on)")
    ax_err.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax_err.set_ylabel("error")
    ax_loss.set_ylabel("test loss (cross-entropy)")
    ax_loss.set_yscale("log")
    for ax in (ax_err, ax_loss):
        ax.set_xscale("log")
        ax.set_xlabel("training step")
        ax.grid(alpha=GRID_ALPHA, which="both")
    handles, labels = ax_err.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 4), fontsize=9, frameon=False)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig




def live_frame(curves: Mapping[str, tuple[Sequence[float], Sequence[float], Sequence[float]]], xlabel: str,
               vline: tuple[str, float] | None = None, points: Sequence[tuple[float, float, float]] = (),
               title: str = "", xlim: tuple[float, float] | None = None) -> Figure:
    """The double-descent lab's frame: test error and test loss against x, one line per curve
    (label -> (xs, errors, losses)), the last curve the current one (drawn thickest), an optional marker line,
    and single trained points (x, error, loss) as stars."""
    fig = Figure(figsize=(8.0, 3.3), layout="constrained")
    ax_err, ax_loss = fig.subplots(1, 2, sharex=True)
    n = len(curves)
    for k, (label, (xs, errs, losses)) in enumerate(curves.items()):
        current = k == n - 1
        kw = dict(color=series_color(k), lw=1.8 if current else 1.0, alpha=1.0 if current else 0.6,
                  marker="o" if current else None, ms=2.5)
        ax_err.plot(xs, errs, label=label, **kw)
        ax_loss.plot(xs, losses, **kw)
    for x, err, loss in points:
        ax_err.plot([x], [err], marker="*", ms=11, color=VAL, ls="none")
        ax_loss.plot([x], [loss], marker="*", ms=11, color=VAL, ls="none")
    if points:
        ax_err.plot([], [], marker="*", ms=9, color=VAL, ls="none", label="trained here")
    for ax, ylabel in ((ax_err, "test error"), (ax_loss, "test loss")):
        if vline is not None:
            ax.axvline(vline[1], color=REFERENCE, ls="--", lw=0.9, label=vline[0] if ax is ax_err else None)
        ax.set_xscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=GRID_ALPHA, which="both")
        if xlim is not None:
            ax.set_xlim(*xlim)
    ax_err.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax_err.set_ylim(0, 1)
    if any(len(c[0]) for c in curves.values()) or points:
        ax_loss.set_yscale("log")
    handles, labels = ax_err.get_legend_handles_labels()
    if labels:
        fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 3), fontsize=9,
                   frameon=False)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


__all__ = ["FIGSIZE", "Panel", "band_panels", "draw_bands", "live_frame", "training_curves"]
