"""The live lab, driven headlessly: set controls, click its buttons, wait for the thread."""

from __future__ import annotations

import time

import pytest

from grok_lib.presentation.lab import DEFAULTS, Lab
from grok_lib.task.operations import OPERATIONS


@pytest.fixture
def lab() -> Lab:
    the_lab = Lab(quick=True, device="cpu", redraw_every=0.2)
    yield the_lab
    the_lab.stop()
    the_lab.wait(10)


def test_controls_cover_the_choices():
    lab = Lab(quick=True, device="cpu")
    assert {v for _, v in lab.op.options} == set(OPERATIONS)
    assert [v for _, v in lab.model.options] == [("mlp", "sum"), ("mlp", "concat"), ("transformer", "sum")]
    assert [v for _, v in lab.optimizer.options] == ["adamw", "adam", "sgd"]
    cfg = Lab(device="cpu").config()
    assert (cfg.op, cfg.p, cfg.train_frac, cfg.weight_decay, cfg.lr, cfg.steps) == (
        DEFAULTS["op"], DEFAULTS["p"], DEFAULTS["train_frac"], DEFAULTS["weight_decay"], DEFAULTS["lr"],
        DEFAULTS["steps"])


def test_run_trains_in_the_background_and_redraws(lab):
    png0 = lab.image.value
    lab.set(steps=120)
    lab.run_button.click()
    assert lab.running and lab.run_button.disabled and not lab.stop_button.disabled
    assert lab.wait(30)
    assert lab.error is None, lab.error
    h = lab.history
    assert h["step"][-1] > 0 and len(h["step"]) == len(h["val_acc"]) > 5
    assert lab.image.value != png0 and lab.image.value[:8] == b"\x89PNG\r\n\x1a\n"
    assert lab.progress.value == h["step"][-1]
    assert not lab.run_button.disabled and lab.stop_button.disabled and not lab.keep_button.disabled
    assert "step" in lab.status.value


def test_stop_halts_quickly_and_keeps_history(lab):
    lab.set(steps=200_000)
    lab.run_button.click()
    deadline = time.monotonic() + 20
    while len(lab.history.get("step", [])) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert lab.running, "the long run finished before Stop"
    t0 = time.perf_counter()
    lab.stop_button.click()
    lab.thread.join(5)  # the training thread: it must see the Stop within a step
    assert time.perf_counter() - t0 < 2.0
    assert lab.wait(10)  # and the last redraw
    assert lab.result.meta["status"] == "stopped"
    assert 0 < lab.history["step"][-1] < 200_000
    assert lab.history["step"] == lab.result.history["step"]
    assert lab.progress.bar_style == "warning" and "Stopped" in lab.status.value


def test_keep_overlays_and_clear_forgets(lab):
    lab.set(steps=40)
    lab.run_button.click()
    lab.wait(30)
    lab.keep_button.click()
    assert len(lab.kept) == 1 and "sum MLP" in lab.kept[0].label
    assert lab.keep_button.disabled and not lab.clear_button.disabled
    lab.set(merge="concat")
    lab.run_button.click()
    lab.wait(30)
    png_without = lab.image.value
    lab.keep_button.click()
    assert len(lab.kept) == 2 and "concat MLP" in lab.kept[1].label
    assert lab.image.value != png_without
    lab.clear_button.click()
    assert lab.kept == [] and lab.clear_button.disabled


@pytest.mark.parametrize("settings, words", [
    (dict(op="div", p=12), "prime"),
    (dict(train_frac=0.0), "train_frac"),
    (dict(op="div_odd_else_sub", p=45), "Nearby primes"),
])
def test_bad_settings_show_a_message_not_a_traceback(lab, settings, words):
    lab.set(**settings)
    lab.run_button.click()  # must not raise
    assert not lab.running
    assert lab.error and words in lab.error
    assert "color:#c00" in lab.message.value and words in lab.message.value
    assert not lab.run_button.disabled
    lab.set(op="add", p=11, train_frac=0.5, steps=10)  # fixing the settings clears the message
    lab.run_button.click()
    assert lab.wait(30) and lab.message.value == "" and lab.error is None


def test_weight_decay_zero_and_optimizers(lab):
    lab.set(weight_decay=0, optimizer="sgd", lr=0.05, steps=20)
    assert lab.config().weight_decay == 0.0 and lab.weight_decay.disabled
    lab.run_button.click()
    assert lab.wait(30) and lab.error is None
    lab.set(weight_decay=0.3, model=("transformer", "sum"), optimizer="adam", steps=10)
    assert lab.config().weight_decay == pytest.approx(0.3) and not lab.weight_decay.disabled
    lab.run_button.click()
    assert lab.wait(60) and lab.error is None and lab.history["step"][-1] == 10


def test_chapter_presets_set_the_controls():
    from grok_lib.runs.experiments import CH4_BASE

    lab = Lab(quick=True)
    assert len(lab.presets) >= 6
    for name, settings in lab.presets.items():
        lab.preset.value = name
        cfg = lab.config()
        for key, value in settings.items():
            assert getattr(cfg, key) == pytest.approx(value), (name, key)
    lab.preset.value = "Ch. 5 · a − b, summed embeddings"
    cfg = lab.config()
    assert (cfg.op, cfg.merge, cfg.p, cfg.lr) == ("sub", "sum", CH4_BASE.p, CH4_BASE.lr)
