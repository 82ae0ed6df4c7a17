"""R1: B2's 16-run sweep through the Ray backend on this machine's local cluster, against the
in-process backend, and what the measured per-stack times say about a cluster of several nodes.

    python benchmarks/run.py --only R1

Both backends go through `sweep` into a fresh store, each in its own child process, in the
same run. The Ray row's wall time includes starting the local cluster ("start s"); "sweep s"
leaves it out. Each stack times its own training (the runs' ``wall_time_s``), so a backend's
overhead is what its sweep took beyond the stacks' training: beyond their sum in process,
beyond the longest chain of stacks on the cluster's CPUs for Ray.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from typing import Any

from run import b2_configs, measure, step_flops, table, task_sizes

from grok_lib import TrainConfig, grid, sweep
from grok_lib.runs.ray_backend import connect
from grok_lib.training.trainer import stack_groups

HEADER = ["benchmark", "backend", "runs", "stacks", "stack training s", "start s", "sweep s", "wall s",
          "overhead s", "wall / in-process", "same histories"]

# The sources' 156-run grid, as its notebook lists it: a 2-layer transformer on a+b mod 97, 800, 900, ..., 2,000
# training pairs (of 9,409) x d_model 64, 128, 256 x d_ff 256, 512, 1,024, 2,048, 15,000 full-batch steps each.
SOURCE_P = 97
SOURCE_FRACS = [n / SOURCE_P**2 for n in range(800, 2001, 100)]
SOURCE_GRID = dict(train_frac=SOURCE_FRACS, d_model=[64, 128, 256], d_mlp=[256, 512, 1024, 2048])
SOURCE_HOURS = 36.0  # 1.5 days on one GPU, run after run


def makespan(times: list[float], slots: int) -> float:
    """Finishing time of ``times`` spread over ``slots`` workers, longest first, each to the least busy."""
    load = [0.0] * max(slots, 1)
    for t in sorted(times, reverse=True):
        load[load.index(min(load))] += t
    return max(load)


def sweep_in(configs: list[TrainConfig], device: str, backend: str) -> dict[str, Any]:
    """One backend's sweep into a fresh store: its times, each stack's training time and every history."""
    with tempfile.TemporaryDirectory() as root:
        t0 = time.perf_counter()
        if backend == "ray":
            connect(num_cpus=os.cpu_count(), include_dashboard=False)
        t1 = time.perf_counter()
        runs = sweep(configs, store=root, device=device, progress=False, backend=backend)
        t2 = time.perf_counter()
        histories = {r.config.key(): json.dumps(r.history) for r in runs}  # as text, so NaN equals NaN
    stacks = [runs[group[0]].meta["wall_time_s"] for group in stack_groups(configs)]
    return {"start_s": t1 - t0 if backend == "ray" else None, "sweep_s": t2 - t1, "stacks": stacks,
            "histories": histories}


def r1(opts: argparse.Namespace, device: str, peak: float) -> list[list[Any]]:
    """B2's grid through `sweep`, in process and on a local Ray cluster, and the 4-node estimate."""
    configs = b2_configs(opts.smoke)
    name = f"R1 {len(configs)}-run sweep"
    here = measure(sweep_in, (configs, device, "local"), opts, device)
    there = measure(sweep_in, (configs, device, "ray"), opts, device)
    slots = os.cpu_count() or 1
    rows = []
    for backend, m, floor in [("in-process", here, sum(here.result["stacks"])),
                              ("ray (local cluster)", there, makespan(there.result["stacks"], slots))]:
        res = m.result
        rows.append([name, backend, len(configs), len(res["stacks"]), " + ".join(f"{t:.1f}" for t in res["stacks"]),
                     res["start_s"], res["sweep_s"], m.wall_s, res["sweep_s"] - floor,
                     f"{m.wall_s / here.wall_s:.2f}x", str(res["histories"] == here.result["histories"]).lower()])
    print(table(rows, HEADER), flush=True)
    per_task = max(rows[1][8], 0.0) / len(there.result["stacks"])  # a cluster starts once, not per task
    print(f"R1: the Ray backend took {there.wall_s / here.wall_s:.2f}x the in-process wall time "
          f"({there.result['sweep_s'] / here.result['sweep_s']:.2f}x leaving out the cluster's start)\n", flush=True)
    print(estimate(per_task), flush=True)
    return rows


def estimate(overhead_per_task_s: float, nodes: int = 4) -> str:
    """The sources' 156-run grid on ``nodes`` single-GPU nodes, from its reported one-GPU time.

    Each stack's share of that time is its runs' share of the grid's training FLOPs (a stack
    pads every run to its largest training split, and is assumed to cost what its runs cost one
    after another: no credit for stacking). Stacks are the Ray tasks, spread longest first.
    """
    configs = grid(TrainConfig(model="transformer", p=SOURCE_P, n_layers=2, steps=15_000), **SOURCE_GRID)
    stacks = stack_groups(configs)

    def cost(stack: list[int]) -> float:
        widest = max((configs[i] for i in stack), key=lambda c: c.train_frac)
        _, rows, n_vocab, n_classes = task_sizes(widest)
        return len(stack) * step_flops(widest, rows, n_vocab, n_classes, ours=False)

    costs = [cost(s) for s in stacks]
    hours = [SOURCE_HOURS * c / sum(costs) for c in costs]
    span = makespan(hours, nodes) + overhead_per_task_s * len(stacks) / nodes / 3600
    return (f"Estimate: the sources' {len(configs)}-run grid forms {len(stacks)} stacks (largest "
            f"{max(len(s) for s in stacks)} runs, longest {max(hours):.1f} h of the {SOURCE_HOURS:.0f} h on one GPU); "
            f"on {nodes} node(s) like it about {span:.1f} h ({SOURCE_HOURS / span:.2f}x), of which Ray's overhead "
            f"({overhead_per_task_s:.2f} s per task) is {overhead_per_task_s * len(stacks) / nodes:.0f} s.")
