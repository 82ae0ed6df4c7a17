"""Pictures for "why does generalisation take so long?" (`grok_lib.analysis.why`).

Each function takes what the analyses return (PCA coordinates, RQI and accuracy curves, singular
values, effective ranks, a weight-scale landscape) and returns a `Figure` built without pyplot.
Training is blue and validation red as everywhere; the stages of a run keep chapter 7's colours.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter
from torch import Tensor

from grok_lib.presentation.style import (
    FAINT,
    GRID_ALPHA,
    MUTED,
    REFERENCE,
    TRAIN,
    VAL,
    cyclic_colors,
    series_color,
)

RQI_COLOR = "#9467bd"  # grokking's purple: the structure measure


def _np(t: Tensor | np.ndarray | Sequence[float]) -> np.ndarray:
    return t.detach().cpu().numpy() if isinstance(t, Tensor) else np.asarray(t, dtype=float)


def embedding_planes(coords: Mapping[str, Tensor], title: str = "", labels: bool = True,
                     color_order: Sequence[int] | None = None) -> Figure:
    """One panel per stage: each number's 2-D coordinates (e.g. `embedding_pca(...).coords`),
    coloured around a cyclic map and written next to its point when ``labels``. By default number x
    gets the x-th colour; a ring of frequency k visits the numbers in the order of k·x mod p, so give
    ``color_order=[(k * x) % p for x in range(p)]`` to see its colours go round in order."""
    n = len(coords)
    fig = Figure(figsize=(3.0 * n, 3.2), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, n))
    for ax, (name, xy) in zip(axes, coords.items(), strict=True):
        xy = _np(xy)
        colors = cyclic_colors(len(xy))[np.asarray(range(len(xy)) if color_order is None else color_order)]
        ax.scatter(xy[:, 0], xy[:, 1], c=colors, s=22, edgecolors="none")
        if labels:
            for k, (x, y) in enumerate(xy):
                ax.annotate(str(k), (x, y), fontsize=6, xytext=(2, 2), textcoords="offset points", color=FAINT)
        ax.set_title(name, fontsize=9)
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def rqi_figure(rqi_steps: Sequence[int], rqi: Sequence[float], steps: Sequence[int], train_acc: Sequence[float],
               val_acc: Sequence[float], rqi_threshold: float | None = None, log_steps: bool = False) -> Figure:
    """The RQI beside training and validation accuracy over training (all on one 0..1 axis), with
    the RQI's threshold dotted when given: does structure come before generalisation?"""
    fig = Figure(figsize=(7, 3.2), layout="constrained")
    ax = fig.subplots()
    at_least_one = (lambda s: np.maximum(_np(s), 1)) if log_steps else _np  # step 0 drawn at 1 on a log axis
    ax.plot(at_least_one(steps), _np(train_acc), color=TRAIN, lw=1.4, label="training accuracy")
    ax.plot(at_least_one(steps), _np(val_acc), color=VAL, lw=1.4, label="validation accuracy")
    ax.plot(at_least_one(rqi_steps), _np(rqi), color=RQI_COLOR, lw=1.8, marker="o", ms=2.5, label="RQI")
    if rqi_threshold is not None:
        ax.axhline(rqi_threshold, color=RQI_COLOR, ls=":", lw=1)
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel("optimisation step")
    ax.set_ylabel("accuracy, RQI")
    if log_steps:
        ax.set_xscale("log")
    ax.grid(alpha=GRID_ALPHA)
    ax.legend(fontsize=8, loc="center right")
    return fig


