"""T1: what TrueGrad's per-example squared gradients cost, against the training step they ride on.

    python benchmarks/truegrad_cost.py                # canonical MLP and the leaderboard's 1-layer transformer
    python benchmarks/truegrad_cost.py --threads 1 --runs 5
    python benchmarks/truegrad_cost.py --smoke        # tiny sizes: checks the code runs

For each model, a stack of ``--runs`` seeds on its full training batch: the median time of one forward
and backward pass of the batch loss (what every optimiser pays), and of each route to the sums
``Σ_i (w_i ∇ℓ_i)²`` in `grok_lib.training.per_example` (the MLP's own outer products, and the general
route through one copy of the weights per example). Ratios are against the forward and backward pass
measured in the same run. A measurement, not a test.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch

from grok_lib.runs.experiments import CANONICAL_MLP
from grok_lib.runs.leaderboard_runs import SMALL_TRANSFORMER
from grok_lib.training.batches import Stack, example_loss
from grok_lib.training.build import build_model
from grok_lib.training.config import TrainConfig
from grok_lib.training.cpu import fast_cpu
from grok_lib.training.per_example import copied_square_sums, mlp_square_sums


def median_ms(fn: Callable[[], object], repeats: int) -> float:
    """The median wall time of ``fn()`` in milliseconds, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def measure(name: str, cfg: TrainConfig, runs: int, repeats: int) -> list[str]:
    """Table rows for one model: the step, then each route that applies, with its ratio to the step."""
    configs = [cfg.replace(seed=s) for s in range(runs)]
    data = Stack(configs, torch.device("cpu"), torch.float32)
    model = build_model(cfg, seeds=list(range(runs)))
    x, row, y, w = data.full_batch()

    def step() -> None:
        model.zero_grad()
        (example_loss(model(x), row, y, cfg.output) * w).sum().backward()

    named = dict(model.named_parameters())
    routes: dict[str, Callable[[], object]] = {"forward + backward (any optimiser)": step}
    if cfg.model == "mlp":
        routes["TrueGrad sums, the MLP's own route"] = lambda: mlp_square_sums(model, named, x, row, y, w, cfg.output)
    routes["TrueGrad sums, copies of the weights"] = lambda: copied_square_sums(model, named, x, row, y, w,
                                                                                  cfg.output)
    base = None
    out = []
    for route, fn in routes.items():
        ms = median_ms(fn, repeats if "copies" not in route else max(1, repeats // 5))
        base = base or ms
        out.append(f"| {name} | {route} | {ms:.1f} | {ms / base:.1f}× |")
        print(out[-1], flush=True)
    return out


def main(argv: list[str] | None = None) -> list[str]:
    """Print T1's table (and return its rows)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's own)")
    parser.add_argument("--runs", type=int, default=5, help="seeds stacked, as in a leaderboard arm")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--smoke", action="store_true", help="tiny models, two repeats")
    opts = parser.parse_args(argv)
    models = {"canonical MLP (a+b mod 97, 30%)": CANONICAL_MLP,
              "1-layer transformer (a+b mod 31, 50%)": SMALL_TRANSFORMER}
    if opts.smoke:
        models = {name: cfg.replace(p=11, d_embed=8, d_hidden=8, d_model=8, n_heads=2, d_mlp=16)
                  for name, cfg in models.items()}
        opts.repeats = 2
    if opts.threads:
        torch.set_num_threads(opts.threads)
    print(f"T1, {opts.runs} stacked runs, {torch.get_num_threads()} thread(s)\n")
    print("| model | what | ms | × step |\n|---|---|---|---|")
    with fast_cpu(torch.device("cpu")):  # the trainer's CPU settings
        return [row for name, cfg in models.items() for row in measure(name, cfg, opts.runs, opts.repeats)]


if __name__ == "__main__":
    main()
