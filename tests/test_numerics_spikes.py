"""Loss spikes, twin histories and arm rankings, on curves whose answer is planted by hand."""

from __future__ import annotations

import math

import pytest

from grok_lib.analysis.numerics import (
    Spike,
    around,
    collapsed_before,
    fully_collapsed,
    loss_spikes,
    parting_step,
    relative_gaps,
)


def test_planted_spikes_are_found_with_their_steps_and_heights():
    steps = [0, 10, 20, 30, 40, 50, 60, 70, 80]
    loss = [1.0, 1e-3, 1e-5, 2e-4, 5e-3, 1e-4, 1e-6, 9e-6, 1e-3]
    # 1e-5 -> 2e-4 (x20) -> 5e-3 (x25): one spike climbing over two rows; 1e-6 -> 9e-6 is x9, not one;
    # 9e-6 -> 1e-3 (x111) is the second
    assert loss_spikes(steps, loss) == [Spike(20, 40, 1e-5, 5e-3), Spike(70, 80, 9e-6, 1e-3)]
    assert loss_spikes(steps, loss)[0].ratio == pytest.approx(500)
    assert loss_spikes(steps, loss, factor=5) == [Spike(20, 40, 1e-5, 5e-3), Spike(60, 80, 1e-6, 1e-3)]


def test_a_falling_curve_and_nan_rows_have_no_spike():
    assert loss_spikes([0, 1, 2, 3], [1.0, 0.1, math.nan, 0.01]) == []
    assert loss_spikes([0, 1, 2], [1e-6, math.nan, 1e-3]) == [Spike(0, 2, 1e-6, 1e-3)]  # NaN rows skipped
    with pytest.raises(ValueError, match="factor"):
        loss_spikes([0], [1.0], factor=1.0)


def test_around_reads_the_two_rows_of_a_spike():
    history = {"step": [0, 10, 20], "train_loss": [1e-6, 1e-6, 1e-2], "weight_norm": [5.0, 6.0, 7.0]}
    spike = loss_spikes(history["step"], history["train_loss"])[0]
    assert around(history, spike, ("train_loss", "weight_norm")) == {"train_loss": (1e-6, 1e-2),
                                                                     "weight_norm": (6.0, 7.0)}


def test_twins_part_where_the_planted_gap_exceeds_the_tolerance():
    a = {"step": [0, 1, 2, 3, 4], "train_loss": [1.0, 0.5, 0.25, 0.125, 0.0]}
    b = {"step": [0, 2, 3, 4], "train_loss": [1.0, 0.25 * (1 + 1e-5), 0.125 * 1.01, 0.0]}
    steps, gaps = relative_gaps(a, b)
    assert steps == [0, 2, 3, 4]
    assert gaps[0] == 0 and gaps[1] == pytest.approx(1e-5, rel=1e-3) and gaps[3] == 0
    assert gaps[2] == pytest.approx(0.01 / 1.01)
    assert parting_step(a, b, rtol=1e-3) == 3
    assert parting_step(a, b, rtol=0.1) is None
    assert parting_step(a, {"step": [0], "train_loss": [math.nan]}) == 0  # NaN on one side only


def _run(val_acc: list[float]):
    from grok_lib.training.config import TrainConfig
    from grok_lib.training.record import Run

    return Run(TrainConfig(), history={"step": [100 * i for i in range(len(val_acc))], "val_acc": val_acc})


def test_arms_rank_by_misses_then_median_and_speed_up_divides_medians():
    from grok_lib.analysis.numerics import arm_spreads, generalised_at, speed_up

    fast = [_run([0.1, 0.995, 1.0]), _run([0.1, 0.5, 0.99]), _run([0.1, 0.2, 0.3])]  # 100, 200, never
    slow = [_run([0.0, 0.2, 0.5, 0.99]), _run([0.0, 0.1, 0.99, 1.0])]  # 300, 200
    assert [generalised_at(r) for r in fast] == [100, 200, None]
    ranked = arm_spreads({"fast": fast, "slow": slow})
    assert list(ranked) == ["slow", "fast"]  # slow never missed, so it ranks first
    assert ranked["fast"].median == 150 and ranked["fast"].missing == 1 and ranked["slow"].median == 250
    assert speed_up(ranked["fast"], ranked["slow"]) == pytest.approx(250 / 150)
    assert math.isnan(speed_up(arm_spreads({"x": [_run([0.0])]})["x"], ranked["slow"]))


