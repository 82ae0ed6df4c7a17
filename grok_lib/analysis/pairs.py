"""Runs paired across one config field: the same cell and seed trained two ways (say, sum
and concat merging), so the two ways are compared run for run rather than in aggregate."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from grok_lib.analysis.tables import group_by

Pair = tuple[Any, Any]


def pair_up(rows: Iterable[Mapping[str, Any]], by: Sequence[str], field: str, values: Pair,
            key: str = "generalised_at") -> dict[tuple, Pair]:
    """Per group of rows sharing ``by``: (``key`` where ``field`` is values[0], ``key`` where it
    is values[1]). Groups come in the order `group_by` forms them; each must hold both values, once."""
    out = {}
    for group_key, group in group_by(rows, *by).items():
        seen = {row[field]: row[key] for row in group}
        if len(seen) != len(group):
            raise ValueError(f"group {group_key} has two rows with the same {field}")
        missing = [v for v in values if v not in seen]
        if missing:
            raise ValueError(f"group {group_key} has no row with {field}={missing[0]!r}")
        out[group_key] = (seen[values[0]], seen[values[1]])
    return out


@dataclass(frozen=True)
class PairCounts:
    """Outcomes of paired events (say, steps of generalisation), None meaning 'never'."""

    n: int  # pairs
    first_only: int  # the first happened, the second never did
    second_only: int
    both: int
    second_later: int  # of `both`: the second came strictly later


def compare_pairs(pairs: Iterable[Pair]) -> PairCounts:
    """Count who got there, and who got there later, over paired steps."""
    pairs = list(pairs)
    both = [(a, b) for a, b in pairs if a is not None and b is not None]
    return PairCounts(
        n=len(pairs),
        first_only=sum(a is not None and b is None for a, b in pairs),
        second_only=sum(a is None and b is not None for a, b in pairs),
        both=len(both),
        second_later=sum(b > a for a, b in both),
    )
