"""The trainer: a real grokking run, stacked = alone, stopping, devices, dtypes, minibatches, logs;
and its parts: the stack's data, each run's log, dropping finished runs."""

from __future__ import annotations

import math
import threading

import pytest
import torch

from grok_lib.analysis.phases import classify, grokking_summary
from grok_lib.training.bookkeeping import log_steps
from grok_lib.training.config import TrainConfig
from grok_lib.training.device import resolve_device
from grok_lib.training.record import METRICS
from grok_lib.training.trainer import train, train_many

SMALL = TrainConfig(op="add", p=23, d_embed=64, d_hidden=64, log_every=50, patience=100, steps=300)


def _run(cfg: TrainConfig, **kw):
    return train(cfg, device="cpu", progress=False, **kw)


def test_mlp_memorises_then_generalises():
    """The course's first claim, at p=47: memorisation comes clearly before generalisation."""
    cfg = TrainConfig(op="add", p=47, train_frac=0.4, weight_decay=1.0, lr=1e-3, optimizer="adamw",
                      steps=4000, patience=200)
    run = _run(cfg)
    s = grokking_summary(run.history)
    assert s.final_val_acc >= 0.99, s
    assert s.memorised_at is not None and s.generalised_at is not None
    assert s.generalised_at >= 4 * s.memorised_at, s
    assert classify(run.history) == "grokking"
    # while memorised but not yet generalised, the gap is wide: the network really did memorise first
    gap = [tr - va for st, tr, va in zip(run.steps, run.history["train_acc"], run.history["val_acc"], strict=True)
           if s.memorised_at <= st < s.generalised_at]
    assert max(gap) > 0.5


GRAD_METRICS = ("grad_norm", "eff_lr", "eff_grad")


def _close_histories(a, b, tol=1e-9):
    assert a.history["step"] == b.history["step"]
    assert set(a.history) == set(b.history)
    for key in METRICS:
        for x, y in zip(a.history[key], b.history[key], strict=True):
            assert (math.isnan(x) and math.isnan(y)) or abs(x - y) <= tol * max(1.0, abs(y)), key


def test_stacked_runs_match_runs_trained_alone():
    base = SMALL.replace(dtype="float64")  # float64 so stacking differences stay at rounding level
    configs = [
        base.replace(seed=0, steps=400, early_stop=False, train_frac=0.65),
        # splits within 10% of each other share a stack, so padding and masking are exercised
        base.replace(seed=1, weight_decay=0.3, lr=3e-3, steps=600, train_frac=0.67),
        base.replace(seed=2, label_noise=0.1, train_frac=0.69, early_stop=False),
        base.replace(seed=3, lr=1e-2, train_frac=0.7, steps=600),
    ]
    many = train_many(configs, device="cpu", progress=False)
    assert {r.meta["stacked_runs"] for r in many} == {4}
    for cfg, stacked in zip(configs, many, strict=True):
        alone = _run(cfg)
        assert alone.meta["stacked_runs"] == 1
        assert stacked.config == cfg
        assert stacked.meta["status"] == alone.meta["status"]
        _close_histories(stacked, alone)
    assert many[3].meta["status"] == "early_stop"  # a run can leave the stack early ...
    assert many[1].steps[-1] == 600  # ... while the others carry on


def test_final_row_of_a_short_run_matches_alone():
    short = SMALL.replace(steps=20, early_stop=False)
    stacked = train_many([short, short.replace(seed=1, steps=30)], device="cpu", progress=False)[0]
    alone = _run(short)
    for key in GRAD_METRICS:
        assert math.isnan(alone.history[key][-1])
        assert math.isnan(stacked.history[key][-1]), key


def test_train_many_groups_different_architectures():
    configs = [SMALL.replace(steps=20, seed=1), SMALL.replace(steps=20, d_hidden=32), SMALL.replace(steps=30)]
    runs = train_many(configs, device="cpu", progress=False)
    assert [r.config for r in runs] == configs
    assert [r.meta["stacked_runs"] for r in runs] == [2, 1, 2]
    assert [r.steps[-1] for r in runs] == [20, 20, 30]