def spectra_figure(spectra: Mapping[str, Mapping[str, Tensor]], title: str = "") -> Figure:
    """One panel per weight matrix: its singular values divided by the largest (log scale) against
    their index, one line per stage. ``spectra``: stage -> matrix name -> singular values [k]."""
    names = list(next(iter(spectra.values())))
    fig = Figure(figsize=(3.2 * len(names), 3.0), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(names), sharey=True))
    for ax, name in zip(axes, names, strict=True):
        for i, (stage, by_name) in enumerate(spectra.items()):
            sv = _np(by_name[name])
            ax.plot(np.arange(1, len(sv) + 1), sv / sv[0], color=series_color(i), lw=1.4, label=stage)
        ax.set_yscale("log")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("index i")
        ax.grid(alpha=GRID_ALPHA, which="both")
    axes[0].set_ylabel("σ_i / σ_1")
    axes[0].legend(fontsize=8, loc="lower left")  # spectra fall to the right: the lower left stays empty
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def ranks_figure(ranks: Mapping[str, Sequence[float]], kind: str = "entropy", steps: Sequence[int] | None = None,
                 val_acc: Sequence[float] | None = None, generalised_at: int | None = None) -> Figure:
    """Each weight matrix's effective rank (``kind``: "entropy" or "stable" columns of
    `ranks_over_training`) over training, with validation accuracy on a second axis and a dotted line
    where the run generalised."""
    fig = Figure(figsize=(7, 3.2), layout="constrained")
    ax = fig.subplots()
    cols = [c for c in ranks if c.endswith(f" {kind}")]
    for i, col in enumerate(cols):
        ax.plot(_np(ranks["step"]), _np(ranks[col]), color=series_color(i), lw=1.6, label=col.rsplit(" ", 1)[0])
    ax.set_xlabel("optimisation step")
    ax.set_ylabel(f"{kind} rank")
    ax.grid(alpha=GRID_ALPHA)
    if generalised_at is not None:
        ax.axvline(generalised_at, color=VAL, ls=":", lw=1)
    if steps is not None and val_acc is not None:
        twin = ax.twinx()
        twin.plot(_np(steps), _np(val_acc), color=VAL, lw=1, alpha=0.6)
        twin.set_ylabel("validation accuracy", color=VAL)
        twin.set_ylim(-0.03, 1.03)
    ax.legend(fontsize=8, loc="center right")
    return fig


def lu_figure(landscape: Mapping[str, Sequence[float]], title: str = "") -> Figure:
    """Training and validation loss (log scale) against the weight norm as all weights are scaled
    (`weight_scale_landscape`), the trained network (c = 1) marked; accuracies in a second panel.
    Losses below 1e-12 are drawn at 1e-12."""
    fig = Figure(figsize=(8, 3.2), layout="constrained")
    ax_l, ax_a = fig.subplots(1, 2)
    norm = _np(landscape["weight_norm"])
    at_one = norm[int(np.argmin(np.abs(_np(landscape["factor"]) - 1.0)))]
    for key, color, label in [("train", TRAIN, "training"), ("val", VAL, "validation")]:
        ax_l.plot(norm, np.maximum(_np(landscape[f"{key}_loss"]), 1e-12), color=color, lw=1.6, label=label)
        ax_a.plot(norm, _np(landscape[f"{key}_acc"]), color=color, lw=1.6, label=label)
    ax_l.set_yscale("log")
    ax_l.set_ylabel("cross-entropy loss")
    ax_a.set_ylabel("accuracy")
    ax_a.set_ylim(-0.03, 1.03)
    for ax in (ax_l, ax_a):
        ax.axvline(at_one, color=REFERENCE, ls=":", lw=1, label="trained weights (c = 1)" if ax is ax_l else None)
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("weight norm ‖cθ‖")
        ax.grid(alpha=GRID_ALPHA, which="both")
    ax_l.legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig



def spread_figure(times: Sequence[float], walk_quantile: Callable[[float], float], label: str = "our seeds") -> Figure:
    """Steps to generalise of many seeds (one dot each) beside as many evenly spaced quantiles of a driftless
    random walk's first-passage time (``walk_quantile``: q -> time, e.g. `clocks.random_walk_quantile` rescaled
    to the seeds' median), on one log axis; each row's bar spans its 10th to 90th percentile (the walk's
    exactly). A lucky walk would spread the times over orders of magnitude."""
    n = len(times)
    walk = np.array([walk_quantile((i + 0.5) / n) for i in range(n)])
    fig = Figure(figsize=(7, 2.4), layout="constrained")
    ax = fig.subplots()
    rows = [(walk, (walk_quantile(0.1), walk_quantile(0.9)), FAINT, "random walk, same median"),
            (_np(times), None, VAL, label)]
    for row, (values, bar, color, name) in enumerate(rows):
        v = np.sort(values)
        lo, hi = bar or (np.quantile(v, 0.1), np.quantile(v, 0.9))
        jitter = (np.arange(len(v)) % 5 - 2) * 0.06
        ax.scatter(v, row + jitter, color=color, s=16, edgecolors="none")
        ax.plot([lo, hi], [row + 0.25] * 2, color=color, lw=2)
        ax.annotate(f"{name}: 90th percentile = {hi / lo:.3g} × 10th", (lo, row + 0.32), fontsize=8, color=MUTED)
    ax.set_xscale("log")
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_yticks([])
    ax.set_ylim(-0.4, 1.6)
    ax.set_xlabel("optimisation steps to 99% validation accuracy")
    ax.grid(alpha=GRID_ALPHA, which="both", axis="x")
    return fig


