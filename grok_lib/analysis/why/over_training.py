"""The RQI and the effective ranks at each checkpoint of a stored run.

A run trained with ``checkpoint_every`` keeps float16 weights through training (`Run.model_at`);
these read the embedding's RQI (`representation.rqi`, wrapping around mod p by default, since our
tasks add mod p) and every weight matrix's effective ranks (`spectra`) at each kept step, so a
chapter can lay them beside the run's accuracy curves.
"""

from __future__ import annotations

from collections.abc import Sequence

from grok_lib.analysis.mechanism.neurons import embedding
from grok_lib.analysis.mechanism.over_training import checkpoint_steps
from grok_lib.training.record import Run

from .representation import TOLERANCE, rqi
from .spectra import entropy_rank, singular_values_over_training, stable_rank


def rqi_over_training(run: Run, steps: Sequence[int] | None = None, modular: bool = True,
                      tolerance: float = TOLERANCE) -> tuple[list[int], list[float]]:
    """The embedding's RQI at each checkpointed step (``modular``: parallelograms mod p; else
    Liu et al.'s i + n = j + m without wrap-around)."""
    steps = checkpoint_steps(run) if steps is None else list(steps)
    modulus = run.config.p if modular else None
    return steps, [rqi(embedding(run.model_at(s)), modulus, tolerance) for s in steps]


def ranks_over_training(run: Run, steps: Sequence[int] | None = None) -> dict[str, list]:
    """Columns ``step``, and ``<parameter> entropy`` / ``<parameter> stable`` for each weight matrix:
    its two effective ranks at each checkpointed step."""
    steps, sv = singular_values_over_training(run, steps)
    out: dict[str, list] = {"step": steps}
    for name, s in sv.items():
        out[f"{name} entropy"] = entropy_rank(s).tolist()
        out[f"{name} stable"] = stable_rank(s).tolist()
    return out
