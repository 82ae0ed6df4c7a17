"""The command line: `python -m grok_lib list` and `regenerate`, on a tiny registered experiment."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import grok_lib.runs.runner as runner_mod
from grok_lib import __main__ as cli
from grok_lib.runs.experiments import EXPERIMENTS, Experiment
from grok_lib.training.config import TrainConfig
from grok_lib.training.record import Run

TINY = TrainConfig(op="add", p=11, d_embed=16, d_hidden=16, steps=40, log_every=20, early_stop=False)


def _no_training(*args, **kwargs):
    raise AssertionError("trained although the run was stored")


@pytest.fixture
def tiny_experiment(monkeypatch):
    exp = Experiment("tiny_test", "00_tests", "two tiny runs", lambda: [TINY, TINY.replace(seed=1)])
    monkeypatch.setitem(EXPERIMENTS, exp.name, exp)
    return exp


def test_cli_list(tiny_experiment, tmp_store, capsys):
    assert cli.main(["list", "--store", str(tmp_store.root)]) == 0
    out = capsys.readouterr().out
    assert "ch2_mlp" in out
    line = next(s for s in out.splitlines() if s.startswith("tiny_test"))
    assert "0/2" in line and "two tiny runs" in line
    tmp_store.save(Run(TINY, {"step": [0]}, {"status": "budget"}))
    cli.main(["list", "--store", str(tmp_store.root)])
    assert "1/2" in next(s for s in capsys.readouterr().out.splitlines() if s.startswith("tiny_test"))


def test_cli_regenerate(tiny_experiment, tmp_store, monkeypatch, capsys):
    assert cli.main(["regenerate", "tiny_test", "--store", str(tmp_store.root), "--device", "cpu"]) == 0
    assert "tiny_test: 2 runs" in capsys.readouterr().out
    assert all(tmp_store.has(c) for c in tiny_experiment.configs())
    # --missing trains nothing more; without it the runs are trained again
    monkeypatch.setattr(runner_mod, "train_many", _no_training)
    assert cli.main(["regenerate", "tiny_test", "--missing", "--store", str(tmp_store.root)]) == 0
    with pytest.raises(AssertionError, match="trained"):
        cli.main(["regenerate", "tiny_test", "--store", str(tmp_store.root)])


def test_cli_errors(capsys):
    with pytest.raises(SystemExit):
        cli.main(["regenerate"])
    assert "--all" in capsys.readouterr().err
    with pytest.raises(ValueError, match="unknown experiment"):
        cli.main(["regenerate", "no_such_experiment"])


def test_cli_subprocess_list(tmp_path):
    env = os.environ | {"GROK_RESULTS": str(tmp_path)}
    out = subprocess.run([sys.executable, "-m", "grok_lib", "list"], capture_output=True, text=True, env=env,
                         check=True).stdout
    assert "ch2_mlp" in out
