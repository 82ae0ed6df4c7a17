"""The GPU path: the same training on CUDA as on the CPU. Every test here is skipped where PyTorch sees
no CUDA device (as in CI); on a GPU machine they check that the trainer, the stack, checkpoints, the
store and the hooks work there, and agree with the CPU in float64."""

import math

import pytest
import torch

from grok_lib import TrainConfig, train, train_many
from grok_lib.runs.store import Store
from grok_lib.task.data import make_task
from grok_lib.training.build import build_model

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

MLP = TrainConfig(p=23, steps=400, log_every=50, early_stop=False, dtype="float64", save_model=True)
TRANSFORMER = MLP.replace(model="transformer", steps=150)


@pytest.mark.parametrize("cfg", [MLP, TRANSFORMER, MLP.replace(merge="concat", n_hidden=2),
                                 MLP.replace(batch_size=32), MLP.replace(optimizer="sgd", lr=0.1, momentum=0.9)],
                         ids=["mlp", "transformer", "concat-2-hidden", "minibatch", "sgd"])
def test_cuda_follows_the_cpu_in_float64(cfg):
    cpu, gpu = train(cfg, device="cpu", progress=False), train(cfg, device="cuda", progress=False)
    assert gpu.steps == cpu.steps
    for name in ("train_loss", "val_loss", "val_acc", "weight_norm"):
        for a, b in zip(cpu.history[name], gpu.history[name], strict=True):
            assert math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9), name
    assert gpu.meta["device"].startswith("cuda: ") and cpu.meta["device"].startswith("cpu: ")


def test_a_stack_on_cuda_logs_what_each_run_logs_alone():
    cfgs = [MLP.replace(seed=s, weight_decay=wd) for s, wd in [(0, 1.0), (1, 0.3), (2, 3.0)]]
    stacked = train_many(cfgs, device="cuda", progress=False)
    for cfg, run in zip(cfgs, stacked, strict=True):
        alone = train(cfg, device="cuda", progress=False)
        assert run.history["val_loss"] == pytest.approx(alone.history["val_loss"], rel=1e-9)


def test_weights_and_checkpoints_come_back_on_the_cpu(tmp_path):
    cfg = MLP.replace(dtype="float32", checkpoint_every=100)
    run = train(cfg, device="cuda", progress=False)
    assert all(t.device.type == "cpu" for t in run.state_dict.values())
    assert all(t.device.type == "cpu" and t.dtype == torch.float16
               for ck in run.checkpoints.values() for t in ck.values())
    Store(tmp_path).save(run)
    back = Store(tmp_path).load(cfg)
    assert sorted(back.checkpoints) == [0, 100, 200, 300, 400]
    task = make_task("add", 23, cfg.train_frac, cfg.seed)
    with torch.no_grad():
        acc = (back.model()(task.inputs[task.val_idx]).argmax(-1) == task.labels[task.val_idx]).float().mean()
    assert acc.item() == pytest.approx(run.history["val_acc"][-1], abs=1e-6)


def test_early_stopping_runs_leave_a_cuda_stack_cleanly():
    cfgs = [TrainConfig(p=23, train_frac=0.6, lr=3e-3, steps=3000, patience=0, seed=s, weight_decay=wd)
            for s, wd in [(0, 1.0), (1, 0.0), (2, 3.0)]]
    runs = train_many(cfgs, device="cuda", progress=False)
    assert {r.meta["status"] for r in runs} <= {"early_stop", "budget"}
    assert any(r.meta["status"] == "early_stop" for r in runs)


def test_hooks_cache_on_cuda():
    model = build_model(TRANSFORMER.replace(dtype="float32")).to("cuda")
    task = make_task("add", 23, 0.3, layout="transformer", device="cuda")
    logits, cache = model.run_with_cache(task.inputs[:8])
    assert logits.device.type == "cuda" and cache["blocks.0.hook_mlp_post"].device.type == "cuda"
    assert cache["blocks.0.hook_pattern"].shape[-2:] == (4, 4)
