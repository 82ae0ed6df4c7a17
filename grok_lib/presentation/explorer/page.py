"""A grokking explorer for the static book: stored runs, picked in the browser, no kernel.

`explorer_html(runs)` turns a precomputed sweep (operation × train fraction × weight decay,
the ``explorer_sweep`` experiment) into one self-contained piece of HTML: the data and the
colours (from `grok_lib.presentation.style`) as compact JSON, a small hand-written script
(``explorer.js``) and its styles (``explorer.css``), both shipped beside this module and
inlined, and an SVG chart. Nothing is fetched from the network, so it works in the built
HTML book, offline, and in a notebook.

Why hand-written rather than a plotting library: the page needs one chart type (accuracy
against log step) and a summary grid, and a Vega/Vega-Lite bundle inlined for that would
weigh about a megabyte; this weighs a few tens of kilobytes, most of it the runs themselves.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from functools import cache
from importlib.resources import files
from pathlib import Path

from grok_lib.analysis.phases import classify, grokking_summary
from grok_lib.presentation.style import page_palette
from grok_lib.runs.store import Store
from grok_lib.task.operations import get_operation
from grok_lib.training.config import TrainConfig
from grok_lib.training.record import Run


def sweep_configs() -> list[TrainConfig]:
    """The configs of the ``explorer_sweep`` experiment."""
    from grok_lib.runs.experiments import get

    return get("explorer_sweep")


def load_runs(store: str | Path | Store | None = None, train_missing: bool = False, device: str | None = None,
              progress: bool = True) -> list[Run]:
    """The explorer's stored runs, read from ``store`` (default: the store's default, the checkout's ``results/``).

    Missing runs are an error that names the command to make them, unless ``train_missing``
    (the whole sweep takes several minutes on a CPU, too long to start by accident in a book build).
    """
    from grok_lib.runs.runner import sweep

    st = store if isinstance(store, Store) else Store(store)
    configs = sweep_configs()
    missing = [c for c in configs if not st.has(c)]
    if missing and not train_missing:
        raise FileNotFoundError(
            f"{len(missing)} of the {len(configs)} explorer runs are not stored in {st.root}; make them with "
            "`python -m grok_lib regenerate explorer_sweep` (or pass train_missing=True)")
    return sweep(configs, store=st, device=device, progress=progress)


def downsample(steps: Sequence[int], min_gap: float = 0.05) -> list[int]:
    """Indices of logged steps kept for a log-step plot: a point at least ``min_gap`` decades
    after the previous kept one, always the first and the last."""
    keep: list[int] = []
    last = -math.inf
    for i, s in enumerate(steps):
        x = math.log10(max(s, 1))
        if not keep or x - last >= min_gap or i == len(steps) - 1:
            keep.append(i)
            last = x
    return keep


def _variant_label(op: str, merge: str, mixed: bool) -> str:
    formula = get_operation(op).formula
    return f"{formula}, {merge} MLP" if mixed else formula


def pack(runs: Sequence[Run], min_gap: float = 0.05) -> dict:
    """The runs as a compact, deterministic dict: the grid's axes, then one entry per grid
    cell (variant-major, then train fraction, then weight decay), accuracies in thousandths.

    A *variant* is an operation with a model merge (sum or concat), in the order the runs
    first mention it; the dropdown names it by its formula (and merge, when both occur).
    """
    if not runs:
        raise ValueError("no runs to explore")
    variants = list(dict.fromkeys((r.config.op, r.config.merge) for r in runs))
    mixed = len({m for _, m in variants}) > 1
    fracs = sorted({r.config.train_frac for r in runs})
    wds = sorted({r.config.weight_decay for r in runs})
    cell: dict[tuple[str, str, float, float], Run] = {}
    for r in runs:
        key = (r.config.op, r.config.merge, r.config.train_frac, r.config.weight_decay)
        if key in cell:
            raise ValueError(f"two runs for {key}: the explorer shows one run per cell")
        cell[key] = r
    cells = []
    for op, merge in variants:
        for f in fracs:
            for w in wds:
                run = cell.get((op, merge, f, w))
                if run is None or not run.history.get("step"):
                    cells.append(None)
                    continue
                h = run.history
                idx = downsample(h["step"], min_gap)
                s = grokking_summary(h)
                cells.append({
                    "s": [int(h["step"][i]) for i in idx],
                    "t": [int(round(1000 * h["train_acc"][i])) for i in idx],
                    "v": [int(round(1000 * h["val_acc"][i])) for i in idx],
                    "m": s.memorised_at,
                    "g": s.generalised_at,
                    "ph": classify(h),
                    "b": int(run.config.steps),
                })
    c0 = runs[0].config
    closest = lambda xs, x: min(range(len(xs)), key=lambda i: (abs(xs[i] - x), i))  # noqa: E731
    return {
        "start": [0, closest(fracs, 0.6), closest(wds, 1.0)],
        "ops": [{"name": f"{op} ({merge})" if mixed else op, "formula": _variant_label(op, merge, mixed)}
                for op, merge in variants],
        "fracs": fracs,
        "wds": wds,
        "p": c0.p,
        "steps": max(r.config.steps for r in runs),
        "model": f"MLP, {c0.optimizer} lr {c0.lr:g}",
        "cells": cells,
    }


def explorer_html(runs: Sequence[Run], title: str = "") -> str:
    """Self-contained HTML (data, script, styles; nothing fetched) exploring ``runs``.

    The output depends only on the runs, so a notebook that displays it gives the same
    HTML every time it is run.
    """
    data = _compact(pack(runs))
    root_id = "gx-" + hashlib.sha256(data.encode()).hexdigest()[:10]
    d = json.loads(data)
    caption = title or (f"Stored runs: {len(runs)} ({d['model']}, p = {d['p']}, up to {d['steps']:,} steps). "
                        "Pick an operation, a train fraction and a weight decay; click a cell of the grid to "
                        "jump to it. <i>Keep</i> leaves the validation curve on the chart for comparison.")
    palette = page_palette()
    css_vars = ";".join(f"--gx-{k.replace('_', '-')}:{v}" for k, v in palette.items() if isinstance(v, str))
    colors = _script_safe(_compact(palette, sort_keys=False))
    return (
        f'<div class="gx" id="{root_id}">\n<style>.gx{{{css_vars}}}\n{_asset("explorer.css", "/*")}</style>\n'
        f'<div class="ctl"><label>operation <select class="op" aria-label="operation"></select></label>\n'
        f'<label>train fraction <input class="frac" type="range" min="0" max="0" step="1" '
        f'aria-label="train fraction"><span class="val fval"></span></label>\n'
        f'<label>weight decay <input class="wd" type="range" min="0" max="0" step="1" '
        f'aria-label="weight decay"><span class="val wval"></span></label>\n'
        f'<button class="pin" type="button">Keep</button><button class="clear" type="button">Clear</button></div>\n'
        f'<div class="row"><svg class="chart" width="520" height="280" viewBox="0 0 520 280" role="img" '
        f'aria-label="train and validation accuracy against step"></svg>\n'
        f'<svg class="grid" width="220" height="240" role="img" aria-label="phase of each stored run"></svg></div>\n'
        f'<p class="note"></p>\n<p class="note caption">{caption} '
        f'Grid colour: the run\'s phase; number: the step at which validation accuracy reached 99%.</p>\n'
        f'<noscript>This explorer needs JavaScript.</noscript>\n'
        f'<script type="application/json" class="gx-data">{_script_safe(data)}</script>\n'
        f'<script type="application/json" class="gx-palette">{colors}</script>\n'
        f'<script>{_asset("explorer.js", "//")}({json.dumps(root_id)});</script>\n</div>'
    )


def _compact(value: object, sort_keys: bool = True) -> str:
    """JSON without spaces. The palette keeps its own order: the legend lists the phases in it."""
    return json.dumps(value, separators=(",", ":"), sort_keys=sort_keys)


def _script_safe(text: str) -> str:
    """JSON inside a script element: it may not close its own tag."""
    return text.replace("</", "<\\/")


@cache
def _asset(name: str, comment: str) -> str:
    """A file shipped beside this module (``explorer.js``, ``explorer.css``), read once, without its
    indentation, blank lines and whole-line comments (small files; no real minifier needed)."""
    text = files(__package__).joinpath(name).read_text(encoding="utf-8")
    lines = (line.strip() for line in text.strip().splitlines())
    return "\n".join(line for line in lines if line and not line.startswith(comment))


def write_html(runs: Sequence[Run], path: str | Path) -> Path:
    """A standalone page around `explorer_html` (for opening in a browser or testing)."""
    path = Path(path)
    body = explorer_html(runs)
    path.write_text(f'<!doctype html>\n<html><head><meta charset="utf-8"><title>Grokking explorer</title></head>'
                    f"<body>\n{body}\n</body></html>\n", encoding="utf-8")
    return path


__all__ = ["downsample", "explorer_html", "load_runs", "pack", "sweep_configs", "write_html"]
