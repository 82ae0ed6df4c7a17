"""Checkpoints (weights kept through training) and the symmetric split: two config fields added
after runs were first stored, so they must also leave every stored run's key alone."""

import pytest
import torch

from grok_lib import TrainConfig, train, train_many
from grok_lib.runs.store import Store
from grok_lib.task.data import make_task, symmetric_split_indices
from grok_lib.task.operations import operation_table

TINY = TrainConfig(p=11, steps=120, log_every=20, checkpoint_every=40, early_stop=False, save_model=True)


def test_fields_at_their_defaults_leave_the_key_unchanged():
    # the canonical key that every chapter's stored runs were written under
    assert TrainConfig().key() == "ce3a17434011f6d8"
    assert TrainConfig(split="symmetric").key() != TrainConfig().key()
    assert TrainConfig(checkpoint_every=100).key() != TrainConfig().key()


def test_checkpoints_are_kept_at_every_multiple_and_at_the_end():
    run = train(TINY.replace(steps=130), progress=False)
    assert sorted(run.checkpoints) == [0, 40, 80, 120, 130]
    # the last checkpoint is the final weights, rounded to float16
    for name, w in run.state_dict.items():
        torch.testing.assert_close(run.checkpoints[130][name].float(), w.half().float())


def test_checkpoint_at_step_zero_is_the_initialisation():
    run = train(TINY, progress=False)
    fresh = train(TINY.replace(steps=1, checkpoint_every=0), progress=False)  # same seed, same init
    init = run.model_at(0)
    one_step = fresh.state_dict
    w0 = dict(init.state_dict())
    assert not torch.equal(w0["W_E"], one_step["W_E"])  # one update moved it
    assert (w0["W_E"] - one_step["W_E"]).abs().max() < 1e-2  # but only a little


def test_a_checkpointed_model_computes_the_logged_accuracy():
    run = train(TINY, progress=False)
    task = make_task("add", 11, TINY.train_frac, TINY.seed)
    step = 80
    model = run.model_at(step)
    with torch.no_grad():
        acc = (model(task.inputs[task.val_idx]).argmax(-1) == task.labels[task.val_idx]).float().mean().item()
    logged = run.history["val_acc"][run.steps.index(step)]
    assert abs(acc - logged) <= 1 / len(task.val_idx) + 1e-9  # float16 rounding may flip at most one answer


def test_an_early_stopped_run_keeps_its_last_checkpoint():
    cfgs = [TrainConfig(p=23, steps=4000, checkpoint_every=1000, patience=0, seed=s) for s in range(2)]
    for run in train_many(cfgs, progress=False):
        last = run.steps[-1]
        assert max(run.checkpoints) == last
        assert all(s % 1000 == 0 for s in run.checkpoints if s != last)


def test_checkpoints_round_trip_through_the_store(tmp_path):
    run = train(TINY, progress=False)
    store = Store(tmp_path)
    store.save(run)
    assert (tmp_path / f"{TINY.key()}.ckpt.pt").exists()
    back = store.load(TINY)
    assert sorted(back.checkpoints) == sorted(run.checkpoints)
    assert all(torch.equal(back.checkpoints[40][k], v) for k, v in run.checkpoints[40].items())


def test_a_damaged_checkpoint_file_is_named(tmp_path):
    run = train(TINY, progress=False)
    store = Store(tmp_path)
    store.save(run)
    (tmp_path / f"{TINY.key()}.ckpt.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match=r"ckpt\.pt"):
        store.load(TINY)


def test_asking_for_a_step_without_a_checkpoint_says_which_exist():
    run = train(TINY, progress=False)
    with pytest.raises(ValueError, match="no checkpoint at step 50"):
        run.model_at(50)
    with pytest.raises(ValueError, match="checkpoint_every"):
        train(TINY.replace(checkpoint_every=0), progress=False).model_at(0)


@pytest.mark.parametrize("op,p", [("add", 13), ("sub", 11), ("mul", 7)])
def test_symmetric_split_keeps_each_pair_and_its_mirror_together(op, p):
    a, b, _ = operation_table(op, p)
    tr, va = symmetric_split_indices(a, b, 0.4, seed=3)
    assert len(set(tr.tolist()) | set(va.tolist())) == len(a) and not set(tr.tolist()) & set(va.tolist())
    side = {(x, y): True for x, y in zip(a[tr].tolist(), b[tr].tolist(), strict=True)}
    side |= {(x, y): False for x, y in zip(a[va].tolist(), b[va].tolist(), strict=True)}
    assert all(side[(y, x)] == s for (x, y), s in side.items())
    assert abs(len(tr) / len(a) - 0.4) < 0.05


def test_the_trainer_trains_on_the_symmetric_split():
    from grok_lib.training.batches import Stack

    cfgs = [TrainConfig(p=13, split=s, seed=2) for s in ("symmetric", "ordered")]
    stack = Stack(cfgs, torch.device("cpu"), torch.float32)
    for r, split in enumerate(("symmetric", "ordered")):
        task = make_task("add", 13, 0.3, seed=2, split=split)
        assert stack.is_train[r].nonzero().flatten().tolist() == task.train_idx.tolist()
    assert stack.is_train[0].tolist() != stack.is_train[1].tolist()


def test_an_unknown_split_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="symmetric"):
        TrainConfig(split="mirror")
