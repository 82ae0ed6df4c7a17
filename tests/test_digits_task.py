"""The digits as a task of the trainer (``TrainConfig(task="digits")``): deterministic splits, keys of their own,
the MSE loss against its formula, the large initialisation, training, and the settings that make no sense."""

from __future__ import annotations

import pytest
import torch
from option_runs import TINY, assert_each_trains_stores_and_loads

from grok_lib.analysis.why.settling import Settling, settled_step, settling
from grok_lib.task.digits import load_digits, training_set
from grok_lib.training.batches import DigitsStack, digits_train_size, example_loss
from grok_lib.training.build import build_model
from grok_lib.training.config import TrainConfig
from grok_lib.training.record import Run
from grok_lib.training.trainer import train, train_many

TINY_DIGITS = TrainConfig(task="digits", loss="mse", train_frac=0.05, d_hidden=16, n_hidden=2, steps=12, log_every=4,
                          early_stop=False, warmup_steps=0, weight_decay=0.1, lr=1e-2)


def test_digits_splits_are_deterministic():
    """The same seed draws the same images, another seed others; the fixed test split never moves."""
    a, b, c = training_set(50, seed=3), training_set(50, seed=3), training_set(50, seed=4)
    assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y)
    assert not torch.equal(a.x, c.x)
    test_before = load_digits().x_test.clone()
    load_digits.cache_clear()
    assert torch.equal(load_digits().x_test, test_before)


def test_a_digits_run_trains_on_its_fraction_of_the_pool_from_its_split_seed():
    cfg = TINY_DIGITS.replace(train_frac=0.2, seed=7)
    assert digits_train_size(cfg) == 200
    data = DigitsStack([cfg, cfg.replace(data_seed=8)], torch.device("cpu"), torch.float64)
    expected = training_set(200, seed=7)
    assert torch.equal(data.batch_x[0], expected.x) and torch.equal(data.train_y[0], expected.y)
    assert not torch.equal(data.batch_x[1], expected.x)
    assert data.n_val.tolist() == [500.0, 500.0]


def test_new_fields_at_their_defaults_keep_every_stored_key():
    assert TrainConfig(task="modular", loss="cross_entropy").key() == "ce3a17434011f6d8"
    assert TrainConfig(task="digits").key() != TrainConfig().key()
    assert TrainConfig(loss="mse").key() != TrainConfig().key()


def test_digits_and_mse_runs_train_store_and_load(tmp_store):
    options = {"cross-entropy": dict(loss="cross_entropy"), "large init": dict(init_scale=4.0),
               "minibatch": dict(batch_size=8), "dropout": dict(dropout=0.1), "one layer": dict(n_hidden=1)}
    assert_each_trains_stores_and_loads(TINY_DIGITS, options, tmp_store)


def test_mse_trains_the_operation_tables_too(tmp_store):
    assert_each_trains_stores_and_loads(TINY, {"mse": dict(loss="mse")}, tmp_store)


def test_mse_equals_its_formula():
    """Each example's loss is the mean over classes of (output - one-hot)², read from the row it names."""
    torch.manual_seed(1)
    logits = torch.randn(2, 5, 4, dtype=torch.float64)
    row = torch.tensor([[0, 2, 2], [4, 1, 0]])
    y = torch.tensor([[1, 3, 0], [2, 2, 1]])
    got = example_loss(logits, row, y, loss="mse")
    for n in range(2):
        for i in range(3):
            out = logits[n, row[n, i]].tolist()
            want = sum((o - (1.0 if c == y[n, i] else 0.0)) ** 2 for c, o in enumerate(out)) / 4
            assert got[n, i].item() == pytest.approx(want, rel=1e-12)


def test_the_large_initialisation_multiplies_every_parameter_of_the_digits_model():
    alpha = 8.0
    plain, scaled = build_model(TINY_DIGITS.replace(seed=3)), build_model(TINY_DIGITS.replace(seed=3, init_scale=alpha))
    names = [n for n, _ in plain.named_parameters()]
    assert len(names) == 6  # W_in, b_in, one further hidden layer's W and b, W_out, b_out
    for (name, p), (_, q) in zip(plain.named_parameters(), scaled.named_parameters(), strict=True):
        assert torch.allclose(q, alpha * p, rtol=1e-6, atol=0), name
    h = TINY_DIGITS.d_hidden
    assert sum(p.numel() for p in plain.parameters()) == 64 * h + h + h * h + h + h * 10 + 10


def test_the_first_logged_row_grades_the_untrained_model_on_the_test_set():
    """Step 0 is evaluated before any update: the same numbers as the freshly built model gives by hand."""
    cfg = TINY_DIGITS.replace(dtype="float64", seed=2)
    run = train(cfg, device="cpu", progress=False)
    model, digits, tr = build_model(cfg), load_digits(), training_set(digits_train_size(cfg), seed=2)
    with torch.no_grad():
        test_out, train_out = model(digits.x_test), model(tr.x)
    one_hot = torch.nn.functional.one_hot(tr.y, 10).to(torch.float64)
    assert run.history["val_acc"][0] == pytest.approx((test_out.argmax(-1) == digits.y_test).double().mean().item())
    assert run.history["train_loss"][0] == pytest.approx((train_out - one_hot).square().mean().item(), rel=1e-9)


def test_a_tiny_digits_run_learns_alone_as_in_a_stack():
    cfgs = [TINY_DIGITS.replace(steps=150, log_every=50, seed=s, train_frac=f) for s, f in ((0, 0.05), (1, 0.054))]
    stacked = train_many(cfgs, device="cpu", progress=False)
    alone = train(cfgs[1], device="cpu", progress=False)
    for run in stacked:
        loss = run.history["train_loss"]
        assert loss[-1] < loss[0] / 4
        assert run.history["train_acc"][-1] > 0.9
    assert stacked[1].history["val_acc"] == alone.history["val_acc"]
    assert stacked[1].history["train_loss"] == pytest.approx(alone.history["train_loss"], rel=1e-4)


@pytest.mark.parametrize("changes", [
    dict(task="digits", model="transformer"), dict(task="digits", p=113), dict(task="digits", op="sub"),
    dict(task="digits", merge="concat"), dict(task="digits", split="symmetric"), dict(task="digits", d_embed=64),
    dict(loss="mse", output="stablemax"), dict(loss="mse", optimizer="truegrad"), dict(task="mnist"),
    dict(loss="l1"),
])
def test_settings_that_mean_nothing_raise(changes):
    with pytest.raises(ValueError):
        TrainConfig(**changes)


def test_settling_reads_the_fit_and_the_settled_test_accuracy():
    """A planted history: training accuracy reaches 99% at step 20 and 100% at 30; the test accuracy
    wanders, then stays within a point of its final 0.9 from step 50 on."""
    run = Run(TINY_DIGITS)
    steps = [0, 10, 20, 30, 40, 50, 60, 70]
    run.history["step"] = steps
    run.history["train_acc"] = [0.1, 0.5, 0.995, 1.0, 1.0, 1.0, 1.0, 1.0]
    run.history["val_acc"] = [0.1, 0.895, 0.3, 0.6, 0.85, 0.891, 0.905, 0.9]
    assert settling(run) == Settling(train_99_at=20, train_100_at=30, test_settled_at=50, final_test_acc=0.9)
    assert settling(run).delay == 30
    assert settled_step(steps, run.history["val_acc"], within=0.2) == 40
    with pytest.raises(ValueError):
        settled_step([], [])
