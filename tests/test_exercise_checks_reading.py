"""Exercise 4's checks (the detector, the moment between rows, the phase, the effective learning rate
and gradient) accept the library's answers and reject the typical wrong ones with a message that
names the mistake (the notebook: exercises/solutions/04_detector.ipynb)."""

from __future__ import annotations

import math

import pytest
from check_slips import assert_names_the_slip
from synthetic_runs import history as step_history

from grok_lib.analysis import PHASES, classify, grokking_summary
from grok_lib.analysis.effective import effective_gradient, effective_lr, gradient_norm, weight_norm
from grok_lib.analysis.phases import GROK_RATIO, crossing_step, first_step_at
from grok_lib.exercises import detector, effective


def right_steps(history, threshold=0.99):
    s = grokking_summary(history, threshold)
    return s.memorised_at, s.generalised_at


def test_checks_accept_the_library(capsys):
    detector.check_grokking_steps(right_steps)
    detector.check_crossing_step(crossing_step)
    detector.check_phase(classify)
    effective.check_effective_lr(effective_lr)
    effective.check_effective_gradient(effective_gradient)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 5 and all(line.startswith("✓") for line in out)


def test_the_checks_histories_cover_all_four_phases():
    phases = {classify(h, t, f) for h, t, f in detector._phase_cases().values()}
    assert phases == set(PHASES)


def test_the_grid_case_separates_logged_steps_from_moments_between_rows():
    """The case built for it: ten times later on the logged rows, less than ten times between them."""
    h, t, f = detector._phase_cases()["logged rows say 10x, read between rows 9.9x"]
    logged = first_step_at(h["step"], h["val_acc"], t) / first_step_at(h["step"], h["train_acc"], t)
    assert logged == pytest.approx(GROK_RATIO)
    assert classify(h, t, f) == "comprehension"


def test_synthetic_runs_of_the_tests_agree_with_the_check():
    """The check's detector reference reads the shared test histories as they were built."""
    for mem, gen in [(100, 500), (100, None), (None, None), (0, 0)]:
        h = step_history(mem, gen)
        assert right_steps(h) == (mem, gen)


def _first(values, steps, threshold, strict=False):
    return next((s for s, v in zip(steps, values, strict=True) if (v > threshold if strict else v >= threshold)), None)


def steps_variant(slip):
    def grokking_steps(history, threshold=0.99):
        steps = history["step"]
        if slip == "hard-coded threshold":
            threshold = 0.99
        if slip == "row index":
            return tuple(next((i for i, v in enumerate(history[k]) if v >= threshold), None)
                         for k in ("train_acc", "val_acc"))
        if slip == "-1 for never":
            pair = right_steps(history, threshold)
            return tuple(-1 if s is None else s for s in pair)
        if slip == "falsy step 0":
            return tuple(s or None for s in right_steps(history, threshold))
        if slip == "last crossing":
            return tuple(next((s for s, v in zip(steps[::-1], history[k][::-1], strict=True) if v >= threshold), None)
                         for k in ("train_acc", "val_acc"))
        strict = slip == "strictly above"
        pair = (_first(history["train_acc"], steps, threshold, strict), _first(history["val_acc"], steps, threshold,
                                                                                strict))
        return pair[::-1] if slip == "swapped" else pair

    return grokking_steps


STEP_SLIPS = [
    ("strictly above", "(>=, not >)"),
    ("row index", "the row's position"),
    ("-1 for never", "return None then"),
    ("falsy step 0", "Step 0 counts"),
    ("last crossing", "*first* logged step"),
    ("swapped", "swapped"),
    ("hard-coded threshold", "use the threshold you are given"),
]


@pytest.mark.parametrize(("slip", "message"), STEP_SLIPS, ids=[s for s, _ in STEP_SLIPS])
def test_detector_check_names_the_slip(slip, message, capsys):
    assert_names_the_slip(detector.check_grokking_steps, steps_variant(slip), message, capsys)


def crossing_variant(slip):
    def crossing(steps, values, threshold=0.99):
        if slip == "first logged step":
            return _first(values, steps, threshold)
        for i, v in enumerate(values):
            if v >= threshold:
                if i == 0:
                    return float(steps[0]) if slip != "extrapolates" else steps[0] - 1.0
                s0, v0 = steps[i - 1], values[i - 1]
                if slip == "no NaN guard" or not math.isnan(v0):
                    return s0 + (threshold - v0) / (v - v0) * (steps[i] - s0)
                return float(steps[i])
        return -1.0 if slip == "-1 for never" else None

    return crossing


