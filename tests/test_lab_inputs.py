"""The live lab's typed settings: a typed value means what the control shows, or is refused in its own terms.

The values are set the way the browser sends them (a text box's string, a slider's position, an integer box's
number), so these tests follow what a reader typing into the lab gets, under ipywidgets 7.7 and 8 alike.
"""

from __future__ import annotations

import ipywidgets as W
import pytest

from grok_lib.presentation.lab import Lab
from grok_lib.presentation.lab_inputs import Reading, in_range

PERCENT = Reading("train fraction", 0.01, 0.99, percent=True)


@pytest.fixture
def lab() -> Lab:
    return Lab(quick=True, device="cpu")


@pytest.mark.parametrize("text", ["30", "30%", " 30 % ", "30.0", "3e1"])
def test_a_percent_box_reads_what_it_shows(text):
    assert PERCENT.parse(text) == 0.3


@pytest.mark.parametrize("text, words", [
    ("0.3", "train fraction: 0.3% is outside the allowed range, 1% to 99%; type 30 or 30% for 30%."),
    ("100%", "100% is outside the allowed range, 1% to 99%"),
    ("thirty", "train fraction: 'thirty' is not a number; type 30 or 30% for 30%."),
    ("nan", "is not a number"),
    ("", "is not a number"),
])
def test_a_percent_box_refuses_in_percent(text, words):
    with pytest.raises(ValueError) as e:
        PERCENT.parse(text)
    assert words in str(e.value) and "train_frac" not in str(e.value)


def test_in_range_names_the_control_and_its_range():
    assert in_range("seed", 0, 0, 9) == 0
    with pytest.raises(ValueError, match=r"^steps: 300,000 is outside the allowed range, 1 to 200,000\.$"):
        in_range("steps", 300_000, 1, 200_000, lambda n: f"{n:,}")


@pytest.mark.parametrize("typed", ["30", "30%"])
def test_typing_30_sets_30_percent(lab, typed):
    lab.train_frac.box.value = typed
    assert lab.config().train_frac == 0.3
    assert lab.train_frac.box.value == "30%" and lab.train_frac.slider.value == pytest.approx(0.3)
    assert lab.error is None


def test_a_train_fraction_off_the_slider_notches_is_kept(lab):
    lab.train_frac.box.value = "33"
    assert lab.train_frac.slider.value == pytest.approx(0.33)
    lab.train_frac.slider.value = 0.35  # the browser snapping the handle to its nearest notch
    assert lab.train_frac.box.value == "33%" and lab.config().train_frac == 0.33
    lab.train_frac.slider.value = 0.5  # the reader moving the slider
    assert lab.train_frac.box.value == "50%" and lab.config().train_frac == 0.5


def test_a_refused_percent_is_said_at_once_and_blocks_run(lab):
    lab.train_frac.box.value = "0.3"
    assert lab.train_frac.box.value == "0.3"  # left as typed, not silently replaced
    assert "train fraction: 0.3% is outside the allowed range, 1% to 99%" in lab.message.value
    lab.run_button.click()
    assert not lab.running
    lab.train_frac.box.value = "40"
    assert lab.message.value == "" and lab.error is None and lab.config().train_frac == 0.4


def test_weight_decay_can_be_exactly_zero(lab):
    lab.weight_decay.box.value = "0"
    assert lab.config().weight_decay == 0.0
    slider = lab.weight_decay.slider
    assert slider.value == pytest.approx(10**slider.min)  # the slider rests at its left end
    slider.value = 10**slider.min  # the browser echoing that position
    assert lab.weight_decay.box.value == "0" and lab.config().weight_decay == 0.0
    slider.value = 10**-0.5  # the reader sliding: the run uses the number the box shows
    assert lab.weight_decay.box.value == "0.32" and lab.config().weight_decay == 0.32
    lab.weight_decay.box.value = "-1"
    assert "weight decay: -1 is outside the allowed range, 0 to 10" in lab.error


def test_a_learning_rate_beyond_the_slider_is_taken(lab):
    lab.lr.box.value = "0.5"  # SGD wants more than the slider's 0.1
    assert lab.config().lr == 0.5 and lab.lr.slider.value == pytest.approx(0.1)
    lab.lr.box.value = "0"
    assert "learning rate: 0 is outside the allowed range, 1e-05 to 1" in lab.error


@pytest.mark.parametrize("name, value, words", [
    ("p", 1, "p (modulus): 1 is outside the allowed range, 2 to 1000"),
    ("p", 1001, "p (modulus): 1001 is outside the allowed range, 2 to 1000"),
    ("steps", 0, "steps: 0 is outside the allowed range, 1 to 200,000"),
    ("seed", -1, "seed: -1 is outside the allowed range, 0 to 2147483647"),
])
def test_whole_numbers_out_of_range_are_refused_not_clamped(lab, name, value, words):
    getattr(lab, name).value = value
    assert getattr(lab, name).value == value  # the box keeps what was typed
    assert lab.error == words + "." and words in lab.message.value
    with pytest.raises(ValueError, match="outside the allowed range"):
        lab.config()


def test_no_control_clamps_in_the_browser(lab):
    # a slider's readout and a bounded box clamp typed text in the browser, silently: the lab has neither
    for slider_box in (lab.train_frac, lab.weight_decay, lab.lr):
        assert not slider_box.slider.readout and isinstance(slider_box.box, W.Text)
    for box in (lab.p, lab.steps, lab.seed):
        assert type(box) is W.IntText and not hasattr(box, "max")


def test_the_image_fits_the_output_width(lab):
    # width 100% beside a widget's default 2px side margins overflows the output: a scrollbar under the figure
    layout = lab.image.layout
    assert layout.width == "100%" and layout.margin.split()[1:] in (["0"], ["0px"], [])
    assert layout.margin.split()[0] in ("0", "2px")
