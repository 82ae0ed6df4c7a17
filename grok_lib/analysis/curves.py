"""Curves read off histories and sweeps: a run's last value, a peak, a dip-rise-fall in one
run's validation loss, and the test loss against hidden width of chapter 6's sweep."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from grok_lib.analysis.selection import where
from grok_lib.analysis.tables import summary_row
from grok_lib.training.record import Run

Curve = tuple[list[Any], list[Any]]  # (xs, ys), as the figures take them


def _last_finite(values: Sequence[float]) -> float:
    for v in reversed(values):
        if not (isinstance(v, float) and math.isnan(v)):
            return float(v)
    return math.nan


def final_value(history: Mapping[str, Sequence[float]], key: str) -> float:
    """The last finite logged value of ``key``."""
    return _last_finite(history[key])


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
    return best[0], best[1], best[2], _last_finite(values)


def error_rows(runs: Iterable[Run]) -> list[dict[str, Any]]:
    """Summary rows with the final test loss, test error and train error added: what a
    double-descent curve plots (the validation split is the test set here)."""
    return [dict(summary_row(r), test_loss=final_value(r.history, "val_loss"),
                 test_error=1 - final_value(r.history, "val_acc"),
                 train_error=1 - final_value(r.history, "train_acc")) for r in runs]


def curve(rows: Iterable[Mapping[str, Any]], x: str, y: str, **fields: Any) -> Curve:
    """``y`` against ``x`` over the rows matching ``fields``, in increasing ``x``."""
    sel = sorted(where(rows, **fields), key=lambda r: r[x])
    return [r[x] for r in sel], [r[y] for r in sel]


def width_curve(rows: Iterable[Mapping[str, Any]], train_frac: float, label_noise: float, weight_decay: float,
                y: str = "test_loss") -> Curve:
    """``y`` against hidden width for one (training fraction, label noise, weight decay)."""
    return curve(rows, "d_hidden", y, train_frac=train_frac, label_noise=label_noise, weight_decay=weight_decay)


def narrowest_fit(rows: Iterable[Mapping[str, Any]], train_frac: float, label_noise: float, weight_decay: float,
                  max_error: float = 0.01) -> int | None:
    """The narrowest width whose train error is at most ``max_error``: where the network first
    fits its (noisy) training set, the interpolation threshold. None if no width does."""
    widths, errors = width_curve(rows, train_frac, label_noise, weight_decay, "train_error")
    return next((w for w, e in zip(widths, errors, strict=True) if e <= max_error), None)


def value_at(xy: Curve, x: Any) -> Any:
    """The y of a curve at a given x (a KeyError if the curve has no such x)."""
    return dict(zip(*xy, strict=True))[x]
