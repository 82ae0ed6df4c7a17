"""The results store, sweeps and the command line."""

from __future__ import annotations

import json
import math

import pytest
import torch

import grok_lib.runs.runner as runner_mod
import grok_lib.runs.store as store_mod
from grok_lib.runs.runner import grid, load_or_train, sweep
from grok_lib.runs.store import Store
from grok_lib.task.data import make_task
from grok_lib.training.config import TrainConfig
from grok_lib.training.record import Run

TINY = TrainConfig(op="add", p=11, d_embed=16, d_hidden=16, steps=40, log_every=20, early_stop=False)


def _no_training(*args, **kwargs):
    raise AssertionError("trained although the run was stored")


def _same_history(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert len(a[key]) == len(b[key])
        for x, y in zip(a[key], b[key], strict=True):
            assert (math.isnan(x) and math.isnan(y)) or x == y, key


def test_load_or_train_trains_once_then_loads(tmp_store, monkeypatch):
    first = load_or_train(TINY, store=tmp_store, device="cpu", progress=False)
    assert tmp_store.has(TINY) and first.steps[-1] == TINY.steps
    monkeypatch.setattr(runner_mod, "train_many", _no_training)
    second = load_or_train(TINY, store=tmp_store, device="cpu", progress=False)
    assert second.config == TINY
    _same_history(first.history, second.history)
    assert second.meta == first.meta


def test_a_different_config_is_not_returned(tmp_store, monkeypatch):
    load_or_train(TINY, store=tmp_store, device="cpu", progress=False)
    other = TINY.replace(seed=1)
    assert not tmp_store.has(other)
    trained = []
    real = runner_mod.train_many
    monkeypatch.setattr(runner_mod, "train_many", lambda cfgs, **kw: trained.extend(cfgs) or real(cfgs, **kw))
    run = load_or_train(other, store=tmp_store, device="cpu", progress=False)
    assert trained == [other] and run.config == other


def test_edited_file_is_refused(tmp_store):
    load_or_train(TINY, store=tmp_store, device="cpu", progress=False)
    path = tmp_store.path(TINY)
    doc = json.loads(path.read_text())
    doc["config"]["lr"] = 0.5
    path.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="different config"):
        tmp_store.load(TINY)


def test_list_of_configs_trains_only_missing(tmp_store, monkeypatch):
    load_or_train(TINY, store=tmp_store, device="cpu", progress=False)
    configs = [TINY, TINY.replace(seed=2), TINY.replace(seed=3)]
    trained = []
    real = runner_mod.train_many
    monkeypatch.setattr(runner_mod, "train_many", lambda cfgs, **kw: trained.extend(cfgs) or real(cfgs, **kw))
    runs = load_or_train(configs, store=tmp_store, device="cpu", progress=False)
    assert trained == configs[1:]
    assert [r.config for r in runs] == configs
    assert sorted(c.key() for c in tmp_store.configs()) == sorted(c.key() for c in configs)


def test_nan_survives_the_round_trip(tmp_store):
    run = Run(TINY, {"step": [0, 1], "val_acc": [0.5, math.nan]}, {"status": "budget"})
    tmp_store.save(run)
    text = tmp_store.path(TINY).read_text()
    assert "NaN" not in text  # strict JSON
    back = tmp_store.load(TINY)
    assert back.history["val_acc"][0] == 0.5 and math.isnan(back.history["val_acc"][1])


