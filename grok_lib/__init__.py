"""grok_lib: datasets, models, a fast trainer and analyses for watching networks grok.

The pieces, one module each: `ops` (the operations), `data` (tables, splits, tokens),
`models` (MLP and transformer), `optim`, `train` (the trainer), `store` (stored runs),
`sweep` (grids of runs), `metrics` (memorisation / generalisation / phases), `plots`,
`experiments` (the named runs behind each chapter), `dashboard` and `explorer`
(the live lab and the static explorer).
"""

__version__ = "0.1.0"

# plots is imported eagerly: it lets a returned Figure display in any notebook
from . import experiments, plots  # noqa: E402
from .config import TrainConfig  # noqa: E402
from .data import make_task  # noqa: E402
from .metrics import classify, grokking_summary  # noqa: E402
from .ops import OPERATIONS, get_operation, operation_table  # noqa: E402
from .store import Store, load_or_train  # noqa: E402
from .sweep import grid, sweep  # noqa: E402
from .train import Run, resolve_device, train, train_many  # noqa: E402

__all__ = [
    "OPERATIONS", "Run", "Store", "TrainConfig", "classify", "experiments", "get_operation", "grid",
    "grokking_summary", "load_or_train", "make_task", "operation_table", "plots", "resolve_device", "sweep",
    "train", "train_many",
]
