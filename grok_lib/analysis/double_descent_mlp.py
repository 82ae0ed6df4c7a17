"""Chapter 6's trained networks on the digits: the width sweep and the long runs, stored as small JSON files in
``results/double_descent/`` and read back from there.

The random-features sweeps (`double_descent`) take seconds and are recomputed; these take minutes on a GPU
and hours on a laptop's CPU, so they are trained once by ``python -m grok_lib.analysis.double_descent_mlp``
and stored. The width sweep keeps each run's last logged values (where a model-wise curve reads them), the
long runs keep their whole log-spaced histories (the epoch-wise curves).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from grok_lib.analysis.double_descent import read_json, results_dir, write_json
from grok_lib.training.device import environment, resolve_device
from grok_lib.training.pixel_mlp import METRICS, PixelSetting, train_pixel_mlp

WIDTHS = (2, 4, 6, 8, 12, 16, 24, 32, 48, 64, 128, 256, 512, 1024, 2048, 4096)
NOISES = (0.0, 0.2)
WEIGHT_DECAYS = (0.0, 0.1, 1.0)
SEEDS = (0, 1, 2)
STEPS = 20_000
LONG_WIDTHS = (1024, 4096)
LONG_NOISES = (0.1, 0.2)
LONG_SEEDS = (0, 1)
LONG_STEPS = 100_000
WIDTH_FILE, LONG_FILE = "mlp_width.json", "mlp_long.json"


def stored_mlp(root: Path | None = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The stored width sweep's rows and the stored long runs' rows."""
    return read_json(WIDTH_FILE, root)["runs"], read_json(LONG_FILE, root)["runs"]


def epoch_summary(run: dict[str, Any]) -> dict[str, float | None]:
    """What an epoch-wise curve shows: the lowest test error before the network fits every training label (and
    when), the step it first does and the test error then, the lowest test error after it, and the last one.
    A second descent would take the later minimum well below the error at memorisation."""
    steps, test, train = run["step"], run["test_error"], run["train_error"]
    fit = next((i for i, e in enumerate(train) if e == 0), None)
    early = min(range(len(test) if fit is None else fit + 1), key=lambda i: test[i])
    return {"early_min": test[early], "early_min_step": steps[early],
            "memorised_at": None if fit is None else steps[fit], "at_memorised": None if fit is None else test[fit],
            "later_min": None if fit is None else min(test[fit:]), "last": test[-1], "last_step": steps[-1]}


def _rounded(values: Iterable[float]) -> list[float]:
    return [float(f"{v:.5g}") for v in values]


def width_runs(widths: Sequence[int] = WIDTHS, device: str | None = None, steps: int = STEPS) -> list[dict[str, Any]]:
    """Train the width sweep (every noise x weight decay x seed of a width stacked in one model): one row per run
    with its setting and its last logged train/test loss and error."""
    rows = []
    for width in widths:
        grid = [(PixelSetting(width=width, label_noise=n, weight_decay=wd, steps=steps), s)
                for n in NOISES for wd in WEIGHT_DECAYS for s in SEEDS]
        t0 = time.perf_counter()
        hists = train_pixel_mlp([g for g, _ in grid], [s for _, s in grid], device=device)
        wall = time.perf_counter() - t0
        for (setting, seed), h in zip(grid, hists, strict=True):
            rows.append({**setting.as_dict(), "seed": seed, "wall_s": round(wall, 1), "device": _machine(device),
                         **{k: float(f"{h[k][-1]:.5g}") for k in METRICS}})
    return rows


def long_runs(widths: Sequence[int] = LONG_WIDTHS, device: str | None = None,
              steps: int = LONG_STEPS) -> list[dict[str, Any]]:
    """Train the long runs (noise levels x seeds of a width stacked): one row per run with its whole history."""
    rows = []
    for width in widths:
        grid = [(PixelSetting(width=width, label_noise=n, steps=steps), s) for n in LONG_NOISES for s in LONG_SEEDS]
        t0 = time.perf_counter()
        hists = train_pixel_mlp([g for g, _ in grid], [s for _, s in grid], device=device)
        wall = time.perf_counter() - t0
        for (setting, seed), h in zip(grid, hists, strict=True):
            rows.append({**setting.as_dict(), "seed": seed, "wall_s": round(wall, 1), "device": _machine(device),
                         "step": h["step"],
                         **{k: _rounded(h[k]) for k in METRICS}})
    return rows


def _machine(device: str | None) -> str:
    env = environment(resolve_device(device))
    return f"{env['device']}, torch {env['torch']}"


WIDTH_ABOUT = (f"MLP width sweep on the digits, {STEPS:,} steps of full-batch Adam (lr 1e-3) with decoupled weight "
               "decay; each run's last logged values; wall_s is the time of the whole stack of a width")
LONG_ABOUT = (f"wide MLPs on the digits with label noise, {LONG_STEPS:,} steps, no weight decay; log-spaced "
              "histories")


def main(argv: list[str]) -> None:
    """``width [W,W,...] [OUT]`` or ``long [W,...] [OUT]``: train and store (into ``OUT`` if given, e.g. a
    scratch folder whose files are merged later with ``merge OUT``)."""
    what = argv[0] if argv else "width"
    if what == "merge":
        parts = sorted(Path(argv[1]).glob("*.json"))
        for name in (WIDTH_FILE, LONG_FILE):
            docs = [json.loads(p.read_text()) for p in parts if p.name.startswith(name[:-5] + ".")]
            if docs:
                write_json(results_dir() / name, {**docs[0], "runs": [r for d in docs for r in d["runs"]]})
        return
    widths = [int(w) for w in argv[1].split(",")] if len(argv) > 1 else (WIDTHS if what == "width" else LONG_WIDTHS)
    out = Path(argv[2]) if len(argv) > 2 else None
    if what == "width":
        doc, name = {"about": WIDTH_ABOUT, "runs": width_runs(widths)}, WIDTH_FILE
    else:
        doc, name = {"about": LONG_ABOUT, "runs": long_runs(widths)}, LONG_FILE
    if out is None:
        write_json(results_dir() / name, doc)
    else:
        write_json(out / f"{name[:-5]}.{'_'.join(map(str, widths))}.json", doc)


if __name__ == "__main__":
    main(sys.argv[1:])
