"""The singular-value grid of chapter 8, reduced to what the chapter plots.

The grid's transformers keep float16 checkpoints every 500 steps: hundreds of megabytes, too much for
the repository. This module turns each run's checkpoints into its spectra, kept beside the run
(``results/spectra/<key>.json``, `Store.save_derived`):

- ``steps``: the checkpointed steps;
- ``entropy_rank`` / ``stable_rank``: {matrix: [per step]} for every weight matrix (`spectra`);
- ``spectrum_steps`` and ``spectrum``: {matrix: [[σ_i / σ_1 per i] per step]} for the matrices a reader
  looks at (the embedding, each block's MLP matrices, the unembedding), every ``SPECTRUM_EVERY``
  steps, to four significant digits.

Run after training the grid: ``python -m grok_lib.analysis.why.sv_grid why_sv_grid`` (only the runs
whose spectra are missing are done; ``--all`` redoes them).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from grok_lib.runs.experiments import get
from grok_lib.runs.store import Store
from grok_lib.training.config import TrainConfig
from grok_lib.training.record import Run

from .spectra import entropy_rank, normalised_spectrum, singular_values_over_training, stable_rank

KIND = "spectra"
SPECTRUM_EVERY = 1000
SHOWN = ("W_E", "W_in", "W_out", "W_U")  # matrices whose whole spectrum is kept (by the end of their name)


def _sig4(x: float) -> float:
    return float(f"{x:.4g}")


def summarise(run: Run) -> dict[str, Any]:
    """The spectra of one stored run with checkpoints (see the module's docstring)."""
    steps, sv = singular_values_over_training(run)
    shown_steps = [i for i, s in enumerate(steps) if s % SPECTRUM_EVERY == 0 or s == steps[-1]]
    return {
        "steps": steps,
        "entropy_rank": {k: [_sig4(v) for v in entropy_rank(s).tolist()] for k, s in sv.items()},
        "stable_rank": {k: [_sig4(v) for v in stable_rank(s).tolist()] for k, s in sv.items()},
        "spectrum_steps": [steps[i] for i in shown_steps],
        "spectrum": {k: [[_sig4(v) for v in normalised_spectrum(s[i]).tolist()] for i in shown_steps]
                     for k, s in sv.items() if k.split(".")[-1] in SHOWN},
    }


def load_spectra(config: TrainConfig, store: Store | None = None) -> dict[str, Any]:
    """The kept spectra of ``config``'s run."""
    return (store or Store()).load_derived(config, KIND)


def summarise_stored(configs: list[TrainConfig], store: Store | None = None, redo: bool = False) -> int:
    """Reduce each stored run among ``configs`` (those not stored are skipped); returns how many were written."""
    store = store or Store()
    done = 0
    for config in configs:
        if not store.has(config):
            continue
        if not redo:
            try:
                store.load_derived(config, KIND)
                continue
            except FileNotFoundError:
                pass
        run = store.load(config)
        if not run.checkpoints:
            raise ValueError(f"run {config.key()} kept no checkpoints: train it (with checkpoint_every) first")
        store.save_derived(config, KIND, summarise(run))
        done += 1
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grok_lib.analysis.why.sv_grid", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="+", help="experiments whose stored runs to reduce (e.g. why_sv_grid)")
    parser.add_argument("--all", action="store_true", help="redo runs whose spectra are already kept")
    args = parser.parse_args(argv)
    store = Store()
    for name in args.names:
        configs = get(name)
        written = summarise_stored(configs, store, redo=args.all)
        missing = sum(not store.has(c) for c in configs)
        print(f"{name}: spectra of {written} runs written; {missing} of its {len(configs)} runs are not stored",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
