"""The live lab: pick a task, a model and an optimiser, press Run, and watch it (maybe) grok.

The settings are `lab_controls.LabControls` (what each control offers and how it is read); this
module adds the buttons, the training thread and the figure.

``grok_lib.presentation.lab.lab()`` displays one `Lab`. Training runs in a background thread, so
the notebook stays responsive and **Stop** is seen within one step; the figure (`lab_figure.draw`:
accuracy, loss and weight norm against a log step axis, and with **show the inside** ticked the
embedding's Fourier spectrum as the run groks, `lab_inside`) is rendered to PNG and shown in an
ipywidgets `Image`, which displays the same way in Jupyter, JupyterLab, VS Code and Colab. The image
spans the output's width with no side margins (a widget's default 2px margins beside ``width: 100%``
would overflow it and put a scrollbar under the figure). **Keep** stores a finished run so the next
runs are drawn over it; **Clear** forgets the kept ones. Numbers are typed into text boxes
(`lab_inputs`), so a typed value is taken as shown or refused at once with a message.

Works with ipywidgets 7.7 (Colab) and 8.x: it uses only widgets, traits and methods that
both have (``Button.click``, ``observe(..., names="value")``, ``FloatLogSlider``, ``Layout``,
``Text(continuous_update=False)``, ``Checkbox``).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import ipywidgets as W

from grok_lib.analysis.phases import grokking_summary
from grok_lib.presentation.lab_controls import LabControls
from grok_lib.presentation.lab_figure import Kept, draw, png, snapshot
from grok_lib.presentation.lab_inside import Inside
from grok_lib.presentation.lab_settings import DEFAULTS, QUICK, chapter_presets
from grok_lib.training.config import TrainConfig
from grok_lib.training.device import resolve_device
from grok_lib.training.trainer import train


class Lab(LabControls):
    """The live lab's widgets and logic. ``Lab().widget`` is the box to display.

    ``quick=True`` starts from a tiny task (p=11, 60 steps) for tests. ``redraw_every`` is the
    wall-clock interval between figure redraws while training (seconds). ``inside`` ticks **show the
    inside** (the embedding's spectrum) at the start.
    """

    def __init__(self, quick: bool = False, device: str | None = None, redraw_every: float = 0.4,
                 log_every: int = 25, inside: bool = True):
        d = QUICK if quick else DEFAULTS
        super().__init__(d, 5 if quick else log_every)
        self.device = resolve_device(device)
        self.redraw_every = redraw_every
        self.history: dict[str, list[float]] = {}
        self.kept: list[Kept] = []
        self.last_config: TrainConfig | None = None
        self.result: Any = None  # the last finished Run
        self.thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.drawer: threading.Thread | None = None
        self._lock = threading.Lock()  # guards self.history between the threads
        self._draw_lock = threading.Lock()  # one figure rendered at a time
        self._dirty = threading.Event()  # new history to draw
        self._done = threading.Event()  # the training thread has finished
        self._draws = 0
        self._step, self._final = 0, None
        self.inside = Inside(inside)

        self.run_button = W.Button(description="Run", button_style="success", icon="play",
                                   layout=W.Layout(width="90px"))
        self.stop_button = W.Button(description="Stop", button_style="danger", icon="stop", disabled=True,
                                    layout=W.Layout(width="90px"))
        self.keep_button = W.Button(description="Keep", icon="bookmark", disabled=True,
                                    layout=W.Layout(width="90px"))
        self.clear_button = W.Button(description="Clear", icon="eraser", disabled=True,
                                     layout=W.Layout(width="90px"))
        self.progress = W.IntProgress(value=0, min=0, max=d["steps"], layout=W.Layout(width="330px"))
        self.status = W.HTML(value="Ready: press <b>Run</b>.")
        self.image = W.Image(value=png(draw(None, budget=d["steps"], inside=inside)), format="png",
                             layout=W.Layout(width="100%", max_width="1000px", margin="2px 0"))

        self.run_button.on_click(lambda _: self.run())
        self.stop_button.on_click(lambda _: self.stop())
        self.keep_button.on_click(lambda _: self.keep())
        self.clear_button.on_click(lambda _: self.clear())
        self.inside.toggle.observe(lambda _: None if self.running else self.redraw(), names="value")

        controls = W.VBox([*self.settings, self.inside.toggle])
        buttons = W.HBox([self.run_button, self.stop_button, self.keep_button, self.clear_button])
        self.widget = W.VBox([controls, buttons, W.HBox([self.progress, self.status]), self.message, self.image])

    # ---- buttons --------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def run(self) -> None:
        """Start training the current settings in a background thread (no-op while one runs)."""
        if self.running:
            return
        self.message.value = ""
        self.error = None
        try:
            cfg = self.inside.configure(self.config())  # with checkpoints when the inside is shown
        except (ValueError, TypeError) as e:
            self._show_error(str(e))
            return
        self.last_config = cfg
        self.history = {}
        self.result = None
        self._stop.clear()
        self.progress.max = cfg.steps
        self.progress.value = 0
        self.progress.bar_style = "info"
        self.run_button.disabled = True
        self.keep_button.disabled = True
        self.stop_button.disabled = False
        self.status.value = f"Training on {self.device.type}…"
        self._t0 = time.perf_counter()
        self._done.clear()
        self._dirty.clear()
        self._step, self._final = 0, None
        self.thread = threading.Thread(target=self._train, args=(cfg,), daemon=True, name="grok-lab-train")
        self.drawer = threading.Thread(target=self._draw_loop, args=(self._done,), daemon=True,
                                       name="grok-lab-draw")
        self.thread.start()
        self.drawer.start()

    def stop(self) -> None:
        """Ask the running training to stop after its current step (the history is kept)."""
        self._stop.set()

    def keep(self) -> None:
        """Keep the last run, to be drawn under the following ones."""
        if self.last_config is None or not self.history.get("step") or self.running:
            return
        stopped = self.result is not None and self.result.meta.get("status") == "stopped"
        self.kept.append(Kept(self.last_config, snapshot(self.history), stopped))
        self.keep_button.disabled = True
        self.clear_button.disabled = False
        self.redraw()

    def clear(self) -> None:
        self.kept = []
        self.clear_button.disabled = True
        self.redraw()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until training and its last redraw are over (for scripts and tests); True if so."""
        t_end = None if timeout is None else time.monotonic() + timeout
        for t in (self.thread, self.drawer):
            if t is not None:
                t.join(None if t_end is None else max(0.0, t_end - time.monotonic()))
        return not self.running and not (self.drawer is not None and self.drawer.is_alive())

    # ---- training thread ------------------------------------------------------------------
    def _callback(self, step: int, runs: list) -> None:
        # called by the trainer at each logged step: hand the history over and go on training
        with self._lock:
            self.history = snapshot(runs[0].history)
            self._step = step
        self.inside.update(runs)
        self._dirty.set()

    def _draw_loop(self, done: threading.Event) -> None:
        """Redraw at most every ``redraw_every`` seconds while training runs, then once more."""
        while not done.is_set():
            if self._dirty.is_set():
                self._dirty.clear()
                self.progress.value = self._step
                self._report(self._step)
                self.redraw()
            done.wait(self.redraw_every)
        if self._final is not None:  # the training thread's verdict, written here so no late update hides it
            step, text, style = self._final
            self.progress.value = step
            self.progress.bar_style = style
            self._report(step, prefix=text)
        self.redraw()

    def _report(self, step: int, prefix: str = "") -> None:
        h = self.history
        if not h.get("step"):
            return
        self.status.value = (f"{prefix}step {step:,} of {self.last_config.steps:,} · train {h['train_acc'][-1]:.0%}"
                             f" · validation {h['val_acc'][-1]:.0%} · {time.perf_counter() - self._t0:.1f} s")

    def _train(self, cfg: TrainConfig) -> None:
        try:
            self.result = train(cfg, device=self.device, progress=False, callback=self._callback, stop=self._stop)
            with self._lock:
                self.history = snapshot(self.result.history)
            self.inside.update([self.result])  # the last checkpoint comes after the last logged step
            status = self.result.meta.get("status")
            s = grokking_summary(self.history)
            done = {"stopped": "Stopped", "early_stop": "Done (held ≥ 99% validation, stopped early)"}.get(
                status, "Done")
            when = (f"memorised at step {s.memorised_at:,}" if s.memorised_at is not None else "never memorised")
            when += (f", generalised at step {s.generalised_at:,}" if s.generalised_at is not None
                     else ", never generalised")
            self._final = (s.last_step, f"{done}: {when}. ", "warning" if status == "stopped" else "success")
        except Exception as e:  # shown in the lab rather than lost in a thread
            self._show_error(f"{type(e).__name__}: {e}")
            self.progress.bar_style = "danger"
        finally:
            self._done.set()
            self.run_button.disabled = False
            self.stop_button.disabled = True
            self.keep_button.disabled = not self.history.get("step")

    def redraw(self) -> None:
        """Render the figure again from the current history and kept runs."""
        with self._draw_lock:
            with self._lock:
                hist = self.history
            cfg = self.last_config
            self.image.value = png(draw(hist, self.kept, cfg, budget=cfg.steps if cfg else None,
                                        spectrum=self.inside.current(), inside=self.inside.enabled))
            self._draws += 1


def lab(quick: bool = False, device: str | None = None, **settings: Any) -> Lab:
    """Display a live lab in the notebook and return it (``settings`` preset its controls)."""
    from IPython.display import display

    the_lab = Lab(quick=quick, device=device)
    if settings:
        the_lab.set(**settings)
    display(the_lab.widget)
    return the_lab


__all__ = ["DEFAULTS", "Lab", "chapter_presets", "draw", "lab"]
