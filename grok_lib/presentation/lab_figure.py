"""The live lab's picture: accuracy, loss and weight norm of the current run over the kept ones.

Drawn on a matplotlib `Figure` (no pyplot state), so the lab's drawing thread can render it
while the notebook goes on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.figure import Figure

from grok_lib.presentation.run_plots import to_png
from grok_lib.presentation.style import GRID_ALPHA, KEPT_COLORS, NORM, TRAIN, VAL


@dataclass
class Kept:
    """A run kept for comparison: its label and a copy of its history."""

    label: str
    history: dict[str, list[float]]


def snapshot(history: dict[str, list[float]]) -> dict[str, list[float]]:
    """A copy of a history that the training thread can go on appending to."""
    return {k: list(v) for k, v in history.items()}


def draw(history: dict[str, list[float]] | None, kept: Sequence[Kept] = (), title: str = "",
         budget: int | None = None) -> Figure:
    """The lab's picture: accuracy, loss and weight norm against step (log), current run in
    blue (train) and red (validation), kept runs in other colours (train dashed)."""
    fig = Figure(figsize=(11, 3.4))
    fig.subplots_adjust(left=0.06, right=0.99, bottom=0.15, top=0.86 if title else 0.95, wspace=0.28)
    ax_acc, ax_loss, ax_norm = fig.subplots(1, 3)
    for i, k in enumerate(kept):
        c = KEPT_COLORS[i % len(KEPT_COLORS)]
        x = [max(s, 1) for s in k.history["step"]]
        ax_acc.plot(x, k.history["train_acc"], color=c, ls="--", lw=1, alpha=0.8)
        ax_acc.plot(x, k.history["val_acc"], color=c, lw=1.5)
        ax_loss.plot(x, k.history["train_loss"], color=c, ls="--", lw=1, alpha=0.8)
        ax_loss.plot(x, k.history["val_loss"], color=c, lw=1.5)
        ax_norm.plot(x, k.history["weight_norm"], color=c, lw=1.5, label=k.label)
    if history and history.get("step"):
        x = [max(s, 1) for s in history["step"]]
        ax_acc.plot(x, history["train_acc"], color=TRAIN, lw=2, label="train")
        ax_acc.plot(x, history["val_acc"], color=VAL, lw=2, label="validation")
        ax_loss.plot(x, history["train_loss"], color=TRAIN, lw=2)
        ax_loss.plot(x, history["val_loss"], color=VAL, lw=2)
        ax_norm.plot(x, history["weight_norm"], color=NORM, lw=2, label="this run" if kept else None)
    for ax, ylabel in [(ax_acc, "accuracy"), (ax_loss, "cross-entropy loss"), (ax_norm, "total weight norm ‖w‖")]:
        ax.set_xscale("log")
        ax.set_xlim(1, max(10, budget or 10))
        ax.set_xlabel("optimisation step")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=GRID_ALPHA)
    ax_acc.set_ylim(-0.02, 1.02)
    if ax_loss.lines:
        ax_loss.set_yscale("log")
    if history and history.get("step"):
        ax_acc.legend(fontsize=7, loc="lower right")
    if kept:  # kept runs are named in the weight-norm panel (solid: validation, dashed: train)
        ax_norm.legend(fontsize=6, loc="lower left")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def png(fig: Figure) -> bytes:
    """The lab's fixed-size frame (no tight crop, so the image does not jump between redraws)."""
    return to_png(fig, dpi=80, tight=False)
