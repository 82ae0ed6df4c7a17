"""The leaderboard's arms: every arm of a task uses the same five seeds (so the same splits), and each new arm
changes only the fields its name says, from the same base."""

from __future__ import annotations

from grok_lib.runs import leaderboard_runs as lb
from grok_lib.runs.experiments import CANONICAL_MLP, get


def _differences(a, b) -> set[str]:
    da, db = a.to_dict(), b.to_dict()
    return {k for k in da if da[k] != db[k]}


def test_every_arm_has_the_same_seeds_and_splits():
    for arms in (lb.mlp_arms(), lb.small_transformer_arms(), lb.transformer_arms(), lb.truegrad_arms(),
                 lb.grokfast_small_arms()):
        for configs in arms.values():
            assert [c.seed for c in configs] == list(lb.SEEDS)
            assert {c.data_seed for c in configs} == {None}  # the split follows the seed


def test_new_arms_change_only_their_own_fields():
    for arms, base, changes in ((lb.mlp_arms(), lb.MLP_NEW, lb.MLP_CHANGES),
                                (lb.small_transformer_arms(), lb.SMALL_TRANSFORMER, lb.SMALL_CHANGES),
                                (lb.transformer_arms(), lb.TRANSFORMER_BASE, lb.TRANSFORMER_CHANGES),
                                (lb.grokfast_small_arms(), lb.GROKFAST_SMALL, lb.GROKFAST_SMALL_CHANGES)):
        for name, change in changes.items():
            for c in arms[name]:
                changed = {k for k, v in change.items() if getattr(base, k) != v}
                assert _differences(base.replace(seed=c.seed), c) == changed


def test_stored_mlp_arms_are_the_chapters_runs():
    """The arms taken from chapter 8 and from grokfast_mlp are exactly those experiments' configs."""
    arms = lb.mlp_arms()
    stored = set(get("why_lr_wd")) | set(get("grokfast_mlp")) | set(get("why_norm"))
    for name in ("AdamW (baseline)", "AdamW, wd 0.5", "AdamW, wd 2", "AdamW, lr ×2", "AdamW, lr ×4", "Grokfast EMA",
                 "held norm 60, wd 0"):
        assert set(arms[name]) <= stored, name
    assert arms["AdamW (baseline)"][0].replace(steps=CANONICAL_MLP.steps) == CANONICAL_MLP


def test_experiments_are_registered():
    for name in ("leaderboard_mlp", "leaderboard_small_transformer", "leaderboard_transformer", "sgd_transformer",
                 "truegrad_small", "long_spikes", "spike_seeds", "grokfast_transformer_small"):
        assert get(name)
