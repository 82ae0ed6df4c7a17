"""Chapter 5's figures: summed against concatenated embeddings, run for run and across Adam's β2.

- `paired_steps`: each (cell, seed)'s step of generalisation with one merge against the other, the
  runs that never generalised in a band of their own and the pairs where neither did counted, not
  stacked on one point;
- `steps_vs_beta2`: memorisation and generalisation steps against β2, per setting and merge;
- `slow_phase_curves`: weight norm, training loss and gradient norm through the slow phase;
- `slow_phase_summary`: how fast the norm fell, and where it stood at generalisation, against β2.

Like `sweep_plots`, every function returns a Figure built without pyplot.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, NullLocator

from grok_lib.analysis.phases import grokking_summary
from grok_lib.analysis.slow_phase import EARLY_WINDOW, MERGE_NAMES, median_of
from grok_lib.analysis.tables import group_by
from grok_lib.presentation.style import FAINT, GRID_ALPHA, MUTED, REFERENCE, series_color
from grok_lib.training.record import Run

NEVER_BAND = (1.3, 3.0)  # the "never" band, in multiples of the budget (log axes)
MERGE_COLORS = {"sum": series_color(0), "concat": series_color(1)}
SETTING_MARKERS = ("o", "s", "^", "D")


def _never(budget: float) -> float:
    """Where a 'never' sits: the middle of the band on a log axis."""
    return budget * float(np.sqrt(NEVER_BAND[0] * NEVER_BAND[1]))


def paired_steps(pairs: Sequence[tuple[float | None, float | None]], labels: tuple[str, str], budget: int,
                 title: str = "", groups: Sequence[str] | None = None) -> Figure:
    """Step of generalisation under two treatments, one point per (cell, seed); the diagonal is 'no
    difference'. A run that never generalised sits in the shaded band beyond the budget, each group a
    little apart there. The pairs where neither did are not drawn on top of each other in the corner:
    the corner gives their number, and each group's legend entry its share of them."""
    fig = Figure(figsize=(7.2, 4.6), layout="constrained")
    ax = fig.subplots()
    groups = list(groups) if groups is not None else [""] * len(pairs)
    names = list(dict.fromkeys(groups))
    never = _never(budget)
    neither_total = 0
    for k, name in enumerate(names):
        pts = [(a, b) for (a, b), g in zip(pairs, groups, strict=True) if g == name]
        shift = 1 + 0.1 * (k - (len(names) - 1) / 2)  # groups side by side in the band
        xy = [(never * shift if a is None else max(a, 1), never * shift if b is None else max(b, 1))
              for a, b in pts if a is not None or b is not None]
        neither = len(pts) - len(xy)
        neither_total += neither
        label = f"{name} ({neither} of {len(pts)}: neither)" if neither else name
        ax.scatter(*(zip(*xy, strict=True) if xy else ([], [])), s=20, alpha=0.8, color=series_color(k),
                   label=label or None)
    lo, hi = 30, budget * NEVER_BAND[1]
    ax.plot([lo, budget], [lo, budget], color=REFERENCE, lw=0.8)
    for span in (ax.axvspan, ax.axhspan):
        span(budget * NEVER_BAND[0], hi, color=FAINT, alpha=0.2, lw=0)
    ax.axvline(budget, color=REFERENCE, lw=0.8, ls=":")
    ax.axhline(budget, color=REFERENCE, lw=0.8, ls=":")
    ax.set(xscale="log", yscale="log", xlim=(lo, hi), ylim=(lo, hi))
    ax.text(never, lo * 1.15, "never", rotation=90, ha="center", va="bottom", fontsize=9, color=MUTED)
    ax.text(lo * 1.15, never, "never", ha="left", va="center", fontsize=9, color=MUTED)
    if neither_total:
        ax.text(never, never, f"{neither_total}\nneither", ha="center", va="center", fontsize=8, color=REFERENCE)
    ax.set_xlabel(f"{labels[0]}: step of generalisation")
    ax.set_ylabel(f"{labels[1]}: step of generalisation")
    if any(names):
        ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False,
                  title=f"dotted: the budget, {budget:,} steps", title_fontsize=9)
    ax.grid(alpha=GRID_ALPHA, which="both")
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def _beta2_axis(ax: Axes, beta2s: Sequence[float]) -> None:
    """β2 on a log axis of its memory, 1 / (1 - β2) steps, ticked with the β2 values."""
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(FixedLocator([1 / (1 - b) for b in beta2s]))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticklabels([f"{b:g}\n({1 / (1 - b):.0f})" for b in beta2s])
    mem = [1 / (1 - b) for b in beta2s]
    ax.set_xlim(min(mem) / 1.5, max(mem) * 1.5)


