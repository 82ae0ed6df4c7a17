"""The results store, damaged files in it, and the runner (load_or_train / sweep)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import grok_lib.runs.runner as runner_mod
import grok_lib.runs.store as store_mod
from grok_lib.runs.experiments import EXPERIMENTS, Experiment
from grok_lib.runs.runner import BACKENDS, grid, load_or_train, sweep
from grok_lib.runs.store import DamagedRunError, Store
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


def test_default_store_is_the_checkouts_results_from_anywhere(tmp_path, monkeypatch):
    """Without $GROK_RESULTS an editable install finds results/ beside the package, whatever the working folder."""
    monkeypatch.delenv("GROK_RESULTS")
    monkeypatch.chdir(tmp_path)
    checkout = Path(__file__).resolve().parent.parent
    assert Store().root == checkout / "results"


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


def test_one_runner_behind_both_entry_points(tmp_store, monkeypatch):
    """load_or_train and sweep hand what is missing to the same registered backend."""
    calls = []

    def backend(configs, device, progress, on_done):
        calls.append(list(configs))
        on_done([Run(c, {"step": [0], "val_acc": [0.5]}, {"status": "budget"}) for c in configs])

    monkeypatch.setitem(BACKENDS, "recording", backend)
    one = load_or_train(TINY, store=tmp_store, backend="recording")
    both = sweep([TINY, TINY.replace(seed=1)], store=tmp_store, backend="recording")
    assert calls == [[TINY], [TINY.replace(seed=1)]]
    assert one.history["val_acc"] == [0.5] and [r.config for r in both] == [TINY, TINY.replace(seed=1)]
    load_or_train([TINY], store=tmp_store, backend="recording", retrain=True)
    assert calls[-1] == [TINY]
    with pytest.raises(ValueError, match="local"):
        load_or_train(TINY, store=tmp_store, backend="cluster")


def test_ray_backend_without_ray_says_what_to_install(tmp_store, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # as where the cluster extra is not installed
    with pytest.raises(ImportError, match=r'pip install -e "\.\[cluster\]"'):
        sweep([TINY], store=tmp_store, device="cpu", progress=False, backend="ray")
    assert not tmp_store.has(TINY)
    tmp_store.save(Run(TINY, {"step": [0]}, {"status": "budget"}))  # nothing missing: Ray is not needed
    assert sweep([TINY], store=tmp_store, backend="ray")[0].steps == [0]


def test_importing_the_library_does_not_import_ray():
    """Ray is an optional extra: only choosing the Ray backend imports it."""
    code = ("import sys, grok_lib, grok_lib.__main__, grok_lib.runs.runner\n"
            "print(sorted({'ray', 'torch'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['torch']"


# ---- damaged files -----------------------------------------------------------------------

def _cut(path, keep: float = 0.5) -> None:
    """Truncate a file, as a full disk or a killed copy would leave it."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


@pytest.fixture
def tiny_experiment(monkeypatch):
    exp = Experiment("tiny_store_test", "00_tests", "one tiny run", lambda: [TINY])
    monkeypatch.setitem(EXPERIMENTS, exp.name, exp)
    return exp


def test_truncated_run_names_the_file_and_the_command(tmp_store, tiny_experiment):
    load_or_train(TINY, store=tmp_store, device="cpu", progress=False)
    path = tmp_store.path(TINY)
    _cut(path)
    expected = f"regenerate tiny_store_test --missing --store {tmp_store.root}"
    with pytest.raises(DamagedRunError, match="JSONDecodeError") as err:
        tmp_store.load(TINY)
    assert str(path) in str(err.value) and f"python -m grok_lib {expected}" in str(err.value)
    with pytest.raises(DamagedRunError, match="tiny_store_test"):  # the runner reads it the same way
        load_or_train(TINY, store=tmp_store, device="cpu", progress=False)
    assert not tmp_store.readable(TINY) and tmp_store.has(TINY)


def test_damaged_run_outside_every_experiment_says_to_delete_or_retrain(tmp_store):
    cfg = TINY.replace(seed=99)
    load_or_train(cfg, store=tmp_store, device="cpu", progress=False)
    tmp_store.path(cfg).write_text('{"schema": 1, "config": {"op": "add"}}')  # valid JSON, not a run
    with pytest.raises(DamagedRunError, match=r"delete it .*retrain=True") as err:
        tmp_store.load(cfg)
    assert str(tmp_store.path(cfg)) in str(err.value)
    for junk in (b"[]", b"", b'{"config": 1, "meta": {}, "history": {}}', b"\xff\xfe\x00", b'{"history": 3}'):
        tmp_store.path(cfg).write_bytes(junk)
        with pytest.raises(DamagedRunError, match=cfg.key()):
            tmp_store.load(cfg)


def test_retrain_replaces_a_damaged_run(tmp_store):
    first = load_or_train(TINY, store=tmp_store, device="cpu", progress=False)
    _cut(tmp_store.path(TINY), 0.1)
    again = load_or_train(TINY, store=tmp_store, device="cpu", progress=False, retrain=True)
    assert tmp_store.readable(TINY)
    _same_history(first.history, again.history)


def test_configs_skips_a_damaged_file_and_names_it(tmp_store):
    configs = [TINY, TINY.replace(seed=1), TINY.replace(seed=2)]
    load_or_train(configs, store=tmp_store, device="cpu", progress=False)
    _cut(tmp_store.path(configs[1]))
    with pytest.warns(UserWarning, match=f"skipped: .*{configs[1].key()}.json is damaged"):
        listed = tmp_store.configs()
    assert sorted(c.key() for c in listed) == sorted(c.key() for c in (configs[0], configs[2]))


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_damaged_weights_name_the_file(tmp_store, damage):
    cfg = TINY.replace(save_model=True)
    load_or_train(cfg, store=tmp_store, device="cpu", progress=False)
    weights = tmp_store.path(cfg).with_suffix(".pt")
    if damage == "truncated":
        _cut(weights)
    else:
        weights.write_bytes(b"not a tensor file" if damage == "garbage" else b"")
    with pytest.raises(DamagedRunError, match="cannot be read as weights") as err:
        tmp_store.load(cfg)
    assert str(weights) in str(err.value) and "retrain=True" in str(err.value)
    assert not tmp_store.readable(cfg)


def test_training_time_charges_each_run_its_share_of_its_stack(tmp_store):
    stack = {"device": "cpu: test", "wall_time_s": 30.0, "stacked_runs": 3, "status": "budget"}
    for seed in range(3):  # one stack of three runs: 30 s in all, not 90
        tmp_store.save(Run(TINY.replace(seed=seed), {"step": [0]}, dict(stack)))
    gpu = TINY.replace(seed=9)
    tmp_store.save(Run(gpu, {"step": [0]}, {"device": "cuda: test", "wall_time_s": 4.0, "stacked_runs": 1}))
    missing = TINY.replace(seed=10)
    assert tmp_store.training_time([TINY.replace(seed=s) for s in range(3)] + [gpu, missing]) == {
        "cpu: test": pytest.approx(30.0), "cuda: test": pytest.approx(4.0)}
    assert tmp_store.training_time([TINY]) == {"cpu: test": pytest.approx(10.0)}  # one run of the three
    assert tmp_store.training_time([missing]) == {}
