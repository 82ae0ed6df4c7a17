"""Benchmarks: grok_lib's trainer against a plain PyTorch loop, timed in the same run.

    python benchmarks/run.py                 # B1, B2 and B3 (B3 needs CUDA)
    python benchmarks/run.py --only B1 B2    # a selection (B4, the transformer on a CPU, takes ~20 min)
    python benchmarks/run.py --smoke         # tiny sizes, under a minute; checks the code runs
    python benchmarks/run.py --only R1       # B2's sweep through the Ray backend (needs the cluster extra)

B1  the canonical MLP (TrainConfig() defaults) to generalisation, median of 3 seeds.
B2  a 16-run MLP sweep (p=59): stacked grok_lib against the reference loop run sequentially.
B3  the canonical transformer (p=113) to generalisation and a 64-run sweep, on CUDA only.
B4  the canonical transformer (p=113) to generalisation on the CPU (B3's single run), against the reference.
R1  B2's sweep through `sweep` on a local Ray cluster against the in-process backend (cluster.py).

Each measurement runs in a fresh child process (so peak memory is its own), reference and
grok_lib interleaved. Times are wall clock; CPU time is shown too because on a shared
machine it is the steadier of the two. Nothing here asserts anything about time.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import contextlib
import multiprocessing as mp
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reference import train_reference  # noqa: E402

import grok_lib  # noqa: E402
from grok_lib import TrainConfig, grid, train_many  # noqa: E402
from grok_lib.task.data import split_indices  # noqa: E402
from grok_lib.task.operations import get_operation, operation_table  # noqa: E402
from grok_lib.training.batches import Stack  # noqa: E402
from grok_lib.training.bookkeeping import log_steps  # noqa: E402
from grok_lib.training.config import THRESHOLD  # noqa: E402
from grok_lib.training.cpu import fast_cpu, fp32_products  # noqa: E402
from grok_lib.training.device import cpu_name  # noqa: E402

# ---------------------------------------------------------------------------- FLOP counting
#
# We count the multiply-adds of matrix products (2 FLOPs each), forward and backward, and
# nothing else: lookups, activations, softmax and the optimizer are memory-bound and small
# in FLOPs. A product X @ W costs F forward; backward costs F for dX (skipped when X is
# data) and F for dW. Evaluation passes are forward only. Each implementation is counted
# in its own formulation, so the rates are what each one actually computed per second.


def mlp_step_flops(cfg: TrainConfig, rows: int, n_vocab: int, n_classes: int, table_trick: bool) -> int:
    """Forward + backward FLOPs of one full-batch MLP step on ``rows`` examples."""
    d, h = cfg.d_embed, cfg.d_hidden
    d_in = d if cfg.merge == "sum" else 2 * d
    if table_trick:  # E @ W once per table (one for a sum, two halves for a concat), then lookups
        first = 3 * 2 * n_vocab * d * h * (1 if cfg.merge == "sum" else 2)
    else:  # every example's merged embedding times W_in; backward gives dW_in and d(embedding)
        first = 3 * 2 * rows * d_in * h
    rest = 3 * 2 * rows * (h * h * (cfg.n_hidden - 1) + h * n_classes)
    return first + rest


def mlp_eval_flops(cfg: TrainConfig, rows: int, n_vocab: int, n_classes: int, table_trick: bool) -> int:
    d, h = cfg.d_embed, cfg.d_hidden
    d_in = d if cfg.merge == "sum" else 2 * d
    first = 2 * n_vocab * d * h * (1 if cfg.merge == "sum" else 2) if table_trick else 2 * rows * d_in * h
    return first + 2 * rows * (h * h * (cfg.n_hidden - 1) + h * n_classes)


def transformer_forward_flops(cfg: TrainConfig, rows: int, n_classes: int, last_only: bool) -> int:
    """Forward FLOPs for ``rows`` sequences of 4 tokens (1 layer counted per block)."""
    t, d, dm = 4, cfg.d_model, cfg.d_mlp
    per_layer_full = 3 * t * d * d + 2 * t * t * d + t * d * d + 2 * t * d * dm
    per_layer_last = (2 * t + 1) * d * d + 2 * t * d + d * d + 2 * d * dm  # K, V full; the rest at "="
    layers = per_layer_full * (cfg.n_layers - 1) + (per_layer_last if last_only else per_layer_full)
    return 2 * rows * (layers + d * n_classes)


def step_flops(cfg: TrainConfig, rows: int, n_vocab: int, n_classes: int, ours: bool) -> int:
    if cfg.model == "mlp":
        return mlp_step_flops(cfg, rows, n_vocab, n_classes, table_trick=ours)
    return 3 * transformer_forward_flops(cfg, rows, n_classes, last_only=ours)


def eval_flops(cfg: TrainConfig, rows: int, n_vocab: int, n_classes: int, ours: bool) -> int:
    if cfg.model == "mlp":
        return mlp_eval_flops(cfg, rows, n_vocab, n_classes, table_trick=ours)
    return transformer_forward_flops(cfg, rows, n_classes, last_only=ours)


def task_sizes(cfg: TrainConfig) -> tuple[int, int, int, int]:
    """(pairs, training rows, vocabulary, classes) of a config's task."""
    n_pairs = len(operation_table(cfg.op, cfg.p)[2])
    n_classes = get_operation(cfg.op).n_elements(cfg.p)
    n_train = len(split_indices(n_pairs, cfg.train_frac, cfg.split_seed)[0])
    n_vocab = n_classes if cfg.model == "mlp" else n_classes + 2
    return n_pairs, n_train, n_vocab, n_classes


