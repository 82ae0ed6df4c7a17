"""Exercise 6's checks (the minimum-norm readout and the test error against the number of random features) accept
right answers and reject the typical wrong ones with a message that names the mistake (the notebook:
exercises/solutions/06_random_features.ipynb)."""

from __future__ import annotations

import pytest
import torch
from check_slips import assert_names_the_slip

from grok_lib.analysis.double_descent import fit_point
from grok_lib.exercises import random_features as rfx
from grok_lib.models.random_features import LeastSquares, RandomFeatures
from grok_lib.task.digits import one_hot


@pytest.fixture(autouse=True)
def one_thread():
    """Small matrices: on a shared CPU, threads waiting for each other cost far more than they save."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def pinv_readout(features, targets):
    return torch.linalg.pinv(features.double()) @ targets.double()


def svd_readout(features, targets, cutoff=True):
    """The pseudo-inverse by hand; without ``cutoff`` it inverts singular values that are zero up to rounding."""
    u, s, vt = torch.linalg.svd(features.double(), full_matrices=False)
    keep = s > s.max() * max(features.shape) * torch.finfo(torch.float64).eps if cutoff else torch.ones_like(s) > 0
    return vt[keep].T @ ((u[:, keep].T @ targets.double()) / s[keep, None])


def curve(readout=pinv_readout, train=False, integer=False, percent=False, nested=False, ridge=None):
    """A test-error curve; the keyword arguments plant the typical slips."""
    def test_error_curve(widths, x_train, y_train, x_test, y_test, seed):
        widest = RandomFeatures(x_train.shape[1], max(widths), seed=seed)
        errors = []
        for n_features in widths:
            model = RandomFeatures(x_train.shape[1], n_features, seed=seed)
            if nested:  # the first N columns of one wide draw, instead of a fresh draw per N
                model.weight, model.n_features = widest.weight[:, :n_features], n_features
            targets = y_train[:, None].double() if integer else one_hot(y_train)
            phi = model(x_train)
            beta = LeastSquares.fit(phi, targets).coef(ridge) if ridge else readout(phi, targets)
            x, y = (x_train, y_train) if train else (x_test, y_test)
            out = model(x) @ beta
            predicted = out[:, 0].round().long() if integer else out.argmax(1)
            errors.append((predicted != y).double().mean().item() * (100 if percent else 1))
        return errors
    return test_error_curve


def test_checks_accept_right_answers(capsys):
    rfx.check_min_norm_readout(lambda f, y: LeastSquares.fit(f, y).coef(0.0))
    rfx.check_min_norm_readout(pinv_readout)
    rfx.check_min_norm_readout(svd_readout)
    rfx.check_min_norm_readout(lambda f, y: torch.linalg.lstsq(f.double(), y.double(), driver="gelsd").solution)
    rfx.check_test_error_curve(curve())
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 5 and all(line.startswith("✓") for line in out)


def test_the_cases_hold_what_the_hints_assume():
    """One readout case is rank-deficient (rank below both sizes); the library's curves peak at N = n."""
    deficient = [phi for what, phi, _ in rfx.readout_cases() if "rank" in what]
    assert len(deficient) == 1 and torch.linalg.matrix_rank(deficient[0]) < min(deficient[0].shape)
    for n, noise, seed in rfx.CURVE_CASES:
        errors = [fit_point(w, n, noise, seed)["test_error@0"] for w in rfx.CURVE_WIDTHS]
        assert max(errors) == errors[rfx.CURVE_WIDTHS.index(n)]


def _cholesky_normal_equations(features, targets):
    phi = features.double()
    return torch.cholesky_solve(phi.T @ targets.double(), torch.linalg.cholesky(phi.T @ phi))


def _edits_input(features, targets):
    features[:, 0] = 0.0
    return pinv_readout(features, targets)


READOUT_SLIPS = [
    ("a ridge penalty", lambda f, y: LeastSquares.fit(f, y).coef(1e-4), "ridge penalty"),
    ("normal equations, solved", lambda f, y: torch.linalg.solve(f.double().T @ f.double(), f.double().T @ y.double()),
     "take the one of smallest norm"),
    ("normal equations, Cholesky", _cholesky_normal_equations, "pseudo-inverse"),
    ("float32 result", lambda f, y: torch.linalg.pinv(f) @ y, "float64"),
    ("computed in float32", lambda f, y: (torch.linalg.pinv(f.float()) @ y.float()).double(), "float32"),
    ("transposed", lambda f, y: pinv_readout(f, y).T, "transposed"),
    ("tiny singular values inverted", lambda f, y: svd_readout(f, y, cutoff=False), "Drop such singular values"),
    # (lstsq's default CPU driver, gelsy, fits worse on some feature matrices, depending on the LAPACK build and
    # thread count: not a slip a test can count on)
    ("edits its input", _edits_input, "changed the features"),
    ("a list", lambda f, y: pinv_readout(f, y).tolist(), "torch.Tensor"),
]


@pytest.mark.parametrize(("fn", "message"), [s[1:] for s in READOUT_SLIPS], ids=[s[0] for s in READOUT_SLIPS])
def test_readout_check_names_the_slip(fn, message, capsys):
    assert_names_the_slip(rfx.check_min_norm_readout, fn, message, capsys)


CURVE_SLIPS = [
    ("a ridge penalty", curve(ridge=1e-3), "peaks at N = n"),
    ("the training error", curve(train=True), "Measure on x_test"),
    ("integer targets", curve(integer=True), "one-hot"),
    ("percentages", curve(percent=True), "percentages"),
    ("nested features", curve(nested=True), "afresh"),
    ("one error for all", lambda widths, *args: [0.5], "one test error per number of features"),
]


@pytest.mark.parametrize(("fn", "message"), [s[1:] for s in CURVE_SLIPS], ids=[s[0] for s in CURVE_SLIPS])
def test_curve_check_names_the_slip(fn, message, capsys):
    assert_names_the_slip(rfx.check_test_error_curve, fn, message, capsys)
