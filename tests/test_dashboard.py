"""The live lab, driven headlessly: set controls, click its buttons, wait for the thread."""

from __future__ import annotations

import math
import time

import pytest
import torch

from grok_lib.analysis.mechanism.fourier import frequency_norms
from grok_lib.presentation.lab import DEFAULTS, Lab
from grok_lib.presentation.lab_figure import Kept, draw, legend_labels
from grok_lib.presentation.lab_inside import Spectrum, embedding_norms
from grok_lib.presentation.lab_settings import describe, tell_apart
from grok_lib.presentation.style import KEPT_COLORS, TRAIN, VAL
from grok_lib.task.operations import OPERATIONS
from grok_lib.training.config import TrainConfig

HIST = {"step": [0, 10, 100], "train_acc": [0.0, 1.0, 1.0], "val_acc": [0.0, 0.2, 1.0],
        "train_loss": [3.0, 0.1, 0.01], "val_loss": [3.0, 2.0, 0.1], "weight_norm": [5.0, 6.0, 4.0]}


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
    assert len(lab.kept) == 1 and lab.kept[0].config == lab.last_config and not lab.kept[0].stopped
    assert lab.keep_button.disabled and not lab.clear_button.disabled
    lab.set(merge="concat")
    lab.run_button.click()
    lab.wait(30)
    png_without = lab.image.value
    lab.keep_button.click()
    assert len(lab.kept) == 2 and lab.kept[1].config.merge == "concat"
    assert legend_labels(lab.kept, lab.last_config) == ["sum MLP", "concat MLP", "this run: concat MLP"]
    assert lab.image.value != png_without
    lab.clear_button.click()
    assert lab.kept == [] and lab.clear_button.disabled


@pytest.mark.parametrize("settings, words", [
    (dict(op="div", p=12), "prime"),
    (dict(train_frac=0.0), "train fraction: 0% is outside the allowed range, 1% to 99%"),
    (dict(p=1), "p (modulus): 1 is outside the allowed range, 2 to 1000"),
    (dict(op="div_odd_else_sub", p=45), "Nearby primes"),
])
def test_bad_settings_show_a_message_not_a_traceback(lab, settings, words):
    lab.set(**settings)
    assert lab.error and words in lab.error  # said as soon as the control is set, before Run
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
    assert lab.config().weight_decay == 0.0 and lab.weight_decay.box.value == "0"
    lab.run_button.click()
    assert lab.wait(30) and lab.error is None
    lab.set(weight_decay=0.3, model=("transformer", "sum"), optimizer="adam", steps=10)
    assert lab.config().weight_decay == 0.3 and lab.weight_decay.slider.value == pytest.approx(0.3)
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


def test_draw_shows_kept_runs_in_their_colours_under_the_current_one():
    now = TrainConfig(weight_decay=0.3)
    fig = draw(HIST, [Kept(TrainConfig(weight_decay=0.0), HIST, stopped=True), Kept(now, HIST)], now, budget=500)
    ax_acc, ax_loss, ax_norm = fig.axes
    k0, k1 = KEPT_COLORS[:2]
    assert [line.get_color() for line in ax_acc.lines] == [k0, k0, k1, k1, TRAIN, VAL]
    assert [line.get_linestyle() for line in ax_acc.lines[:2]] == ["--", "-"]  # kept: train dashed
    (legend,) = fig.legends  # one legend of the runs, under the panels
    assert [t.get_text() for t in legend.get_texts()] == ["wd 0 (stopped)", "wd 0.3", "this run: wd 0.3"]
    assert [h.get_color() for h in legend.legend_handles] == [k0, k1, "k"]
    assert [t.get_text() for t in ax_acc.get_legend().get_texts()] == ["train", "validation"]
    assert ax_acc.lines[0].get_xdata()[0] == 1  # step 0 drawn at 1 on the log axis
    assert all(ax.get_xlim() == (1, 500) and ax.get_xscale() == "log" for ax in fig.axes)
    assert ax_loss.get_yscale() == "log" and fig._suptitle.get_text() == describe(now)
    assert fig.get_size_inches()[1] > draw(HIST, [], now).get_size_inches()[1]  # the frame grows by the legend


# every setting differs, so the labels are as long as they get
FAR_APART = [TrainConfig(op="div_odd_else_sub", p=997, train_frac=0.95, weight_decay=10.0, merge="concat",
                         optimizer="sgd", lr=1e-4, seed=2**31 - 1, steps=200_000),
             TrainConfig(op="s5_xy", model="transformer", train_frac=0.05, weight_decay=0.0, lr=0.3, seed=5, steps=7),
             TrainConfig(p=31, train_frac=0.333, weight_decay=0.001, optimizer="adam", lr=0.00316, seed=12)]


@pytest.mark.parametrize("configs, stopped", [(FAR_APART[:2], [True, True]), (FAR_APART, [True, False, True]),
                                              (FAR_APART[:1] * 8, [True] * 8)])