def reference_flops(cfg: TrainConfig, steps: int, eval_every: int = 100) -> int:
    """Training steps, plus a validation pass every ``eval_every`` steps (and at the end)."""
    n_pairs, n_train, n_vocab, n_classes = task_sizes(cfg)
    evals = steps // eval_every + 1
    return (steps * step_flops(cfg, n_train, n_vocab, n_classes, ours=False)
            + evals * eval_flops(cfg, n_pairs - n_train, n_vocab, n_classes, ours=False))


def grok_flops(cfg: TrainConfig, steps: int) -> int:
    """Training steps, plus a full-table evaluation at every logged step (grok_lib's schedule),
    on the rows grok_lib actually computes (one per unordered pair for summed embeddings)."""
    _, _, n_vocab, n_classes = task_sizes(cfg)
    rows = Stack([cfg], torch.device("cpu"), torch.float32)
    evals = len(log_steps(steps, cfg.log_every))
    return (steps * step_flops(cfg, rows.batch_x.shape[1], n_vocab, n_classes, ours=True)
            + evals * eval_flops(cfg, len(rows.eval_x), n_vocab, n_classes, ours=True))


# ---------------------------------------------------------------------------- measuring


@dataclass
class Measured:
    wall_s: float
    cpu_s: float
    peak_mb: float
    result: Any


def _setup(threads: int | None) -> None:
    if threads:
        torch.set_num_threads(threads)


def _timed(fn: Callable[..., Any], args: tuple, threads: int | None, device: str) -> Measured:
    """Run ``fn(*args)`` once and time it (in whatever process this is)."""
    _setup(threads)
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
        torch.cuda.synchronize()
    t0, c0 = time.perf_counter(), time.process_time()
    result = fn(*args)
    if device == "cuda":
        torch.cuda.synchronize()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    if device == "cuda":
        peak = torch.cuda.max_memory_allocated() / 2**20
    else:  # Linux reports kilobytes
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return Measured(wall, cpu, peak, result)


def measure(fn: Callable[..., Any], args: tuple, opts: argparse.Namespace, device: str) -> Measured:
    """Time ``fn(*args)`` in a fresh child process, or in this one for ``--smoke``."""
    if opts.smoke:
        return _timed(fn, args, opts.threads, device)
    with cf.ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as pool:
        return pool.submit(_timed, fn, args, opts.threads, device).result()


def _matmul(n: int, threads: int | None, device: str) -> tuple[float, float]:
    """Best-of-5 GFLOP/s with PyTorch's default fp32 kernel, and with grok_lib's choice."""
    _setup(threads)
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)

    def best() -> float:
        t = float("inf")
        for _ in range(5):
            if device == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            a @ b
            if device == "cuda":
                torch.cuda.synchronize()
            t = min(t, time.perf_counter() - t0)
        return 2 * n**3 / t / 1e9

    default = best()
    with fp32_products(torch.device(device)):
        ours = best()
    return default, ours


def matmul_rate(opts: argparse.Namespace, device: str) -> tuple[float, float]:
    """The yardstick: fp32 n³ matmul rates (n = 2048, 512 for --smoke), see `_matmul`."""
    n = 512 if opts.smoke else 2048
    if opts.smoke:
        return _matmul(n, opts.threads, device)
    with cf.ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as pool:
        return pool.submit(_matmul, n, opts.threads, device).result()


# ---------------------------------------------------------------------------- what is timed


def run_grok(configs: list[TrainConfig], device: str) -> list[dict[str, Any]]:
    """grok_lib: all configs in one call (stacked where they can be)."""
    out = []
    for run in train_many(configs, device=device, progress=False):
        h = run.history
        hit = [s for s, a in zip(h["step"], h["val_acc"], strict=True) if a >= THRESHOLD]
        out.append({"generalised_at": hit[0] if hit else None, "steps": run.meta["steps_done"]})
    return out


