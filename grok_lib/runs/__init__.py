"""Layer 4, runs: stored results, and the runner that trains only what is missing.

- `store`: every run kept once on disk, keyed by its config, written atomically;
- `runner`: `load_or_train` / `sweep` and `grid` (one runner, pluggable backends);
- `experiments`: the named experiments behind every chapter (and `long_runs`, those trained on a GPU);
- `process_backend`, `ray_backend`: sweeps in worker processes, or on a Ray cluster.
"""

from .long_runs import CANONICAL_TRANSFORMER  # noqa: F401  (importing it registers its experiments)
from .runner import grid, load_or_train, sweep
from .store import Store

__all__ = ["Store", "grid", "load_or_train", "sweep"]
