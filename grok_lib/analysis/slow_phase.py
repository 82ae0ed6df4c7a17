"""The slow phase of a grokking run -- after memorising, before generalising -- read from its logged norms.

In that phase the training loss is already small and what moves is the weight norm. AdamW's decoupled
weight decay multiplies every weight by (1 - lr·wd) each step, so on its own it would shrink the norm
at the rate ``-ln(1 - lr·wd)`` per step (`pure_decay_rate`); the gradient steps push back. The history
stores the norm at every logged step, so how hard they pushed back can be measured without the
optimiser's state:

- `decay_share`: how fast the norm actually fell, as a share of the pure-decay rate (1: nothing
  pushed back; 0: the norm held still);
- `slow_phase`: that share over the phase's first `EARLY_WINDOW` steps and after them, and the norm,
  training loss, gradient norm and effective learning rate lr/|w|^2 along the way;
- `catch_up_steps`: how long a norm falling at a measured share takes to fall from one value to another;
- `beta2_rows`, `steps_table`, `slow_table`, `contrast`: chapter 5's sweep over Adam's β2 as rows, as
  tables, and two of its groups side by side.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from grok_lib.analysis.counts import mlp_param_count
from grok_lib.analysis.phases import THRESHOLD, grokking_summary
from grok_lib.analysis.spread import spread
from grok_lib.analysis.tables import group_by, summary_row
from grok_lib.training.record import Run


def pure_decay_rate(lr: float, weight_decay: float) -> float:
    """Per-step fall of ln|w| under decoupled weight decay alone: w <- (1 - lr·wd) w."""
    return -math.log1p(-lr * weight_decay)


def log_norm_rate(steps: Sequence[float], norms: Sequence[float], start: float, end: float) -> float:
    """Average per-step fall of ln|w| from ``start`` to ``end`` (ln|w| read linearly between logged
    rows, which is exact when the norm decays exponentially between them)."""
    if end <= start:
        raise ValueError(f"need end > start, got {start} and {end}")
    log_w = np.interp([start, end], steps, np.log(np.asarray(norms, dtype=float)))
    return float(log_w[0] - log_w[1]) / (end - start)


def decay_share(steps: Sequence[float], norms: Sequence[float], start: float, end: float, lr: float,
                weight_decay: float) -> float:
    """How fast the norm fell between ``start`` and ``end``, as a share of what weight decay alone
    would give: 1 - share is the part of the decay that the gradient steps undid."""
    return log_norm_rate(steps, norms, start, end) / pure_decay_rate(lr, weight_decay)


# The slow phase is read in two parts: its first EARLY_WINDOW steps and the rest. Three memories of
# the longest second-moment average in chapter 5 (Adam's beta2 = 0.999 averages over ~1/(1 - beta2) =
# 1,000 steps): by then that average keeps e^-3, 5%, of what it held at memorisation.
EARLY_WINDOW = 3_000


@dataclass(frozen=True)
class SlowPhase:
    """What a run's slow phase looked like; ``*_then``: at the end of the early window."""

    memorised_at: int
    generalised_at: int
    window_end: float  # memorised_at + EARLY_WINDOW, or generalised_at if that came first
    norm_at_memorised: float
    norm_then: float
    norm_at_generalised: float
    decay_share: float  # the norm's fall over the whole phase, as a share of pure weight decay's
    early_share: float  # ... over the early window
    late_share: float | None  # ... after it (None if the run generalised within the window)
    train_loss_then: float
    grad_norm_then: float
    eff_lr_then: float  # lr / |w|^2


def _log_interp(t: float, steps: Sequence[float], values: Sequence[float]) -> float:
    """``values`` at step ``t``, read linearly in log between logged rows (all positive)."""
    return float(np.exp(np.interp(t, steps, np.log(np.asarray(values, dtype=float)))))


def slow_phase(history: Mapping[str, Sequence[float]], lr: float, weight_decay: float,
               window: int = EARLY_WINDOW, threshold: float = THRESHOLD) -> SlowPhase | None:
    """The slow phase between the logged steps of memorisation and generalisation (None unless
    both happened, in that order), read in its first ``window`` steps and after them.

    The gradient norm, effective learning rate and training loss are read at the end of the window
    (log-linearly between logged rows): a point in the phase that every run reaches at the same
    step after memorising, so the runs can be compared there."""
    s = grokking_summary(history, threshold)
    if s.memorised_at is None or s.generalised_at is None or s.generalised_at <= s.memorised_at:
        return None
    steps, norms = history["step"], history["weight_norm"]
    t0, t1 = s.memorised_at, s.generalised_at
    te = min(t0 + window, t1)
    share = lambda a, b: decay_share(steps, norms, a, b, lr, weight_decay)  # noqa: E731
    # the last logged row carries no gradient (NaN): read those at the rows that have one
    grad_steps = [t for t, g in zip(steps, history["grad_norm"], strict=True) if math.isfinite(g)]
    finite = lambda key: [v for v in history[key] if math.isfinite(v)]  # noqa: E731
    return SlowPhase(t0, t1, te, _log_interp(t0, steps, norms), _log_interp(te, steps, norms),
                     _log_interp(t1, steps, norms), share(t0, t1), share(t0, te), share(te, t1) if t1 > te else None,
                     _log_interp(te, steps, history["train_loss"]), _log_interp(te, grad_steps, finite("grad_norm")),
                     _log_interp(te, grad_steps, finite("eff_lr")))


def catch_up_steps(norm_from: float, norm_to: float, share: float, lr: float, weight_decay: float) -> float:
    """Steps the norm takes to fall from ``norm_from`` to ``norm_to`` when it falls at ``share`` of
    pure weight decay's rate: how far ahead of another run a run with a smaller norm is."""
    return math.log(norm_from / norm_to) / (share * pure_decay_rate(lr, weight_decay))


