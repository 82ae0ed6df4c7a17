"""The steps a chapter quotes about the progress measures (`milestones`, Nanda et al.'s phases), the share of
a grid quantity that is a function of a + b (`sum_share`), the figures that show them, and the one-thread training
of the quadratic network."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
import torch
from matplotlib.colors import to_hex

from grok_lib.analysis import mechanism as M
from grok_lib.presentation import mechanism_plots as MP
from grok_lib.presentation.style import PHASE_COLORS

P = 23


def _grid(f) -> torch.Tensor:
    """f(a, b) over the p×p grid as [a, b, 1]."""
    a = torch.arange(P, dtype=torch.float64)[:, None]
    b = torch.arange(P, dtype=torch.float64)[None, :]
    return f(a, b)[..., None].expand(P, P, 1)


def test_sum_share_is_one_for_functions_of_a_plus_b_and_zero_for_functions_of_a():
    angle = lambda k, s: 2 * math.pi * k * s / P  # noqa: E731
    assert M.sum_share(_grid(lambda a, b: torch.cos(angle(3, a + b)) + torch.sin(angle(5, a + b)))) == pytest.approx(1)
    assert M.sum_share(_grid(lambda a, b: torch.cos(angle(3, a + b))), keys=[3]) == pytest.approx(1)
    assert M.sum_share(_grid(lambda a, b: torch.cos(angle(3, a + b))), keys=[4]) == pytest.approx(0, abs=1e-12)
    assert M.sum_share(_grid(lambda a, b: torch.cos(angle(3, a)) + 0 * b)) == pytest.approx(0, abs=1e-12)
    # half the variance along a + b, half along a - b (orthogonal on the grid)
    mixed = _grid(lambda a, b: torch.cos(angle(2, a + b)) + torch.cos(angle(7, a - b)))
    assert M.sum_share(mixed) == pytest.approx(0.5)
    assert M.sum_share(mixed, sign=-1) == pytest.approx(0.5)


def test_sum_share_of_noise_is_about_its_dimension_share():
    noise = torch.randn(P, P, 200, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    # the functions of a + b span p - 1 of the p² - 1 centred directions
    assert M.sum_share(noise) == pytest.approx((P - 1) / (P * P - 1), rel=0.1)


def planted_curves() -> tuple[dict, dict]:
    """A run that memorises by step 200, whose excluded loss is lowest at 300, whose validation loss peaks
    at 200 and is back below chance at 600, and which generalises at 900."""
    steps = list(range(0, 1100, 100))
    curves = {"step": steps,
              "restricted_loss": [4.0, 3.9, 3.5, 3.0, 2.5, 2.0, 1.0, 0.5, 0.2, 0.1, 0.1],
              "excluded_loss": [4.0, 1.0, 0.2, 0.1, 0.3, 0.5, 0.8, 1.0, 1.2, 1.3, 1.3],
              "val_loss": [4.0, 6.0, 8.0, 7.5, 6.0, 4.5, 3.9, 2.0, 0.5, 0.1, 0.05]}
    history = {"step": steps, "train_acc": [0.0, 0.5, 1.0] + [1.0] * 8,
               "val_acc": [0.0, 0.0, 0.0, 0.0, 0.05, 0.1, 0.3, 0.6, 0.9, 0.995, 1.0]}
    return curves, history


def test_milestones_read_the_planted_steps():
    m = M.milestones(*planted_curves())
    assert (m.restricted_halved, m.excluded_lowest, m.val_below_chance) == (500, 300, 600)
    assert (m.memorised, m.val_half, m.generalised) == (200, 700, 900)
    assert m.phases() == {"memorisation": (0, 300), "circuit formation": (300, 600), "clean-up": (600, 900)}


def test_overlapping_phases_are_left_out():
    curves, history = planted_curves()
    curves["excluded_loss"] = [4.0, 1.0, 0.5, 0.4, 0.3, 0.2, 0.1, 0.2, 0.3, 0.4, 0.5]  # lowest at 600
    curves["val_loss"][5] = 3.0  # back below chance at 500, before the excluded loss turns upward
    m = M.milestones(curves, history)
    assert (m.excluded_lowest, m.val_below_chance) == (600, 500)
    assert m.phases() == {"memorisation": (0, 600), "clean-up": (500, 900)}


def test_a_run_that_never_generalises_has_no_clean_up():
    curves, history = planted_curves()
    curves["val_loss"] = [4.0, 6.0, 8.0] + [7.0] * 8
    history["val_acc"] = [0.0] * 11
    m = M.milestones(curves, history)
    assert m.val_below_chance is None and m.generalised is None and m.val_half is None
    assert list(m.phases()) == ["memorisation"]


def test_progress_figure_shades_the_phases_and_keeps_the_legend_off_the_curves():
    curves, history = planted_curves()
    curves |= {"train_loss": [4.0, 1.0, 0.1] + [0.01] * 8, "weight_sq": list(range(110, 0, -10))}
    phases = M.milestones(curves, history).phases()
    fig = MP.progress_figure(curves, 200, 900, phases=phases)
    ax_l, ax_w = fig.axes[:2]
    for ax in (ax_l, ax_w):
        spans = [p for p in ax.patches]
        assert len(spans) == 3
        assert [to_hex(p.get_facecolor()[:3]) for p in spans] == [
            PHASE_COLORS["memorisation"], PHASE_COLORS["grokking"], PHASE_COLORS["comprehension"]]
        np.testing.assert_allclose(spans[1].get_x(), 300)
        np.testing.assert_allclose(spans[1].get_width(), 300)
    assert ax_l.get_legend() is None and len(fig.legends) == 1  # the losses' legend above the panels
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["train loss", "validation loss", "restricted loss",
                                                                  "excluded loss"]
    assert [t.get_text() for t in ax_w.get_legend().get_texts()] == ["memorisation", "circuit formation", "clean-up"]
    fig.savefig(io.BytesIO(), format="png")


def test_the_end_of_a_long_run_is_drawn_as_generalised():
    maps = {"initialisation": torch.rand(2, P, P), "end (step 100)": torch.rand(2, P, P)}
    fig = MP.neuron_maps_figure(maps, [0])
    assert to_hex(fig.axes[1].title.get_color()) == PHASE_COLORS["comprehension"]


def test_logged_at_reads_the_last_logged_step_at_or_before():
    history = {"step": [0, 1, 2, 5, 10, 100], "val_acc": [0.0, 0.1, 0.2, 0.5, 0.9, 1.0]}
    assert M.logged_at(history, "val_acc", 5) == 0.5
    assert M.logged_at(history, "val_acc", 7) == 0.5
    assert M.logged_at(history, "val_acc", 250) == 1.0


def test_training_the_quadratic_network_leaves_the_thread_count_as_it_was():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        _, hist = M.train_quadratic(7, 8, steps=3)
        assert hist["step"] == [0, 3] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