def _seed_dots(ax: Axes, xs: Sequence[float], ys: Sequence[float | None], offset: float, **kw: Any) -> None:
    """One dot per seed, nudged sideways (multiplicatively, for a log axis) so seeds do not hide each other."""
    for x, y in zip(xs, ys, strict=True):
        if y is not None:
            ax.scatter(x * offset, y, **kw)


def steps_vs_beta2(rows: Sequence[Mapping[str, Any]], budget: int, marks: Mapping[str, float] | None = None,
                   title: str = "") -> Figure:
    """Per setting (a panel): the steps at which each seed memorised (open triangles, dashed median)
    and generalised (dots, solid median) against Adam's β2, one colour per merge; log step axis.
    ``marks``: other step counts to draw as labelled lines (shorter budgets, say)."""
    settings = list(dict.fromkeys(r["setting"] for r in rows))
    beta2s = sorted({r["beta2"] for r in rows})
    fig = Figure(figsize=(8, 3.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(settings), sharey=True))
    for ax, setting in zip(axes, settings, strict=True):
        for j, merge in enumerate(("sum", "concat")):
            color, shift = MERGE_COLORS[merge], 1.08 ** (j - 0.5)
            cells = [[r for r in rows if r["setting"] == setting and r["merge"] == merge and r["beta2"] == b]
                     for b in beta2s]
            xs = [1 / (1 - b) for b in beta2s]
            for key, marker, ls in (("memorised_at", "v", "--"), ("generalised_at", "o", "-")):
                for x, cell in zip(xs, cells, strict=True):
                    _seed_dots(ax, [x] * len(cell), [r[key] for r in cell], shift, s=16, marker=marker,
                               facecolors="none" if marker == "v" else color, edgecolors=color, alpha=0.8, lw=0.8)
                ax.plot([x * shift for x in xs], [median_of(c, key) for c in cells], color=color, ls=ls, lw=1.2,
                        label=f"{MERGE_NAMES[merge]}: {'memorised' if marker == 'v' else 'generalised'}")
        for step in [budget, *(marks or {}).values()]:
            ax.axhline(step, color=REFERENCE if step == budget else FAINT, lw=0.8, ls=":")
        _beta2_axis(ax, beta2s)
        ax.set(yscale="log", xlabel="Adam β2 (memory, steps)")
        ax.set_title(setting, fontsize=9)
        ax.grid(alpha=GRID_ALPHA, which="both")
    axes[0].set_ylabel("optimisation step")
    for name, step in {f"budget {budget:,}": budget, **(marks or {})}.items():  # at the right, off the slow runs
        below = step == budget
        axes[0].annotate(name, (0.97, step), xycoords=("axes fraction", "data"), xytext=(0, -2 if below else 2),
                         textcoords="offset points", ha="right", va="top" if below else "bottom", fontsize=8,
                         color=MUTED)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=2, fontsize=9, frameon=False)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


SLOW_PANELS = (("weight_norm", "weight norm ‖w‖", False), ("train_loss", "training loss", True),
               ("grad_norm", "gradient norm ‖g‖", True))