def scaling_figure(rows: Sequence[Mapping[str, float | None]], fit_exponent: float, fit_prefactor: float) -> Figure:
    """Steps to generalise (filled) and to memorise (open) against lr × weight decay on log-log axes, one
    colour per learning rate, with the fitted power law for generalisation."""
    fig = Figure(figsize=(7, 3.6), layout="constrained")
    ax = fig.subplots()
    lrs = sorted({r["lr"] for r in rows})
    for i, lr in enumerate(lrs):
        mine = [r for r in rows if r["lr"] == lr]
        x = np.array([r["lr"] * r["weight_decay"] for r in mine])
        gen = np.array([np.nan if r["generalised_at"] is None else r["generalised_at"] for r in mine], dtype=float)
        mem = np.array([np.nan if r["memorised_at"] is None else r["memorised_at"] for r in mine], dtype=float)
        ax.scatter(x, gen, color=series_color(i), s=18, label=f"lr {lr:g}: generalised")
        ax.scatter(x, mem, facecolors="none", edgecolors=series_color(i), s=18)
    xs = np.geomspace(min(r["lr"] * r["weight_decay"] for r in rows), max(r["lr"] * r["weight_decay"] for r in rows))
    ax.plot(xs, fit_prefactor * xs**fit_exponent, color=REFERENCE, lw=1,
            label=f"fit: steps ∝ (lr·wd)^{fit_exponent:.2f}")
    ax.scatter([], [], facecolors="none", edgecolors=FAINT, s=18, label="memorised (open)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("lr × weight decay (the fraction AdamW takes off each weight per step)")
    ax.set_ylabel("optimisation steps")
    ax.grid(alpha=GRID_ALPHA, which="both")
    ax.legend(fontsize=7, ncols=2, loc="lower left")
    return fig


def curves_by_setting(histories: Mapping[str, Sequence[Mapping[str, Sequence[float]]]], x_label: str = "",
                      metrics: Sequence[tuple[str, str]] = (("train_acc", "training accuracy"),
                                                            ("val_acc", "validation accuracy"),
                                                            ("weight_norm", "weight norm"))) -> Figure:
    """One panel per metric, one colour per setting (``histories``: setting -> that setting's runs'
    histories, one thin line per run), steps on a log axis: how the settings differ, and how much seeds
    differ within one. Accuracies on 0..1, anything else (a weight norm) on a linear axis from 0."""
    fig = Figure(figsize=(3.4 * len(metrics), 3.2), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(metrics)))
    for i, (setting, hists) in enumerate(histories.items()):
        for j, h in enumerate(hists):
            for ax, (key, _) in zip(axes, metrics, strict=True):
                ax.plot(np.maximum(_np(h["step"]), 1), _np(h[key]), color=series_color(i), lw=0.9, alpha=0.8,
                        label=setting if j == 0 else None)
    for ax, (key, name) in zip(axes, metrics, strict=True):
        ax.set_xscale("log")
        ax.set_xlabel("optimisation step")
        ax.set_title(name, fontsize=9)
        ax.grid(alpha=GRID_ALPHA, which="both")
        if key.endswith("acc"):
            ax.set_ylim(-0.03, 1.03)
        else:
            ax.set_ylim(bottom=0)
    axes[0].legend(fontsize=7, title=x_label or None, title_fontsize=7)
    return fig


def rank_at_generalisation(curves: Mapping[str, tuple[Sequence[int], Sequence[float], int | None]],
                           matrix: str = "") -> Figure:
    """One line per run: a matrix's effective rank over training, with a dot where the run generalised
    (``curves``: label -> (steps, ranks, generalised_at or None)). If a low rank were what generalisation
    waits for, the dots would sit at one height."""
    fig = Figure(figsize=(7, 3.4), layout="constrained")
    ax = fig.subplots()
    for i, (label, (steps, ranks, gen)) in enumerate(curves.items()):
        s, r = _np(steps), _np(ranks)
        ax.plot(np.maximum(s, 1), r, color=series_color(i), lw=1.3, label=label + ("" if gen else " (never)"))
        if gen is not None:
            ax.scatter([gen], [np.interp(gen, s, r)], color=series_color(i), s=40, zorder=3,
                       edgecolors=REFERENCE, linewidths=0.6)
    ax.set_xscale("log")
    ax.set_xlabel("optimisation step (dot: generalised)")
    ax.set_ylabel(f"entropy rank{' of ' + matrix if matrix else ''}")
    ax.grid(alpha=GRID_ALPHA, which="both")
    ax.legend(fontsize=7, ncols=2)
    return fig
