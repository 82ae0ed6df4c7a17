"""Layer 5, analysis: the numerics of training -- softmax collapse, loss spikes, float32 against float64.

- `collapse`: the fraction of training examples whose float32 loss is exactly 0 and whose softmax of the
  true class is exactly 1, the same logits in float64, and the logit gradient in both precisions;
- `spikes`: the training-loss spikes of a long run, the logged columns around them, and the rows where the
  whole training set had collapsed (a mean loss of exactly 0);
- `twins`: two histories compared row by row (a float32 run and its float64 twin), and where they part;
- `leaderboard`: arms ranked by the step their runs generalise at (median, range, runs that never did), and
  runs that lost it again (`relapsed`), the weight norm at which a run got there (`norm_at_generalising`) and
  where a run's weights stopped being finite (`diverged_at`).

Chapters call these as ``numerics.<name>`` (``from grok_lib.analysis import numerics``).
"""

from .collapse import PRECISIONS, CollapseStats, collapse_at, collapse_over_training, collapse_stats, training_logits
from .leaderboard import (
    arm_spreads,
    board_rows,
    budgets,
    diverged_at,
    generalised_at,
    norm_at_generalising,
    relapsed,
    speed_up,
)
from .spikes import SPIKE_FACTOR, Spike, around, collapsed_before, fully_collapsed, loss_spikes, lowest_between
from .twins import parting_step, relative_gaps

__all__ = ["PRECISIONS", "SPIKE_FACTOR", "CollapseStats", "Spike", "arm_spreads", "around", "board_rows", "budgets",
           "collapse_at", "collapse_over_training", "collapse_stats", "collapsed_before", "diverged_at",
           "fully_collapsed", "generalised_at", "loss_spikes", "lowest_between", "norm_at_generalising",
           "parting_step", "relapsed", "relative_gaps", "speed_up", "training_logits"]