def test_early_stop_after_patience():
    cfg = SMALL.replace(lr=1e-2, train_frac=0.7, steps=2000, seed=3)
    run = _run(cfg)
    assert run.meta["status"] == "early_stop"
    steps, val = run.steps, run.history["val_acc"]
    last = steps[-1]
    assert last < cfg.steps
    held = [s for s, v in zip(steps, val, strict=True) if s >= last - cfg.patience]
    assert all(v >= 0.99 for s, v in zip(steps, val, strict=True) if s in held)
    before = steps[steps.index(last - cfg.patience) - 1]
    assert val[steps.index(before)] < 0.99  # it stopped as soon as patience ran out, not later
    no_stop = _run(cfg.replace(early_stop=False, steps=last + 100))
    assert no_stop.steps[-1] == last + 100 and no_stop.meta["status"] == "budget"


def test_stop_event_keeps_history():
    stop = threading.Event()

    def callback(step, runs):
        if step >= 100:
            stop.set()

    run = _run(SMALL.replace(steps=1000, early_stop=False), callback=callback, stop=stop)
    assert run.meta["status"] == "stopped"
    assert run.steps[-1] == 100
    assert len(run.history["val_acc"]) == len(run.steps) > 5


def test_keyboard_interrupt_keeps_history():
    def callback(step, runs):
        if step >= 150:
            raise KeyboardInterrupt

    run = _run(SMALL.replace(steps=1000, early_stop=False), callback=callback)
    assert run.meta["status"] == "interrupted"
    assert run.steps[-1] == 150
    assert all(len(run.history[m]) == len(run.steps) for m in METRICS)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is present here")
def test_cuda_without_gpu_says_what_to_do():
    with pytest.raises(RuntimeError, match="device='cpu'"):
        resolve_device("cuda")
    with pytest.raises(RuntimeError, match="no CUDA"):
        train(SMALL.replace(steps=5), device="cuda", progress=False)
    assert resolve_device(None).type == "cpu"


def test_float64_training():
    run = _run(SMALL.replace(dtype="float64", steps=100))
    assert all(v.dtype == torch.float64 for v in run.state_dict.values())
    assert all(math.isfinite(x) for x in run.history["train_loss"])
    assert run.history["train_loss"][-1] < run.history["train_loss"][0]


def test_minibatch_is_deterministic_and_differs_from_full_batch():
    cfg = SMALL.replace(batch_size=32, steps=150, early_stop=False)
    a, b = _run(cfg), _run(cfg)
    _close_histories(a, b, tol=0.0)
    assert a.history["train_loss"][-1] < a.history["train_loss"][0]
    full = _run(cfg.replace(batch_size=None))
    assert full.history["train_loss"][-1] != a.history["train_loss"][-1]
    assert _run(cfg.replace(seed=1)).history["train_loss"] != a.history["train_loss"]


def test_history_contents_and_effective_lr():
    cfg = SMALL.replace(steps=250, early_stop=False, warmup_steps=10, lr=2e-3, log_every=50)
    run = _run(cfg)
    h = run.history
    assert h["step"] == log_steps(cfg.steps, cfg.log_every)
    assert set(METRICS) <= set(h)
    assert all(len(h[m]) == len(h["step"]) for m in METRICS)
    for key in ("train_acc", "val_acc"):
        assert all(0.0 <= v <= 1.0 for v in h[key])
    checked = 0
    for i, step in enumerate(h["step"][:-1]):  # the last row has no update after it, so no gradient
        wn = h["weight_norm"][i]
        assert h["eff_grad"][i] == pytest.approx(h["grad_norm"][i] * wn, rel=1e-5)
        if step + 1 >= cfg.warmup_steps:
            assert h["eff_lr"][i] == pytest.approx(cfg.lr / wn**2, rel=1e-5)
            checked += 1
        else:
            assert h["eff_lr"][i] == pytest.approx(cfg.lr * (step + 1) / cfg.warmup_steps / wn**2, rel=1e-5)
    assert checked >= 5
    assert all(math.isnan(h[m][-1]) for m in ("grad_norm", "eff_lr", "eff_grad"))
    # weight norm is the norm of every parameter
    norm = math.sqrt(sum(float(v.double().pow(2).sum()) for v in run.state_dict.values()))
    assert h["weight_norm"][-1] == pytest.approx(norm, rel=1e-5)
    assert run.meta["status"] == "budget" and run.meta["steps_done"] == cfg.steps


@pytest.mark.parametrize("kw", [{}, {"op": "sub", "label_noise": 0.2}, {"op": "sub", "merge": "concat"}],
                         ids=["add", "sub-noisy-sum", "sub-concat"])
