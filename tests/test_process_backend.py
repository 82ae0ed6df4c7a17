"""The "processes" backend trains the stacks the local backend trains, in worker processes, to
the same histories; a bad worker count is refused with what to type instead."""

import pytest
import torch

from grok_lib import TrainConfig, grid, sweep
from grok_lib.runs.process_backend import workers

CONFIGS = grid(TrainConfig(p=13, steps=120, log_every=40, early_stop=False), train_frac=[0.3, 0.6], seed=[0, 1])


def test_processes_store_the_histories_of_the_local_backend(tmp_path, monkeypatch):
    monkeypatch.setenv("GROK_WORKERS", "2")
    local = sweep(CONFIGS, store=tmp_path / "local", progress=False, device="cpu")  # bit for bit on a CPU
    spread = sweep(CONFIGS, store=tmp_path / "processes", progress=False, backend="processes", device="cpu")
    assert [r.history for r in spread] == [r.history for r in local]
    assert len(list((tmp_path / "processes").glob("*.json"))) == len(CONFIGS)


def test_worker_count_comes_from_the_environment_and_never_exceeds_the_stacks(monkeypatch):
    cpu = torch.device("cpu")
    monkeypatch.setenv("GROK_WORKERS", "6")
    assert workers(cpu, 3) == 3 and workers(cpu, 10) == 6
    monkeypatch.delenv("GROK_WORKERS")
    assert workers(torch.device("cuda"), 20) == 8
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv("GROK_WORKERS", bad)
        with pytest.raises(ValueError, match="GROK_WORKERS"):
            workers(cpu, 4)
