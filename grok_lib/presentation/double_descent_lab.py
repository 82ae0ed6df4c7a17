"""A widget to watch double descent: choose the training-set size, the label noise and the penalty, press
**Sweep**, and see the test error against the number of features fill in point by point.

Two models, one switch. *Random features* (live): each point is one closed-form fit of chapter 6's
random-features model (`analysis.double_descent.fit_point`), so a sweep of some forty sizes takes seconds and
runs in a background thread; finished sweeps stay drawn (faded) under the next one until **Clear**.
*Trained network* (stored): the width sweep of chapter 6's two-layer network read from ``results/`` for the
chosen label noise, training-set size and weight decay; a setting or width that is not stored can be trained
here with **Train this point** (one seed, the stored budget; minutes for wide networks on a CPU).

Only controls that ipywidgets 7.7 and 8 share: sliders over fixed choices (nothing to mistype), ``Button.click``,
``observe(..., names="value")``, ``Layout``. ``DoubleDescentLab(...).widget`` is the box to display.
"""

from __future__ import annotations

import html
import threading
import time
from typing import Any

import ipywidgets as W

from grok_lib.analysis.double_descent import band, feature_grid, fit_point
from grok_lib.analysis.double_descent_mlp import STEPS, WIDTHS, stored_mlp
from grok_lib.presentation.double_descent_plots import live_frame
from grok_lib.presentation.run_plots import to_png
from grok_lib.presentation.style import ERROR
from grok_lib.training.pixel_mlp import PixelSetting, train_pixel_mlp

SIZES = (50, 100, 200, 300, 400, 500, 600, 800, 1000)
NOISES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
RIDGES = (0.0, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0)
DECAYS = (0.0, 0.01, 0.1, 1.0)
KEEP = 5  # finished sweeps kept on the figure
MODES = [("random features (live)", "rf"), ("trained network (stored)", "mlp")]


