"""The named experiments behind the book: each chapter's stored runs, defined once.

A chapter asks for ``experiments.get("name")`` and passes the configs to `load_or_train`;
``python -m grok_lib regenerate NAME`` (or ``--all``) trains them again and rewrites the
store. A newcomer finds the runs behind any figure here, by the name the chapter uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .config import TrainConfig


@dataclass(frozen=True)
class Experiment:
    name: str
    chapter: str
    description: str
    configs: Callable[[], list[TrainConfig]]


EXPERIMENTS: dict[str, Experiment] = {}


def register(name: str, chapter: str, description: str):
    """Decorator: register a function returning the experiment's configs."""

    def wrap(fn: Callable[[], list[TrainConfig]]) -> Callable[[], list[TrainConfig]]:
        if name in EXPERIMENTS:
            raise ValueError(f"experiment {name!r} registered twice")
        EXPERIMENTS[name] = Experiment(name, chapter, description, fn)
        return fn

    return wrap


def get(name: str) -> list[TrainConfig]:
    """The configs of a named experiment."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; known: {', '.join(sorted(EXPERIMENTS))}")
    return EXPERIMENTS[name].configs()


# ---- Chapter 2: the first grokking run --------------------------------------------------

CANONICAL_MLP = TrainConfig(op="add", p=97, train_frac=0.3, model="mlp", lr=1e-3, weight_decay=1.0,
                            steps=20_000)


@register("ch2_mlp", "02_first_run", "Canonical MLP: a+b mod 97, 30% train, AdamW lr 1e-3, wd 1.")
def _ch2_mlp() -> list[TrainConfig]:
    return [CANONICAL_MLP]
