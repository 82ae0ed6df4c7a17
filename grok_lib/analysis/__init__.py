"""Layer 5, analysis: reading histories and sweeps of stored runs.

- `phases`: when a run memorised and generalised, and its phase;
- `tables`: one row per run, rows grouped and counted by phase, Markdown tables;
- `selection`: picking runs (or rows, or configs) out of a sweep by config fields;
- `spread`: how a step varies over seeds;
- `pairs`: runs paired across one field (sum vs concat), compared run for run;
- `curves`: the rise and fall of a validation loss, the largest spike of a training loss;
- `double_descent` (random features on the digits) and `double_descent_mlp` (the stored networks): chapter 6;
- `counts`: parameters, training pairs, the ceiling of a symmetric model, the transpose freebie;
- `slow_phase`: what Adam's beta2 changes between memorising and generalising (chapter 5);
- `mechanism/`: what a trained network computes -- Fourier features, progress measures, the analytic
  solution (chapter 7).
- `why/`: why generalisation waits -- Liu et al.'s representation quality index and toy model, the
  singular values and effective ranks of the weights, the loss against a scaled weight norm.

The chapters call all of these as ``analysis.<name>``.
"""

from .counts import mlp_param_count, n_train, symmetric_ceiling, train_ceiling, transpose_freebie
from .curves import largest_spike, rise_then_fall
from .pairs import PairCounts, compare_pairs, pair_up
from .phases import GROK_RATIO, PHASES, GrokSummary, classify, delay_ratio, first_step_at, grokking_summary, ratio_range
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
    "GROK_RATIO", "PHASES", "GrokSummary", "PairCounts", "PhaseTable", "Spread", "best_run", "classify",
    "compare_pairs", "delay_ratio", "distinct", "first_step_at",
    "formula_label", "grokking_summary",
    "group_by", "index_by", "majority", "markdown_table", "mlp_param_count", "n_generalised", "n_train",
    "pair_up", "phase_counts", "phase_table", "pick", "ratio_range", "rise_then_fall",
    "smallest_generalising_fraction", "spread", "spread_by", "summary_row", "summary_rows", "symmetric_ceiling",
    "train_ceiling", "transpose_freebie", "where", "largest_spike",
]
