"""grok_lib: datasets, models, a fast trainer and analyses for watching networks grok.

The pieces, one module each: `ops` (the operations), `data` (tables, splits, tokens),
`models` (MLP and transformer), `optim`, `train` (the trainer), `store` (stored runs),
`sweep` (grids of runs), `metrics` (memorisation / generalisation / phases), `plots`,
and `experiments` (the named runs behind each chapter).
"""

__version__ = "0.1.0"

from .config import TrainConfig  # noqa: E402
from .data import make_task  # noqa: E402
from .metrics import classify, grokking_summary  # noqa: E402
from .ops import OPERATIONS, get_operation, operation_table  # noqa: E402
from .store import Store, load_or_train  # noqa: E402
from .sweep import grid, sweep  # noqa: E402
from .train import Run, resolve_device, train, train_many  # noqa: E402

__all__ = [
    "OPERATIONS", "Run", "Store", "TrainConfig", "classify", "get_operation", "grid", "grokking_summary",
    "load_or_train", "make_task", "operation_table", "resolve_device", "sweep", "train", "train_many",
]
