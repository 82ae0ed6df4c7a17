"""`Run`: what one training run produced -- its config, logged history, metadata and weights.

The trainer returns Runs, the store (`grok_lib.runs.store`) keeps them, and the analyses
and plots read them; this module holds only the record, so readers need not import the trainer.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

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

    def model(self):
        """Rebuild the trained model (needs ``save_model=True`` or an in-memory run)."""
        if self.state_dict is None:
            raise ValueError("this run kept no weights: train it with save_model=True")
        model = build_model(self.config)
        model.load_state_dict(self.state_dict)
        return model

    @property
    def cut_short(self) -> bool:
        """Whether Ctrl-C or a stop request ended the run before its budget or early stop."""
        return self.meta.get("status") in UNFINISHED

    @property
    def steps(self) -> list[int]:
        return self.history["step"]
