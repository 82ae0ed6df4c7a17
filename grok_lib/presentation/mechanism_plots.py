"""Pictures of the inside of a network that adds mod p (`grok_lib.analysis.mechanism`).

Each function takes what the analyses return (spectra, neuron maps, logits, curves) and
returns a `Figure` built without pyplot. The stages of a run keep one colour throughout:
initialisation grey, memorised the memorisation phase's orange, generalised (and the end of a long
run past generalisation) comprehension's green.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from torch import Tensor

from grok_lib.analysis.mechanism.analytic import PhaseRelation, main_neurons
from grok_lib.presentation.style import FAINT, GRID_ALPHA, NORM, PHASE_COLORS, REFERENCE, TRAIN, VAL, series_color

STAGE_COLORS = {"initialisation": FAINT, "memorised": PHASE_COLORS["memorisation"],
                "generalised": PHASE_COLORS["comprehension"], "end": PHASE_COLORS["comprehension"]}
RESTRICTED, EXCLUDED = "#9467bd", "#ff7f0e"  # the progress measures: grokking's purple, memorisation's orange
# Nanda et al.'s three phases of training, shaded behind the progress measures
PHASE_SHADES = {"memorisation": PHASE_COLORS["memorisation"], "circuit formation": PHASE_COLORS["grokking"],
                "clean-up": PHASE_COLORS["comprehension"]}


def _stage_color(label: str, i: int) -> str:
    return STAGE_COLORS.get(label.split(" ")[0], series_color(i))


def _np(t: Tensor | np.ndarray | Sequence[float]) -> np.ndarray:
    return t.detach().cpu().numpy() if isinstance(t, Tensor) else np.asarray(t)


def embedding_spectrum(spectra: Mapping[str, Tensor], keys: Sequence[int] = (), title: str = "") -> Figure:
    """The embedding's norm per frequency (constant left out), one bar series per stage, key
    frequencies marked: dense at initialisation, a few tall bars after grokking."""
    fig = Figure(figsize=(8, 3.2), layout="constrained")
    ax = fig.subplots()
    n = len(spectra)
    width = 0.8 / max(n, 1)
    for i, (label, spec) in enumerate(spectra.items()):
        norms = _np(spec)[1:]
        k = np.arange(1, len(norms) + 1)
        ax.bar(k + (i - (n - 1) / 2) * width, norms, width=width, color=_stage_color(label, i), label=label)
    for j, key in enumerate(keys):
        ax.axvline(key, color=REFERENCE, lw=0.8, ls=":", label="key frequency" if j == 0 else None)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("frequency k (cos and sin of 2πkx/p together)")
    ax.set_ylabel("norm of the embedding")
    ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.grid(alpha=GRID_ALPHA, axis="y")
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def neuron_maps_figure(maps: Mapping[str, Tensor], neurons: Sequence[int]) -> Figure:
    """Chosen neurons' activations over the (a, b) grid (rows: neurons; columns: stages, e.g.
    initialisation, memorised, generalised). Each image has its own colour scale: from 0 for
    activations that are never negative (after a ReLU), centred on 0 otherwise."""
    stages = list(maps)
    fig = Figure(figsize=(1.9 * len(stages) + 0.6, 1.9 * len(neurons) + 0.4), layout="constrained")
    axes = np.atleast_2d(fig.subplots(len(neurons), len(stages), squeeze=False))
    for col, stage in enumerate(stages):
        for row, neuron in enumerate(neurons):
            img = _np(maps[stage][neuron])
            lim = float(np.abs(img).max()) or 1.0
            ax = axes[row, col]
            if img.min() >= 0:  # after a ReLU: from 0 (white) up
                ax.imshow(img, cmap="Blues", vmin=0, vmax=lim, interpolation="nearest")
            else:
                ax.imshow(img, cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(stage, fontsize=10, color=_stage_color(stage, col))
            if col == 0:
                ax.set_ylabel(f"neuron {neuron}\na", fontsize=9)
            if row == len(neurons) - 1:
                ax.set_xlabel("b", fontsize=9)
    return fig


def neuron_frequency_figure(frequency: Tensor, explained: Tensor, keys: Sequence[int] = (),
                            n_frequencies: int | None = None) -> Figure:
    """Left: how many neurons each frequency dominates. Right: each neuron's dominant frequency
    against the fraction of its variance that frequency explains."""
    freq, frac = _np(frequency), _np(explained)
    k_max = n_frequencies or int(freq.max(initial=1))
    fig = Figure(figsize=(8, 3.2), layout="constrained")
    ax_n, ax_f = fig.subplots(1, 2)
    counts = np.bincount(freq, minlength=k_max + 1)[1:]
    ks = np.arange(1, k_max + 1)
    is_key = np.isin(ks, list(keys))
    ax_n.bar(ks, counts, color=np.where(is_key, PHASE_COLORS["comprehension"], FAINT))
    ax_n.set_xlabel("dominant frequency k")
    ax_n.set_ylabel("neurons")
    ax_n.set_title("key frequencies in green" if len(keys) else "neurons per frequency", fontsize=10)
    ax_f.scatter(freq, frac, s=10, color=np.where(np.isin(freq, list(keys)), PHASE_COLORS["comprehension"], FAINT))
    ax_f.set_ylim(0, 1.02)
    ax_f.set_xlabel("dominant frequency k")
    ax_f.set_ylabel("fraction of variance explained")
    for ax in (ax_n, ax_f):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlim(0.3, k_max + 0.7)
        ax.grid(alpha=GRID_ALPHA)
    return fig


def restricted_logits_figure(full: Tensor, restricted: Tensor, examples: Sequence[tuple[int, int]],
                             keys: Sequence[int] = ()) -> Figure:
    """For a few pairs (a, b): the model's logits over every answer c next to the logits rebuilt
    from the key frequencies only; both peak at c = a + b (mod p)."""
    n = full.shape[-1]
    fig = Figure(figsize=(8, 2.6 * math.ceil(len(examples) / 2)), layout="constrained")
    axes = np.atleast_1d(fig.subplots(math.ceil(len(examples) / 2), min(2, len(examples)), squeeze=False)).ravel()
    for ax, (a, b) in zip(axes, examples, strict=False):
        c = np.arange(n)
        ax.plot(c, _np(full[a, b]), color=TRAIN, lw=1.5, label="full model")
        ax.plot(c, _np(restricted[a, b]), color=RESTRICTED, lw=1.5, ls="--",
                label=f"key frequencies {sorted(keys)}" if len(keys) else "restricted")
        ax.axvline((a + b) % n, color=REFERENCE, lw=0.8, ls=":")
        ax.set_title(f"a={a}, b={b}: a+b mod {n} = {(a + b) % n}", fontsize=10)
        ax.set_xlabel("answer c")
        ax.set_ylabel("logit")
        ax.grid(alpha=GRID_ALPHA)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside upper center", ncols=2, fontsize=8, frameon=False)
    for ax in axes[len(examples):]:
        ax.set_visible(False)
    return fig


def progress_figure(curves: Mapping[str, Sequence[float]], memorised_at: int | None = None,
                    generalised_at: int | None = None, log_steps: bool = False,
                    phases: Mapping[str, tuple[int, int]] | None = None) -> Figure:
    """Nanda et al.'s progress measures over training: train and validation loss, restricted loss
    (held out) and excluded loss (training pairs), log scale; and the sum of squared weights.
    Dotted lines where the run memorised (blue) and generalised (red); ``phases`` (name -> [start,
    end], e.g. `Milestones.phases`) shaded behind both panels and named in the weights panel.
    Linear steps, as Nanda et al. draw them, so the phases show at their true lengths (``log_steps``
    for the course's log axis). The losses' legend sits above the panels, off the curves."""
    steps = np.maximum(np.asarray(curves["step"], dtype=float), 1)
    fig = Figure(figsize=(8, 3.8), layout="constrained")
    ax_l, ax_w = fig.subplots(1, 2, width_ratios=[1.6, 1])
    for name, color, ls, label in [("train_loss", TRAIN, "-", "train loss"), ("val_loss", VAL, "-", "validation loss"),
                                   ("restricted_loss", RESTRICTED, "--", "restricted loss"),
                                   ("excluded_loss", EXCLUDED, "--", "excluded loss")]:
        ax_l.plot(steps, np.maximum(curves[name], 1e-8), color=color, ls=ls, lw=1.6, label=label)
    ax_l.set_yscale("log")
    ax_l.set_ylabel("cross-entropy loss")
    ax_w.plot(steps, curves["weight_sq"], color=NORM, lw=1.6)
    ax_w.set_ylabel("sum of squared weights")
    for ax in (ax_l, ax_w):
        for name, (start, end) in (phases or {}).items():
            ax.axvspan(max(start, 1), end, color=PHASE_SHADES.get(name, FAINT), alpha=0.15, lw=0,
                       label=name if ax is ax_w else None)
        for step, color in [(memorised_at, TRAIN), (generalised_at, VAL)]:
            if step is not None:
                ax.axvline(max(step, 1), color=color, ls=":", lw=1)
        ax.set_xlabel("optimisation step")
        ax.grid(alpha=GRID_ALPHA, which="both")
        if log_steps:
            ax.set_xscale("log")
    fig.legend(*ax_l.get_legend_handles_labels(), loc="outside upper center", ncols=4, fontsize=9, frameon=False)
    if phases:
        ax_w.legend(fontsize=8, loc="upper right", title="phase", title_fontsize=8)
    return fig


def analytic_width_figure(accuracy: Mapping[int, Sequence[float]], smallest: int | None = None) -> Figure:
    """The analytic network's accuracy on the whole table against its width: each seed a dot,
    their mean a line, the smallest width at 100% marked."""
    widths = sorted(accuracy)
    fig = Figure(figsize=(6, 3.2), layout="constrained")
    ax = fig.subplots()
    for w in widths:
        ax.scatter([w] * len(accuracy[w]), accuracy[w], s=14, color=FAINT, zorder=2)
    ax.plot(widths, [float(np.mean(accuracy[w])) for w in widths], color=PHASE_COLORS["comprehension"], lw=1.6,
            marker="o", ms=3, label="mean over phases (seeds)")
    if smallest is not None:
        ax.axvline(smallest, color=REFERENCE, ls=":", lw=1, label=f"100% from width {smallest}")
    ax.set_xscale("log")
    ax.set_xticks(widths, [str(w) for w in widths])
    ax.minorticks_off()
    ax.set_ylim(min(0.0, min(min(v) for v in accuracy.values())) - 0.02, 1.02)
    ax.set_xlabel("width (hidden neurons)")
    ax.set_ylabel("accuracy on all p² sums")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=GRID_ALPHA, which="both")
    return fig


def phase_relation_figure(relation: PhaseRelation, share: float = 0.9) -> Figure:
    """Each neuron's output phase against the sum of its input phases (mod 2π): on the diagonal
    when φ_out = φ_a + φ_b, Gromov's solution. The largest neurons, holding ``share`` of the
    total size (`main_neurons`), in green; the rest, which weight decay is shrinking, faint."""
    two_pi = 2 * math.pi
    x = _np(relation.phase_a + relation.phase_b) % two_pi
    y = _np(relation.phase_out) % two_pi
    main = _np(main_neurons(relation, share))
    fig = Figure(figsize=(4.4, 4.0), layout="constrained")
    ax = fig.subplots()
    ax.plot([0, two_pi], [0, two_pi], color=REFERENCE, lw=0.8, ls=":")
    ax.scatter(x[~main], y[~main], s=8, color=FAINT, label="other neurons")
    ax.scatter(x[main], y[main], s=12, color=PHASE_COLORS["comprehension"],
               label=f"largest neurons ({share:.0%} of the size)")
    ax.set_xlim(0, two_pi)
    ax.set_ylim(0, two_pi)
    ax.set_xlabel("φ_a + φ_b (mod 2π)")
    ax.set_ylabel("φ_out (mod 2π)")
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=GRID_ALPHA)
    return fig