def test_accuracy_matches_the_returned_model(kw):
    """The logged metrics (computed on deduplicated rows for summed embeddings) equal
    those of the returned model run on every pair."""
    from grok_lib.task.data import make_task

    cfg = SMALL.replace(steps=200, early_stop=False, **kw)
    run = _run(cfg)
    task = make_task(cfg.op, cfg.p, cfg.train_frac, cfg.split_seed, label_noise=cfg.label_noise)
    with torch.no_grad():
        pred = run.model()(task.inputs).argmax(-1)
    val_acc = float((pred[task.val_idx] == task.labels[task.val_idx]).double().mean())
    train_acc = float((pred[task.train_idx] == task.train_labels).double().mean())
    assert run.history["val_acc"][-1] == pytest.approx(val_acc, abs=1e-6)
    assert run.history["train_acc"][-1] == pytest.approx(train_acc, abs=1e-6)


def test_log_steps_dense_early_then_regular():
    steps = log_steps(1000, 100)
    assert steps[0] == 0 and steps[-1] == 1000
    assert steps == sorted(set(steps))
    assert set(range(0, 1001, 100)) <= set(steps)
    assert len([s for s in steps if s < 100]) > 20
    assert log_steps(250, 100)[-1] == 250


@pytest.mark.parametrize("merge", ["sum", "concat"])
def test_deduplicated_batch_gives_the_same_loss_and_gradient(merge):
    """A summed-embedding MLP sees (a, b) and (b, a) as one row; each example keeps its own
    label (here a - b with noisy labels, so mirrored pairs disagree), so the loss and its
    gradient equal those of one row per example."""
    import torch.nn.functional as F

    from grok_lib.training.batches import Stack, example_loss
    from grok_lib.training.build import build_model

    cfg = SMALL.replace(op="sub", merge=merge, label_noise=0.2, train_frac=0.6, dtype="float64")
    data = Stack([cfg], torch.device("cpu"), torch.float64)
    n_rows, n_examples = data.batch_x.shape[1], int(data.n_train[0])
    assert (n_rows < 0.9 * n_examples) if merge == "sum" else (n_rows == n_examples)
    model = build_model(cfg, 23, 23)
    loss = (example_loss(model(data.batch_x), data.batch_row, data.train_y) * data.weight).sum()
    grads = torch.autograd.grad(loss, list(model.parameters()))
    plain = F.cross_entropy(model(data.inputs[data.train_idx[0]]), data.train_y[0])
    torch.testing.assert_close(loss, plain, rtol=1e-12, atol=1e-12)
    for g, g_plain in zip(grads, torch.autograd.grad(plain, list(model.parameters())), strict=True):
        torch.testing.assert_close(g, g_plain, rtol=1e-10, atol=1e-12)


def test_evaluation_in_chunks_matches_one_chunk(monkeypatch):
    """A large stack evaluates the table in chunks of rows; the metrics must not change."""
    import importlib

    evaluation = importlib.import_module("grok_lib.training.evaluation")
    cfgs = [SMALL.replace(op="sub", merge=m, steps=20, seed=s, dtype="float64") for m in ("sum", "concat")
            for s in (0, 1)]
    whole = train_many(cfgs, device="cpu", progress=False)
    monkeypatch.setattr(evaluation, "EVAL_CHUNK_FLOATS", 1)  # the 256-row minimum: several chunks
    chunked = train_many(cfgs, device="cpu", progress=False)
    for a, b in zip(whole, chunked, strict=True):
        for name in ("train_loss", "train_acc", "val_loss", "val_acc"):
            assert a.history[name] == pytest.approx(b.history[name], rel=1e-12, abs=1e-12)


# ---- the trainer's parts -----------------------------------------------------------------

def test_minibatches_walk_each_epoch_once_from_the_runs_own_stream():
    """Each epoch is one permutation of the training set from a generator seeded seed + 104,729
    (stored minibatch runs depend on that stream); a set smaller than a batch repeats."""
    from grok_lib.training.batches import Minibatches

    sampler = Minibatches(seed=5)
    gen = torch.Generator().manual_seed(5 + 104_729)
    first, second = torch.randperm(10, generator=gen), torch.randperm(10, generator=gen)
    got = [sampler.next(10, 4) for _ in range(4)]  # 4 + 4 from the first epoch, the last 2 are left out
    assert torch.equal(torch.cat(got[:2]), first[:8])
    assert torch.equal(torch.cat(got[2:]), second[:8])
    small = Minibatches(seed=0).next(3, 7)
    assert len(small) == 7 and set(small.tolist()) == {0, 1, 2}
    assert torch.equal(Minibatches(seed=5).next(10, 4), got[0])