def test_rows_of_exactly_zero_loss_mark_full_collapse_before_a_spike():
    steps = [0, 20, 40, 60, 80, 100]
    loss = [1e-7, 0.0, 1e-9, 0.0, 0.5, 1e-3]
    assert fully_collapsed(steps, loss) == [20, 60]
    spike = loss_spikes(steps, loss)[0]
    assert spike == Spike(40, 80, 1e-9, 0.5)  # a spike's `before` is the last row with a positive loss
    assert collapsed_before(Spike(60, 80, 1e-9, 0.5), [20, 60], window=0)
    assert not collapsed_before(Spike(100, 120, 1e-3, 1.0), [20, 60], window=30)
    assert collapsed_before(Spike(100, 120, 1e-3, 1.0), [20, 60], window=40)


def test_board_rows_show_misses_budgets_and_speed_ups():
    from grok_lib.analysis.numerics import arm_spreads, board_rows, budgets

    arms = {"base": [_run([0.0, 0.2, 0.99]), _run([0.0, 0.99, 1.0])],  # 200, 100: median 150
            "quick": [_run([0.99, 1.0]), _run([0.0, 0.995])],  # 0, 100: median 50
            "never": [_run([0.0, 0.1, 0.2, 0.3])]}
    board = arm_spreads(arms)
    rows = {r[0]: r for r in board_rows(board, budgets(arms), "base")}
    assert rows["quick"][1:] == ["2 of 2", "50", "0–100", "3.00×"]
    assert rows["base"][4] == "1.00×"
    budget = arms["never"][0].config.steps
    assert rows["never"][1:] == ["0 of 1", f"never within {budget:,}", "—", "—"]


def test_relapsed_counts_only_falls_after_first_generalising():
    from grok_lib.analysis.numerics import relapsed

    assert relapsed(_run([0.2, 0.99, 1.0, 0.3, 1.0]))  # generalised at 100, fell to 30% at 300
    assert not relapsed(_run([0.2, 0.99, 1.0, 0.6, 1.0]))  # dipped, but stayed above the 50% floor
    assert not relapsed(_run([0.2, 0.3, 0.1, 0.4]))  # never generalised: nothing to lose
    assert not relapsed(_run([0.3, 0.1, 0.99, 1.0]))  # the fall came before, not after
    assert relapsed(_run([0.2, 0.99, 0.7]), floor=0.8)


def test_lowest_between_looks_only_between_consecutive_spikes():
    from grok_lib.analysis.numerics import loss_spikes, lowest_between

    steps = [0, 10, 20, 30, 40, 50, 60, 70]
    loss = [1e-3, 1e-6, 1e-2, 1e-6, 1e-7, 1.0, 1e-6, 1e-6]  # spikes peaking at 20 and 50
    update = [5.0, 0.1, 3.0, 0.2, 0.7, 4.0, 0.01, 0.01]
    spikes = loss_spikes(steps, loss)
    assert [s.peak for s in spikes] == [20, 50]
    assert lowest_between({"step": steps, "upd": update}, spikes, "upd") == [0.1, 0.2]
    assert lowest_between({"step": steps, "upd": update}, spikes, "upd", start=5) == [0.1, 0.2]


def test_norm_at_generalising_and_divergence_read_the_right_rows():
    from grok_lib.analysis.numerics import diverged_at, norm_at_generalising

    run = _run([0.2, 0.5, 0.99, 1.0])
    run.history["weight_norm"] = [30.0, 28.0, 26.5, 26.0]
    assert norm_at_generalising(run) == 26.5  # the norm at step 200, the first at 99%, not the last or the lowest
    assert norm_at_generalising(_run([0.2, 0.3])) is None
    assert diverged_at(run) is None
    run.history["weight_norm"] = [30.0, 31.0, float("nan"), float("inf")]
    assert diverged_at(run) == 200
    run.history["weight_norm"] = [30.0, float("inf"), 31.0, 32.0]
    assert diverged_at(run) == 100  # infinite counts too