def slow_phase_curves(runs: Mapping[str, Run], window: int | None = EARLY_WINDOW, title: str = "") -> Figure:
    """Weight norm, training loss and gradient norm against step (linear: the slow phase is long), one
    colour per run, a dot where each generalised; drawn from memorisation to the end of the run, the
    first ``window`` steps after the earliest memorisation shaded."""
    fig = Figure(figsize=(8, 3.4), layout="constrained")
    axes = fig.subplots(1, len(SLOW_PANELS), sharex=True)
    for k, (label, run) in enumerate(runs.items()):
        h, s = run.history, grokking_summary(run.history)
        steps = np.asarray(h["step"], dtype=float)
        keep = steps >= (s.memorised_at or 0)
        for ax, (key, _, _) in zip(axes, SLOW_PANELS, strict=True):
            y = np.asarray(h[key], dtype=float)
            ax.plot(steps[keep], y[keep], color=series_color(k), lw=1.2, label=label)
            if s.generalised_at is not None:
                ax.scatter([s.generalised_at], [y[list(h["step"]).index(s.generalised_at)]], color=series_color(k),
                           s=28, zorder=3, edgecolors=REFERENCE, lw=0.6)
    first = min(grokking_summary(r.history).memorised_at or 0 for r in runs.values())
    for ax, (_, name, logy) in zip(axes, SLOW_PANELS, strict=True):
        if window:
            ax.axvspan(first, first + window, color=FAINT, alpha=0.15, lw=0)
        if logy:
            ax.set_yscale("log")
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("optimisation step")
        ax.xaxis.set_major_formatter(lambda v, _: f"{v / 1000:g}k" if v else "0")
        ax.grid(alpha=GRID_ALPHA, which="both")
    handles, labels = axes[0].get_legend_handles_labels()
    note = "dot: validation accuracy reaches 99%" + (f"; shaded: the first {window:,} steps" if window else "")
    fig.legend(handles, labels, loc="outside lower center", ncol=len(labels), fontsize=9, frameon=False, title=note,
               title_fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


SUMMARY_PANELS = (("slow_decay_share", "norm's fall over the slow phase\n(share of weight decay alone)", True),
                  ("slow_train_loss_then", f"training loss {EARLY_WINDOW:,} steps\nafter memorising", True),
                  ("slow_norm_at_generalised", "weight norm\nat generalisation", False))


def slow_phase_summary(rows: Sequence[Mapping[str, Any]], title: str = "") -> Figure:
    """Against β2, per setting (marker) and merge (colour), medians over seeds: how fast the weight
    norm fell over the slow phase, as a share of weight decay alone; the training loss
    `EARLY_WINDOW` steps after memorising; and the norm at which validation accuracy reached 99%."""
    beta2s = sorted({r["beta2"] for r in rows})
    settings = list(dict.fromkeys(r["setting"] for r in rows))
    fig = Figure(figsize=(8, 4.2), layout="constrained")
    axes = fig.subplots(1, len(SUMMARY_PANELS))
    cells = group_by(rows, "setting", "merge", "beta2")
    for ax, (key, name, logy) in zip(axes, SUMMARY_PANELS, strict=True):
        for i, setting in enumerate(settings):
            for merge in ("sum", "concat"):
                ys = [median_of(cells.get((setting, merge, b), []), key) for b in beta2s]
                ax.plot([1 / (1 - b) for b in beta2s], ys, color=MERGE_COLORS[merge],
                        marker=SETTING_MARKERS[i % len(SETTING_MARKERS)], ms=5, lw=1.1,
                        label=f"{setting}, {MERGE_NAMES[merge]}")
        _beta2_axis(ax, beta2s)
        if logy:
            ax.set_yscale("log")
        if key == "slow_decay_share":
            ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
            ax.yaxis.set_minor_formatter(lambda v, _: f"{v:.0%}" if f"{v:.0e}"[0] in "25" else "")
        ax.set(xlabel="Adam β2 (memory, steps)")
        ax.set_title(name, fontsize=9)
        ax.grid(alpha=GRID_ALPHA, which="both")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=2, fontsize=8, frameon=False)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig
