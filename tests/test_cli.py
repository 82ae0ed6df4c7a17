"""The command line: `python -m grok_lib list` and `regenerate`, on a tiny registered experiment."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import grok_lib.runs.runner as runner_mod
from grok_lib import __main__ as cli
from grok_lib.runs.experiments import EXPERIMENTS, Experiment
from grok_lib.runs.runner import BACKENDS, SweepError
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


def _one_line_error(capsys, argv: list[str]) -> str:
    """Run the command line expecting a usage error: exit status 2 and one line on stderr."""
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("python -m grok_lib"), err
    return err


def test_cli_errors_are_one_line_that_says_what_is_valid(tiny_experiment, capsys, monkeypatch):
    monkeypatch.setattr(runner_mod, "train_many", _no_training)
    assert "--all" in _one_line_error(capsys, ["regenerate"])
    # a bad name is refused before anything trains, even after a good one
    err = _one_line_error(capsys, ["regenerate", "tiny_test", "no_such_experiment"])
    assert "unknown experiment 'no_such_experiment'" in err and "ch2_mlp" in err and "tiny_test" in err
    err = _one_line_error(capsys, ["regenerate", "--bogus", "tiny_test"])
    assert "unrecognized arguments: --bogus" in err and "--missing" in err and "--store" in err
    assert "list, regenerate" in _one_line_error(capsys, ["lst"]).replace("'", "")
    assert "--store" in _one_line_error(capsys, ["list", "--all"])


def test_cli_backend_errors_are_one_line(tiny_experiment, capsys, monkeypatch):
    monkeypatch.setattr(runner_mod, "train_many", _no_training)
    err = _one_line_error(capsys, ["regenerate", "tiny_test", "--backend", "slurm"])
    assert "--backend" in err and "slurm" in err and "local, processes, ray" in err.replace("'", "")
    err = _one_line_error(capsys, ["regenerate", "tiny_test", "--address", "10.0.0.1:6379"])
    assert "--address" in err and "--backend ray" in err
    err = _one_line_error(capsys, ["regenerate", "tiny_test", "--backend", "ray", "--address", "127.0.0.1:1"])
    assert "cannot reach a Ray cluster at 127.0.0.1:1" in err  # at once: nothing listens on port 1
    monkeypatch.setitem(sys.modules, "ray", None)  # as where the cluster extra is not installed
    err = _one_line_error(capsys, ["regenerate", "tiny_test", "--backend", "ray"])
    assert 'pip install -e ".[cluster]"' in err


def test_cli_names_runs_that_failed_stores_the_rest_and_exits_non_zero(tiny_experiment, tmp_store, monkeypatch,
                                                                      capsys):
    def failing(configs, device, progress, on_done):
        on_done([Run(c, {"step": [0]}, {"status": "budget"}) for c in configs[1:]])
        raise SweepError(configs[:1], "1 run(s) failed on every try")

    monkeypatch.setitem(BACKENDS, "failing", failing)
    a, b = tiny_experiment.configs()
    assert cli.main(["regenerate", "tiny_test", "--backend", "failing", "--store", str(tmp_store.root)]) == 1
    assert capsys.readouterr().err == "tiny_test: 1 run(s) failed on every try\n"
    assert tmp_store.has(b) and not tmp_store.has(a)


def test_cli_regenerate_replaces_damaged_files(tiny_experiment, tmp_store, monkeypatch):
    root = str(tmp_store.root)
    cli.main(["regenerate", "tiny_test", "--store", root, "--device", "cpu"])
    a, b = tiny_experiment.configs()
    good = tmp_store.path(b).read_bytes()
    path = tmp_store.path(a)
    path.write_bytes(path.read_bytes()[:100])
    trained = []
    real = runner_mod.train_many
    monkeypatch.setattr(runner_mod, "train_many", lambda cfgs, **kw: trained.extend(cfgs) or real(cfgs, **kw))
    assert cli.main(["regenerate", "tiny_test", "--missing", "--store", root, "--device", "cpu"]) == 0
    assert trained == [a] and tmp_store.readable(a)  # only the damaged run, and it reads back now
    assert tmp_store.path(b).read_bytes() == good
    path.write_bytes(b"{")
    assert cli.main(["regenerate", "tiny_test", "--store", root, "--device", "cpu"]) == 0
    assert tmp_store.readable(a) and trained[1:] == [a, b]


def test_cli_subprocess_list(tmp_path):
    env = os.environ | {"GROK_RESULTS": str(tmp_path)}
    out = subprocess.run([sys.executable, "-m", "grok_lib", "list"], capture_output=True, text=True, env=env,
                         check=True).stdout
    assert "ch2_mlp" in out


def test_cli_subprocess_bad_name_is_one_line(tmp_path):
    env = os.environ | {"GROK_RESULTS": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "grok_lib", "regenerate", "nope"], capture_output=True, text=True,
                          env=env)
    assert done.returncode == 2 and done.stdout == ""
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1
    assert "unknown experiment 'nope'" in done.stderr and "ch2_mlp" in done.stderr


def test_cli_list_says_how_long_the_stored_runs_took(tiny_experiment, tmp_store, capsys):
    tmp_store.save(Run(TINY, {"step": [0]}, {"status": "budget", "device": "cpu: test", "wall_time_s": 150.0,
                                             "stacked_runs": 1}))
    cli.main(["list", "--store", str(tmp_store.root)])
    line = next(s for s in capsys.readouterr().out.splitlines() if s.startswith("tiny_test"))
    assert line.endswith("Stored runs trained in 2 min on cpu: test.")
    assert [cli.duration(s) for s in (7, 150, 7200)] == ["7 s", "2 min", "2.0 h"]
