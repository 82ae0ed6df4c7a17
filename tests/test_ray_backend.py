"""The Ray backend of `sweep`, on a local Ray instance of two CPUs that this module starts (once):
the same histories as in-process training, failed and dead workers reported and retried, a run
that fails every time named at the end with the rest stored, Ctrl-C keeping what finished, and
the command line's ``--backend ray``."""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path

import pytest
import ray
import torch

from grok_lib import __main__ as cli
from grok_lib.runs.experiments import EXPERIMENTS, Experiment
from grok_lib.runs.ray_backend import train_on_ray, train_stack
from grok_lib.runs.runner import BACKENDS, SweepError, grid, sweep
from grok_lib.runs.store import Store
from grok_lib.training.config import TrainConfig
from grok_lib.training.record import Run
from grok_lib.training.trainer import stack_groups

TINY = TrainConfig(op="add", p=11, d_embed=16, d_hidden=16, steps=40, log_every=20, early_stop=False)


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    """One local Ray instance for the whole module: starting one costs seconds."""
    ours = "RAY_USAGE_STATS_ENABLED" not in os.environ
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # a test run reports nothing anywhere
    ray.init(num_cpus=2, include_dashboard=False, logging_level="warning")
    # the workers cannot import this test module, so its functions travel by value
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    yield
    ray.shutdown()
    if ours:
        os.environ.pop("RAY_USAGE_STATS_ENABLED")


@pytest.fixture
def one_thread():
    """Training here and in a worker (one CPU per task) on the same number of threads."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def flaky_train(configs: list[TrainConfig], device: str, threads: int) -> list[Run]:
    """`train_stack`, except that a stack holding a config tagged ``extra={"fail": how, "log": path}``
    fails: ``raise`` and ``die`` (the worker process exits) on the first try only, ``always`` on
    every try. Each try of a tagged stack appends the stack's size to the log file."""
    for cfg in configs:
        how = cfg.extra.get("fail")
        if how is None:
            continue
        log = Path(cfg.extra["log"])
        first = not log.exists()
        with log.open("a") as f:
            f.write(f"{len(configs)}\n")
        if how == "die" and first:
            os._exit(3)
        if how == "always" or first:
            raise RuntimeError(f"injected failure ({how})")
    return train_stack(configs, device, threads)


def _tries(log: Path) -> list[int]:
    """The sizes of the stacks that held a tagged config, one per try."""
    return [int(n) for n in log.read_text().split()]


def _with(monkeypatch, **options) -> None:
    """Make backend="ray" run `train_on_ray` with these options (the failing training function, fewer tries)."""
    monkeypatch.setitem(BACKENDS, "ray", functools.partial(train_on_ray, **options))


def _stored(store: Store, config: TrainConfig) -> dict:
    return json.loads(store.path(config).read_text())


def test_ray_sweep_stores_the_same_histories_as_in_process(tmp_path, one_thread):
    configs = grid(TINY, train_frac=[0.3, 0.5, 0.7], weight_decay=[0.1, 1.0], seed=range(3))
    assert len(configs) == 18 and len(stack_groups(configs)) == 3
    here, there = Store(tmp_path / "local"), Store(tmp_path / "ray")
    sweep(configs, store=here, device="cpu", progress=False)
    runs = sweep(configs, store=there, device="cpu", progress=False, backend="ray")
    assert [r.config for r in runs] == configs
    for cfg in configs:
        a, b = _stored(here, cfg), _stored(there, cfg)
        assert a["history"] == b["history"]  # exact: JSON keeps every float (NaN as null)
        assert len(a["history"]["step"]) > 3
        for key in ("status", "steps_done", "stacked_runs"):
            assert a["meta"][key] == b["meta"][key]
    assert _stored(there, configs[0])["meta"]["stacked_runs"] == 6
    # and a run with weights brings them back from the worker
    with_weights = TINY.replace(save_model=True, seed=5)
    local = sweep([with_weights], store=here, device="cpu", progress=False)[0]
    remote = sweep([with_weights], store=there, device="cpu", progress=False, backend="ray")[0]
    assert local.state_dict.keys() == remote.state_dict.keys()
    assert all(torch.equal(local.state_dict[k], remote.state_dict[k]) for k in local.state_dict)