def test_legend_texts_are_whole_and_inside_the_frame(configs, stopped):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    kept = [Kept(c, HIST, s) for c, s in zip(configs, stopped, strict=True)]
    fig = draw(HIST, kept, FAR_APART[-1], budget=3000)
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    (legend,) = fig.legends
    texts = legend.get_texts()
    assert [t.get_text() for t in texts] == legend_labels(kept, FAR_APART[-1])
    assert texts[0].get_text().endswith("(stopped)") and "p=997" in texts[0].get_text()
    frame = fig.bbox
    for text in [*texts, legend.get_title(), fig._suptitle]:
        box = text.get_window_extent(renderer)
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1, text
    under = legend.get_window_extent(renderer)
    assert all(under.y1 <= ax.get_tightbbox(renderer).y0 for ax in fig.axes)  # below the panels and their labels


def test_legend_labels_name_only_what_differs():
    a, b = TrainConfig(p=31), TrainConfig(p=31, merge="concat", lr=0.01)
    assert legend_labels([Kept(a, HIST), Kept(b, HIST, stopped=True)], a) == [
        "sum MLP, lr 0.001", "concat MLP, lr 0.01 (stopped)", "this run: sum MLP, lr 0.001"]
    assert legend_labels([Kept(a, HIST)], a) == ["same settings", "this run"]
    assert legend_labels([Kept(a, HIST), Kept(b, HIST)], None, current=False) == ["sum MLP, lr 0.001",
                                                                                  "concat MLP, lr 0.01"]


def test_draw_before_any_run_is_an_empty_frame():
    fig = draw(None, budget=3000)
    assert not any(ax.lines for ax in fig.axes) and all(ax.get_legend() is None for ax in fig.axes)
    assert fig.legends == []
    assert fig.axes[1].get_yscale() == "linear" and fig._suptitle is None
    assert [ax.get_ylabel() for ax in fig.axes] == ["accuracy", "cross-entropy loss", "total weight norm ‖w‖"]


def test_describe_names_the_settings():
    cfg = TrainConfig(op="div", p=31, train_frac=0.4, weight_decay=0.5, merge="concat", optimizer="sgd", lr=0.05,
                      seed=3)
    assert describe(cfg) == "div, p=31, 40% train, wd 0.5, concat MLP, sgd, lr 0.05, seed 3"
    assert "transformer" in describe(TrainConfig(model="transformer"))
    assert tell_apart([cfg, cfg.replace(seed=4, steps=500)]) == ["seed 3, 10,000 steps", "seed 4, 500 steps"]
    assert tell_apart([cfg, cfg]) == ["", ""]


# ---- the inside: the embedding's spectrum while the run trains ----------------------------------

def test_inside_shows_the_spectrum_of_the_last_checkpoint(lab):
    lab.set(steps=40)
    lab.run_button.click()
    assert lab.wait(30) and lab.error is None
    assert lab.last_config.checkpoint_every == lab.log_every  # the lab asked for checkpoints...
    assert lab.result.checkpoints == {}  # ...and dropped each once read
    spectrum = lab.inside.spectrum
    assert spectrum.step == lab.history["step"][-1] == 40 and len(spectrum.norms) == 11 // 2
    final = lab.result.state_dict["W_E"][0, :11]
    assert spectrum.norms == pytest.approx(frequency_norms(final)[1:].tolist(), rel=2e-3)  # float16 checkpoint
    assert spectrum.initial != spectrum.norms
    with_inside = lab.image.value
    lab.inside.toggle.value = False  # redraws at once, without the panel
    assert lab.inside.current() is None and len(lab.image.value) < len(with_inside)
    lab.run_button.click()
    assert lab.wait(30) and lab.last_config.checkpoint_every == 0 and lab.inside.spectrum is None


def test_inside_panel_draws_the_spectrum_over_step_0():
    spectrum = Spectrum(500, [1.0, 4.0, 0.5], [2.0, 2.0, 2.0])
    fig = draw(HIST, [], TrainConfig(p=7), budget=500, spectrum=spectrum, inside=True)
    ax = fig.axes[3]  # after accuracy, loss and weight norm
    assert [p.get_height() for p in ax.patches] == [2.0, 2.0, 2.0, 1.0, 4.0, 0.5]
    assert "step 500" in ax.get_title()
    assert fig.get_size_inches()[1] > draw(HIST, [], TrainConfig(p=7)).get_size_inches()[1]
    empty = draw(None, budget=500, inside=True).axes[3]  # before the first checkpoint: an empty panel
    assert not empty.patches and "next checkpoint" in empty.get_title()
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    kept = [Kept(c, HIST) for c in FAR_APART]
    fig = draw(HIST, kept, FAR_APART[-1], budget=3000, spectrum=spectrum, inside=True)
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    inside_box = fig.axes[3].get_tightbbox(renderer)
    assert all(inside_box.y1 <= p.get_tightbbox(renderer).y0 for p in fig.axes[:3])  # under the panels' labels
    assert fig.legends[0].get_window_extent(renderer).y1 <= inside_box.y0  # and above the legend of kept runs
    assert fig.bbox.y0 <= fig.legends[0].get_window_extent(renderer).y0


def test_embedding_norms_find_a_planted_frequency():
    x = torch.arange(13, dtype=torch.float64)[:, None]
    w_e = torch.cat([torch.cos(2 * math.pi * 4 * x / 13 + torch.rand(1, 6)), torch.zeros(2, 6)])  # + op and = rows
    norms = embedding_norms({"W_E": w_e[None].half()}, 13)
    assert len(norms) == 6 and max(range(6), key=norms.__getitem__) == 3  # frequency 4
    assert sum(norms) == pytest.approx(norms[3], rel=1e-2)
