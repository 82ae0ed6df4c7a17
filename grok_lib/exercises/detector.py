"""Checks for exercise 4, parts 1 to 3: the grokking detector, the moment read between logged rows,
and the phase classifier.

Each check feeds the learner's function synthetic histories whose answers the library knows
(`grok_lib.analysis.phases` is the reference: `grokking_summary`, `crossing_step`, `classify`).
The histories cover all four phases and the edges where hand-written versions usually slip: a
value exactly at the threshold, a run that never gets there, a moment at step 0, a curve that
rises and falls back, a NaN row, a logging grid that is dense early, and moments that straddle
the grokking line on the logged grid but not between rows. A wrong answer raises an
``AssertionError`` naming the history and the likely slip; success prints one line starting
with ✓. CPU only, instant.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from grok_lib.analysis.phases import (
    GROK_RATIO,
    PHASES,
    classify,
    crossing_step,
    first_step_at,
    grokking_summary,
)
from grok_lib.training.bookkeeping import log_steps
from grok_lib.training.config import THRESHOLD

from .answers import fail, fn_name

Curve = list[float]
History = dict[str, list]

GRID = log_steps(2000, 50)  # the trainer's grid: about 16 rows a decade below 50, then every 50 steps


def ramp(steps: list[int], begin: float, end: float, top: float = 1.0) -> Curve:
    """An accuracy that is 0 until step ``begin``, rises linearly to ``top`` at step ``end``, then stays."""
    return [top * min(max((s - begin) / (end - begin), 0.0), 1.0) if end > begin else float(s >= begin) * top
            for s in steps]


def history(train: Curve, val: Curve, steps: list[int] = GRID) -> History:
    return {"step": list(steps), "train_acc": list(train), "val_acc": list(val)}


def _cases() -> dict[str, tuple[History, float]]:
    """Named histories and the threshold to read them at."""
    g, flat = GRID, [0.0] * len(GRID)
    peak = ramp(g, 300, 600)
    rises_and_falls = [v if s <= 800 else 0.5 for s, v in zip(g, peak, strict=True)]
    with_nan = ramp(g, 200, 900)
    with_nan[g.index(700)] = math.nan
    exactly = [0.0, 0.5, 0.99, 0.99, 1.0]
    return {
        "grokking (train at step 30, validation at step 1,000)": (history(ramp(g, 5, 30), ramp(g, 700, 1000)),
                                                                   THRESHOLD),
        "comprehension (train at step 40, validation at step 150)": (history(ramp(g, 5, 40), ramp(g, 60, 150)),
                                                                      THRESHOLD),
        "memorisation (validation stays at 60%)": (history(ramp(g, 5, 30), ramp(g, 20, 300, top=0.6)), THRESHOLD),
        "confusion (training accuracy stays at 80%)": (history(ramp(g, 5, 300, top=0.8), flat), THRESHOLD),
        "training accuracy exactly at the threshold (0.99 on one row)": (
            history(exactly, [0.0, 0.1, 0.2, 0.98, 0.995], [0, 10, 20, 30, 40]), THRESHOLD),
        "both already learned at step 0": (history([1.0] * 4, [1.0] * 4, [0, 1, 2, 3]), THRESHOLD),
        "validation reaches 100% at step 600, then falls back to 50%": (history(ramp(g, 5, 30), rises_and_falls),
                                                                         THRESHOLD),
        "a NaN row (diverged for one log) before validation gets there": (history(ramp(g, 5, 30), with_nan),
                                                                           THRESHOLD),
        "read at threshold 0.5 instead of 0.99": (history(ramp(g, 5, 30), ramp(g, 100, 1000)), 0.5),
    }


def _describe(hist: History) -> str:
    rows = list(zip(hist["step"], hist["train_acc"], hist["val_acc"], strict=True))[:6]
    return "(step, train_acc, val_acc) rows begin " + ", ".join(f"({s}, {t:.3g}, {v:.3g})" for s, t, v in rows)


def _steps_hint(hist: History, threshold: float, got: tuple, want: tuple) -> str:
    """The likely slip behind a wrong (memorised_at, generalised_at), read from what it returned."""
    if got == want[::-1]:
        return " The two are swapped: memorised reads train_acc, generalised reads val_acc."
    steps = hist["step"]
    for g, w, key in zip(got, want, ("train_acc", "val_acc"), strict=True):
        if g == w:
            continue
        values = hist[key]
        above = [s for s, v in zip(steps, values, strict=True) if v >= threshold]
        strictly = [s for s, v in zip(steps, values, strict=True) if v > threshold]
        if w is None:
            return f" {key} never reaches {threshold}: return None then, not {g!r}."
        if w == 0 and g is None:
            return " Step 0 counts: test `step is None`, not the truth of a step (0 is false in Python)."
        if g == steps.index(w) and g != w:
            return " You returned the row's position; return the step logged in that row, history['step'][i]."
        if strictly and g == strictly[0]:
            return f" A value equal to the threshold counts: {key} ≥ {threshold} (>=, not >)."
        if g == above[-1]:
            return f" Take the *first* logged step at which {key} ≥ {threshold}, even if it falls back later."
        if g is not None and g == first_step_at(steps, values, THRESHOLD):
            return f" That is where it reaches {THRESHOLD}: use the threshold you are given, {threshold}."
        return f" Take the first logged step at which {key} ≥ {threshold}."
    return ""


def check_grokking_steps(fn: Callable[..., object]) -> None:
    """``fn(history, threshold)`` should return (memorised_at, generalised_at) as `grokking_summary` reads them."""
    for name, (hist, threshold) in _cases().items():
        ref = grokking_summary(hist, threshold)
        want = (ref.memorised_at, ref.generalised_at)
        got = fn(hist, threshold)
        call = f"{fn_name(fn)}(history, threshold={threshold}) for the history '{name}'"
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            fail(f"{call} should return a pair (memorised_at, generalised_at); it returned {got!r}.")
        got = tuple(got)
        if got == want:
            continue
        fail(f"{call}: expected {want}, got {got}.{_steps_hint(hist, threshold, got, want)} The {_describe(hist)}.")
    print(f"✓ memorised and generalised steps match grokking_summary on {len(_cases())} histories "
          "(all four phases, a value exactly at the threshold, step 0, a NaN row, a curve that falls back)")


def _crossing_cases() -> list[tuple[str, list[int], Curve, float]]:
    g = GRID
    return [
        ("a straight rise between two logged rows", [0, 50, 100], [0.0, 0.5, 1.0], THRESHOLD),
        ("a rise on the trainer's grid", g, ramp(g, 10, 475), THRESHOLD),
        ("a curve already above the threshold in its first row", [0, 10, 20], [1.0, 1.0, 1.0], THRESHOLD),
        ("a curve that never gets there", g, ramp(g, 10, 500, top=0.9), THRESHOLD),
        ("a row exactly at the threshold", [0, 10, 20, 30], [0.0, 0.5, 0.99, 1.0], THRESHOLD),
        ("a NaN row just before the crossing", [0, 10, 20, 30], [0.0, 0.4, math.nan, 1.0], THRESHOLD),
        ("threshold 0.5 on an uneven grid", [0, 3, 7, 20, 50], [0.0, 0.1, 0.3, 0.7, 1.0], 0.5),
    ]


def check_crossing_step(fn: Callable[..., object]) -> None:
    """``fn(steps, values, threshold)`` should return `crossing_step`'s moment (a float, or None)."""
    for name, steps, values, threshold in _crossing_cases():
        want = crossing_step(steps, values, threshold)
        got = fn(list(steps), list(values), threshold)
        call = f"{fn_name(fn)}(steps, values, threshold={threshold}) for {name}"
        if want is None or got is None:
            if got is not want:
                hint = " Return None when the values never reach the threshold." if want is None else ""
                fail(f"{call}: expected {want}, got {got!r}.{hint}")
            continue
        if not isinstance(got, (int, float)) or not math.isfinite(got):
            fail(f"{call}: expected the number {want:g}, got {got!r}. After a NaN row, return the step of the row "
                 "that reached the threshold.")
        if abs(got - want) > 1e-9 * max(1.0, abs(want)):
            i = next(i for i, v in enumerate(values) if v >= threshold)
            hint = ""
            if i > 0 and got == steps[i]:
                hint = (f" That is the first logged step at or above it; read the moment between rows {steps[i - 1]} "
                        f"and {steps[i]}: {steps[i - 1]} + (threshold − v₀)/(v₁ − v₀)·({steps[i]} − {steps[i - 1]}).")
            elif i == 0:
                hint = " The first row is already there: return its step (there is no row before to read from)."
            fail(f"{call}: expected {want:.6g}, got {got:.6g}.{hint} Steps {steps[:8]}, values "
                 f"{[round(v, 4) for v in values[:8]]}.")
    print(f"✓ crossing_step matches the library on {len(_crossing_cases())} curves (between rows, at a row, first "
          "row, never, after a NaN)")


