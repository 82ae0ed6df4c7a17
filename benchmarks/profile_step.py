"""Where a training step's time goes: torch.profiler's top operators for one canonical
MLP step (TrainConfig() defaults, full batch), grok_lib's formulation (under its CPU
settings, `grok_lib.cpu`) against the reference.

The profiler's own cost inflates some operators several-fold on a small machine: read its
table for the ranking, and `run.py` for times.

    python benchmarks/profile_step.py [--steps 50] [--threads 1] [--model mlp|transformer]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reference import reference_model  # noqa: E402

from grok_lib import TrainConfig  # noqa: E402
from grok_lib.task.data import make_task  # noqa: E402
from grok_lib.training.batches import Stack, example_loss  # noqa: E402
from grok_lib.training.build import build_model  # noqa: E402
from grok_lib.training.cpu import fast_cpu  # noqa: E402
from grok_lib.training.optimizers import StackedOptimizer  # noqa: E402


def steps_for(cfg: TrainConfig) -> tuple[Callable[[], None], Callable[[], None]]:
    """One full-batch training step of each implementation, as closures."""
    task = make_task(cfg.op, cfg.p, cfg.train_frac, cfg.seed, layout=cfg.model)
    x, y = task.inputs[task.train_idx], task.train_labels
    ref = reference_model(cfg, task.vocab_size, task.n_classes)
    ref_opt = torch.optim.AdamW(ref.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=cfg.betas)

    def reference_step() -> None:
        loss = F.cross_entropy(ref(x), y)
        ref_opt.zero_grad()
        loss.backward()
        ref_opt.step()

    data = Stack([cfg], torch.device("cpu"), torch.float32)
    model = build_model(cfg, task.vocab_size, task.n_classes)
    lr = torch.tensor([cfg.lr])
    opt = StackedOptimizer(list(model.parameters()), cfg.optimizer, lr, torch.tensor([cfg.weight_decay]), cfg.betas,
                           shared=True)

    def grok_step() -> None:  # the body of grok_lib.train's loop, without logging
        ce = example_loss(model(data.batch_x), data.batch_row, data.train_y)
        for p in opt.params:
            p.grad = None
        (ce * data.weight).sum().backward()
        opt.step(lr)

    return reference_step, grok_step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--model", default="mlp", choices=["mlp", "transformer"])
    parser.add_argument("--rows", type=int, default=12)
    parser.add_argument("--our-settings", action="store_true", help="the reference under grok_lib's CPU settings too")
    opts = parser.parse_args()
    if opts.threads:
        torch.set_num_threads(opts.threads)
    cfg = TrainConfig() if opts.model == "mlp" else TrainConfig(model="transformer", p=113)
    cpu = torch.device("cpu")
    for name, step in zip(("reference", "grok_lib"), steps_for(cfg), strict=True):
        with fast_cpu(cpu) if name == "grok_lib" or opts.our_settings else contextlib.nullcontext():
            for _ in range(5):
                step()
            with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
                for _ in range(opts.steps):
                    step()
        print(f"\n{name}: {opts.steps} steps of the canonical {opts.model}")
        print(prof.key_averages(group_by_input_shape=True).table(sort_by="self_cpu_time_total", row_limit=opts.rows,
                                                                 max_name_column_width=28, max_shapes_column_width=60))


if __name__ == "__main__":
    main()