def setting_label(p: int, n_hidden: int) -> str:
    """A β2 sweep's setting in words: the table and the depth."""
    return f"a + b mod {p}, {n_hidden} hidden layer{'s' if n_hidden > 1 else ''}"


def beta2_rows(runs: Iterable[Run]) -> list[dict[str, Any]]:
    """One row per run of a sweep over Adam's β2: `summary_row`, the β2, the setting in words, the
    parameter count, and the `SlowPhase` fields prefixed ``slow_`` (absent if it never generalised)."""
    rows = []
    for run in runs:
        cfg = run.config
        row = dict(summary_row(run), beta2=cfg.betas[1], setting=setting_label(cfg.p, cfg.n_hidden),
                   n_params=mlp_param_count(cfg))
        phase = slow_phase(run.history, cfg.lr, cfg.weight_decay)
        if phase is not None:
            row.update({f"slow_{k}": v for k, v in asdict(phase).items()})
        rows.append(row)
    return rows


def median_of(rows: Iterable[Mapping[str, Any]], key: str) -> float:
    """The median of ``key`` over the rows that have it (NaN if none)."""
    vals = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(vals) if vals else math.nan


CONTRAST_KEYS = {"norm_mem": "slow_norm_at_memorised", "norm_then": "slow_norm_then",
                 "norm_gen": "slow_norm_at_generalised", "early": "slow_early_share", "late": "slow_late_share",
                 "loss": "slow_train_loss_then", "grad": "slow_grad_norm_then", "efflr": "slow_eff_lr_then",
                 "gen": "generalised_at"}


def contrast(lo: Sequence[Mapping[str, Any]], hi: Sequence[Mapping[str, Any]], lr: float,
             weight_decay: float) -> dict[str, float]:
    """Two groups of `beta2_rows` (say, one setting at the smallest and the largest β2), side by side:
    the median of each slow-phase measure as ``<name>_lo`` / ``<name>_hi`` (names in `CONTRAST_KEYS`),
    and what the chapter reads off them: the share of weight decay the gradient steps undid early on
    (``undo_*``), the ratios of gradient norms and effective learning rates (hi / lo), how many steps
    later ``lo`` generalised (``gen_gap``), and how long ``lo``'s norm, falling at its late rate, takes
    to catch up with ``hi``'s at the end of the early window (``catch_up``, `catch_up_steps`)."""
    med = {f"{name}_{end}": median_of(group, key) for name, key in CONTRAST_KEYS.items()
           for end, group in (("lo", lo), ("hi", hi))}
    return med | {"undo_lo": 1 - med["early_lo"], "undo_hi": 1 - med["early_hi"],
                  "grad_ratio": med["grad_hi"] / med["grad_lo"], "efflr_ratio": med["efflr_hi"] / med["efflr_lo"],
                  "gen_gap": med["gen_lo"] - med["gen_hi"],
                  "catch_up": catch_up_steps(med["norm_then_lo"], med["norm_then_hi"], med["late_lo"], lr,
                                             weight_decay)}


MERGE_NAMES = {"sum": "summed", "concat": "concatenated"}


def steps_table(rows: Iterable[Mapping[str, Any]]) -> list[list[str]]:
    """Per setting, merge and β2 (in the rows' order): the steps of memorisation and generalisation
    over seeds (`Spread.text`), and how many times later concatenation generalised than summing at the
    median (on the concatenated rows)."""
    groups = group_by(rows, "setting", "merge", "beta2")
    out = []
    for (setting, merge, beta2), group in groups.items():
        gen = spread(r["generalised_at"] for r in group)
        ratio = ""
        if merge == "concat" and (setting, "sum", beta2) in groups:
            ratio = f"{gen.median / median_of(groups[(setting, 'sum', beta2)], 'generalised_at'):.1f}×"
        out.append([setting, MERGE_NAMES.get(merge, merge), f"{beta2:g}",
                    spread(r["memorised_at"] for r in group).text(), gen.text(), ratio])
    return out


STEPS_HEADER = ("setting", "embeddings", "β2", "memorised at step", "generalised at step", "concat / sum")

SLOW_HEADER = ("setting", "embeddings", "β2", f"norm: memorised → {EARLY_WINDOW:,} steps later → generalised",
               f"norm's fall, first {EARLY_WINDOW:,} steps (share of pure decay)", "after them",
               f"training loss {EARLY_WINDOW:,} steps after memorising", "gradient norm then", "lr / |w|² then")


def _share(x: float) -> str:
    return "—" if x is None or math.isnan(x) else f"{x:.1%}"


def slow_table(rows: Iterable[Mapping[str, Any]]) -> list[list[str]]:
    """Per setting, merge and β2: the `slow_phase` measures, medians over seeds."""
    out = []
    for (setting, merge, beta2), group in group_by(rows, "setting", "merge", "beta2").items():
        med = {k: median_of(group, f"slow_{k}") for k in (
            "norm_at_memorised", "norm_then", "norm_at_generalised", "early_share", "late_share", "train_loss_then",
            "grad_norm_then", "eff_lr_then")}
        out.append([setting, MERGE_NAMES.get(merge, merge), f"{beta2:g}",
                    f"{med['norm_at_memorised']:.0f} → {med['norm_then']:.0f} → {med['norm_at_generalised']:.0f}",
                    _share(med["early_share"]), _share(med["late_share"]), f"{med['train_loss_then']:.0e}",
                    f"{med['grad_norm_then']:.0e}", f"{med['eff_lr_then']:.1e}"])
    return out
