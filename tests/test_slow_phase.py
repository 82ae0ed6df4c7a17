"""The slow-phase measures on histories whose norms follow known laws: a norm planted to fall at a
given share of weight decay's rate, and AdamW's own update simulated with a known outward push."""

from __future__ import annotations

import math

import numpy as np
import pytest

from grok_lib.analysis import markdown_table
from grok_lib.analysis.slow_phase import (
    EARLY_WINDOW,
    SLOW_HEADER,
    STEPS_HEADER,
    beta2_rows,
    catch_up_steps,
    contrast,
    decay_share,
    log_norm_rate,
    pure_decay_rate,
    slow_phase,
    slow_table,
    steps_table,
)
from grok_lib.training.config import TrainConfig
from grok_lib.training.record import Run

LR, WD = 1e-3, 1.0
R0 = -math.log(1 - LR * WD)
STEPS = list(range(0, 10_001, 100))


def test_pure_decay_rate_is_adamw_shrink_factor_per_step():
    assert pure_decay_rate(LR, WD) == pytest.approx(R0)
    assert pure_decay_rate(1e-2, 0.5) == pytest.approx(-math.log(0.995))
    # compounding the factor for n steps multiplies the norm by exp(-n * rate)
    assert 0.999 ** 700 == pytest.approx(math.exp(-700 * pure_decay_rate(LR, WD)))


def test_decay_share_of_a_planted_exponential_between_and_off_the_logged_rows():
    norms = [100 * math.exp(-0.3 * R0 * s) for s in STEPS]
    assert decay_share(STEPS, norms, 0, 10_000, LR, WD) == pytest.approx(0.3)
    assert decay_share(STEPS, norms, 150, 8_850, LR, WD) == pytest.approx(0.3)  # read between rows
    assert log_norm_rate(STEPS, norms, 200, 700) == pytest.approx(0.3 * R0)
    with pytest.raises(ValueError, match="end > start"):
        log_norm_rate(STEPS, norms, 700, 700)


def test_decay_share_of_simulated_adamw_steps():
    """Decoupled decay alone gives share 1; a gradient step pushing outward by c·lr·wd·|w| per step
    undoes a share c of it (to first order), so the share is 1 - c; a step of the same size but at
    right angles to w leaves the share at 1 to first order."""
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=500)
    for c, radial in [(0.0, True), (0.6, True), (0.6, False)]:
        w, norms = w0.copy(), []
        for t in range(2001):
            if t % 100 == 0:
                norms.append(float(np.linalg.norm(w)))
            size = c * LR * WD * np.linalg.norm(w)
            direction = w / np.linalg.norm(w)
            if not radial:
                direction = rng.normal(size=w.size)
                direction -= direction @ w / (w @ w) * w
                direction /= np.linalg.norm(direction)
            w = (1 - LR * WD) * w + size * direction
        share = decay_share(list(range(0, 2001, 100)), norms, 0, 2000, LR, WD)
        assert share == pytest.approx(1 - c if radial else 1.0, abs=2e-3)


def _history(mem: int, gen: int, early: float, late: float, window: int = EARLY_WINDOW) -> dict[str, list[float]]:
    """Memorises at ``mem``, generalises at ``gen``; the norm falls at share ``early`` of pure decay
    for ``window`` steps after memorising and at ``late`` after that; loss and gradient planted."""
    log_w, out = math.log(100.0), []
    for a, b in zip(STEPS, STEPS[1:] + [STEPS[-1]], strict=True):
        out.append(log_w)
        for t in range(a, b):
            log_w -= (early if mem <= t < mem + window else late if t >= mem + window else 0.0) * R0
    norms = [math.exp(x) for x in out]
    return {"step": STEPS, "train_acc": [float(s >= mem) for s in STEPS], "val_acc": [float(s >= gen) for s in STEPS],
            "weight_norm": norms, "train_loss": [10.0 ** (-s / 1000) for s in STEPS],
            "grad_norm": [2 * 10.0 ** (-s / 1000) for s in STEPS[:-1]] + [math.nan],
            "eff_lr": [LR / w**2 for w in norms[:-1]] + [math.nan]}


