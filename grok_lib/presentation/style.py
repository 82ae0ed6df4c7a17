"""The course's one palette: every colour the figures, the lab and the explorer draw with.

One source, so a phase or the validation curve has the same colour in a chapter's figure,
in the live lab and in the static explorer. Hex strings wherever a page uses the colour too
(matplotlib's shorthands like ``"k"`` or ``"0.4"`` only in figures); the explorer's page receives
its colours as CSS custom properties and a JSON object (`page_palette`).
"""

from __future__ import annotations

import numpy as np

# one run: training in blue, validation in red, the weight norm in black
TRAIN, VAL = "#1f77b4", "#d62728"
NORM = "k"

# the phases of a run (`grok_lib.analysis.phases.classify`), from the least to the most successful;
# the colours in the legends' order, the most successful first
PHASE_ORDER = ("confusion", "memorisation", "grokking", "comprehension")
PHASE_COLORS = {"comprehension": "#2ca02c", "grokking": "#9467bd", "memorisation": "#ff7f0e",
                "confusion": "#7f7f7f"}
PHASE_ABBREV = {"comprehension": "C", "grokking": "G", "memorisation": "M", "confusion": "X"}

# runs the lab keeps for comparison, in the order they are kept (none is TRAIN's blue or VAL's red)
KEPT_COLORS = ["#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"]

# the step grid's colour scale (light blue: early, salmon: late) and its cells that were never tried
STEP_GRID_COLORS = np.array([[0.75, 0.85, 1.0, 1.0], [0.55, 0.7, 0.95, 1], [0.98, 0.8, 0.6, 1],
                             [0.95, 0.6, 0.5, 1]])
NOT_TRIED = "0.93"

PAPER = "#fff"  # the background: cells a table does not have, gaps between histogram bars, the page
HELD_OUT = "0.35"  # table cells held out of training: a neutral dark grey, far from every colour of the cyclic map
ON_PHASE = PAPER  # text written on a phase colour
REFERENCE = "k"  # a reference line: the budget, a median, the diagonal
FAINT = "0.6"  # a secondary reference line
MUTED = "0.4"  # secondary text ("never", "—")
ERROR = "#c00"  # the lab's "cannot run" message
GRID_ALPHA = 0.3  # the background grid of every axis

# the explorer's page: its colours beyond the run and phase colours above
PAGE_COLORS = {"ink": "#222", "paper": PAPER, "border": "#ddd", "axis": "#333", "muted": "#555",
               "rule": "#e5e5e5", "pinned": "#888", "pinned_label": "#666", "selected": "#000", "on_phase": ON_PHASE}


def series_color(k: int) -> str:
    """The k-th colour of matplotlib's default cycle, for several labelled curves on one axis."""
    return f"C{k % 10}"


def cyclic_colors(n: int) -> np.ndarray:
    """``n`` colours around a cyclic map (RGBA rows), so neighbouring residues get neighbouring colours."""
    from matplotlib import colormaps

    return colormaps["twilight_shifted"](np.linspace(0, 1, n, endpoint=False))


def page_palette() -> dict[str, str | dict[str, str]]:
    """The explorer's colours as one JSON-ready object: its script reads it, its styles get the flat entries."""
    return {"train": TRAIN, "val": VAL, "phases": dict(PHASE_COLORS), **PAGE_COLORS}