def _phase_cases() -> dict[str, tuple[History, float, float]]:
    cases = {name: (h, t, GROK_RATIO) for name, (h, t) in _cases().items()}
    on_grid = list(range(0, 2001, 50))
    cases |= {
        # train first >= 0.99 in the row at step 50, validation in the row at 500: ten times later on the grid,
        # but read between rows memorisation came at step 49.5 and generalisation at 492, 9.9 times later
        "logged rows say 10x, read between rows 9.9x": (history(ramp(on_grid, 0, 50), ramp(on_grid, 0, 480),
                                                                on_grid), THRESHOLD, GROK_RATIO),
        # both reach exactly 0.99 in a row, at steps 10 and 100: exactly ten times later
        "validation exactly 10x as late as training": (history([0.0, 0.99, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.99, 1.0],
                                                               [0, 10, 50, 100, 150]), THRESHOLD, GROK_RATIO),
        "memorised at step 0, generalised at step 5": (history([1.0] * 6, ramp(range(6), 0, 5), list(range(6))),
                                                        THRESHOLD, GROK_RATIO),
        "the grokking line drawn at 3x instead of 10x": (history(ramp(on_grid, 0, 100), ramp(on_grid, 0, 500),
                                                                 on_grid), THRESHOLD, 3.0),
    }
    return cases