class DoubleDescentLab:
    """The widgets and their logic. ``mlp_steps`` shortens "Train this point" (for tests); ``redraw_every`` is
    the wall-clock interval between redraws while a sweep runs (seconds)."""

    def __init__(self, mlp_steps: int = STEPS, redraw_every: float = 0.5, device: str | None = "cpu"):
        self.mlp_steps, self.redraw_every, self.device = mlp_steps, redraw_every, device
        self.rows: list[dict[str, Any]] = []  # the current sweep's points
        self.kept: dict[str, list[dict[str, Any]]] = {}
        self.trained: list[dict[str, Any]] = []  # points trained with "Train this point"
        self.error: str | None = None
        self.thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._stored: list[dict[str, Any]] | None = None

        style = {"description_width": "130px"}

        def choice(label: str, options: list[tuple[str, Any]], value: Any) -> W.SelectionSlider:
            return W.SelectionSlider(options=options, value=value, description=label, style=style,
                                     layout=W.Layout(width="420px"), continuous_update=False)  # its own layout

        self.mode = W.ToggleButtons(options=MODES, value="rf", description="model", style=style)
        self.n_train = choice("training-set size", [(f"{n:,}", n) for n in SIZES], 400)
        self.noise = choice("label noise", [(f"{p:.0%}", p) for p in NOISES], 0.2)
        self.ridge = choice("ridge penalty λ", [(f"{r:g}", r) for r in RIDGES], 0.0)
        self.weight_decay = choice("weight decay", [(f"{d:g}", d) for d in DECAYS], 0.0)
        self.width = choice("width (to train)", [(f"{w:,}", w) for w in WIDTHS], 12)
        self.seed = W.Dropdown(options=list(range(5)), value=0, description="seed", style=style,
                               layout=W.Layout(width="220px"))
        self.go_button = W.Button(description="Sweep", button_style="success", icon="play")
        self.stop_button = W.Button(description="Stop", button_style="danger", icon="stop", disabled=True)
        self.clear_button = W.Button(description="Clear", icon="eraser")
        self.status = W.HTML(value="")
        self.image = W.Image(format="png", layout=W.Layout(width="100%", max_width="820px", margin="2px 0"))
        self.go_button.on_click(lambda _: self.go())
        self.stop_button.on_click(lambda _: self._stop.set())
        self.clear_button.on_click(lambda _: self.clear())
        self.mode.observe(self._mode_changed, names="value")
        for control in (self.n_train, self.noise, self.weight_decay):
            control.observe(lambda _: self._idle_redraw(), names="value")
        self.widget = W.VBox([self.mode, self.n_train, self.noise, self.ridge, self.weight_decay, self.width,
                              self.seed, W.HBox([self.go_button, self.stop_button, self.clear_button]), self.status,
                              self.image])
        self._mode_changed()

    # ---- settings and state -----------------------------------------------------------------
    def set(self, **values: Any) -> DoubleDescentLab:
        """Set controls by name (``lab.set(noise=0.2, ridge=1e-3)``); returns the lab."""
        for name, value in values.items():
            getattr(self, name).value = value
        return self

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def _mode_changed(self, _change: Any = None) -> None:
        rf = self.mode.value == "rf"
        self.ridge.layout.display = None if rf else "none"
        self.seed.layout.display = None if rf else "none"
        self.weight_decay.layout.display = "none" if rf else None
        self.width.layout.display = "none" if rf else None
        self.go_button.description = "Sweep" if rf else "Train this point"
        self.status.value = ("Press <b>Sweep</b>: the test error against the number of features fills in."
                             if rf else "Stored runs for these settings are drawn; <b>Train this point</b> adds one.")
        self.redraw()

    def _idle_redraw(self) -> None:
        if not self.running:
            self.redraw()

    def stored_points(self) -> list[dict[str, Any]]:
        """The stored width-sweep runs matching the chosen training-set size, noise and weight decay."""
        if self._stored is None:
            try:
                self._stored = stored_mlp()[0]
            except FileNotFoundError:
                self._stored = []
        return [r for r in self._stored if r["n_train"] == self.n_train.value and r["label_noise"] == self.noise.value
                and r["weight_decay"] == self.weight_decay.value]

    def _show_error(self, text: str) -> None:
        self.error = text
        self.status.value = f'<span style="color:{ERROR}"><b>Cannot run:</b> {html.escape(text)}</span>'

    # ---- buttons ------------------------------------------------------------------------------
    def go(self) -> None:
        """Start a sweep (random features) or train the chosen point (network) in a background thread."""
        if self.running:
            return
        self.error = None
        self._stop.clear()
        target = self._sweep if self.mode.value == "rf" else self._train_point
        self.go_button.disabled, self.stop_button.disabled = True, False
        self.thread = threading.Thread(target=self._guarded, args=(target,), daemon=True, name="dd-lab")
        self.thread.start()

    def clear(self) -> None:
        """Forget the kept sweeps and the points trained here."""
        self.kept, self.trained = {}, []
        self._idle_redraw()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the background work is over (for scripts and tests); True if it is."""
        if self.thread is not None:
            self.thread.join(timeout)
        return not self.running

    def _guarded(self, target: Any) -> None:
        try:
            target()
        except Exception as e:  # shown in the widget rather than lost in a thread
            self._show_error(f"{type(e).__name__}: {e}")
        finally:
            self.go_button.disabled, self.stop_button.disabled = False, True
            self.redraw()

    # ---- the work -------------------------------------------------------------------------------
    def _label(self) -> str:
        return (f"n {self.n_train.value:,}, noise {self.noise.value:.0%}, λ {self.ridge.value:g}, "
                f"seed {self.seed.value}")

    def _sweep(self) -> None:
        n, noise, lam, seed = self.n_train.value, self.noise.value, self.ridge.value, self.seed.value
        grid = feature_grid(n)
        with self._lock:
            self.rows = []
        t0, last = time.perf_counter(), 0.0
        for k, n_features in enumerate(grid):
            if self._stop.is_set():
                break
            row = fit_point(n_features, n, noise, seed, ridges=(lam,))
            with self._lock:
                self.rows.append(row)
            self.status.value = f"{k + 1} of {len(grid)} sizes · N = {n_features:,} · {time.perf_counter() - t0:.1f} s"
            if time.perf_counter() - last > self.redraw_every:
                self.redraw()
                last = time.perf_counter()
        stopped = self._stop.is_set()
        with self._lock:
            self.kept[self._label() + (" (stopped)" if stopped else "")] = self.rows
            self.rows = []
            while len(self.kept) > KEEP:
                self.kept.pop(next(iter(self.kept)))
        self.status.value = ("Stopped" if stopped else "Done") + f" in {time.perf_counter() - t0:.1f} s."

    def _train_point(self) -> None:
        setting = PixelSetting(width=self.width.value, n_train=self.n_train.value, label_noise=self.noise.value,
                               weight_decay=self.weight_decay.value, steps=self.mlp_steps)
        t0 = time.perf_counter()

        def progress(step: int, _hist: list) -> None:
            self.status.value = (f"training width {setting.width:,}: step {step:,} of {setting.steps:,} · "
                                 f"{time.perf_counter() - t0:.0f} s")

        (hist,) = train_pixel_mlp([setting], [0], device=self.device, callback=progress, stop=self._stop)
        if self._stop.is_set():
            self.status.value = "Stopped: the point is not drawn (its training did not finish)."
            return
        self.trained.append({**setting.as_dict(), "test_error": hist["test_error"][-1],
                             "test_loss": hist["test_loss"][-1]})
        self.status.value = (f"Trained width {setting.width:,} in {time.perf_counter() - t0:.0f} s: test error "
                             f"{hist['test_error'][-1]:.1%}.")

    # ---- the picture ----------------------------------------------------------------------------
    def curves(self) -> dict[str, tuple[list[float], list[float], list[float]]]:
        """What the frame draws, label -> (xs, test errors, test losses); the current curve last."""
        if self.mode.value == "mlp":
            pts = self.stored_points()
            if not pts:
                return {}
            err, loss = band(pts, "width", "test_error"), band(pts, "width", "test_loss")
            return {"stored runs (median of seeds)": (err.x, err.median, loss.median)}
        with self._lock:
            sweeps = {**self.kept, **({"this sweep": list(self.rows)} if self.rows else {})}
        out = {}
        for label, rows in sweeps.items():
            tag = next(k.split("@")[1] for k in rows[0] if k.startswith("test_error@")) if rows else "0"
            out[label] = ([r["n_features"] for r in rows], [r[f"test_error@{tag}"] for r in rows],
                          [r[f"test_loss@{tag}"] for r in rows])
        return out

    def points(self) -> list[tuple[float, float, float]]:
        """Points trained here that match the chosen settings, as (width, test error, test loss)."""
        if self.mode.value != "mlp":
            return []
        keys = ("n_train", "label_noise", "weight_decay")
        now = dict(zip(keys, (self.n_train.value, self.noise.value, self.weight_decay.value), strict=True))
        return [(p["width"], p["test_error"], p["test_loss"]) for p in self.trained
                if all(p[k] == now[k] for k in keys)]

    def redraw(self) -> None:
        """Render the frame again from the current curves and points."""
        rf = self.mode.value == "rf"
        n = self.n_train.value
        title = ("random ReLU features, minimum-norm or ridge fit" if rf else
                 f"two-layer network, {self.mlp_steps:,} steps, noise {self.noise.value:.0%}, "
                 f"weight decay {self.weight_decay.value:g}, n = {n:,}")
        fig = live_frame(self.curves(), "number of features N" if rf else "hidden width",
                         vline=(f"N = n = {n:,}", n) if rf else None, points=self.points(), title=title,
                         xlim=(8, 12 * n) if rf else (1.5, 6000))
        self.image.value = to_png(fig, dpi=80, tight=False)


def double_descent_lab(**settings: Any) -> DoubleDescentLab:
    """Display a double-descent lab in the notebook and return it (``settings`` preset its controls)."""
    from IPython.display import display

    the_lab = DoubleDescentLab()
    if settings:
        the_lab.set(**settings)
    display(the_lab.widget)
    return the_lab
