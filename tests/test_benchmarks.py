"""The benchmarks' reference loop computes grok_lib's function from grok_lib's weights, and
the benchmark script runs (at smoke sizes; nothing here looks at times)."""

import sys
from pathlib import Path

import pytest
import torch

from grok_lib import TrainConfig
from grok_lib.task.data import make_task
from grok_lib.training.build import build_model

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import reference  # noqa: E402
import run as bench  # noqa: E402
import truegrad_cost  # noqa: E402


@pytest.mark.parametrize("cfg", [TrainConfig(p=23, seed=3),
                                 TrainConfig(model="transformer", p=23, seed=4, d_model=32, n_heads=4, d_mlp=64)],
                         ids=["mlp", "transformer"])
def test_reference_starts_from_grok_lib_weights(cfg):
    task = make_task(cfg.op, cfg.p, 0.5, 0, layout=cfg.model)
    ours = build_model(cfg, task.vocab_size, task.n_classes)
    ref = reference.reference_model(cfg, task.vocab_size, task.n_classes)
    with torch.no_grad():
        torch.testing.assert_close(ref(task.inputs), ours(task.inputs), rtol=1e-5, atol=1e-5)
    other = reference.reference_model(cfg.replace(seed=cfg.seed + 1), task.vocab_size, task.n_classes)
    assert not torch.equal(next(other.parameters()), next(ref.parameters()))


def test_reference_and_grok_lib_take_the_same_steps():
    """Same weights, data and hyper-parameters: both generalise at about the same step
    (float rounding differs between the two formulations, and training amplifies it)."""
    cfg = TrainConfig(p=23, train_frac=0.6, lr=1e-2, steps=3000, patience=0, d_embed=64, d_hidden=64)
    ref = reference.train_reference(cfg)
    ours = bench.run_grok([cfg], "cpu")[0]
    assert ref["generalised_at"] is not None and ours["generalised_at"] is not None
    assert abs(ref["generalised_at"] - ours["generalised_at"]) <= 0.2 * ref["generalised_at"]


def test_benchmark_smoke_runs(capsys):
    bench.main(["--smoke", "--threads", "1", "--only", "B1", "B2"])
    out = capsys.readouterr().out
    assert "B1 median speed-up" in out and "B2 speed-up" in out


def test_step_breakdown_times_every_operation():
    import step_breakdown

    times = step_breakdown.breakdown(TrainConfig(p=13, d_embed=16, d_hidden=16), runs=2, steps=3, warmup=1)
    assert len(times) == 8 and all(ms > 0 for ms in times.values())


def test_truegrad_cost_times_each_route():
    rows = truegrad_cost.main(["--smoke", "--threads", "1", "--runs", "2"])
    routes = [row.split(" | ")[1] for row in rows]
    assert routes.count("forward + backward (any optimiser)") == 2  # one baseline per model
    assert "TrueGrad sums, the MLP's own route" in routes and routes.count("TrueGrad sums, copies of the weights") == 2