def test_slow_phase_reads_the_early_window_and_the_rest():
    h = _history(200, 5_200, early=0.2, late=0.05)
    s = slow_phase(h, LR, WD)
    assert (s.memorised_at, s.generalised_at, s.window_end) == (200, 5_200, 3_200)
    assert s.early_share == pytest.approx(0.2) and s.late_share == pytest.approx(0.05)
    assert s.decay_share == pytest.approx((0.2 * 3000 + 0.05 * 2000) / 5000)
    assert s.norm_at_memorised == pytest.approx(100.0)
    assert s.norm_then == pytest.approx(100 * math.exp(-0.2 * R0 * 3000))
    assert s.norm_at_generalised == pytest.approx(s.norm_then * math.exp(-0.05 * R0 * 2000))
    assert s.train_loss_then == pytest.approx(10 ** -3.2)  # log-linear between rows: exact for this law
    assert s.grad_norm_then == pytest.approx(2 * 10 ** -3.2)
    assert s.eff_lr_then == pytest.approx(LR / s.norm_then**2, rel=1e-6)


def test_slow_phase_short_or_missing_phases():
    short = slow_phase(_history(200, 1_200, early=0.2, late=0.05), LR, WD)
    assert short.window_end == 1_200 and short.late_share is None
    assert short.early_share == pytest.approx(0.2) == short.decay_share
    h = _history(200, 5_200, 0.2, 0.05)
    assert slow_phase(dict(h, val_acc=[0.0] * len(STEPS)), LR, WD) is None  # never generalised
    assert slow_phase(dict(h, val_acc=[1.0] * len(STEPS)), LR, WD) is None  # generalised first


def test_catch_up_steps_inverts_the_planted_fall():
    # a norm falling at share 0.02 of pure decay from 93 reaches 78 after ln(93/78) / (0.02 R0) steps
    steps = catch_up_steps(93, 78, 0.02, LR, WD)
    assert 93 * math.exp(-0.02 * R0 * steps) == pytest.approx(78)
    assert catch_up_steps(80, 40, 1.0, LR, WD) == pytest.approx(math.log(2) / R0)


def _run(merge: str, beta2: float, seed: int, gen: int) -> Run:
    return Run(TrainConfig(p=7, merge=merge, betas=(0.9, beta2), seed=seed, steps=10_000, n_hidden=2),
               _history(200, gen, early=0.2, late=0.05))


def test_beta2_rows_and_tables():
    runs = [_run("sum", 0.98, s, 1_000 + 100 * s) for s in range(3)] + \
           [_run("concat", 0.98, s, 4_000 + 1_000 * s) for s in range(3)]
    rows = beta2_rows(runs)
    assert [r["beta2"] for r in rows] == [0.98] * 6
    assert rows[0]["setting"] == "a + b mod 7, 2 hidden layers" and rows[0]["n_params"] > 0
    assert rows[3]["slow_early_share"] == pytest.approx(0.2)
    steps = steps_table(rows)
    assert steps[0] == ["a + b mod 7, 2 hidden layers", "summed", "0.98", "200 (range 200–200)",
                        "1,100 (range 1,000–1,200)", ""]
    assert steps[1][1] == "concatenated" and steps[1][-1] == f"{5_000 / 1_100:.1f}×"
    slow = slow_table(rows)
    assert slow[0][4] == "20.0%" and slow[0][5] == "—"  # every sum run generalised within the window
    assert slow[1][5] == "5.0%"
    assert len(markdown_table(STEPS_HEADER, steps).splitlines()) == 4
    assert len(SLOW_HEADER) == len(slow[0])


def test_contrast_medians_side_by_side_and_the_catch_up():
    lo = beta2_rows([_run("concat", 0.98, s, 6_000 + 100 * s) for s in range(3)])
    hi = [dict(r, slow_norm_then=r["slow_norm_then"] * 0.9, slow_grad_norm_then=1e-3, generalised_at=2_000)
          for r in beta2_rows([_run("concat", 0.999, s, 6_000) for s in range(3)])]
    c = contrast(lo, hi, LR, WD)
    assert c["gen_lo"] == 6_100 and c["gen_hi"] == 2_000 and c["gen_gap"] == 4_100
    assert c["early_lo"] == pytest.approx(0.2) and c["undo_lo"] == pytest.approx(0.8)
    assert c["late_lo"] == pytest.approx(0.05)
    assert c["grad_ratio"] == pytest.approx(1e-3 / lo[0]["slow_grad_norm_then"])
    assert c["norm_then_hi"] == pytest.approx(0.9 * c["norm_then_lo"])
    # at share 0.05 of pure decay, losing 10% of the norm takes ln(1/0.9) / (0.05 R0) steps
    assert c["catch_up"] == pytest.approx(math.log(1 / 0.9) / (0.05 * R0))
