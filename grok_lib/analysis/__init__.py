"""Layer 5, analysis: reading histories and sweeps of stored runs.

- `phases`: when a run memorised and generalised, and its phase;
- `tables`: one row per run, rows grouped and counted by phase, Markdown tables;
- `selection`: picking runs (or rows, or configs) out of a sweep by config fields;
- `spread`: how a step varies over seeds;
- `pairs`: runs paired across one field (sum vs concat), compared run for run;
- `curves`: last values, peaks, and chapter 6's curves against width;
- `counts`: parameters, training pairs, the ceiling of a symmetric model.

The chapters call all of these as ``analysis.<name>``.
"""

from .counts import mlp_param_count, n_train, symmetric_ceiling, train_ceiling, width_param_counts
from .curves import curve, error_rows, final_value, narrowest_fit, peak, rise_then_fall, value_at, width_curve
from .pairs import PairCounts, compare_pairs, pair_up
from .phases import PHASES, GrokSummary, classify, first_step_at, grokking_summary
from .selection import best_run, distinct, index_by, pick, where
from .spread import Spread, spread, spread_by
from .tables import (
    PhaseTable,
    formula_label,
    group_by,
    majority,
    markdown_table,
    n_generalised,
    phase_counts,
    phase_table,
    smallest_generalising_fraction,
    summary_row,
    summary_rows,
)

__all__ = [
    "PHASES", "GrokSummary", "PairCounts", "PhaseTable", "Spread", "best_run", "classify", "compare_pairs", "curve",
    "distinct", "error_rows", "final_value", "first_step_at", "formula_label", "grokking_summary",
    "group_by", "index_by", "majority", "markdown_table", "mlp_param_count", "n_generalised", "n_train",
    "narrowest_fit", "pair_up", "peak", "phase_counts", "phase_table", "pick", "rise_then_fall",
    "smallest_generalising_fraction", "spread", "spread_by", "summary_row", "summary_rows", "symmetric_ceiling",
    "train_ceiling", "value_at", "where", "width_curve", "width_param_counts",
]
