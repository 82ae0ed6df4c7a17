"""Layer 5, analysis: reading histories and weights.

- `phases`: when a run memorised and generalised, and its phase;
- `tables`: one row per run, phase tables, seed spreads, Markdown tables, task counts.
"""

from .phases import PHASES, GrokSummary, classify, first_step_at, grokking_summary
from .tables import *  # noqa: F403  (the chapters call these as analysis.<name>)
from .tables import __all__ as _tables_all

__all__ = ["PHASES", "GrokSummary", "classify", "first_step_at", "grokking_summary", *_tables_all]
