"""The live lab's setting controls: a widget per setting, read into a `TrainConfig` or refused with a
message in the controls' own terms, set by name, and set to a chapter's contrast by the preset menu.

`LabControls` holds them; `lab.Lab` adds the buttons, the training thread and the figure. Beside the
optimiser, **gradient** picks what happens to the gradient before each step (⊥Grad, which with AdamW
makes ⊥AdamW, or one of Grokfast's filters), **output** picks softmax or StableMax for the loss
(`grok_lib.training.gradient_filters`, `grok_lib.training.losses`), **init scale** multiplies every
initial weight by α (Omnigrok's large initialisation), and **hold the weight norm** keeps the total
weight norm at the value below it after every step (Omnigrok's constrained norm, which they pair
with weight decay 0; `grok_lib.training.weight_changes`).
"""

from __future__ import annotations

import html
from typing import Any, TypeVar

import ipywidgets as W

from grok_lib.presentation.lab_inputs import Reading, SliderBox, in_range
from grok_lib.presentation.lab_settings import (
    GRADIENT_CHOICES,
    GRADIENT_SETTINGS,
    MODEL_CHOICES,
    NORM_START,
    OPTIMIZER_CHOICES,
    OUTPUT_CHOICES,
    PLAIN_SETTINGS,
    chapter_presets,
)
from grok_lib.presentation.style import ERROR
from grok_lib.task.operations import OPERATIONS, P_MAX, P_MIN
from grok_lib.training.config import TrainConfig

WIDE = {"description_width": "110px"}
Controls = TypeVar("Controls", bound="LabControls")


