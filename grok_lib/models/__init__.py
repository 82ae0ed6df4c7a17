"""The course's models: an MLP on learned embeddings and a small transformer.

- `mlp`, `transformer`: the stacked models (N runs in one module) the trainer uses;
- `plain`: the same two functions for one run, in ordinary PyTorch, for reading;
- `kernels`: the speed tricks the stacked models call;
- `stacked`, `hooks`: per-run parameters and initialisation; hook points and `run_with_cache`.
"""

from .hooks import HookedModule, HookPoint
from .mlp import MLP
from .stacked import StackedModule
from .transformer import Transformer

__all__ = ["MLP", "HookPoint", "HookedModule", "StackedModule", "Transformer"]