def check_phase(fn: Callable[..., object]) -> None:
    """``fn(history, threshold, grok_factor)`` should return `classify`'s phase for every history."""
    for name, (hist, threshold, factor) in _phase_cases().items():
        want = classify(hist, threshold, factor)
        got = fn(hist, threshold, factor)
        call = f"{fn_name(fn)}(history, threshold={threshold}, grok_factor={factor}) for the history '{name}'"
        if got not in PHASES:
            fail(f"{call} returned {got!r}; a phase is one of {list(PHASES)} (spelt as here).")
        if got != want:
            steps = hist["step"]
            t_mem, t_gen = crossing_step(steps, hist["train_acc"], threshold), crossing_step(steps, hist["val_acc"],
                                                                                             threshold)
            moments = f"memorised at {t_mem:.4g}" if t_mem is not None else "never memorised"
            moments += f", generalised at {t_gen:.4g}" if t_gen is not None else ", never generalised"
            fail(f"{call}: expected {want!r}, got {got!r}. Read between rows, it {moments}. The rule: confusion if "
                 "training never reaches the threshold; memorisation if validation never does; otherwise grokking "
                 "when t_gen ≥ grok_factor · max(t_mem, 1), else comprehension, with both moments from your "
                 "crossing_step (not the first logged steps).")
    print(f"✓ phases match grok_lib.analysis.classify on {len(_phase_cases())} histories, all four phases among them")