def run_reference(configs: list[TrainConfig], device: str, our_settings: bool = False) -> list[dict[str, Any]]:
    """The plain loop, one config after another (with ``our_settings``, under grok_lib's CPU
    settings -- matmul kernels and freed memory, see grok_lib.cpu -- to show how much of
    the speed-up is those settings)."""
    with fast_cpu(torch.device(device)) if our_settings else contextlib.nullcontext():
        return [train_reference(cfg, device) for cfg in configs]


# ---------------------------------------------------------------------------- reporting


def table(rows: list[list[Any]], header: list[str]) -> str:
    cells = [header] + [[("" if v is None else f"{v:.3g}" if isinstance(v, float) else str(v)) for v in r]
                        for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) + " |"  # noqa: E731
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(cells[0]), rule] + [line(r) for r in cells[1:]])


HEADER = ["benchmark", "impl", "runs", "steps to 99% val", "steps", "wall s", "CPU s", "ms/step", "GFLOP",
          "GFLOP/s", "% of matmul", "peak MB", "speed-up (wall)"]


def _row(name: str, impl: str, configs: list[TrainConfig], m: Measured, flop_fn: Callable[[TrainConfig, int], int],
         peak_rate: float, ref_wall: float | None) -> list[Any]:
    gen = [r["generalised_at"] for r in m.result]
    steps = [r["steps"] for r in m.result]
    gflop = sum(flop_fn(c, s) for c, s in zip(configs, steps, strict=True)) / 1e9
    gen_txt = str(gen[0]) if len(gen) == 1 else f"{sum(g is not None for g in gen)}/{len(gen)} generalised"
    return [name, impl, len(configs), gen_txt, sum(steps), m.wall_s, m.cpu_s, 1e3 * m.wall_s / sum(steps), gflop,
            gflop / m.wall_s,
            100 * gflop / m.wall_s / peak_rate, m.peak_mb, None if ref_wall is None else f"{ref_wall / m.wall_s:.2f}x"]


def compare(name: str, configs: list[TrainConfig], opts: argparse.Namespace, device: str, peak: float,
            rows: list[list[Any]], our_settings_too: bool = False) -> tuple[float, float, float | None]:
    """Time the reference and grok_lib on ``configs``; append their rows (and, with
    ``our_settings_too``, a row for the reference under grok_lib's CPU settings).

    Returns the wall-time speed-up, the speed-up per step (which discounts a different
    number of steps to generalise) and the wall-time speed-up over the reference on the
    same settings (None without that row)."""
    ref = measure(run_reference, (configs, device), opts, device)
    same = measure(run_reference, (configs, device, True), opts, device) if our_settings_too else None
    ours = measure(run_grok, (configs, device), opts, device)
    new = [_row(name, "reference", configs, ref, reference_flops, peak, None)]
    if same is not None:
        new.append(_row(name, "reference, our CPU settings", configs, same, reference_flops, peak, None))
    new.append(_row(name, "grok_lib", configs, ours, grok_flops, peak, ref.wall_s))
    rows += new
    print(table(new, HEADER), flush=True)
    steps = lambda m: sum(r["steps"] for r in m.result)  # noqa: E731
    return (ref.wall_s / ours.wall_s, (ref.wall_s / steps(ref)) / (ours.wall_s / steps(ours)),
            None if same is None else same.wall_s / ours.wall_s)


def b1(opts: argparse.Namespace, device: str, peak: float) -> list[list[Any]]:
    """Canonical MLP to generalisation, one seed at a time, median speed-up over seeds."""
    base = TrainConfig(patience=0) if not opts.smoke else TrainConfig(p=23, steps=300, patience=0)
    rows: list[list[Any]] = []
    ratios = [compare(f"B1 seed {s}", [base.replace(seed=s)], opts, device, peak, rows, our_settings_too=True)
              for s in range(opts.seeds)]
    median = lambda i: statistics.median(r[i] for r in ratios)  # noqa: E731
    print(f"B1 median speed-up over {opts.seeds} seeds: {median(0):.2f}x in wall time, {median(1):.2f}x per step"
          f" (goal 3x); {median(2):.2f}x over the reference under the same CPU settings\n", flush=True)
    return rows


def b2_configs(smoke: bool) -> list[TrainConfig]:
    """B2's grid (R1 sweeps it too): 4 weight decays x 2 training fractions x 2 seeds, p=59, 10k-step budget."""
    if smoke:
        return grid(TrainConfig(p=23, steps=200, patience=0), weight_decay=[0.3, 1.0], seed=[0, 1])
    return grid(TrainConfig(p=59, steps=10_000, patience=0), weight_decay=[0.1, 0.3, 1.0, 3.0],
                train_frac=[0.3, 0.5], seed=[0, 1])


