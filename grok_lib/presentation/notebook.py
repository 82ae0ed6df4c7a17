"""Small conveniences for the course notebooks: prose that quotes measured numbers (`say`), and a stored run's
numbers for the text and for tables.

Tables are Markdown, not printed lines: a printed line is cut off at the right of a built page, while a Markdown
table wraps to the page."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from grok_lib.analysis import grokking_summary, n_train
from grok_lib.task.operations import get_operation
from grok_lib.training.build import count_parameters
from grok_lib.training.record import Run


def say(text: str, **values: Any) -> Any:
    """A paragraph that quotes measured numbers, as Markdown output: ``{name:fmt}`` fields (as in
    `str.format`) are filled from ``values`` (which may hold more than the text uses).

    A ``{glue:text}`` role in a Markdown cell is filled in only by the book build; opened in Jupyter
    or Colab it shows as the raw role. A paragraph made by `say` reads the same everywhere (the book
    folds the code cell that makes it, tagged ``hide-input``), and nbval compares its text like any
    other output."""
    from IPython.display import Markdown

    return Markdown(text.format(**values))


# --- Chapter helpers: a stored run's numbers, for the text (say) and for tables ---------------


def run_milestones(run: Run) -> dict[str, float | int | None]:
    """The numbers a chapter quotes about one run: milestones, weight norms, wall time, settings."""
    s = grokking_summary(run.history)
    h, c = run.history, run.config
    at_mem = h["step"].index(s.memorised_at)
    return {
        "mem": s.memorised_at, "gen": s.generalised_at, "delay": s.delay, "ratio": s.ratio,
        "val_at_mem": 100 * h["val_acc"][at_mem],
        "norm_start": h["weight_norm"][0], "norm_mem": h["weight_norm"][at_mem], "norm_end": h["weight_norm"][-1],
        "norm_max": max(h["weight_norm"]), "last": s.last_step, "wall": run.meta["wall_time_s"],
        "p": c.p, "frac": 100 * c.train_frac, "lr": c.lr, "wd": c.weight_decay,
        "n_train": n_train(c),
    }


def milestones(prefix: str, run: Run) -> dict[str, float | int | None]:
    """`run_milestones` with each name prefixed (``{prefix}_mem``, ...), ready for `say`."""
    return {f"{prefix}_{name}": value for name, value in run_milestones(run).items()}


def runs_table(runs: dict[str, Run]) -> str:
    """A Markdown table of runs side by side (one column per name): task, parameter count,
    milestones, and the wall time and device the store recorded."""
    summaries = [grokking_summary(run.history) for run in runs.values()]
    lines = {
        "task": [f"{r.config.op} mod {r.config.p}, {r.config.train_frac:.0%} shown" for r in runs.values()],
        "parameters": [f"{count_parameters(r.config):,}" for r in runs.values()],
        "memorised at step": [f"{s.memorised_at:,}" for s in summaries],
        "generalised at step": [f"{s.generalised_at:,}" for s in summaries],
        "generalised / memorised": [f"{s.ratio:.1f}×" for s in summaries],
        "wall time": [f"{r.meta['wall_time_s']:.0f} s" for r in runs.values()],
        "device (threads)": [f"{r.meta['device']} ({r.meta['threads']})" for r in runs.values()],
    }
    rows = ["| | " + " | ".join(runs) + " |", "| --- |" + " ---: |" * len(runs)]
    rows += [f"| {name} | " + " | ".join(values) + " |" for name, values in lines.items()]
    return "\n".join(rows)


MILESTONE_HEADER = ("task", "model", "shown", "weight decay", "memorised at step", "generalised at step",
          "train accuracy", "validation accuracy", "last step")


def _step(step: int | None) -> str:
    return "never" if step is None else f"{step:,}"


def milestones_table(runs: Sequence[Run]) -> str:
    """The runs in the order given: task, model, train fraction and weight decay; the steps at which training
    and validation accuracy first reached 99% ("never" if they did not); both accuracies at the last step."""
    rows = ["| " + " | ".join(MILESTONE_HEADER) + " |", "| --- | --- |" + " ---: |" * (len(MILESTONE_HEADER) - 2)]
    for run in runs:
        c, s = run.config, grokking_summary(run.history)
        model = "transformer" if c.model == "transformer" else f"{c.merge} MLP"
        cells = (get_operation(c.op).formula.replace("|", "\\|"), model, f"{c.train_frac:.0%}", f"{c.weight_decay:g}",
                 _step(s.memorised_at), _step(s.generalised_at), f"{s.final_train_acc:.0%}",
                 f"{s.final_val_acc:.0%}", f"{s.last_step:,}")
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)