def test_failed_and_dead_workers_are_reported_and_retried(tmp_store, tmp_path, monkeypatch, capsys):
    raising = TINY.replace(train_frac=0.3, extra={"fail": "raise", "log": str(tmp_path / "raise.log")})
    dying = TINY.replace(train_frac=0.6, extra={"fail": "die", "log": str(tmp_path / "die.log")})
    configs = [raising, TINY.replace(train_frac=0.3, seed=1), dying, TINY.replace(train_frac=0.6, seed=1)]
    _with(monkeypatch, train_fn=flaky_train)
    sweep(configs, store=tmp_store, device="cpu", progress=False, backend="ray")
    assert all(tmp_store.readable(c) for c in configs)
    assert _tries(tmp_path / "raise.log") == [2, 2] and _tries(tmp_path / "die.log") == [2, 2]
    err = capsys.readouterr().err
    raised = next(line for line in err.splitlines() if raising.key() in line)
    assert "failed on try 1 of 3" in raised and "RuntimeError: injected failure (raise)" in raised
    assert configs[1].key() in raised  # the report names every config the stack held
    died = next(line for line in err.splitlines() if dying.key() in line)
    assert "failed on try 1 of 3" in died and "WorkerCrashedError" in died


def test_a_run_that_always_fails_is_named_at_the_end_and_the_rest_is_stored(tmp_store, tmp_path, monkeypatch,
                                                                            capsys):
    bad = TINY.replace(seed=3, extra={"fail": "always", "log": str(tmp_path / "bad.log")})
    good = [TINY.replace(seed=s) for s in range(3)]
    other = TINY.replace(train_frac=0.6)  # another stack, untouched by the failures
    _with(monkeypatch, train_fn=flaky_train, tries=2)
    with pytest.raises(SweepError, match="1 run\\(s\\) failed on every try") as failure:
        sweep([*good, bad, other], store=tmp_store, device="cpu", progress=False, backend="ray")
    assert failure.value.failed == [bad] and bad.key() in str(failure.value)
    assert all(tmp_store.readable(c) for c in [*good, other]) and not tmp_store.has(bad)
    # two tries of the stack of four, then of the half holding it, then of it alone
    assert _tries(tmp_path / "bad.log") == [4, 4, 2, 2, 1, 1]
    assert capsys.readouterr().err.count(bad.key()) == 6


def test_ctrl_c_keeps_finished_stacks_and_a_rerun_trains_only_the_rest(tmp_store, monkeypatch, capsys):
    quick = [TINY.replace(train_frac=0.3, seed=s) for s in range(2)]
    slow = [TINY.replace(train_frac=0.7, steps=1500, seed=s) for s in range(2)]  # queued behind the others
    configs = [*quick, TINY.replace(train_frac=0.5), *slow]

    handed: list[list[Run]] = []

    def interrupted_after_the_first_stack(cfgs, device, progress, on_done):
        def then_ctrl_c(runs: list[Run]) -> None:
            on_done(runs)
            if not handed:  # as Ctrl-C would, once, while the driver waits for the next stack
                handed.append(runs)
                raise KeyboardInterrupt

        train_on_ray(cfgs, device, progress, then_ctrl_c)

    monkeypatch.setitem(BACKENDS, "ray", interrupted_after_the_first_stack)
    runs = sweep(configs, store=tmp_store, device="cpu", progress=False, backend="ray")
    kept = [c for c in configs if tmp_store.has(c)]
    assert kept and not any(tmp_store.has(c) for c in slow)
    assert [r.meta["status"] for r in runs[-2:]] == ["not_started", "not_started"]
    assert "interrupted:" in capsys.readouterr().err
    trained: list[TrainConfig] = []
    monkeypatch.setitem(BACKENDS, "ray", lambda cfgs, *rest: trained.extend(cfgs) or train_on_ray(cfgs, *rest))
    sweep(configs, store=tmp_store, device="cpu", progress=False, backend="ray")
    assert sorted(c.key() for c in trained) == sorted(c.key() for c in configs if c not in kept)
    assert all(tmp_store.readable(c) for c in configs)


def test_cli_regenerates_on_ray(tmp_store, monkeypatch, capsys):
    exp = Experiment("tiny_ray_test", "00_tests", "two tiny runs", lambda: [TINY, TINY.replace(seed=1)])
    monkeypatch.setitem(EXPERIMENTS, exp.name, exp)
    argv = ["regenerate", exp.name, "--backend", "ray", "--store", str(tmp_store.root), "--device", "cpu"]
    assert cli.main(argv) == 0
    assert "tiny_ray_test: 2 runs" in capsys.readouterr().out
    assert all(tmp_store.readable(c) for c in exp.configs())


def test_cuda_on_a_cluster_without_gpus_is_refused_before_anything_runs(tmp_store):
    with pytest.raises(RuntimeError, match="no GPU"):
        sweep([TINY], store=tmp_store, device="cuda", progress=False, backend="ray")
    assert not tmp_store.has(TINY)
