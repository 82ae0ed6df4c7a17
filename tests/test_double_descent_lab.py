"""The double-descent lab, driven headlessly: set its sliders, click its buttons, wait for the thread."""

from __future__ import annotations

import time

import pytest

from grok_lib.analysis import double_descent_mlp
from grok_lib.analysis.double_descent import feature_grid, write_json
from grok_lib.presentation.double_descent_lab import DoubleDescentLab

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def lab() -> DoubleDescentLab:
    the_lab = DoubleDescentLab(mlp_steps=30, redraw_every=1.0)
    yield the_lab
    the_lab._stop.set()
    the_lab.wait(30)


def test_starts_with_a_picture_and_the_random_features_controls(lab):
    assert lab.image.value[:8] == PNG
    assert lab.go_button.description == "Sweep" and lab.weight_decay.layout.display == "none"
    assert lab.ridge.layout.display is None and lab.width.layout.display == "none"
    assert lab.ridge.options[0][1] == 0.0  # a ridge of exactly 0 (the minimum-norm fit) is a choice


def test_a_sweep_fills_in_the_curve_and_is_kept(lab):
    lab.set(n_train=50, noise=0.2, ridge=0.0)
    png0 = lab.image.value
    lab.go_button.click()
    assert lab.running and lab.go_button.disabled and not lab.stop_button.disabled
    assert lab.wait(120) and lab.error is None, lab.error
    ((label, rows),) = lab.kept.items()
    assert [r["n_features"] for r in rows] == feature_grid(50) and "noise 20%" in label
    xs, errs, losses = lab.curves()[label]
    assert xs == feature_grid(50) and max(errs) == errs[xs.index(50)]  # the peak is at N = n
    assert lab.image.value != png0 and "Done" in lab.status.value and not lab.go_button.disabled
    lab.set(ridge=0.1)
    lab.go_button.click()
    assert lab.wait(120)
    assert len(lab.kept) == 2 and max(lab.curves()[list(lab.kept)[1]][1]) < max(errs)  # ridge flattens the peak
    lab.clear_button.click()
    assert lab.kept == {} and lab.curves() == {}


def test_stop_ends_a_sweep_early_and_keeps_what_it_has(lab):
    lab.set(n_train=1000)
    lab.go_button.click()
    deadline = time.monotonic() + 60
    while len(lab.rows) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    lab.stop_button.click()
    assert lab.wait(60)
    ((label, rows),) = lab.kept.items()
    assert "(stopped)" in label and 2 <= len(rows) < len(feature_grid(1000)) and "Stopped" in lab.status.value


def test_network_mode_shows_stored_runs_and_trains_a_missing_point(lab, tmp_path, monkeypatch):
    stored = [dict(width=w, n_train=400, label_noise=0.2, weight_decay=0.0, seed=s, test_error=e, test_loss=e * 3)
              for w, e in ((4, 0.3), (12, 0.5), (64, 0.2)) for s in (0, 1)]
    write_json(tmp_path / "double_descent" / double_descent_mlp.WIDTH_FILE, {"runs": stored})
    write_json(tmp_path / "double_descent" / double_descent_mlp.LONG_FILE, {"runs": []})
    monkeypatch.setenv("GROK_RESULTS", str(tmp_path))
    lab.set(mode="mlp", n_train=400, noise=0.2, weight_decay=0.0)
    assert lab.go_button.description == "Train this point" and lab.ridge.layout.display == "none"
    ((xs, errs, _),) = lab.curves().values()
    assert xs == [4, 12, 64] and errs == [0.3, 0.5, 0.2]
    lab.set(weight_decay=1.0)
    assert lab.curves() == {}  # nothing stored for this setting: the reader trains points instead
    lab.set(width=8)
    lab.go_button.click()
    assert lab.wait(120) and lab.error is None, lab.error
    ((width, err, loss),) = lab.points()
    assert width == 8 and 0 <= err <= 1 and loss > 0 and "Trained width 8" in lab.status.value
    lab.set(weight_decay=0.0)
    assert lab.points() == []  # a point is drawn only under its own settings


def test_an_error_in_the_thread_is_shown_not_raised(lab, monkeypatch):
    import grok_lib.presentation.double_descent_lab as dd_lab

    def broken(*args, **kwargs):
        raise RuntimeError("no such thing")

    monkeypatch.setattr(dd_lab, "fit_point", broken)
    lab.go_button.click()
    assert lab.wait(30)
    assert lab.error == "RuntimeError: no such thing" and "Cannot run" in lab.status.value
    assert not lab.go_button.disabled and lab.stop_button.disabled
