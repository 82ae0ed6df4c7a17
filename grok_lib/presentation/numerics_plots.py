"""Pictures for the numerics chapter: a long run's loss spikes with the last layer's norm, Adam's state and the
exactly-zero losses around them; softmax collapse in float32 against float64; and the leaderboard of
interventions (`grok_lib.analysis.numerics`).

Each function takes histories or `Spread`s and returns a `Figure` built without pyplot.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from grok_lib.analysis.spread import Spread
from grok_lib.presentation.style import GRID_ALPHA, MUTED, REFERENCE, series_color

# the panels of `spikes_figure`: (history column, title, log scale)
SPIKE_PANELS = (("train_loss", "training loss", True),
                ("out_norm", "last layer's weight norm ‖W_out‖", False),
                ("adam_v_out", "√(Adam's v) on W_out (RMS)", True),
                ("update_norm", "size of each update ‖Δw‖", True),
                ("zero_loss_frac", "training examples with loss exactly 0", False))


def _floor(values: Sequence[float], floor: float) -> np.ndarray:
    """Values for a log axis: exact zeros (a collapsed loss) drawn at ``floor``, the axis' bottom."""
    v = np.asarray(values, dtype=float)
    return np.where(v > 0, v, floor)


def spikes_figure(histories: Mapping[str, Mapping[str, Sequence[float]]], spikes: Sequence[int] = (),
                  loss_floor: float = 1e-12, first_step: int = 100) -> Figure:
    """One row per panel of `SPIKE_PANELS`, one colour per run (``histories``: label -> history with the
    diagnostics columns), steps on a log axis from ``first_step`` (so that spikes early in a long run stand
    apart); thin grey lines mark ``spikes`` (peak steps). A loss of exactly 0 cannot be drawn on a log axis:
    it is drawn at ``loss_floor`` and the panel's title says so."""
    fig = Figure(figsize=(9.5, 10.5), layout="constrained")
    axes = fig.subplots(len(SPIKE_PANELS), 1, sharex=True)
    for i, (label, h) in enumerate(histories.items()):
        steps = np.asarray(h["step"], dtype=float)
        for ax, (key, _, _log) in zip(axes, SPIKE_PANELS, strict=True):
            values = _floor(h[key], loss_floor) if key == "train_loss" else np.asarray(h[key], dtype=float)
            ax.plot(steps, values, color=series_color(i), lw=0.8, label=label, alpha=0.9)
    for ax, (_key, title, log) in zip(axes, SPIKE_PANELS, strict=True):
        for s in spikes:
            ax.axvline(s, color=MUTED, lw=0.5, alpha=0.5, zorder=0)
        if log:
            ax.set_yscale("log")
        ax.set_title(title, fontsize=9, loc="left")
        ax.grid(alpha=GRID_ALPHA, which="both")
    axes[0].set_ylim(bottom=loss_floor / 3)
    axes[0].set_title(f"training loss (a loss of exactly 0 is drawn at {loss_floor:g})", fontsize=9, loc="left")
    axes[-1].set_xscale("log")
    axes[-1].set_xlim(left=first_step)
    axes[-1].set_ylim(-0.03, 1.03)
    axes[-1].set_xlabel("optimisation step")
    axes[0].legend(fontsize=8, loc="upper right", ncols=len(histories))
    return fig


def collapse_figure(steps: Sequence[int], fractions: Mapping[str, Sequence[float]], title: str = "") -> Figure:
    """The fraction of training examples whose loss is exactly 0, over training, one line per precision
    (``fractions``: label -> one value per step of ``steps``), for the same weights."""
    fig = Figure(figsize=(6.0, 3.2), layout="constrained")
    ax = fig.subplots()
    for i, (label, values) in enumerate(fractions.items()):
        ax.plot(steps, values, "o-", color=series_color(i), lw=1.2, ms=3, label=label)
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel("optimisation step")
    ax.set_ylabel("examples with loss exactly 0")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=GRID_ALPHA)
    ax.legend(fontsize=8)
    return fig


def leaderboard_figure(boards: Mapping[str, Mapping[str, Spread]], budgets: Mapping[str, Mapping[str, int]],
                       baseline: str = "AdamW (baseline)") -> Figure:
    """One panel per task (``boards``: task -> arm -> `Spread` of steps to generalise, ranked): each arm's
    runs as dots, its median as a bar, and the runs that never generalised as crosses at the arm's budget
    (``budgets``: task -> arm -> steps), counted at the right. The baseline's median is a dashed line."""
    n_rows = [len(b) for b in boards.values()]
    fig = Figure(figsize=(8.5, 0.28 * sum(n_rows) + 1.2 * len(boards)), layout="constrained")
    axes = np.atleast_1d(fig.subplots(len(boards), 1, height_ratios=n_rows))
    for ax, (task, board) in zip(axes, boards.items(), strict=True):
        names = list(board)
        for y, name in enumerate(names):
            s = board[name]
            ax.scatter(s.values, [y] * len(s.values), s=14, color=series_color(0), zorder=3)
            if s.values:
                ax.plot([s.median] * 2, [y - 0.35, y + 0.35], color="black", lw=2, zorder=4)
            if s.missing:
                budget = budgets[task][name]
                ax.scatter([budget], [y], marker="x", s=30, color=REFERENCE, zorder=3)
                ax.annotate(f"never: {s.missing} of {s.n}", (budget, y), xytext=(8, 0), textcoords="offset points",
                            va="center", fontsize=7, color=REFERENCE)
        if baseline in board and board[baseline].values:
            ax.axvline(board[baseline].median, color=MUTED, ls="--", lw=0.8, zorder=1)
        ax.set_yticks(range(len(names)), names, fontsize=8)
        ax.set_ylim(len(names) - 0.5, -0.5)
        ax.set_xscale("log")
        top = max([v for s in board.values() for v in s.values]
                  + [budgets[task][name] for name, s in board.items() if s.missing])
        low = min(v for s in board.values() for v in s.values) if any(s.values for s in board.values()) else 100
        ax.set_xlim(low / 1.6, top * 3.2)
        ax.set_title(task, fontsize=9, loc="left")
        ax.grid(alpha=GRID_ALPHA, axis="x", which="both")
    axes[-1].set_xlabel("steps until validation accuracy first reaches 99% (dots: seeds; bar: median; "
                        "x: never, at the budget)")
    return fig
