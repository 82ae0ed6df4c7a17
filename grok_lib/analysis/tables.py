"""Tables the experiment chapters read off many stored runs: one row per run, rows grouped
and counted by phase, the smallest training fraction that generalises, and Markdown.

Everything here works on histories (plain dicts of lists), `Run` objects or the rows made
from them, so a test can feed it synthetic histories with known answers.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from grok_lib.analysis.phases import GROK_RATIO, PHASES, THRESHOLD, classify, grokking_summary
from grok_lib.task.operations import get_operation
from grok_lib.training.record import Run


def summary_row(run: Run, threshold: float = THRESHOLD, grok_factor: float = GROK_RATIO) -> dict[str, Any]:
    """One run as a flat row: the config fields that vary in sweeps, then what happened."""
    cfg, hist = run.config, run.history
    s = grokking_summary(hist, threshold)
    return {
        "op": cfg.op, "p": cfg.p, "merge": cfg.merge, "n_hidden": cfg.n_hidden, "d_hidden": cfg.d_hidden,
        "optimizer": cfg.optimizer, "lr": cfg.lr, "weight_decay": cfg.weight_decay, "train_frac": cfg.train_frac,
        "label_noise": cfg.label_noise, "seed": cfg.seed, "steps": cfg.steps, "norm_constraint": cfg.norm_constraint,
        "memorised_at": s.memorised_at, "generalised_at": s.generalised_at, "delay": s.delay,
        "final_train_acc": s.final_train_acc, "final_val_acc": s.final_val_acc,
        "phase": classify(hist, threshold, grok_factor),
    }


def summary_rows(runs: Iterable[Run], **kw: Any) -> list[dict[str, Any]]:
    """`summary_row` of each run, in order: the rows every sweep table and figure starts from."""
    return [summary_row(r, **kw) for r in runs]


def group_by(rows: Iterable[Mapping[str, Any]], *keys: str) -> dict[tuple, list[Mapping[str, Any]]]:
    """Rows grouped by the values of ``keys`` (insertion order kept)."""
    out: dict[tuple, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        out[tuple(row[k] for k in keys)].append(row)
    return dict(out)


def majority(phases: Sequence[str]) -> str:
    """The most common phase; ties go to the later phase in `PHASES` order of success
    (comprehension, grokking, memorisation, confusion), i.e. to the *less* successful one."""
    if not phases:
        raise ValueError("no phases to take a majority of")
    counts = Counter(phases)
    best = max(counts.values())
    return [p for p in PHASES if counts.get(p) == best][-1]


@dataclass(frozen=True)
class PhaseTable:
    """Phases of runs on a grid: ``cells[(row_value, col_value)]`` lists one phase per seed."""

    row_key: str
    col_key: str
    rows: list[Any]
    cols: list[Any]
    cells: dict[tuple[Any, Any], list[str]]

    def majority(self, r: Any, c: Any) -> str | None:
        phases = self.cells.get((r, c))
        return majority(phases) if phases else None

    def counts(self) -> Counter:
        """How many runs of each phase in the whole table."""
        return Counter(p for ps in self.cells.values() for p in ps)

    def agreement(self) -> float:
        """Share of runs whose phase equals their cell's majority (1.0: seeds never disagree)."""
        total = sum(len(ps) for ps in self.cells.values())
        agree = sum(ps.count(majority(ps)) for ps in self.cells.values())
        return agree / total if total else math.nan


def phase_table(rows: Iterable[Mapping[str, Any]], row_key: str = "weight_decay",
                col_key: str = "train_frac") -> PhaseTable:
    """Collect each run's phase into a grid over two config fields (rows from `summary_rows`)."""
    cells: dict[tuple[Any, Any], list[str]] = defaultdict(list)
    for row in rows:
        cells[(row[row_key], row[col_key])].append(row["phase"])
    rvals = sorted({r for r, _ in cells})
    cvals = sorted({c for _, c in cells})
    return PhaseTable(row_key, col_key, rvals, cvals, dict(cells))


def phase_counts(rows: Iterable[Mapping[str, Any]], *keys: str) -> dict[tuple, dict[str, int]]:
    """Per group of rows (as `group_by` forms them): how many runs ended in each phase, every
    phase listed in `PHASES` order, zeros included, so the counts line up as table columns."""
    out = {}
    for key, group in group_by(rows, *keys).items():
        counts = Counter(row["phase"] for row in group)
        out[key] = {phase: counts[phase] for phase in PHASES}
    return out


def n_generalised(rows: Iterable[Mapping[str, Any]]) -> int:
    """How many of the summary rows generalised within their budget."""
    return sum(row["generalised_at"] is not None for row in rows)


def smallest_generalising_fraction(rows: Iterable[Mapping[str, Any]], by: str = "op",
                                   quorum: float = 0.5) -> dict[Any, float | None]:
    """Per value of ``by``: the smallest training fraction at which at least ``quorum`` of the
    runs generalised within their budget, and every larger fraction tried did as well
    (None if no fraction qualifies)."""
    out: dict[Any, float | None] = {}
    for (key,), group in group_by(rows, by).items():
        ok = {}
        for (frac,), cell in group_by(group, "train_frac").items():
            ok[frac] = n_generalised(cell) >= quorum * len(cell)
        fracs = sorted(ok)
        best = None
        for f in reversed(fracs):
            if not ok[f]:
                break
            best = f
        out[key] = best
    return out


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A GitHub-flavoured Markdown table (for `IPython.display.Markdown`); None shows as '—'."""
    cell = lambda v: "—" if v is None else f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else str(v)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def formula_label(op: str) -> str:
    """An operation's formula without its '(mod p)', short enough for a table row or a legend."""
    return get_operation(op).formula.replace(" (mod p)", "")
