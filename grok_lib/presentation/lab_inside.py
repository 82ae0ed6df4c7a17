"""The live lab's view of the inside: the embedding's Fourier spectrum while the run trains.

The lab asks the trainer for checkpoints at its log steps (``checkpoint_every``); at each logged
step `Inside.update` reads the newest one, turns the embedding's number rows into their norm per
Fourier frequency (`grok_lib.analysis.mechanism.fourier`), and drops the checkpoints, so a long run
keeps one spectrum in memory rather than its weights at every step. A network that adds mod p
starts dense (every frequency about equal) and ends with a few tall bars: its key frequencies.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import ipywidgets as W
import torch

from grok_lib.analysis.mechanism.fourier import frequency_norms
from grok_lib.task.operations import get_operation
from grok_lib.training.config import TrainConfig


@dataclass
class Spectrum:
    """What the lab draws: the norm per frequency 1..n//2 now and at step 0, and the step it shows."""

    step: int
    norms: list[float]
    initial: list[float]


def embedding_norms(state: dict[str, torch.Tensor], n: int) -> list[float]:
    """Norm per frequency 1..n//2 of the embedding's n number rows, from a one-run state dict."""
    table = state["W_E"][0, :n].to(torch.float64)
    return frequency_norms(table)[1:].tolist()


class Inside:
    """The checkbox that turns the view on, and the spectrum the training thread hands over."""

    def __init__(self, enabled: bool = True):
        self.toggle = W.Checkbox(value=enabled, description="show the inside (embedding spectrum)")
        self._lock = threading.Lock()
        self.spectrum: Spectrum | None = None
        self._initial: list[float] | None = None
        self._n = 0

    @property
    def enabled(self) -> bool:
        return bool(self.toggle.value)

    def configure(self, cfg: TrainConfig) -> TrainConfig:
        """``cfg`` with checkpoints at its log steps when the view is on; forget the last run's spectrum."""
        with self._lock:
            self.spectrum, self._initial = None, None
            self._n = get_operation(cfg.op).n_elements(cfg.p)
        return cfg.replace(checkpoint_every=cfg.log_every) if self.enabled else cfg

    def update(self, runs: list) -> None:
        """Called by the training thread at a logged step: take the newest checkpoint, if any."""
        checkpoints = runs[0].checkpoints
        if not checkpoints:
            return
        step = max(checkpoints)
        norms = embedding_norms(checkpoints[step], self._n)
        checkpoints.clear()
        with self._lock:
            if self._initial is None:
                self._initial = norms
            self.spectrum = Spectrum(step, norms, self._initial)

    def current(self) -> Spectrum | None:
        """The spectrum to draw now (None when the view is off or no checkpoint came yet)."""
        with self._lock:
            return self.spectrum if self.enabled else None