def _log_rows(log, rows):
    """Feed (step, val_acc) rows to a RunLog; what ``record`` returned for each."""
    return [log.record(step, [1.0, 1.0, 0.5, acc, 3.0, 0.1, 0.2, 0.3]) for step, acc in rows]


def test_run_log_stops_once_accuracy_held_for_patience():
    from grok_lib.training.bookkeeping import RunLog

    log = RunLog(SMALL.replace(steps=1000, patience=100))
    # a dip (or NaN) restarts the clock: held from 300, not from 100
    done = _log_rows(log, [(0, 0.5), (100, 0.995), (200, math.nan), (300, 0.99), (350, 1.0), (400, 0.999)])
    assert done == [False] * 5 + [True] and log.held_since == 300
    assert log.status("stopped") == "early_stop"
    assert log.run.history["step"] == [0, 100, 200, 300, 350, 400]
    assert not log.logs_at(500)  # a finished run records nothing more
    patient = RunLog(SMALL.replace(steps=1000, patience=100, early_stop=False))
    assert _log_rows(patient, [(300, 0.99), (400, 1.0)]) == [False, False]
    assert patient.status("stopped") == "stopped" and patient.status("interrupted") == "interrupted"


def test_run_log_last_row_has_no_gradient_and_ends_on_budget():
    from grok_lib.training.bookkeeping import RunLog

    log = RunLog(SMALL.replace(steps=300, early_stop=False))
    assert log.schedule == set(log_steps(300, SMALL.log_every)) and log.logs_at(300) and not log.logs_at(301)
    assert _log_rows(log, [(250, 0.5), (300, 0.5)]) == [False, True]
    h = log.run.history
    assert [h[m][0] for m in GRAD_METRICS] == [0.1, 0.2, 0.3]
    assert all(math.isnan(h[m][-1]) for m in GRAD_METRICS) and h["val_loss"][-1] == 0.5
    assert log.status("stopped") == "budget"


def test_keep_runs_drops_runs_from_model_data_optimiser_and_schedule_together():
    from grok_lib.training.trainer import _StackTraining

    cfgs = [SMALL.replace(seed=s, warmup_steps=10 * (s + 1), lr=1e-3 * (s + 1)) for s in range(3)]
    stack = _StackTraining(cfgs, torch.device("cpu"))
    before = {k: v.clone() for k, v in stack.model.state_dict().items()}
    stack.keep_runs([0, 2])
    assert [log.config.seed for log in stack.active] == [0, 2] and len(stack.logs) == 3
    for k, v in stack.model.state_dict().items():
        assert torch.equal(v, before[k][[0, 2]]), k
    assert stack.opt.params == list(stack.model.parameters())
    assert stack.opt.lr.tolist() == pytest.approx([1e-3, 3e-3])
    assert stack.warmup.tolist() == [10.0, 30.0]
    assert stack.data.n_train.shape == (2,) and stack.data.batch_x.shape[0] == 2
    x, row, y, w = stack._batch()
    assert stack.model(x).shape[0] == 2 and w.shape[0] == 2


def test_callback_sees_every_run_of_the_stack_and_stop_ends_them_all():
    """The lab's contract: callback(step, runs) with one Run per config of the stack (finished
    ones included) at each logged step; after stop is set no further step is taken."""
    stop = threading.Event()
    seen = []

    def callback(step, runs):
        seen.append((step, [r.config.steps for r in runs], [len(r.steps) for r in runs]))
        if step >= 60:
            stop.set()

    configs = [SMALL.replace(steps=500, early_stop=False), SMALL.replace(steps=20, seed=1)]
    runs = train_many(configs, device="cpu", progress=False, callback=callback, stop=stop)
    assert all(total == [500, 20] for _, total, _ in seen)
    logged = set(log_steps(500, SMALL.log_every)) | set(log_steps(20, SMALL.log_every))
    assert [s for s, _, _ in seen] == sorted(s for s in logged if s <= 100)  # every logged step, up to the stop
    assert seen[-1][0] == 100 and seen[-1][2][1] == len(log_steps(20, SMALL.log_every))  # the short run's rows stay
    assert [r.meta["status"] for r in runs] == ["stopped", "budget"]
    assert runs[1].state_dict is not None and runs[0].state_dict is not None
