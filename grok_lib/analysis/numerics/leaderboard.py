"""Arms of an experiment ranked by how soon their runs generalise: the median step at which validation
accuracy first reaches the course's threshold (99%), its range over seeds, and how many runs never did.

A run that never generalised within its budget has no step; it is counted, not dropped, and an arm
ranks by its median over the runs that did, after every arm where more runs did (fewer misses first).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from grok_lib.analysis.phases import first_step_at
from grok_lib.analysis.spread import Spread, spread
from grok_lib.training.config import THRESHOLD
from grok_lib.training.record import Run


def generalised_at(run: Run, threshold: float = THRESHOLD) -> int | None:
    """The first logged step at which the run's validation accuracy is at least ``threshold`` (None: never)."""
    return first_step_at(run.history["step"], run.history["val_acc"], threshold)


def relapsed(run: Run, floor: float = 0.5, threshold: float = THRESHOLD) -> bool:
    """Whether the run's validation accuracy fell below ``floor`` after it first reached ``threshold``:
    generalising first is not keeping it, and a fast arm that relapses is faster only at the finish line."""
    first = generalised_at(run, threshold)
    if first is None:
        return False
    return any(s > first and v < floor for s, v in zip(run.history["step"], run.history["val_acc"], strict=True))


def norm_at_generalising(run: Run, threshold: float = THRESHOLD) -> float | None:
    """The weight norm logged at `generalised_at` (None: never generalised): where an arm's norm sat when it
    got there, the value a held-norm arm can be set to."""
    first = generalised_at(run, threshold)
    return None if first is None else run.history["weight_norm"][run.history["step"].index(first)]


def diverged_at(run: Run) -> int | None:
    """The first logged step at which the run's weight norm is no longer finite (None: it stayed finite).
    A diverged run is counted as never generalising; its final metrics say nothing about where it ended."""
    return next((s for s, n in zip(run.history["step"], run.history["weight_norm"], strict=True)
                 if not math.isfinite(n)), None)


def arm_spreads(arms: Mapping[str, Sequence[Run]], threshold: float = THRESHOLD) -> dict[str, Spread]:
    """Each arm's `Spread` of `generalised_at` over its runs, ranked: fewest runs that never generalised
    first, then by median step (ties keep the given order)."""
    spreads = {name: spread(generalised_at(r, threshold) for r in runs) for name, runs in arms.items()}
    rank = lambda name: (spreads[name].missing, spreads[name].median if spreads[name].values else math.inf)  # noqa: E731
    return {name: spreads[name] for name in sorted(spreads, key=rank)}


def speed_up(arm: Spread, baseline: Spread) -> float:
    """How many times sooner ``arm``'s median run generalised than ``baseline``'s (NaN if either never did)."""
    if not arm.values or not baseline.values:
        return math.nan
    return baseline.median / arm.median


def budgets(arms: Mapping[str, Sequence[Run]]) -> dict[str, int]:
    """Each arm's step budget (the largest of its runs'): where a run that never generalised stopped looking."""
    return {name: max(r.config.steps for r in runs) for name, runs in arms.items()}


def board_rows(board: Mapping[str, Spread], budget: Mapping[str, int], baseline: str) -> list[list[str]]:
    """A ranked board as table rows: the arm, how many runs generalised, the median step and the range over
    seeds, and the speed-up of the median against ``baseline``'s ('—' where an arm's median is undefined)."""
    base = board[baseline]
    rows = []
    for name, s in board.items():
        done = f"{s.n - s.missing} of {s.n}"
        if not s.values:
            rows.append([name, done, f"never within {budget[name]:,}", "—", "—"])
            continue
        median = f"{s.median:,.0f}" + (" (of those that did)" if s.missing else "")
        ratio = speed_up(s, base)
        rows.append([name, done, median, f"{s.min:,.0f}–{s.max:,.0f}",
                     "—" if math.isnan(ratio) else f"{ratio:.2f}×"])
    return rows
