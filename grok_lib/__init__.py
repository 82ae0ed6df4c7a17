"""grok_lib: datasets, models, a fast trainer and analyses for watching networks grok.

The library is built in layers, each importing only those below it (``CONTRIBUTING.md``):

    task  ->  models  ->  training  ->  runs  ->  analysis  ->  presentation (and exercises)

The most used names are re-exported here.
"""

# presentation.run_plots is imported eagerly: it lets a returned Figure display in any notebook
from .analysis import classify, grokking_summary  # noqa: E402
from .presentation import run_plots  # noqa: E402, F401
from .runs import Store, experiments, grid, load_or_train, sweep  # noqa: E402
from .task import OPERATIONS, get_operation, make_task, operation_table  # noqa: E402
from .training import Run, TrainConfig, resolve_device, train, train_many  # noqa: E402
from .version import __version__

__all__ = [
    "OPERATIONS", "Run", "Store", "TrainConfig", "__version__", "classify", "experiments", "get_operation", "grid",
    "grokking_summary", "load_or_train", "make_task", "operation_table", "resolve_device", "sweep", "train",
    "train_many",
]
