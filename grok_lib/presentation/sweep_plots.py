"""Figures of the experiment chapters (4-6): many runs at once, read through `analysis`.

Like `run_plots`, every function returns a `matplotlib.figure.Figure` built without pyplot,
so a notebook shows it by making it the cell's last expression.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.colors import ListedColormap, LogNorm, to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from grok_lib.analysis.tables import PhaseTable, group_by
from grok_lib.presentation.run_plots import _steps, curves
from grok_lib.presentation.style import (
    FAINT,
    GRID_ALPHA,
    MUTED,
    NOT_TRIED,
    PAPER,
    PHASE_ABBREV,
    PHASE_COLORS,
    PHASE_ORDER,
    REFERENCE,
    STEP_GRID_COLORS,
    TRAIN,
    VAL,
    series_color,
)
from grok_lib.training.record import Run


def _fmt(x: Any, key: str = "") -> str:
    """Fractions (training fraction, label noise) as percentages, other numbers plainly."""
    if isinstance(x, float) and ("frac" in key or "noise" in key):
        return f"{x:.0%}"
    return f"{x:g}" if isinstance(x, float) else str(x)


def accuracy_panels(runs: Mapping[str, Run], ncols: int | None = None, title: str = "",
                    figsize: tuple[float, float] | None = None) -> Figure:
    """Train and validation accuracy of several runs, one small panel each, shared axes; the legend
    in the first spare slot of the grid if there is one."""
    n = len(runs)
    ncols = ncols or n
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=figsize or (2.9 * ncols, 2.5 * nrows + 0.3), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, sharex=True, sharey=True)).ravel()
    for ax, (label, run) in zip(axes, runs.items(), strict=False):
        curves(ax, run, "acc", marks=True)
        ax.set_title(label, fontsize=9)
        ax.label_outer()
    for ax in axes[n + 1:]:
        ax.set_visible(False)
    if n < len(axes):  # a spare slot: the legend goes there, off the curves
        axes[n].axis("off")
        axes[n].legend(*axes[0].get_legend_handles_labels(), loc="center", fontsize=9, frameon=False)
    else:
        axes[0].legend(loc="upper left", fontsize=9)
    if title:
        fig.suptitle(title)
    return fig


def loss_panels(runs: Mapping[str, Run], title: str = "") -> Figure:
    """Train and validation loss of several runs side by side (log-log)."""
    n = len(runs)
    fig = Figure(figsize=(3.2 * n, 2.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, n, sharey=True))
    for ax, (label, run) in zip(axes, runs.items(), strict=False):
        curves(ax, run, "loss", marks=True)
        ax.set_title(label, fontsize=9)
        ax.label_outer()
    axes[0].legend(fontsize=7)
    if title:
        fig.suptitle(title)
    return fig


def timing_vs(rows: Sequence[Mapping[str, Any]], x: str = "train_frac", budget: int | None = None,
              ax_title: str = "", xlabel: str | None = None) -> Figure:
    """When training and validation accuracy first reach 99%, against a config field.

    Each seed is a dot; lines join medians. A run that never generalised within its budget is
    drawn as an open marker on the budget line. The legend sits beside the axes, off the data.
    """
    fig = Figure(figsize=(8, 3.5), layout="constrained")
    ax = fig.subplots()
    budget = budget or max(r["steps"] for r in rows)
    xs = sorted({r[x] for r in rows})
    for key, color, label in [("memorised_at", TRAIN, "train ≥ 99%\n(memorised)"),
                              ("generalised_at", VAL, "validation ≥ 99%\n(generalised)")]:
        med_x, med_y = [], []
        for xv in xs:
            vals = [r[key] for r in rows if r[x] == xv]
            hit = [max(v, 1) for v in vals if v is not None]
            jitter = np.linspace(-0.008, 0.008, len(vals)) if len(vals) > 1 else [0.0]
            for j, v in zip(jitter, vals, strict=False):
                if v is None:
                    ax.scatter(xv + j, budget, marker="o", facecolors="none", edgecolors=color, s=22)
                else:
                    ax.scatter(xv + j, max(v, 1), color=color, s=14, alpha=0.7)
            if len(hit) * 2 > len(vals):  # a median only where most seeds got there
                med_x.append(xv)
                med_y.append(float(np.median(hit)))
        ax.plot(med_x, med_y, color=color, label=label)
    ax.axhline(budget, color=REFERENCE, lw=0.8, ls=":", label="budget\n(open: not reached)")
    ax.set(yscale="log", xlabel=xlabel or x.replace("_", " "), ylabel="optimisation step")
    ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    ax.grid(alpha=GRID_ALPHA, which="both")
    if ax_title:
        ax.set_title(ax_title, fontsize=10)
    return fig

def _text_on(color: str) -> str:
    """Black or white, whichever contrasts more with ``color`` (WCAG relative luminance)."""
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in to_rgb(color))
    lum = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return REFERENCE if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else PAPER


def phase_diagram(table: PhaseTable, title: str = "", row_label: str | None = None,
                  col_label: str | None = None) -> Figure:
    """Each cell coloured by the majority phase of its seeds and labelled with the counts
    (in black or white, whichever reads better on the cell's colour)."""
    fig = Figure(figsize=(1.0 * len(table.cols) + 2.9, 0.6 * len(table.rows) + 1.4), layout="constrained")
    ax = fig.subplots()
    codes = np.full((len(table.rows), len(table.cols)), np.nan)
    cmap = ListedColormap([PHASE_COLORS[p] for p in PHASE_ORDER])
    for i, r in enumerate(table.rows):
        for j, c in enumerate(table.cols):
            phases = table.cells.get((r, c))
            if not phases:
                continue
            maj = table.majority(r, c)
            codes[i, j] = PHASE_ORDER.index(maj)
            text = " ".join(f"{phases.count(p)}{PHASE_ABBREV[p]}" for p in PHASE_ORDER[::-1] if phases.count(p))
            ax.text(j, i, text, ha="center", va="center", fontsize=10, color=_text_on(PHASE_COLORS[maj]))
    ax.imshow(codes, cmap=cmap, vmin=-0.5, vmax=len(PHASE_ORDER) - 0.5, aspect="auto", origin="lower")
    ax.set_xticks(range(len(table.cols)), [_fmt(c, table.col_key) for c in table.cols])
    ax.set_yticks(range(len(table.rows)), [_fmt(r, table.row_key) for r in table.rows])
    ax.set_xlabel(col_label or table.col_key.replace("_", " "))
    ax.set_ylabel(row_label or table.row_key.replace("_", " "))
    handles = [Patch(color=PHASE_COLORS[p], label=f"{p} ({PHASE_ABBREV[p]})") for p in PHASE_ORDER[::-1]]
    ax.legend(handles=handles, fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def step_grid(rows: Sequence[Mapping[str, Any]], row_key: str, col_key: str, value: str = "generalised_at",
              row_labels: Mapping[Any, str] | None = None, title: str = "",
              figsize: tuple[float, float] | None = None) -> Figure:
    """A table-as-picture: median ``value`` (a step) per cell, log colour scale; '—' = most runs
    never got there, blank = not tried."""
    cells = group_by(rows, row_key, col_key)
    rvals = list(dict.fromkeys(r[row_key] for r in rows))
    cvals = sorted({r[col_key] for r in rows})
    grid = np.full((len(rvals), len(cvals)), np.nan)
    fig = Figure(figsize=figsize or (1.0 * len(cvals) + 2.4, 0.5 * len(rvals) + 1.4), layout="constrained")
    ax = fig.subplots()
    for i, rv in enumerate(rvals):
        for j, cv in enumerate(cvals):
            cell = cells.get((rv, cv))
            if not cell:
                ax.text(j, i, "", ha="center", va="center")
                continue
            vals = [c[value] for c in cell if c[value] is not None]
            if len(vals) * 2 > len(cell):
                grid[i, j] = float(np.median(vals))
                ax.text(j, i, f"{grid[i, j]:,.0f}", ha="center", va="center", fontsize=8)
            else:
                ax.text(j, i, "—", ha="center", va="center", fontsize=9, color=MUTED)
    finite = grid[np.isfinite(grid)]
    vmin, vmax = (max(finite.min(), 1), max(finite.max(), 2)) if finite.size else (1, 10)
    cmap = ListedColormap(STEP_GRID_COLORS).with_extremes(bad=NOT_TRIED)
    im = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, norm=LogNorm(vmin, vmax * 1.0001), aspect="auto")
    fig.colorbar(im, ax=ax, label=f"{value.replace('_', ' ')} (step)", shrink=0.8)
    ax.set_xticks(range(len(cvals)), [_fmt(c, col_key) for c in cvals])
    ax.set_yticks(range(len(rvals)), [(row_labels or {}).get(r, str(r)) for r in rvals])
    ax.set_xlabel(col_key.replace("_", " "))
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def optimizer_dynamics(runs: Mapping[str, Run], title: str = "", warmup: int = 0, log_steps: bool = True) -> Figure:
    """Four curves per optimiser, as the course's SGD study drew them: validation accuracy, weight norm ‖w‖,
    effective learning rate lr/‖w‖² and effective gradient ‖g‖·‖w‖. ``warmup``: the learning-rate warm-up
    (steps), shaded on every panel, since it shapes the first steps of each. ``log_steps=False`` draws the step
    axis linear, for runs whose events come late (a log axis crowds the last decade into a sliver)."""
    fig = Figure(figsize=(8, 5.6), layout="constrained")
    axes = fig.subplots(2, 2, sharex=True).ravel()
    panels = [("val_acc", "validation accuracy", False), ("weight_norm", "weight norm ‖w‖", True),
              ("eff_lr", "effective learning rate lr / ‖w‖²", True),
              ("eff_grad", "effective gradient ‖g‖·‖w‖", True)]
    for k, (label, run) in enumerate(runs.items()):
        hist = run.history
        x = _steps(hist)
        for ax, (key, _, _) in zip(axes, panels, strict=False):
            y = np.asarray(hist[key], dtype=float)
            ax.plot(x, y, color=series_color(k), label=label, lw=1.3)
    for ax, (_, name, logy) in zip(axes, panels, strict=False):
        if log_steps:
            ax.set_xscale("log")
        if logy:
            ax.set_yscale("log")
        if warmup:
            ax.axvspan(1, warmup, color=FAINT, alpha=0.15, lw=0)
        ax.set_title(name, fontsize=10)
        ax.grid(alpha=GRID_ALPHA, which="both")
    if warmup:
        axes[2].annotate(f"warm-up\n({warmup} steps)", (1.2, 0.95), xycoords=("data", "axes fraction"), va="top",
                         fontsize=9, color=MUTED)
    for ax in axes[2:]:
        ax.set_xlabel("optimisation step")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=2, fontsize=9, frameon=False)
    if title:
        fig.suptitle(title)
    return fig


def seed_spread(values: Sequence[float | None], budget: int, label: str = "step of generalisation",
                title: str = "") -> Figure:
    """Distribution over seeds of one event's step: a histogram, the median, and how many never."""
    fig = Figure(figsize=(8, 3), layout="constrained")
    ax = fig.subplots()
    hit = np.array([v for v in values if v is not None], dtype=float)
    if hit.size:
        bins = np.linspace(0, budget, 26)
        ax.hist(hit, bins=bins, color=VAL, alpha=0.75, edgecolor=PAPER)
        ax.axvline(np.median(hit), color=REFERENCE, lw=1.2, ls="--")
        ax.annotate(f"median {np.median(hit):,.0f}", (np.median(hit), 0.95), xycoords=("data", "axes fraction"),
                    xytext=(4, -10), textcoords="offset points", fontsize=9)
    missing = sum(v is None for v in values)
    ax.set(xlim=(0, budget), xlabel=label, ylabel="seeds")
    note = f"{len(values)} seeds" + (f", {missing} never within {budget:,} steps" if missing else "")
    ax.set_title(f"{title} ({note})" if title else note, fontsize=10)
    ax.grid(alpha=GRID_ALPHA)
    return fig