class LabControls:
    """The setting widgets, starting from the settings ``d`` (see `lab_settings.DEFAULTS`), in the
    order `settings` lists them; ``message`` says why the settings cannot run, if they cannot."""

    def __init__(self, d: dict[str, Any], log_every: int):
        self.log_every = log_every
        self.error: str | None = None
        self.message = W.HTML(value="")
        lay, slid = W.Layout(width="330px"), W.Layout(width="250px")
        self.op = W.Dropdown(options=[(o.formula, o.name) for o in OPERATIONS.values()], value=d["op"],
                             description="operation", style=WIDE, layout=lay)
        self.p = W.IntText(value=d["p"], description="p (modulus)", style=WIDE, layout=lay)
        self.train_frac = SliderBox(Reading("train fraction", 0.01, 0.99, percent=True, digits=4), W.FloatSlider(
            min=0.05, max=0.95, step=0.05, description="train fraction", style=WIDE, layout=slid), d["train_frac"])
        self.weight_decay = SliderBox(Reading("weight decay", 0.0, 10.0), W.FloatLogSlider(
            base=10, min=-3, max=1, step=0.1, description="weight decay", style=WIDE, layout=slid), d["weight_decay"])
        self.init_scale = SliderBox(Reading("init scale", 1e-3, 1e3), W.FloatLogSlider(
            base=10, min=-1, max=1.5, step=0.05, description="init scale ×", style=WIDE, layout=slid), d["init_scale"])
        self.hold_norm = W.Checkbox(value=d["norm_constraint"] is not None, description="hold the weight norm ‖w‖ at",
                                    indent=False, layout=lay)
        self.norm = SliderBox(Reading("held weight norm", 1e-2, 1e4), W.FloatLogSlider(
            base=10, min=0, max=3, step=0.05, description="‖w‖", style=WIDE, layout=slid),
            NORM_START if d["norm_constraint"] is None else d["norm_constraint"])
        self.model = W.Dropdown(options=MODEL_CHOICES, value=d["model"], description="model", style=WIDE, layout=lay)
        self.optimizer = W.Dropdown(options=OPTIMIZER_CHOICES, value=d["optimizer"], description="optimizer",
                                    style=WIDE, layout=lay)
        self.output = W.Dropdown(options=OUTPUT_CHOICES, value=d["output"], description="output", style=WIDE,
                                 layout=lay)
        self.gradient = W.Dropdown(options=GRADIENT_CHOICES, value=d["gradient"], description="gradient",
                                   style=WIDE, layout=lay)
        self.lr = SliderBox(Reading("learning rate", 1e-5, 1.0), W.FloatLogSlider(
            base=10, min=-4, max=-1, step=0.05, description="learning rate", style=WIDE, layout=slid), d["lr"])
        self.steps = W.IntText(value=d["steps"], description="steps", style=WIDE, layout=lay)
        self.seed = W.IntText(value=d["seed"], description="seed", style=WIDE, layout=lay)
        for typed in (self.train_frac, self.weight_decay, self.init_scale, self.norm, self.lr):
            typed.observe(self._check)
        for control in (self.op, self.p, self.model, self.optimizer, self.output, self.gradient, self.hold_norm,
                        self.steps, self.seed):
            control.observe(self._check, names="value")
        self.hold_norm.observe(lambda _: self._show_norm(), names="value")
        self._show_norm()

        self.presets = chapter_presets()
        self.preset = W.Dropdown(options=["(your own settings)", *self.presets], value="(your own settings)",
                                 description="preset", style=WIDE, layout=lay)
        self.preset.observe(self._apply_preset, names="value")
        self.settings = [self.preset, self.op, self.p, self.train_frac.widget, self.weight_decay.widget,
                         self.init_scale.widget, self.hold_norm, self.norm.widget, self.model, self.optimizer,
                         self.gradient, self.output, self.lr.widget, self.steps, self.seed]

    def config(self) -> TrainConfig:
        """The config the controls describe (raises ValueError with a message in the controls' terms)."""
        model, merge = self.model.value
        return TrainConfig(op=self.op.value, p=int(in_range("p (modulus)", self.p.value, P_MIN, P_MAX)),
                           train_frac=self.train_frac.value, weight_decay=self.weight_decay.value,
                           model=model, merge=merge, optimizer=self.optimizer.value, lr=self.lr.value,
                           output=self.output.value, **GRADIENT_SETTINGS[self.gradient.value],
                           init_scale=self.init_scale.value,
                           norm_constraint=self.norm.value if self.hold_norm.value else None,
                           steps=int(in_range("steps", self.steps.value, 1, 200_000, lambda n: f"{n:,}")),
                           seed=int(in_range("seed", self.seed.value, 0, 2**31 - 1)), log_every=self.log_every,
                           early_stop=True, patience=max(100, 10 * self.log_every))

    def set(self: Controls, **values: Any) -> Controls:
        """Set controls by name (``lab.set(op="div", p=31, weight_decay=0)``); returns the lab.
        ``norm_constraint`` sets the held norm (None: the norm is free), as the config names it."""
        for name, value in values.items():
            if name == "merge":
                name, value = "model", ("mlp", value)
            if name == "norm_constraint":
                if value is not None:
                    self.norm.value = value
                name, value = "hold_norm", value is not None
            getattr(self, name).value = value
        return self

    def _apply_preset(self, change: dict[str, Any]) -> None:
        """Set a chapter's contrast; its runs used softmax, the plain gradient, the default initial
        scale and a free norm, so those are set too."""
        if change["new"] in self.presets:
            self.set(**PLAIN_SETTINGS | self.presets[change["new"]])

    def _show_norm(self) -> None:
        """The held-norm slider and box take input only while the norm is held."""
        self.norm.slider.disabled = self.norm.box.disabled = not self.hold_norm.value

    def _check(self, _change: Any = None) -> None:
        """Say at once why the settings cannot run, and take the message away once they can."""
        try:
            self.config()
        except ValueError as e:
            self._show_error(str(e))
        else:
            if self.error is not None:
                self.error = None
                self.message.value = ""

    def _show_error(self, text: str) -> None:
        self.error = text
        self.message.value = f'<span style="color:{ERROR}"><b>Cannot run:</b> {html.escape(text)}</span>'
