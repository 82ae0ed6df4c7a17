"""Where one stacked training step of the summed-embedding MLP spends its time, without a
profiler (torch.profiler's own cost inflates small operators several-fold on a 2-core
machine). The step is written out by hand -- the same operations grok_lib's model and
autograd run, without autograd's bookkeeping or the optimizer -- and each line is timed
in place, inside the loop, so caches hold what they hold in real training.

    python benchmarks/step_breakdown.py                      # B2's 50% stack: 8 runs, p=59
    python benchmarks/step_breakdown.py --runs 1 --p 97 --frac 0.3   # B1's single run
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict

import torch
import torch.nn.functional as F

from grok_lib import TrainConfig
from grok_lib.models.kernels import flat_rows
from grok_lib.training.batches import Stack
from grok_lib.training.build import build_model
from grok_lib.training.cpu import fast_cpu


@torch.no_grad()
def breakdown(cfg: TrainConfig, runs: int, steps: int, warmup: int) -> dict[str, float]:
    """Milliseconds per stacked step for each operation (mean over ``steps`` after ``warmup``)."""
    configs = [cfg.replace(seed=s) for s in range(runs)]
    data = Stack(configs, torch.device("cpu"), torch.float32)
    m = build_model(cfg, data.n_classes, data.n_classes, seeds=[c.seed for c in configs])
    n, rows = data.batch_x.shape[:2]
    v, c, h = m.W_E.shape[1], data.n_classes, cfg.d_hidden
    idx = flat_rows(data.batch_x, v)
    flat = data.batch_row * c + data.train_y
    out: dict[str, float] = defaultdict(float)
    for it in range(warmup + steps):
        clock = [time.perf_counter()]

        def tick(name: str) -> None:
            now = time.perf_counter()
            if it >= warmup:
                out[name] += (now - clock[0]) * 1e3 / steps
            clock[0] = now

        table = torch.bmm(m.W_E, m.W_in)
        tables = torch.stack([table + m.b_in, table], 1).reshape(-1, h)
        tick("table E @ W_in, stacked")
        hid = F.embedding_bag(idx, tables, mode="sum").clamp_min(0).view(n, rows, h)
        tick("lookup + ReLU")
        logits = torch.baddbmm(m.b_out, hid, m.W_out)
        tick("GEMM logits")
        logp = logits.log_softmax(-1)
        loss = -(logp.flatten(1).gather(1, flat) * data.weight).sum()
        grad = torch.zeros(n, rows * c).scatter_add_(1, flat, -data.weight).view(n, rows, c)
        grad = torch._log_softmax_backward_data(grad, logp, -1, torch.float32)
        tick("softmax, loss and their backward")
        torch.bmm(hid.transpose(1, 2), grad), grad.sum(1, keepdim=True)
        tick("GEMM dW_out (+ bias)")
        dh = torch.bmm(grad, m.W_out.transpose(1, 2))
        tick("GEMM dh")
        dpre = torch.ops.aten.threshold_backward(dh, hid, 0).view(-1, h)
        tick("ReLU backward")
        torch.zeros(n * 2 * v, h).index_add_(0, idx[:, 0], dpre).index_add_(0, idx[:, 1], dpre)
        tick("lookup backward (index_add)")
        del loss
    return dict(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--p", type=int, default=59)
    parser.add_argument("--frac", type=float, default=0.5)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--threads", type=int, default=None)
    opts = parser.parse_args()
    if opts.threads:
        torch.set_num_threads(opts.threads)
    cfg = TrainConfig(p=opts.p, train_frac=opts.frac)
    with fast_cpu(torch.device("cpu")):
        times = breakdown(cfg, opts.runs, opts.steps, warmup=50)
    total = sum(times.values())
    print(f"{opts.runs} run(s), p={opts.p}, {opts.frac:.0%} train, summed-embedding MLP: ms per stacked step")
    for name, ms in times.items():
        print(f"  {name:36s} {ms:7.3f}  {100 * ms / total:5.1f}%")
    print(f"  {'total (no autograd, no optimizer)':36s} {total:7.3f}  = {total / opts.runs:.3f} ms per run-step")


if __name__ == "__main__":
    main()
