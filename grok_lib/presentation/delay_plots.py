"""The phase rule as a picture: when each run generalised against when it memorised.

`grok_lib.analysis.phases.classify` calls a run grokking when validation accuracy reached 99%
at least ten times as late as training accuracy did; on log-log axes that is everything above
one line parallel to the diagonal. This figure draws each run there, with the logged rows
around each moment as error bars, so a reader sees both the rule and how finely the logging
grid pins each run down. Like `sweep_plots`, it returns a Figure built without pyplot.
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from grok_lib.analysis.phases import GROK_RATIO, classify, crossing_bracket, crossing_step
from grok_lib.presentation.style import FAINT, GRID_ALPHA, PHASE_COLORS, PHASE_ORDER, REFERENCE
from grok_lib.training.record import Run


def _moment(history: dict, key: str) -> tuple[float, float, float] | None:
    """When ``key`` first reached 99%, read between rows, and the logged rows around it (>= 1, for log axes)."""
    t = crossing_step(history["step"], history[key])
    if t is None:
        return None
    lo, hi = crossing_bracket(history["step"], history[key])
    return max(t, 1.0), max(lo, 1), max(hi, 1)


def delay_scatter(runs: Sequence[Run], factor: float = GROK_RATIO, title: str = "") -> Figure:
    """t_gen against t_mem, log-log, one point per run coloured by its phase, with bars spanning the
    logged rows around each moment. Above the dashed line t_gen >= ``factor`` x t_mem: grokking.
    Runs that never generalised sit, open, above the budget line; confused runs (never memorised)
    have no point."""
    fig = Figure(figsize=(8, 4), layout="constrained")
    ax = fig.subplots()
    budget = max(r.config.steps for r in runs)
    never = budget * 1.4
    xs, ys = [], []
    for run in runs:
        mem = _moment(run.history, "train_acc")
        if mem is None:
            continue
        gen = _moment(run.history, "val_acc") or (never, never, never)
        color = PHASE_COLORS[classify(run.history, grok_factor=factor)]
        (x, xlo, xhi), (y, ylo, yhi) = mem, gen
        ax.errorbar(x, y, xerr=[[x - xlo], [xhi - x]], yerr=[[y - ylo], [yhi - y]], fmt="o", ms=4, lw=0.8,
                    color=color, mfc="none" if y == never else color, alpha=0.8)
        xs += [xlo, xhi]
        ys.append(ylo)
    xlim = (min(xs, default=10) / 1.5, max(xs, default=100) * 1.5)
    ylim = (min(min(ys, default=never), xlim[0]) / 1.5, never * 1.4)
    ax.plot(ylim, ylim, color=REFERENCE, lw=0.8, label="t_gen = t_mem")
    ax.plot([ylim[0] / factor, ylim[1] / factor], ylim, color=REFERENCE, lw=1.2, ls="--",
            label=f"t_gen = {factor:g} × t_mem")
    ax.axhline(budget, color=FAINT, lw=1, ls=":", label=f"budget, {budget:,} steps\n(open, above: never)")
    ax.set(xscale="log", yscale="log", xlim=xlim, ylim=ylim,
           xlabel="t_mem: step at which training accuracy reached 99%",
           ylabel="t_gen: step at which\nvalidation accuracy reached 99%")
    phases = [Patch(color=PHASE_COLORS[p], label=p) for p in PHASE_ORDER[::-1]]
    ax.legend(handles=ax.get_legend_handles_labels()[0] + phases, fontsize=9, loc="upper left",
              bbox_to_anchor=(1.01, 1), frameon=False)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))  # steps as plain numbers: 20, 30, 100
    ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}" if f"{v:g}"[0] in "235" else ""))
    ax.grid(alpha=GRID_ALPHA, which="both")
    if title:
        ax.set_title(title, fontsize=10)
    return fig
