"""The course's models: an MLP on learned embeddings and a small transformer.

Read them in this order:

- `plain`: both models for one run, in ordinary PyTorch (``nn.Embedding``, ``nn.Linear``);
- `mlp`, `transformer`: the same functions as stacked models (N runs in one module), which
  the trainer uses, with named hook points for looking inside;
- `kernels`: the speed tricks the stacked models call, each with its plain formula;
- `stacked`, `hooks`: per-run parameters and initialisation (and `run_norms`, each run's norm); hook points and
  `run_with_cache`;
- `dropout`: dropout with a mask per run, switched on by the trainer for training passes only.
"""

from .hooks import HookedModule, HookPoint
from .mlp import MLP
from .plain import PlainMLP, PlainTransformer
from .stacked import StackedModule, run_norms
from .transformer import Transformer

__all__ = ["MLP", "HookPoint", "HookedModule", "PlainMLP", "PlainTransformer", "StackedModule", "Transformer",
           "run_norms"]
