"""Chapter 6's double descent, checked against independent maths: the minimum-norm fit interpolates once there are
as many features as examples, ridge tends to the pseudo-inverse, the test error of a planted linear problem peaks
where N = n; and the digits, the stacked network and its trainer do what they say."""

from __future__ import annotations

import json

import pytest
import torch

from grok_lib.analysis.double_descent import (
    RIDGES,
    Band,
    band,
    feature_grid,
    fit_point,
    interpolation_threshold,
    read_json,
    sample_grid,
    scores,
    write_json,
)
from grok_lib.models.pixel_mlp import PixelMLP
from grok_lib.models.random_features import LeastSquares, RandomFeatures, fit_predict
from grok_lib.task.digits import N_CLASSES, N_TEST, N_VAL, load_digits, one_hot, training_set
from grok_lib.training.pixel_mlp import PixelSetting, log_steps, train_pixel_mlp


def planted(n: int, d: int = 30, seed: int = 0, noise: float = 0.5) -> tuple[torch.Tensor, torch.Tensor]:
    """Gaussian inputs and targets from a fixed linear teacher plus noise."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=gen, dtype=torch.float64)
    teacher = torch.linspace(-1, 1, d, dtype=torch.float64)
    return x, (x @ teacher + noise * torch.randn(n, generator=gen, dtype=torch.float64))[:, None]


@pytest.mark.parametrize("n_features, fits", [(40, False), (60, True), (200, True)])
def test_min_norm_fit_interpolates_exactly_when_there_are_as_many_features_as_examples(n_features, fits):
    x, y = planted(60)
    phi = RandomFeatures(30, n_features, seed=1)(x)
    residual = (phi @ LeastSquares.fit(phi, y).coef(0.0) - y).abs().max().item()
    assert (residual < 1e-6) == fits, residual


def test_ridge_tends_to_the_pseudo_inverse_and_equals_the_normal_equations():
    x, y = planted(50)
    phi = RandomFeatures(30, 80, seed=2)(x)
    fit = LeastSquares.fit(phi, y)
    pinv = torch.linalg.pinv(phi) @ y
    assert torch.allclose(fit.coef(0.0), pinv, atol=1e-8)
    assert torch.allclose(fit.coef(1e-12), pinv, atol=1e-4)
    assert not torch.allclose(fit.coef(1e-2), pinv, atol=1e-4)
    lam, n = 0.3, phi.shape[0]
    normal = torch.linalg.solve(phi.T @ phi + n * lam * torch.eye(phi.shape[1], dtype=phi.dtype), phi.T @ y)
    assert torch.allclose(fit.coef(lam), normal, atol=1e-9)
    with pytest.raises(ValueError):
        fit.coef(-1.0)


def test_min_norm_fit_is_the_smallest_interpolant():
    x, y = planted(20)
    phi = RandomFeatures(30, 50, seed=3)(x)
    beta = LeastSquares.fit(phi, y).coef(0.0)
    null = torch.linalg.svd(phi, full_matrices=True)[2][-1][:, None]  # a direction the features cannot see
    other = beta + 0.5 * null
    assert torch.allclose(phi @ other, phi @ beta, atol=1e-8)  # fits just as well
    assert other.norm() > beta.norm()


def test_test_error_of_a_planted_problem_peaks_where_features_equal_examples():
    n = 40
    x_test, y_test = planted(2000, seed=99)
    grid = [10, 20, 30, 36, 40, 44, 60, 100, 200, 400]
    mse = {N: [] for N in grid}
    for seed in range(5):
        x, y = planted(n, seed=seed)
        for N in grid:
            model = RandomFeatures(30, N, seed=100 + seed)
            ((pred,),) = fit_predict(model, x, y, [x_test], [0.0])
            mse[N].append(((pred - y_test) ** 2).mean().item())
    median = {N: sorted(v)[2] for N, v in mse.items()}
    assert max(median, key=median.get) == n
    assert median[n] > 10 * median[grid[-1]] and median[n] > 10 * median[20]


def test_the_feature_scale_does_not_change_the_min_norm_predictions():
    x, y = planted(30)
    model = RandomFeatures(30, 50, seed=4)
    phi = model(x)
    a = phi @ LeastSquares.fit(phi, y).coef(0.0)
    b = (3 * phi) @ LeastSquares.fit(3 * phi, y).coef(0.0)
    assert torch.allclose(a, b, atol=1e-8)
    assert torch.equal(RandomFeatures(30, 50, seed=4).weight, model.weight)
    with pytest.raises(ValueError):
        RandomFeatures(30, 0)


def test_digits_split_is_fixed_disjoint_and_noise_is_exact():
    d = load_digits()
    assert (len(d.y_test), len(d.y_val), d.n_pool) == (N_TEST, N_VAL, 1797 - N_TEST - N_VAL)
    assert abs(d.x_pool.mean().item()) < 1e-12  # centred on the pool
    rows = torch.cat([d.x_pool, d.x_val, d.x_test])
    assert len(torch.unique(rows, dim=0)) > 0.97 * len(rows)  # (the digits hold a few duplicate images)
    t = training_set(300, 0.2, seed=5)
    assert int(t.noisy.sum()) == 60 and torch.equal(t.y_clean[~t.noisy], t.y[~t.noisy])
    assert torch.equal(training_set(300, 0.2, seed=5).y, t.y)
    assert not torch.equal(training_set(300, 0.2, seed=6).y_clean, t.y_clean)
    with pytest.raises(ValueError, match="outside 1 to 1000"):
        training_set(1001)
    assert torch.equal(one_hot(torch.tensor([2]))[0], torch.eye(N_CLASSES, dtype=torch.float64)[2])


def test_scores_by_hand():
    pred = torch.tensor([[0.9, 0.1], [0.2, 0.7]], dtype=torch.float64)
    pred = torch.cat([pred, torch.zeros(2, N_CLASSES - 2, dtype=torch.float64)], 1)
    err, loss = scores(pred, torch.tensor([0, 0]))
    assert err == 0.5
    assert loss == pytest.approx(((0.1**2 + 0.1**2) + (0.8**2 + 0.7**2)) / 2)


def test_fit_point_tunes_the_ridge_on_validation_and_reports_each_penalty():
    row = fit_point(60, 50, 0.2, seed=0, ridges=(0.0, 1e-2), tune=True)
    assert row["tuned_ridge"] in RIDGES
    assert row["train_error@0"] == 0.0 and row["train_loss@0"] < 1e-12  # 60 features fit 50 images exactly
    again = fit_point(60, 50, 0.2, seed=0, ridges=(row["tuned_ridge"],))
    assert again[f"test_error@{row['tuned_ridge']:g}"] == row["test_error@tuned"]
    assert 0 < row["test_error@0"] < 1 and row["test_loss@0.01"] > 0


def test_band_summarises_seeds_and_finds_peak_minimum_and_threshold():
    rows = [dict(x=x, seed=s, noise=0.2, y=y, train=t) for x, s, y, t in [
        (1, 0, 0.5, 0.3), (1, 1, 0.3, 0.2), (2, 0, 0.9, 0.0), (2, 1, 0.7, 0.1), (3, 0, 0.2, 0.0), (3, 1, 0.4, 0.0),
        (9, 0, 5.0, 5.0)]]
    rows[-1]["noise"] = 0.0
    b = band(rows, "x", "y", noise=0.2)
    assert b == Band([1, 2, 3], [0.4, 0.8, pytest.approx(0.3)], [0.3, 0.7, 0.2], [0.5, 0.9, 0.4])
    assert b.peak() == (2, 0.8, 0.7, 0.9) and b.at(3)[1:] == (0.2, 0.4)
    assert b.minimum()[0] == 3 and b.minimum(below=3) == (1, 0.4)
    with pytest.raises(KeyError):
        b.at(5)
    assert interpolation_threshold(rows, "x", y="train", max_value=0.0, noise=0.2) == 3
    assert interpolation_threshold(rows, "x", y="train", max_value=0.1, noise=0.2) == 2
    assert interpolation_threshold(rows, "x", y="train", max_value=0.0, noise=0.0) is None


def test_grids_sample_the_threshold():
    g = feature_grid(400)
    assert g == sorted(set(g)) and g[0] == 10 and g[-1] == 4000 and {360, 400, 420} <= set(g)
    s = sample_grid(400)
    assert s[0] == 20 and s[-1] == 1000 and 400 in s


def test_stacked_network_computes_each_run_as_a_plain_network():
    torch.manual_seed(0)
    model = PixelMLP(64, 7, N_CLASSES, n_runs=3).double()
    model.reset_parameters([1, 2, 3])
    x = torch.randn(3, 5, 64, dtype=torch.float64)
    out = model(x)
    for r in range(3):
        plain = torch.relu(x[r] @ model.W_in[r] + model.b_in[r]) @ model.W_out[r] + model.b_out[r]
        assert torch.allclose(out[r], plain)
    assert model.n_params() == 64 * 7 + 7 + 7 * 10 + 10
    again = PixelMLP(64, 7, N_CLASSES, n_runs=1)
    again.reset_parameters([2])
    assert torch.allclose(again.W_in[0], model.W_in[1].float())  # a run's weights depend on its seed only


def test_trainer_matches_torch_adamw_and_runs_are_independent_in_a_stack():
    setting = PixelSetting(width=8, n_train=40, label_noise=0.2, weight_decay=0.5, lr=1e-2, steps=6)
    (alone,) = train_pixel_mlp([setting], [3])
    stacked = train_pixel_mlp([setting.__class__(**{**setting.as_dict(), "weight_decay": 0.0}), setting], [1, 3])
    assert stacked[1]["test_loss"] == pytest.approx(alone["test_loss"], rel=1e-5)
    # the same run with torch's own AdamW on the same data and initial weights
    data, d = training_set(40, 0.2, 3), load_digits()
    model = PixelMLP(64, 8, N_CLASSES)
    model.reset_parameters([10_007 + 3])
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.5)
    for _ in range(6):
        loss = torch.nn.functional.cross_entropy(model(data.x.float()[None])[0], data.y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        test_loss = torch.nn.functional.cross_entropy(model(d.x_test.float()[None])[0], d.y_test).item()
    assert alone["test_loss"][-1] == pytest.approx(test_loss, rel=1e-4)
    assert alone["step"] == log_steps(6)
    with pytest.raises(ValueError, match="share width"):
        train_pixel_mlp([setting, PixelSetting(width=9)], [0, 1])


def test_log_steps_start_at_zero_end_at_the_budget_and_grow():
    s = log_steps(20_000)
    assert s[0] == 0 and s[-1] == 20_000 and s == sorted(set(s)) and 40 < len(s) < 70
    with pytest.raises(ValueError):
        log_steps(0)


def test_stored_files_are_written_whole_and_a_missing_one_says_how_to_make_it(tmp_path):
    write_json(tmp_path / "x.json", {"runs": [1, 2]})
    assert read_json("x.json", tmp_path) == {"runs": [1, 2]}
    assert json.loads((tmp_path / "x.json").read_text()) == {"runs": [1, 2]}
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]  # no temporary file left behind
    with pytest.raises(FileNotFoundError, match="python -m grok_lib.analysis.double_descent_mlp"):
        read_json("missing.json", tmp_path)


def test_summary_of_a_double_descent_curve_by_hand():
    b = Band([10, 20, 40, 80, 160], [0.5, 0.2, 0.8, 0.3, 0.1], [0.4, 0.1, 0.7, 0.2, 0.05], [0.6, 0.3, 0.9, 0.4, 0.2])
    s = b.summary(100)
    assert (s["peak_x"], s["first_min_x"], s["last_x"]) == (40, 20, 160)
    assert s["peak"] == pytest.approx(80) and s["peak_low"] == pytest.approx(70) and s["peak_high"] == pytest.approx(90)
    assert s["first_min"] == pytest.approx(20) and s["last"] == pytest.approx(10)
    assert s["rise"] == pytest.approx(60)  # from 20% at x = 20 up to 80% at x = 40
    underfit = Band([1, 2, 3, 4], [0.9, 0.2, 0.6, 0.1], [0.9, 0.2, 0.5, 0.1], [0.9, 0.2, 0.7, 0.1])
    assert underfit.peak()[0] == 1  # the highest point is the narrowest model...
    assert underfit.summary()["peak_x"] == 3 and underfit.summary()["first_min_x"] == 2  # ...the bump is at 3
    falling = Band([1, 2, 3], [0.9, 0.5, 0.1], [0.9, 0.5, 0.1], [0.9, 0.5, 0.1])
    assert falling.largest_rise() == 0.0 and falling.summary()["first_min_x"] == 1


def test_epoch_summary_reads_the_memorisation_step_and_the_minima_around_it():
    from grok_lib.analysis.double_descent_mlp import epoch_summary

    run = dict(step=[0, 10, 100, 1000, 10000], test_error=[0.9, 0.05, 0.12, 0.10, 0.2],
               train_error=[0.9, 0.3, 0.0, 0.0, 0.0])
    assert epoch_summary(run) == {"early_min": 0.05, "early_min_step": 10, "memorised_at": 100, "at_memorised": 0.12,
                                  "later_min": 0.10, "last": 0.2, "last_step": 10000}
    never = epoch_summary({**run, "train_error": [0.9, 0.5, 0.4, 0.3, 0.2]})
    assert never["memorised_at"] is None and never["early_min"] == 0.05 and never["later_min"] is None
