"""The live lab's typed settings: what a reader types is taken as meant, or refused in the control's own terms.

A slider's readout takes typed text, but the browser clamps it to the slider's range without a word: ``30``
typed into a percent slider that ends at 95% became 95%, and ``0`` in a log slider became its smallest value.
A bounded integer box clamps the same way (``p = 1`` became 2). So the lab's sliders have no readout: a text
box beside each (`SliderBox`) shows the value and takes a typed one, and whole numbers go in unbounded
``IntText`` boxes whose range `in_range` checks. Both raise a ValueError whose message speaks of the
control as the reader sees it (a percentage, "p (modulus)"). Uses only what ipywidgets 7.7 and 8 share.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ipywidgets as W


def in_range(label: str, value: float, low: float, high: float, show: Callable[[float], str] = str,
             hint: str = "") -> float:
    """``value`` if it lies in [low, high], else a ValueError naming the control and its range."""
    if not low <= value <= high:
        raise ValueError(f"{label}: {show(value)} is outside the allowed range, {show(low)} to {show(high)}{hint}.")
    return value


@dataclass(frozen=True)
class Reading:
    """How one control's text reads as a number: in percent or plain, within [low, high] (as fractions)."""

    label: str
    low: float
    high: float
    percent: bool = False
    digits: int = 2  # significant digits shown for a slider's position

    def show(self, value: float, digits: int = 6) -> str:
        return f"{100 * value:.{digits}g}%" if self.percent else f"{value:.{digits}g}"

    def parse(self, text: str) -> float:
        """The number the text means (``30``, ``30%`` and ``30 %`` all mean 30% in a percent box)."""
        raw = text.strip()
        number = raw[:-1].strip() if self.percent and raw.endswith("%") else raw
        hint = "; type 30 or 30% for 30%" if self.percent else ""
        try:
            value = float(number)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise ValueError(f"{self.label}: {raw!r} is not a number{hint or '; type one such as 0.3'}.")
        return in_range(self.label, value / 100 if self.percent else value, self.low, self.high, self.show, hint)


class SliderBox:
    """A slider (no readout) to sweep a setting, and a text box beside it that shows the value and takes a typed one.

    The box is the truth: `value` reads it, and a typed value that lies beyond the slider (weight decay 0 beside
    a log slider) stays as typed while the slider rests at its nearest end. Moving the slider writes its
    position into the box, rounded to ``reading.digits``: the run uses the number the box shows.
    """

    def __init__(self, reading: Reading, slider: W.FloatSlider | W.FloatLogSlider, value: float,
                 box_width: str = "80px"):
        self.reading = reading
        self.slider = slider
        slider.readout = False
        slider.continuous_update = False  # one update on release, and no echo of the positions set from here
        self.box = W.Text(value=reading.show(value), continuous_update=False, layout=W.Layout(width=box_width))
        self.widget = W.HBox([slider, self.box])
        self._quiet = False  # set while the box moves the slider, so that move is not written back
        slider.observe(self._slid, names="value")
        self.box.observe(self._typed, names="value")
        self._typed({"new": self.box.value})

    @property
    def value(self) -> float:
        """The setting the box shows; a ValueError in the control's terms if it cannot be read or is out of range."""
        return self.reading.parse(self.box.value)

    @value.setter
    def value(self, value: float) -> None:
        self.box.value = self.reading.show(value)

    def observe(self, handler: Callable[[dict[str, Any]], None]) -> None:
        """Call ``handler`` whenever the setting changes (typed or slid)."""
        self.box.observe(handler, names="value")

    def _position(self, value: float) -> int:
        """The slider notch nearest to ``value`` (a log slider's notches are in the exponent)."""
        s = self.slider
        if isinstance(s, W.FloatLogSlider):
            x = math.log(value, s.base) if value > 0 else s.min
        else:
            x = value
        last = round((s.max - s.min) / s.step)
        return min(max(round((x - s.min) / s.step), 0), last)

    def _slid(self, change: dict[str, Any]) -> None:
        if self._quiet:
            return
        try:
            if self._position(self.value) == self._position(change["new"]):
                return  # the front end snapping the box's value to a notch: keep the exact value
        except ValueError:
            pass  # the box holds a refused text: the slider replaces it
        self.box.value = self.reading.show(change["new"], self.reading.digits)

    def _typed(self, change: dict[str, Any]) -> None:
        try:
            value = self.reading.parse(change["new"])
        except ValueError:
            return  # left as typed; the lab shows why it is refused
        s = self.slider
        low, high = (s.base**s.min, s.base**s.max) if isinstance(s, W.FloatLogSlider) else (s.min, s.max)
        self._quiet = True
        try:
            s.value = min(max(value, low), high)
        finally:
            self._quiet = False
        self.box.value = self.reading.show(value)  # "30" becomes "30%", "0.0030" becomes "0.003"
