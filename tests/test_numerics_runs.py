"""The numerics experiments hold the settings they claim: each arm changes only its own field, Prieto
et al.'s setting keeps their optimiser hyper-parameters, and the Grokfast baselines scale the rate."""

from __future__ import annotations

import pytest

import grok_lib.runs.numerics_runs as nr
from grok_lib.runs.experiments import CANONICAL_MLP, get


def _differences(a, b) -> set[str]:
    da, db = a.to_dict(), b.to_dict()
    return {k for k in da if da[k] != db[k]}


def test_each_arm_changes_only_its_own_field():
    for base in (nr.PRIETO_MLP, nr.CANONICAL_NO_WD):
        arms = nr.prieto_configs(base)
        assert {len(cs) for cs in arms.values()} == {len(nr.NUMERICS_SEEDS)}
        for name, field in (("⊥AdamW", "ortho_grad"), ("StableMax", "output")):
            for plain, other in zip(arms["AdamW"], arms[name], strict=True):
                assert _differences(plain, other) - {"checkpoint_every", "save_model"} == {field}
    with pytest.raises(ValueError, match="arm"):
        nr.arm(nr.PRIETO_MLP, "SGD")


def test_prieto_setting_keeps_their_optimiser_and_task():
    c = nr.PRIETO_MLP
    assert (c.p, c.train_frac, c.merge, c.n_hidden, c.d_hidden) == (113, 0.4, "concat", 2, 200)
    assert (c.lr, c.betas, c.adam_eps, c.weight_decay, c.batch_size) == (5e-3, (0.9, 0.99), 1e-25, 0.0, None)
    assert nr.COLLAPSE_RUN in get("prieto_mlp") and nr.COLLAPSE_RUN in get("softmax_collapse")
    assert _differences(nr.COLLAPSE_RUN, nr.COLLAPSE_FLOAT64) == {"dtype"}
    assert nr.CANONICAL_NO_WD.weight_decay == 0 and _differences(CANONICAL_MLP, nr.CANONICAL_NO_WD) == {
        "weight_decay", "steps", "log_every", "patience"}


def test_grokfast_arms_scale_the_baseline_rate_and_filter_only_the_grokfast_arm():
    arms = nr.grokfast_arms()
    assert [cs[0].lr for k, cs in arms.items() if k.startswith("AdamW")] == pytest.approx([5e-4, 1e-3, 2e-3, 4e-3])
    assert all(c.grokfast == "none" for k, cs in arms.items() if k.startswith("AdamW") for c in cs)
    ema = arms["Grokfast EMA"]
    assert {(c.grokfast, c.grokfast_alpha, c.grokfast_lamb, c.lr) for c in ema} == {("ema", 0.98, 2.0, 1e-3)}
    assert len(get("grokfast_mlp")) == 5 * len(nr.NUMERICS_SEEDS)
    changed = {"lr", "steps", "seed", "grokfast"}
    assert all(_differences(CANONICAL_MLP, c) <= changed for cs in arms.values() for c in cs)


def test_spike_runs_differ_only_in_adam_epsilon_and_never_stop_early():
    a, b = get("loss_spikes")
    assert _differences(a, b) == {"adam_eps"} and not a.early_stop and a.weight_decay == 0
    assert a.steps // a.log_every <= 10_000  # a history well under 2 MB
