"""The random walk against the clock (`analysis.why.clocks`), checked against independent maths."""

import math
import random

import numpy as np
import pytest

from grok_lib.analysis.why import clocks


def test_random_walk_quantiles_satisfy_the_levy_distribution():
    # P(T <= t) = erfc(a / sqrt(2 t)) for a driftless unit Brownian motion to reach level a
    for q in (0.1, 0.5, 0.9):
        for a in (1.0, 3.0):
            t = clocks.random_walk_quantile(q, a)
            assert math.erfc(a / math.sqrt(2 * t)) == pytest.approx(q, rel=1e-9)


def test_the_quantile_ratio_does_not_depend_on_the_distance_and_is_about_171():
    ratio = clocks.random_walk_quantile_ratio()
    assert ratio == pytest.approx(clocks.random_walk_quantile(0.9, 7.0) / clocks.random_walk_quantile(0.1, 7.0))
    assert 170 < ratio < 172


def test_a_simulated_random_walk_spreads_as_predicted():
    # first passage of a +-1 walk to level 10, 2,000 walks: the 90/10 ratio is of the order the formula gives
    rng = random.Random(0)
    times = []
    for _ in range(2000):
        x, t = 0, 0
        while x < 10 and t < 200_000:
            x += 1 if rng.random() < 0.5 else -1
            t += 1
        times.append(t)
    assert 60 < clocks.quantile_ratio(times) < 400


def test_quantile_ratio_and_coefficient_of_variation_on_known_numbers():
    assert clocks.quantile_ratio([1.0, 2.0, 3.0, 4.0, 5.0], 0.25, 0.75) == pytest.approx(4.0 / 2.0)
    assert clocks.coefficient_of_variation([1.0, 3.0]) == pytest.approx(np.std([1, 3], ddof=1) / 2.0)
    with pytest.raises(ValueError, match="two finite"):
        clocks.quantile_ratio([3.0, None])
    with pytest.raises(ValueError, match="between 0 and 1"):
        clocks.random_walk_quantile(1.0)


def test_power_law_recovers_a_planted_exponent_and_skips_runs_that_never_generalised():
    x = [1e-4, 3e-4, 1e-3, 3e-3]
    fit = clocks.power_law(x + [1e-2], [5.0 * v**-0.8 for v in x] + [None])
    assert fit.exponent == pytest.approx(-0.8) and fit.prefactor == pytest.approx(5.0)
    assert fit(1e-3) == pytest.approx(5.0 * 1e-3**-0.8)
    with pytest.raises(ValueError, match="two or more"):
        clocks.power_law([1.0, 1.0], [2.0, 3.0])


def test_power_law_by_seed_and_decay_times_read_summary_rows():
    rows = [{"lr": lr, "weight_decay": wd, "seed": s, "generalised_at": (4.0 + s) / (lr * wd)}
            for lr in (1e-3, 2e-3) for wd in (0.5, 1.0) for s in (0, 1)]
    fits = clocks.power_law_by_seed(rows)
    assert set(fits) == {0, 1} and all(f.exponent == pytest.approx(-1.0) for f in fits.values())
    assert sorted(clocks.decay_times(rows)) == pytest.approx([4.0] * 4 + [5.0] * 4)
