"""Checks for exercise 6 (chapter 6, double descent): the minimum-norm least-squares readout of random ReLU features,
and the test error against the number of features that shows the peak at N = n.

The references are the library's own: `grok_lib.models.random_features.LeastSquares` for the readout and
`grok_lib.analysis.double_descent.fit_point` for a point of the curve. The readout is tested below, at and above the
interpolation threshold, on features with a repeated and a dead column, and on float32 features; the curve on
two training sets of the digits, with and without wrong labels. A mismatch raises an ``AssertionError`` that says
what differs first (a worse fit, a larger norm, a transposed result, a missing peak); success prints one short line
starting with ✓. CPU only, a few seconds (the digits are read once).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from grok_lib.analysis.double_descent import fit_point
from grok_lib.models.random_features import LeastSquares, RandomFeatures
from grok_lib.task.digits import load_digits, one_hot, training_set

from .answers import fail, fn_name

FEATURE_SEED = 1_000_003  # fit_point draws the features of data seed s with seed FEATURE_SEED + s
TOLERANCE = 1e-8  # relative difference allowed between two float64 least-squares solutions


def _features(n: int, n_features: int, seed: int) -> tuple[Tensor, Tensor]:
    """Random ReLU features of ``n`` training digits (20% wrong labels) and their one-hot targets."""
    d = load_digits()
    data = training_set(n, 0.2, seed, d)
    return RandomFeatures(d.n_inputs, n_features, seed=seed)(data.x), one_hot(data.y)


def readout_cases() -> list[tuple[str, Tensor, Tensor]]:
    """(description, features [example, feature], targets [example, target]) for the readout check."""
    cases = [(f"{n} images, {n_f} features ({what})", *_features(n, n_f, seed))
             for n, n_f, seed, what in ((60, 25, 0, "fewer features than images"),
                                        (60, 60, 1, "as many as images: the interpolation threshold"),
                                        (60, 150, 2, "more features than images"))]
    phi, y = _features(60, 30, 3)
    phi[:, 1] = phi[:, 0]  # a repeated feature
    phi[:, 2] = 0.0  # a dead ReLU: zero on every image
    cases.append(("60 images, 30 features, one repeated and one always zero (rank-deficient)", phi, y))
    phi, y = _features(30, 80, 4)
    cases.append(("30 images, 80 features, a single target column", phi, y[:, :1].clone()))
    phi, y = _features(60, 60, 5)
    cases.append(("60 images, 60 features given as float32", phi.float(), y.float()))
    return cases


def _call_readout(fn: Callable[[Tensor, Tensor], object], phi: Tensor, y: Tensor, call: str) -> Tensor:
    kept = (phi.clone(), y.clone())
    try:
        beta = fn(phi, y)
    except torch.linalg.LinAlgError as err:
        fail(f"{call} failed with a LinAlgError ({err}). With N >= n features the matrix ΦᵀΦ of the normal equations "
             "is singular (or nearly): use the pseudo-inverse, torch.linalg.pinv(Φ) @ Y, which needs no inverse.")
    if not (torch.equal(phi, kept[0]) and torch.equal(y, kept[1])):
        fail(f"{call} changed the features or targets it was given; work on copies.")
    if not isinstance(beta, Tensor):
        fail(f"{call} should return a torch.Tensor, but it returned a {type(beta).__name__}.")
    want = (phi.shape[1], y.shape[1])
    if tuple(beta.shape) != want:
        hint = " It looks transposed: one row per feature, one column per target." if tuple(beta.shape) == want[::-1] \
            else ""
        fail(f"{call} should return β of shape [feature, target] = {want}, got {tuple(beta.shape)}.{hint}")
    if beta.dtype != torch.float64:
        fail(f"{call} returned {beta.dtype}; compute in float64 (features.double()). Near the interpolation "
             "threshold the fit divides by tiny singular values, and float32's seven digits are not enough.")
    if not torch.isfinite(beta).all():
        fail(f"{call} returned infinite or NaN entries: a singular value of 0 was inverted. Drop singular values "
             "at rounding level (torch.linalg.pinv does), do not divide by them.")
    return beta


def check_min_norm_readout(fn: Callable[[Tensor, Tensor], Tensor]) -> None:
    """``fn(features, targets)`` should return the minimum-norm least-squares readout β [feature, target] in float64,
    like ``LeastSquares.fit(features, targets).coef(0.0)``."""
    cases = readout_cases()
    for what, phi, y in cases:
        call = f"{fn_name(fn)}(features, targets) on {what}"
        beta = _call_readout(fn, phi, y, call)
        phi64, y64 = phi.double(), y.double()
        ref = LeastSquares.fit(phi64, y64).coef(0.0)
        diff = float((beta - ref).norm() / ref.norm())
        if diff <= TOLERANCE:
            continue
        res, ref_res = float((phi64 @ beta - y64).norm()), float((phi64 @ ref - y64).norm())
        norm, ref_norm = float(beta.norm()), float(ref.norm())
        numbers = (f"‖Φβ − Y‖ is {res:.6g} (library {ref_res:.6g}) and ‖β‖ is {norm:.6g} (library {ref_norm:.6g})")
        if "rank" in what and norm > 1e3 * ref_norm:
            fail(f"{call}: your β is enormous: {numbers}. These features have a singular value that is zero up to "
                 "rounding; dividing by it blows β up along a direction Φ cannot see. Drop such singular values "
                 "(torch.linalg.pinv does, below max(n, N)·eps times the largest).")
        if res > ref_res * (1 + 1e-6) + 1e-9:
            if norm < ref_norm:
                fail(f"{call}: your β fits the targets worse than the least-squares fit, and is smaller: {numbers}. "
                     "A ridge penalty does that; so does a solver that leaves out directions it should fit (the "
                     "default CPU driver of torch.linalg.lstsq, gelsy, can, on features with an all-zero column). "
                     "At λ = 0 there is no penalty: β = pinv(Φ) @ Y.")
            fail(f"{call}: your β does not minimise the squared error: {numbers}. Solve the least-squares problem "
                 "min ‖Φβ − Y‖², e.g. β = pinv(Φ) @ Y.")
        if norm > ref_norm * (1 + 1e-6):
            extra = (" Here the features have a zero singular value: a solver that inverts it, or solves the normal "
                     "equations, adds an arbitrary part that Φ cannot see.") if "rank" in what else ""
            fail(f"{call}: your β fits as well as the library's but is larger: {numbers}. When the features allow "
                 "many exact fits, take the one of smallest norm, pinv(Φ) @ Y, which is also where gradient descent "
                 f"from zero ends.{extra}")
        fail(f"{call}: your β differs from the library's by {diff:.2g} (relative), more than rounding in float64 "
             f"explains: {numbers}. Was part of the computation done in float32?")
    print(f"✓ minimum-norm readout matches on {len(cases)} feature matrices (below, at and above N = n, "
          "rank-deficient, float32 input)")


# (training images n, label noise, data seed), and the numbers of features N for each
CURVE_CASES = ((100, 0.2, 0), (100, 0.0, 1))
CURVE_WIDTHS = (10, 50, 90, 100, 110, 200, 1000)


def _curve(fn: Callable[..., object], n: int, noise: float, seed: int, widths: Sequence[int]) -> tuple[list, str]:
    d = load_digits()
    data = training_set(n, noise, seed, d)
    call = (f"{fn_name(fn)}({list(widths)}, x_train, y_train, x_test, y_test, seed={FEATURE_SEED + seed}) on "
            f"{n} training digits with {noise:.0%} wrong labels")
    got = fn(list(widths), data.x.clone(), data.y.clone(), d.x_test.clone(), d.y_test.clone(), FEATURE_SEED + seed)
    if isinstance(got, Tensor):
        got = got.tolist()
    if not isinstance(got, (list, tuple)) or len(got) != len(widths):
        fail(f"{call} should return one test error per number of features ({len(widths)} numbers), got "
             f"{type(got).__name__}" + (f" of length {len(got)}." if isinstance(got, (list, tuple)) else "."))
    try:
        return [float(v) for v in got], call
    except (TypeError, ValueError):
        fail(f"{call} should return numbers (test errors between 0 and 1), got {got!r}.")
        raise


def check_test_error_curve(fn: Callable[..., object]) -> None:
    """``fn(widths, x_train, y_train, x_test, y_test, seed)`` should return, for each number of features N in
    ``widths``, the test error of the minimum-norm fit on ``RandomFeatures(d_in, N, seed)``, like `fit_point`."""
    n_test = len(load_digits().y_test)
    for n, noise, seed in CURVE_CASES:
        got, call = _curve(fn, n, noise, seed, CURVE_WIDTHS)
        want = [fit_point(w, n, noise, seed)["test_error@0"] for w in CURVE_WIDTHS]
        bad = [i for i, (g, w) in enumerate(zip(got, want, strict=True)) if abs(g - w) > 1.5 / n_test]
        if not bad:
            continue
        i = bad[0]
        at = f"{call}: at N = {CURVE_WIDTHS[i]} features the test error is {got[i]:.4g}, the library's {want[i]:.4g}"
        above = [g for g, w in zip(got, CURVE_WIDTHS, strict=True) if w >= n]
        if max(got) > 1:
            fail(f"{at}. Return fractions between 0 and 1, not percentages.")
        if noise > 0 and max(above) <= noise + 1.5 / n_test and min(want[CURVE_WIDTHS.index(n):]) > noise + 0.05:
            fail(f"{at}. From N = n on your errors are at most the share of wrong labels: that is the error on the "
                 "training images, which the fit passes through. Measure on x_test, y_test.")
        peak = CURVE_WIDTHS.index(n)
        if got[peak] < want[peak] - 0.05 and max(want) == want[peak]:
            fail(f"{at}. The library's curve peaks at N = n = {n} and yours does not: a ridge penalty, or a solver "
                 "that cuts small singular values (a large rcond), removes the peak. Use the minimum-norm fit.")
        if min(got) > 0.7:
            fail(f"{at}. Your errors are near chance (90%): fit one-hot targets, one output per digit, and predict "
                 "the digit whose output is largest (argmax over the class axis).")
        fail(f"{at}. For each N draw RandomFeatures(x_train.shape[1], N, seed=seed) afresh, fit the minimum-norm "
             "readout on one-hot training labels, and count the test images whose largest output is not their label.")
    print(f"✓ test error against the number of features matches the library at N in {list(CURVE_WIDTHS)}, "
          f"on {len(CURVE_CASES)} training sets")
