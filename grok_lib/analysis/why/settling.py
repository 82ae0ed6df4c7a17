"""When a run's test accuracy settles, against when it fitted its training set: delayed generalisation on a
task whose test accuracy never reaches the course's 99% (Omnigrok's large initialisation on the digits).

`phases` asks when validation accuracy first reaches 99%; on the digits no run gets there, so the delay is
read instead as the step at which test accuracy first comes within `SETTLED_WITHIN` (one point) of its final
value and stays there, set beside the steps at which training accuracy first reached 99% and 100%.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from grok_lib.training.config import THRESHOLD
from grok_lib.training.record import Run

from ..phases import first_step_at

SETTLED_WITHIN = 0.01  # test accuracy within one point of its final value counts as settled


@dataclass(frozen=True)
class Settling:
    """One run: when it fitted its training set, when its test accuracy settled, and where it settled."""

    train_99_at: int | None  # first logged step with training accuracy >= 99%
    train_100_at: int | None  # first logged step with every training example right
    test_settled_at: int  # first logged step from which test accuracy stays within SETTLED_WITHIN of its final value
    final_test_acc: float

    @property
    def delay(self) -> int | None:
        """Steps from fitting the training set (99%) to the test accuracy settling (None if it never fitted)."""
        return None if self.train_99_at is None else self.test_settled_at - self.train_99_at


def settled_step(steps: Sequence[int], values: Sequence[float], within: float = SETTLED_WITHIN) -> int:
    """The first logged step from which every value stays within ``within`` of the last one."""
    if not steps:
        raise ValueError("an empty history has no settled step: train the run first")
    final, at = values[-1], steps[-1]
    for s, v in zip(reversed(steps), reversed(values), strict=True):
        if abs(v - final) > within:
            break
        at = s
    return at


def settling(run: Run, within: float = SETTLED_WITHIN) -> Settling:
    """`Settling` of a stored run, from its logged training and validation ("test", for the digits) accuracy."""
    h = run.history
    return Settling(first_step_at(h["step"], h["train_acc"], THRESHOLD), first_step_at(h["step"], h["train_acc"], 1.0),
                    settled_step(h["step"], h["val_acc"], within), h["val_acc"][-1])
