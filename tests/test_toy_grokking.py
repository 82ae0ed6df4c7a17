"""Liu et al.'s toy model (`analysis.why.toy`): a short run does what their paper reports, structure
(RQI) before generalisation, and the run is a pure function of its seed."""

from __future__ import annotations

import pytest
import torch

from grok_lib.analysis.phases import first_step_at
from grok_lib.analysis.why import train_toy


@pytest.fixture(scope="module")
def toy():
    # seed 2, 2,500 steps of their 5,000 (measured: RQI ≥ 0.95 at step 950, validation ≥ 90% at 1,550)
    return train_toy(seed=2, steps=2500, log_every=50)


def test_the_toy_learns_a_line_before_it_generalises(toy):
    h = toy.history
    assert (toy.n_train, toy.n_val, toy.reachable) == (45, 10, 1.0)
    assert h["step"][0] == 0 and h["step"][-1] == 2500
    assert h["rqi"][0] < 0.2 and h["val_acc"][0] < 0.5
    assert h["train_acc"][-1] >= 0.9 and h["val_acc"][-1] >= 0.9 and h["rqi"][-1] >= 0.95  # all 45 by step 2,750
    structured, generalised = first_step_at(h["step"], h["rqi"], 0.95), first_step_at(h["step"], h["val_acc"], 0.9)
    assert structured is not None and generalised is not None and structured < generalised
    assert len(toy.embeddings) == len(h["step"]) and toy.embeddings[-1].shape == (10, 1)


def test_the_toy_is_a_function_of_its_seed_and_leaves_the_global_rng_alone():
    state = torch.get_rng_state()
    a, b = train_toy(seed=3, steps=20, log_every=5), train_toy(seed=3, steps=20, log_every=5)
    assert torch.equal(torch.get_rng_state(), state)
    assert a.history == b.history and all(torch.equal(x, y) for x, y in zip(a.embeddings, b.embeddings, strict=True))
    assert train_toy(seed=4, steps=20, log_every=5).history != a.history
