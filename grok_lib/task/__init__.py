"""Layer 1, the task: the operation tables a∘b and the data a run is trained on.

- `operations`: the registry of binary operations and their tables;
- `data`: splits, label noise, token layouts, and `Task` (a table with its split).
"""

from .data import Task, make_task, split_indices, split_pairs, symmetric_split_indices, tokens, training_split
from .operations import OPERATIONS, Operation, get_operation, operation_table

__all__ = ["OPERATIONS", "Operation", "Task", "get_operation", "make_task", "operation_table", "split_indices",
           "split_pairs", "symmetric_split_indices", "tokens", "training_split"]
