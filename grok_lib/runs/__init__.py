"""Layer 4, runs: stored results, and the runner that trains only what is missing.

- `store`: every run kept once on disk, keyed by its config, written atomically;
- `runner`: `load_or_train` / `sweep` and `grid` (one runner, pluggable backends);
- `experiments`: the named experiments behind every chapter (and `long_runs`, those trained on a GPU;
  `weight_norm_runs` and `digits_runs`, chapter 8's; `numerics_runs` and `leaderboard_runs`, chapter 9's);
- `process_backend`, `ray_backend`: sweeps in worker processes, or on a Ray cluster.
"""

from .digits_runs import DIGITS_MLP  # noqa: F401  (chapter 8's digits runs)
from .leaderboard_runs import TRANSFORMER_BASE  # noqa: F401  (the numerics chapter's leaderboard)
from .long_runs import CANONICAL_TRANSFORMER  # noqa: F401  (importing it registers its experiments)
from .numerics_runs import COLLAPSE_RUN  # noqa: F401  (the numerics chapter's runs)
from .runner import grid, load_or_train, sweep
from .store import Store
from .weight_norm_runs import SV_BASE  # noqa: F401  (chapter 8's experiments)

__all__ = ["Store", "grid", "load_or_train", "sweep"]