def test_writes_are_atomic(tmp_store, monkeypatch):
    old = Run(TINY, {"step": [0], "val_acc": [0.25]}, {"status": "budget"})
    tmp_store.save(old)
    before = tmp_store.path(TINY).read_bytes()

    def broken_dumps(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(store_mod.json, "dumps", broken_dumps)
    with pytest.raises(RuntimeError, match="disk full"):
        tmp_store.save(Run(TINY, {"step": [0], "val_acc": [0.75]}, {"status": "budget"}))
    monkeypatch.undo()
    assert tmp_store.path(TINY).read_bytes() == before
    assert sorted(p.name for p in tmp_store.root.iterdir()) == [tmp_store.path(TINY).name]  # no temp files
    assert tmp_store.load(TINY).history["val_acc"] == [0.25]


def test_failure_inside_the_write_leaves_no_file(tmp_path):
    target = tmp_path / "x.json"

    def half_write(f):
        f.write(b'{"partial": ')
        raise OSError("interrupted")

    with pytest.raises(OSError):
        store_mod._atomic_write(target, half_write)
    assert list(tmp_path.iterdir()) == []


def test_saved_model_rebuilds(tmp_store):
    cfg = TINY.replace(save_model=True, steps=200, log_every=100, train_frac=0.6)
    load_or_train(cfg, store=tmp_store, device="cpu", progress=False)
    assert tmp_store.path(cfg).with_suffix(".pt").exists()
    run = tmp_store.load(cfg)
    task = make_task(cfg.op, cfg.p, cfg.train_frac, cfg.split_seed)
    with torch.no_grad():
        pred = run.model()(task.inputs).argmax(-1)
    acc = float((pred[task.val_idx] == task.labels[task.val_idx]).double().mean())
    assert acc == pytest.approx(run.history["val_acc"][-1], abs=1e-6)  # history is float32


def test_run_without_weights_says_how_to_keep_them(tmp_store):
    load_or_train(TINY, store=tmp_store, device="cpu", progress=False)
    assert not tmp_store.path(TINY).with_suffix(".pt").exists()
    with pytest.raises(ValueError, match="save_model=True"):
        tmp_store.load(TINY).model()


def test_saved_model_of_a_run_that_leaves_the_stack_early(tmp_store):
    short = TINY.replace(save_model=True, steps=20, log_every=10)
    runs = load_or_train([short, short.replace(steps=40)], store=tmp_store, device="cpu", progress=False)
    assert runs[0].state_dict is not None


def test_really_interrupted_run_is_not_stored(tmp_store, monkeypatch):
    real = runner_mod.train_many

    def interrupting(cfgs, **kw):
        def callback(step, runs):
            if step >= 20:
                raise KeyboardInterrupt

        return real(cfgs, callback=callback, **kw)

    monkeypatch.setattr(runner_mod, "train_many", interrupting)
    run = load_or_train(TINY.replace(steps=200), store=tmp_store, device="cpu", progress=False)
    assert run.meta["status"] == "interrupted" and run.steps[-1] == 20
    assert not tmp_store.has(run.config) and not list(tmp_store.root.glob("*"))


def test_interrupted_runs_are_not_stored(tmp_store, monkeypatch):
    def interrupt(*args, **kwargs):
        for cfg in args[0]:
            kwargs["on_done"]([Run(cfg, {"step": [0], "val_acc": [0.1]}, {"status": "interrupted"})])
        return []

    monkeypatch.setattr(runner_mod, "train_many", interrupt)
    run = load_or_train(TINY, store=tmp_store, device="cpu", progress=False)
    assert run.meta["status"] == "interrupted" and run.history["val_acc"] == [0.1]
    assert not tmp_store.has(TINY)
    with pytest.raises(ValueError, match="interrupted"):
        tmp_store.save(run)


def test_default_store_follows_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("GROK_RESULTS", str(tmp_path / "elsewhere"))
    assert Store().root == tmp_path / "elsewhere"


# ---- sweeps ------------------------------------------------------------------------------

def test_grid_order_and_size():
    configs = grid(TINY, weight_decay=[0.1, 1.0], seed=range(3))
    assert len(configs) == 6
    assert [(c.weight_decay, c.seed) for c in configs] == [(w, s) for w in (0.1, 1.0) for s in range(3)]


def test_sweep_skips_stored_runs(tmp_store, monkeypatch):
    configs = grid(TINY, seed=range(3))
    sweep(configs[:1], store=tmp_store, device="cpu", progress=False)
    trained = []
    real = runner_mod.train_many
    monkeypatch.setattr(runner_mod, "train_many", lambda cfgs, **kw: trained.extend(cfgs) or real(cfgs, **kw))
    runs = sweep(configs, store=tmp_store, device="cpu", progress=False)
    assert trained == configs[1:]
    assert all(tmp_store.has(c) for c in configs) and len(runs) == 3
    trained.clear()
    sweep(configs, store=tmp_store, device="cpu", progress=False)
    assert trained == []
    with pytest.raises(ValueError, match="local"):
        sweep(configs, store=tmp_store, backend="cluster")