def b2(opts: argparse.Namespace, device: str, peak: float) -> list[list[Any]]:
    """16-run sweep: 4 weight decays x 2 training fractions x 2 seeds, p=59, 10k-step budget."""
    configs = b2_configs(opts.smoke)
    rows: list[list[Any]] = []
    ratio, per_step, same = compare(f"B2 {len(configs)}-run sweep", configs, opts, device, peak, rows,
                                    our_settings_too=True)
    print(f"B2 speed-up: {ratio:.2f}x in wall time, {per_step:.2f}x per run-step (goal 6x); {same:.2f}x over the"
          " reference under the same CPU settings\n", flush=True)
    return rows


def b3(opts: argparse.Namespace, device: str, peak: float) -> list[list[Any]]:
    """Canonical transformer to generalisation, and a 64-run sweep against the reference run sequentially."""
    if device != "cuda" and not opts.smoke:
        print("B3 skipped: it needs a CUDA GPU and PyTorch sees none here.\n", flush=True)
        return []
    if opts.smoke:
        single = TrainConfig(model="transformer", p=23, steps=50, patience=0)
        sweep = grid(single, weight_decay=[0.3, 1.0])
    else:
        single = TrainConfig(model="transformer", p=113, steps=opts.b3_steps, patience=0)
        sweep = grid(single.replace(steps=opts.b3_sweep_steps), weight_decay=[0.3, 0.5, 1.0, 2.0],
                     train_frac=[0.3, 0.4, 0.5, 0.6], seed=range(4))
    rows: list[list[Any]] = []
    if not opts.b3_sweep_only:
        compare("B3 single", [single], opts, device, peak, rows)
    ratio, per_step, _ = compare(f"B3 {len(sweep)}-run sweep", sweep, opts, device, peak, rows)
    print(f"B3 sweep speed-up: {ratio:.2f}x in wall time, {per_step:.2f}x per run-step\n", flush=True)
    return rows


def b4(opts: argparse.Namespace, device: str, peak: float) -> list[list[Any]]:
    """B3's single run on the CPU: Nanda et al.'s transformer to generalisation, against the reference loop
    (without B1's row for the reference under grok_lib's CPU settings: each row takes a quarter of an hour)."""
    cfg = TrainConfig(model="transformer", p=23, steps=50, patience=0) if opts.smoke else \
        TrainConfig(model="transformer", p=113, steps=opts.b3_steps, patience=0)
    rows: list[list[Any]] = []
    ratio, per_step, _ = compare("B4 canonical transformer", [cfg], opts, "cpu", peak, rows)
    print(f"B4 speed-up: {ratio:.2f}x in wall time, {per_step:.2f}x per step\n", flush=True)
    return rows


def r1(opts: argparse.Namespace, device: str, peak: float) -> list[list[Any]]:
    """The Ray backend against the in-process one (`cluster`); it prints its own table, with its own columns."""
    import cluster

    cluster.r1(opts, device, peak)
    return []


def hardware(device: str, threads: int | None) -> str:
    cpu = cpu_name()  # the name the results store records
    gpu = f", GPU {torch.cuda.get_device_name()}" if device == "cuda" else ""
    return (f"CPU {cpu} ({os.cpu_count()} logical cores), torch {torch.__version__}, grok_lib {grok_lib.__version__},"
            f" {threads or torch.get_num_threads()} torch threads{gpu}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=["B1", "B2", "B3", "B4", "R1"], default=["B1", "B2", "B3"])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, in-process: checks that the code runs")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when present)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--seeds", type=int, default=3, help="B1 seeds")
    parser.add_argument("--b3-steps", type=int, default=30_000, help="B3 single-run step budget")
    parser.add_argument("--b3-sweep-only", action="store_true", help="B3: skip the single run, time the sweep")
    parser.add_argument("--b3-sweep-steps", type=int, default=3_000, help="B3 sweep step budget per run")
    opts = parser.parse_args(argv)
    if opts.smoke:
        opts.seeds = min(opts.seeds, 1)
    device = opts.device or ("cuda" if torch.cuda.is_available() else "cpu")
    default, ours = matmul_rate(opts, device)
    peak = max(default, ours)
    print(hardware(device, opts.threads))
    print(f"fp32 matmul rate ({512 if opts.smoke else 2048}^3, best of 5): {default:.1f} GFLOP/s with PyTorch's"
          f" default kernel, {ours:.1f} GFLOP/s with grok_lib's choice (grok_lib.cpu); '% of matmul' is of"
          f" {peak:.1f}\n", flush=True)
    rows: list[list[Any]] = []
    for name, bench in [("B1", b1), ("B2", b2), ("B3", b3), ("B4", b4), ("R1", r1)]:
        if name in opts.only:
            rows += bench(opts, device, peak)
    if rows:
        print("All results:\n" + table(rows, HEADER))


if __name__ == "__main__":
    main()
