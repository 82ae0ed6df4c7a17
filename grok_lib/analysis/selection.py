"""Picking runs out of a sweep by their config fields.

A chapter loads a whole sweep, then looks at a slice of it: the runs with weight decay 1,
the one run at seed 0 for each weight decay, the best of the SGD runs. The helpers here
take runs, configs or summary rows alike, so the same call works on whichever the chapter
holds at that point.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from grok_lib.analysis.phases import grokking_summary
from grok_lib.training.record import Run

T = TypeVar("T")


def _field_of(item: Any, name: str) -> Any:
    """A config field of a run, a config, or a summary row (a mapping); an unknown name raises."""
    if isinstance(item, Mapping):
        return item[name]
    config = item.config if isinstance(item, Run) else item
    return getattr(config, name)


def where(items: Iterable[T], **fields: Any) -> list[T]:
    """The items whose fields equal the given values, in their original order."""
    return [item for item in items if all(_field_of(item, k) == v for k, v in fields.items())]


def pick(items: Iterable[T], **fields: Any) -> T:
    """The one item with the given field values; more or fewer is an error, not a silent choice."""
    found = where(items, **fields)
    if len(found) != 1:
        raise ValueError(f"{len(found)} items match {fields}, expected exactly one")
    return found[0]


def index_by(items: Iterable[T], field: str, **fields: Any) -> dict[Any, T]:
    """The items matching ``fields``, keyed by (and sorted on) ``field``; each value must occur once."""
    out: dict[Any, T] = {}
    for item in where(items, **fields):
        key = _field_of(item, field)
        if key in out:
            raise ValueError(f"two items have {field}={key!r} among those matching {fields}")
        out[key] = item
    return {key: out[key] for key in sorted(out)}


def distinct(items: Iterable[Any], field: str, **fields: Any) -> list[Any]:
    """The values ``field`` takes among the items matching ``fields``, sorted."""
    return sorted({_field_of(item, field) for item in where(items, **fields)})


def best_run(runs: Iterable[Run]) -> Run:
    """The run that generalised first; if none did, the one with the highest final validation
    accuracy (the first such run on ties). This is the run a fair comparison of optimisers shows."""
    def rank(run: Run) -> tuple[bool, int, float]:
        s = grokking_summary(run.history)
        return s.generalised_at is None, s.generalised_at or 0, -s.final_val_acc

    return min(runs, key=rank)
