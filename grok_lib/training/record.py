"""`Run`: what one training run produced -- its config, logged history, metadata and weights.

The trainer returns Runs, the store (`grok_lib.runs.store`) keeps them, and the analyses
and plots read them; this module holds only the record, so readers need not import the trainer.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from .build import build_model
from .config import TrainConfig

UNFINISHED = ("interrupted", "stopped")  # statuses of a run cut short: not its config's result, so never stored
METRICS = ("train_loss", "train_acc", "val_loss", "val_acc", "weight_norm", "grad_norm", "eff_lr", "eff_grad")


@dataclass
class Run:
    """A finished (or interrupted) run: its config, logged history and metadata."""

    config: TrainConfig
    history: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    meta: dict[str, Any] = field(default_factory=dict)
    state_dict: dict[str, Tensor] | None = None
    checkpoints: dict[int, dict[str, Tensor]] = field(default_factory=dict)  # step -> float16 weights

    def model(self):
        """Rebuild the trained model (needs ``save_model=True`` or an in-memory run)."""
        if self.state_dict is None:
            raise ValueError("this run kept no weights: train it with save_model=True")
        return self._with_weights(self.state_dict)

    def model_at(self, step: int):
        """The model as it was at ``step``, from a checkpoint (train with ``checkpoint_every``).

        Checkpoints are kept in float16 (a tenth of `results/`'s budget per run, not a third),
        so these weights are the run's to about three significant digits."""
        if step not in self.checkpoints:
            kept = sorted(self.checkpoints)
            hint = f"it kept {kept[:3]} ... {kept[-2:]}" if kept else "train it with checkpoint_every > 0"
            raise ValueError(f"this run kept no checkpoint at step {step}; {hint}")
        dtype = getattr(torch, self.config.dtype)
        return self._with_weights({k: v.to(dtype) for k, v in self.checkpoints[step].items()})

    def _with_weights(self, state: dict[str, Tensor]):
        model = build_model(self.config)
        model.load_state_dict(state)
        return model

    @property
    def cut_short(self) -> bool:
        """Whether Ctrl-C or a stop request ended the run before its budget or early stop."""
        return self.meta.get("status") in UNFINISHED

    @property
    def steps(self) -> list[int]:
        return self.history["step"]
