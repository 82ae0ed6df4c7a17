"""Reading a history: when did the network memorise, when did it generalise, and which
regime (phase) does a run belong to."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from grok_lib.training.config import THRESHOLD


def first_step_at(steps: Sequence[int], values: Sequence[float], threshold: float = THRESHOLD) -> int | None:
    """First logged step whose value is at least ``threshold`` (None if never)."""
    return next((s for s, v in zip(steps, values, strict=True) if v >= threshold), None)


@dataclass(frozen=True)
class GrokSummary:
    memorised_at: int | None  # train accuracy first >= threshold
    generalised_at: int | None  # validation accuracy first >= threshold
    final_train_acc: float
    final_val_acc: float
    last_step: int

    @property
    def delay(self) -> int | None:
        """Steps between memorising and generalising (None unless both happened)."""
        if self.memorised_at is None or self.generalised_at is None:
            return None
        return self.generalised_at - self.memorised_at

    @property
    def ratio(self) -> float | None:
        """How many times longer generalising took than memorising."""
        if self.delay is None or not self.memorised_at:
            return None
        return self.generalised_at / self.memorised_at


def grokking_summary(history: Mapping[str, Sequence[float]], threshold: float = THRESHOLD) -> GrokSummary:
    """The two moments every chapter reads off a history (memorised, generalised) and where it ended."""
    steps = history["step"]
    return GrokSummary(
        first_step_at(steps, history["train_acc"], threshold),
        first_step_at(steps, history["val_acc"], threshold),
        history["train_acc"][-1], history["val_acc"][-1], int(steps[-1]),
    )


PHASES = ("comprehension", "grokking", "memorisation", "confusion")


def classify(history: Mapping[str, Sequence[float]], threshold: float = THRESHOLD, grok_factor: float = 2.0) -> str:
    """The regime of a run, by a stated rule (after Liu et al. 2022's phase names):

    - ``confusion``: training accuracy never reaches ``threshold``;
    - ``memorisation``: training does, validation never does (within the budget);
    - ``comprehension``: both do, validation within ``grok_factor`` × the steps training took;
    - ``grokking``: both do, validation later than that.
    """
    s = grokking_summary(history, threshold)
    if s.memorised_at is None:
        return "confusion"
    if s.generalised_at is None:
        return "memorisation"
    if s.generalised_at <= grok_factor * max(s.memorised_at, 1):
        return "comprehension"
    return "grokking"