CROSSING_SLIPS = [
    ("first logged step", "read the moment between rows"),
    ("no NaN guard", "After a NaN row"),
    ("-1 for never", "Return None"),
    ("extrapolates", "return its step"),
]


@pytest.mark.parametrize(("slip", "message"), CROSSING_SLIPS, ids=[s for s, _ in CROSSING_SLIPS])
def test_crossing_check_names_the_slip(slip, message, capsys):
    assert_names_the_slip(detector.check_crossing_step, crossing_variant(slip), message, capsys)


def phase_variant(slip):
    def phase(history, threshold=0.99, grok_factor=10.0):
        read = crossing_step
        if slip == "logged steps":
            read = first_step_at
        if slip == "hard-coded factor":
            grok_factor = 10.0
        t_mem = read(history["step"], history["train_acc"], threshold)
        t_gen = read(history["step"], history["val_acc"], threshold)
        if t_mem is None:
            return "memorization" if slip == "American spelling" else "confusion"
        if t_gen is None:
            return "memorisation"
        if slip == "difference instead of ratio":
            return "grokking" if t_gen - t_mem >= grok_factor else "comprehension"
        if slip == "strictly later":
            return "grokking" if t_gen > grok_factor * max(t_mem, 1.0) else "comprehension"
        if slip == "no guard at step 0":
            return "grokking" if t_gen >= grok_factor * t_mem else "comprehension"
        return "grokking" if t_gen >= grok_factor * max(t_mem, 1.0) else "comprehension"

    return phase


PHASE_SLIPS = [
    ("logged steps", "not the first logged steps"),
    ("hard-coded factor", "grok_factor=3.0"),
    ("American spelling", "spelt as here"),
    ("difference instead of ratio", "expected 'comprehension', got 'grokking'"),
    ("strictly later", "exactly 10x"),
    ("no guard at step 0", "max(t_mem, 1)"),
]


@pytest.mark.parametrize(("slip", "message"), PHASE_SLIPS, ids=[s for s, _ in PHASE_SLIPS])
def test_phase_check_names_the_slip(slip, message, capsys):
    assert_names_the_slip(detector.check_phase, phase_variant(slip), message, capsys)


def _squares(model, all_params=False, weights_only=False):
    return sum(float(p.detach().pow(2).sum()) for name, p in model.named_parameters()
               if (all_params or p.requires_grad) and (not weights_only or name.endswith("weight")))


LR_SLIPS = [
    ("no square", lambda lr, m: lr / math.sqrt(_squares(m)), "square the norm"),
    ("squared twice", lambda lr, m: lr / _squares(m) ** 2, "square the norm once"),
    ("frozen counted", lambda lr, m: lr / _squares(m, all_params=True), "requires_grad only"),
    ("biases left out", lambda lr, m: lr / _squares(m, weights_only=True), "every trainable parameter"),
    ("tensor norms added", lambda lr, m: lr / sum(float(p.detach().norm()) for p in m.parameters()) ** 2,
     "each tensor's norm added up"),
    ("a list", lambda lr, m: [lr / _squares(m)], "should return a number"),
]


@pytest.mark.parametrize(("fn", "message"), [s[1:] for s in LR_SLIPS], ids=[s[0] for s in LR_SLIPS])
def test_effective_lr_check_names_the_slip(fn, message, capsys):
    assert_names_the_slip(effective.check_effective_lr, fn, message, capsys)


def _every_grad_norm(model):
    return math.sqrt(sum(float(p.grad.pow(2).sum()) for p in model.parameters()))


GRAD_SLIPS = [
    ("gradient norm alone", gradient_norm, "‖g‖ alone"),
    ("divided", lambda m: gradient_norm(m) / weight_norm(m), "multiply, don't divide"),
    ("norm squared", lambda m: gradient_norm(m) * weight_norm(m) ** 2, "not squared"),
    ("no square roots", lambda m: (gradient_norm(m) * weight_norm(m)) ** 2, "take the square roots"),
    ("frozen counted", lambda m: gradient_norm(m) * math.sqrt(_squares(m, all_params=True)), "requires_grad only"),
    ("missing .grad not skipped", lambda m: _every_grad_norm(m) * weight_norm(m), "p.grad None: skip it"),
]


@pytest.mark.parametrize(("fn", "message"), [s[1:] for s in GRAD_SLIPS], ids=[s[0] for s in GRAD_SLIPS])
def test_effective_gradient_check_names_the_slip(fn, message, capsys):
    assert_names_the_slip(effective.check_effective_gradient, fn, message, capsys)
