"""What the tests of the training options share: a tiny config to vary, and the round trip every option must
survive (trained, stored under a key of its own, loaded back the same)."""

from __future__ import annotations

import math

from grok_lib.runs.runner import load_or_train
from grok_lib.runs.store import Store
from grok_lib.training.config import TrainConfig

TINY = TrainConfig(op="add", p=11, d_embed=16, d_hidden=16, steps=12, log_every=4, early_stop=False,
                   warmup_steps=0, weight_decay=0.5, lr=1e-2)


def assert_each_trains_stores_and_loads(base: TrainConfig, options: dict[str, dict], store: Store) -> None:
    """``base`` and ``base`` with each option train to their last step with finite losses, get keys of their
    own, and load back with the config and histories they were trained with."""
    configs = [base, *(base.replace(**extra) for extra in options.values())]
    assert len({c.key() for c in configs}) == len(configs)
    for cfg in configs:
        run = load_or_train(cfg, store=store, device="cpu", progress=False)
        assert run.steps[-1] == base.steps and all(math.isfinite(v) for v in run.history["train_loss"])
        back = store.load(cfg)
        assert back.config == cfg
        assert back.history["val_acc"] == run.history["val_acc"] and back.history["val_loss"] == run.history["val_loss"]
    assert len(list(store.root.glob("*.json"))) == len(configs)
