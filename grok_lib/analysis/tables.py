"""Tables the experiment chapters read off many stored runs: one row per run, phase
diagrams, seed spreads, the smallest training fraction that generalises, parameter counts.

Everything here works on histories (plain dicts of lists) or `Run` objects, so a test can
feed it synthetic histories with known answers.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from grok_lib.analysis.phases import PHASES, THRESHOLD, classify, grokking_summary
from grok_lib.task.data import train_size
from grok_lib.task.operations import get_operation
from grok_lib.training.config import TrainConfig
from grok_lib.training.record import Run

__all__ = [
    "PhaseTable", "Spread", "final_value", "group_by", "majority", "markdown_table", "mlp_param_count", "n_train",
    "peak", "phase_table", "rise_then_fall", "smallest_generalising_fraction", "spread", "summary_row",
    "summary_rows", "symmetric_ceiling",
]


def summary_row(run: Run, threshold: float = THRESHOLD, grok_factor: float = 2.0) -> dict[str, Any]:
    """One run as a flat row: the config fields that vary in sweeps, then what happened."""
    cfg, hist = run.config, run.history
    s = grokking_summary(hist, threshold)
    return {
        "op": cfg.op, "p": cfg.p, "merge": cfg.merge, "n_hidden": cfg.n_hidden, "d_hidden": cfg.d_hidden,
        "optimizer": cfg.optimizer, "lr": cfg.lr, "weight_decay": cfg.weight_decay, "train_frac": cfg.train_frac,
        "label_noise": cfg.label_noise, "seed": cfg.seed, "steps": cfg.steps,
        "memorised_at": s.memorised_at, "generalised_at": s.generalised_at, "delay": s.delay,
        "final_train_acc": s.final_train_acc, "final_val_acc": s.final_val_acc,
        "phase": classify(hist, threshold, grok_factor),
    }


def summary_rows(runs: Iterable[Run], **kw: Any) -> list[dict[str, Any]]:
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


@dataclass(frozen=True)
class Spread:
    """How a quantity (say, the step of generalisation) varies over seeds."""

    values: tuple[float, ...]  # the finite values, sorted
    n: int  # runs asked about, including those where the event never happened
    missing: int  # runs where it never happened within the budget

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else math.nan

    @property
    def min(self) -> float:
        return self.values[0] if self.values else math.nan

    @property
    def max(self) -> float:
        return self.values[-1] if self.values else math.nan

    def quartiles(self) -> tuple[float, float]:
        if len(self.values) < 2:
            return (self.median, self.median)
        q = statistics.quantiles(self.values, n=4, method="inclusive")
        return (q[0], q[2])

    def text(self, unit: str = "") -> str:
        """``median (min–max), k of n`` in words, for prose and tables."""
        if not self.values:
            return f"never within the budget (0 of {self.n})"
        u = f" {unit}" if unit else ""
        core = f"{self.median:,.0f}{u} (range {self.min:,.0f}–{self.max:,.0f})"
        return core if not self.missing else f"{core}; {self.n - self.missing} of {self.n} runs"


def spread(values: Iterable[float | None]) -> Spread:
    """Spread of values over seeds; None or NaN counts as 'never happened'."""
    vals = list(values)
    finite = sorted(float(v) for v in vals if v is not None and not (isinstance(v, float) and math.isnan(v)))
    return Spread(tuple(finite), len(vals), len(vals) - len(finite))


def smallest_generalising_fraction(rows: Iterable[Mapping[str, Any]], by: str = "op",
                                   quorum: float = 0.5) -> dict[Any, float | None]:
    """Per value of ``by``: the smallest training fraction at which at least ``quorum`` of the
    runs generalised within their budget, and every larger fraction tried did as well
    (None if no fraction qualifies)."""
    out: dict[Any, float | None] = {}
    for (key,), group in group_by(rows, by).items():
        ok = {}
        for (frac,), cell in group_by(group, "train_frac").items():
            ok[frac] = sum(r["generalised_at"] is not None for r in cell) >= quorum * len(cell)
        fracs = sorted(ok)
        best = None
        for f in reversed(fracs):
            if not ok[f]:
                break
            best = f
        out[key] = best
    return out


def mlp_param_count(cfg: TrainConfig) -> int:
    """Trainable parameters of the course MLP for a config (embedding, hidden layers, readout)."""
    if cfg.model != "mlp":
        raise ValueError("mlp_param_count counts the MLP only")
    op = get_operation(cfg.op)
    n = op.n_elements(cfg.p)
    d, h = cfg.d_embed, cfg.d_hidden
    d_in = d if cfg.merge == "sum" else 2 * d
    return n * d + (d_in + 1) * h + (cfg.n_hidden - 1) * (h + 1) * h + (h + 1) * n


def n_train(cfg: TrainConfig) -> int:
    """Training pairs of a config (as `data.split_indices` counts them)."""
    return train_size(get_operation(cfg.op).n_pairs(cfg.p), cfg.train_frac)


def final_value(history: Mapping[str, Sequence[float]], key: str) -> float:
    """The last finite logged value of ``key``."""
    for v in reversed(history[key]):
        if not (isinstance(v, float) and math.isnan(v)):
            return float(v)
    return math.nan


def peak(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float]:
    """(x, y) where y is largest; for locating a double-descent peak."""
    if not xs or len(xs) != len(ys):
        raise ValueError("need equally long, non-empty xs and ys")
    i = max(range(len(ys)), key=lambda k: ys[k])
    return xs[i], ys[i]


def rise_then_fall(values: Sequence[float]) -> tuple[int, float, float, float] | None:
    """For a curve that falls, rises, then falls again (epoch-wise double descent): the index
    of the largest rise above an earlier minimum, and (that minimum, the peak, the final value).
    None when the curve never rises above an earlier value."""
    best: tuple[int, float, float] | None = None
    low = math.inf
    for i, x in enumerate(values):
        if math.isnan(x):
            continue
        low = min(low, x)
        if x > low and (best is None or x - low > best[2] - best[1]):
            best = (i, low, x)
    if best is None:
        return None
    return best[0], best[1], best[2], final_value({"v": list(values)}, "v")


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A GitHub-flavoured Markdown table (for `IPython.display.Markdown`); None shows as '—'."""
    cell = lambda v: "—" if v is None else f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else str(v)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def symmetric_ceiling(op: str, p: int, idx: Sequence[int] | None = None) -> float:
    """The best accuracy *any* function with f(a, b) = f(b, a) can reach on the cells ``idx``
    of an operation's table (all cells when None).

    A model that sums the two embeddings is such a function, whatever its weights. For each
    unordered pair {a, b} whose two cells are both in ``idx`` it must give one answer, so it
    gets both right only if the two labels agree, and one of them otherwise.
    """
    from grok_lib.task.operations import operation_table

    a, b, c = (t.tolist() for t in operation_table(op, p))
    cells = range(len(c)) if idx is None else [int(i) for i in idx]
    where = {(a[i], b[i]): i for i in cells}
    right = 0
    for (x, y), i in where.items():
        j = where.get((y, x))
        if j is None or x == y or c[i] == c[j]:
            right += 1
        elif (x, y) < (y, x):  # a disagreeing pair: one of the two, counted once
            right += 1
    return right / len(where) if where else math.nan
