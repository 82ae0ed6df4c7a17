"""The results store: every run kept once, keyed by its config, written atomically.

A run lives in ``<store>/<key>.json`` (config, history, metadata) and, when it kept its
weights, ``<store>/<key>.pt`` (and its checkpoints, ``<store>/<key>.ckpt.pt``). The key is
a hash of the whole config, and loading checks the stored config equals the asked one, so a
run is never returned for another config.
A file that cannot be read (cut short by a full disk, edited by hand) raises a
`DamagedRunError` that names it and the command that makes it again.
"""

from __future__ import annotations

import json
import math
import os
import pickle
import tempfile
import warnings
from pathlib import Path
from typing import Any

import torch

from grok_lib.training.config import TrainConfig
from grok_lib.training.record import Run

from .experiments import EXPERIMENTS

SCHEMA = 1


class DamagedRunError(ValueError):
    """A stored run whose file cannot be read back; the message says how to replace it."""


def default_store() -> Path:
    """``$GROK_RESULTS`` if set, else ``results/`` at the root of the course checkout (found
    beside the package for an editable install, or above the working directory)."""
    env = os.environ.get("GROK_RESULTS")
    if env:
        return Path(env)
    checkout = Path(__file__).resolve().parents[2]  # grok_lib/runs/store.py -> the checkout
    for root in [checkout, Path.cwd().resolve(), *Path.cwd().resolve().parents]:
        if (root / "_config.yml").exists() and (root / "grok_lib").is_dir():
            return root / "results"
    return Path.cwd() / "results"


def _atomic_write(path: Path, write: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600 files; stored runs are shared data
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _clean(x: Any) -> Any:
    """JSON has no NaN: store it as null."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, list):
        return [_clean(v) for v in x]
    return x


def _experiment_holding(key: str) -> str | None:
    """The name of the first registered experiment with a config of this key, if any."""
    return next((exp.name for exp in EXPERIMENTS.values() if any(c.key() == key for c in exp.configs())), None)


class Store:
    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root is not None else default_store()

    def path(self, config: TrainConfig) -> Path:
        return self.root / f"{config.key()}.json"

    def has(self, config: TrainConfig) -> bool:
        """Whether a file is stored for ``config`` (see `readable` for whether it reads back)."""
        return self.path(config).exists()

    def readable(self, config: TrainConfig) -> bool:
        """Whether the run of ``config`` is stored and reads back whole."""
        try:
            self.load(config)
        except (FileNotFoundError, DamagedRunError):
            return False
        return True

    def save(self, run: Run) -> None:
        """Store a completed run (an interrupted or stopped one is refused: it is not the config's result)."""
        if run.cut_short:
            raise ValueError("refusing to store an interrupted run as the result of its config")
        cfg = run.config
        doc = {"schema": SCHEMA, "key": cfg.key(), "config": cfg.to_dict(), "meta": run.meta,
               "history": {k: _clean(list(v)) for k, v in run.history.items()}}
        if cfg.save_model and run.state_dict is not None:
            _atomic_write(self.root / f"{cfg.key()}.pt", lambda f: torch.save(run.state_dict, f))
        if run.checkpoints:
            _atomic_write(self._checkpoint_path(cfg), lambda f: torch.save(run.checkpoints, f))
        _atomic_write(self.path(cfg), lambda f: f.write(json.dumps(doc, separators=(",", ":")).encode()))

    def load(self, config: TrainConfig) -> Run:
        """The stored run of ``config``; FileNotFoundError if there is none, DamagedRunError if it is unreadable."""
        path = self.path(config)
        stored, history, meta = self._read(path)
        if stored != config:
            raise self._damaged(path, "holds a different config than asked for (hash collision or edited file)")
        state = self._weights(path.with_suffix(".pt"))
        checkpoints = self._weights(self._checkpoint_path(config)) or {}
        return Run(stored, history, meta, state, checkpoints)

    def save_derived(self, config: TrainConfig, kind: str, data: dict[str, Any]) -> None:
        """Keep a result computed from a run (``kind`` names it, e.g. "spectra") in ``<store>/<kind>/<key>.json``:
        for analyses of checkpoints too large to keep, so the repository holds what the chapter plots."""
        _atomic_write(self._derived_path(config, kind),
                      lambda f: f.write(json.dumps({"key": config.key(), kind: data}, separators=(",", ":")).encode()))

    def load_derived(self, config: TrainConfig, kind: str) -> dict[str, Any]:
        """What `save_derived` kept; FileNotFoundError if nothing, DamagedRunError if it is unreadable."""
        path = self._derived_path(config, kind)
        try:
            doc = json.loads(path.read_bytes())
            if doc["key"] != config.key():
                raise ValueError(f"it holds key {doc['key']}")
            return doc[kind]
        except (ValueError, TypeError, KeyError) as e:
            raise self._damaged(path, f"is not a stored {kind} result of this run ({type(e).__name__}: {e})") from e

    def _derived_path(self, config: TrainConfig, kind: str) -> Path:
        if not kind.isidentifier():
            raise ValueError(f"kind={kind!r} must be a plain name such as 'spectra'.")
        return self.root / kind / f"{config.key()}.json"

    def _checkpoint_path(self, config: TrainConfig) -> Path:
        return self.root / f"{config.key()}.ckpt.pt"

    def _weights(self, path: Path) -> Any:
        """What ``path`` holds (weights, or checkpoints), None if there is no such file."""
        if not path.exists():
            return None
        try:
            return torch.load(path, map_location="cpu")
        except (RuntimeError, EOFError, ValueError, pickle.UnpicklingError) as e:  # what a cut or bad file gives
            raise self._damaged(path, f"cannot be read as weights ({type(e).__name__}: {e})") from e

    def configs(self) -> list[TrainConfig]:
        """Every config stored here. A damaged file is skipped with a warning that names it, so one
        bad file does not hide every other run."""
        configs = []
        for path in sorted(self.root.glob("*.json")):
            try:
                configs.append(self._read(path)[0])
            except DamagedRunError as e:
                warnings.warn(f"skipped: {e}", stacklevel=2)
        return configs

    def training_time(self, configs: list[TrainConfig]) -> dict[str, float]:
        """Seconds of wall time the stored runs among ``configs`` took to train, per device: what
        regenerating them costs. Runs trained together in one stack share its wall time, so each is
        charged its share of it (the stack's time over its number of runs)."""
        seconds: dict[str, float] = {}
        for config in configs:
            if not self.has(config):
                continue
            meta = self._read(self.path(config))[2]
            if "wall_time_s" in meta:
                device = str(meta.get("device", "unknown device"))
                share = float(meta["wall_time_s"]) / max(int(meta.get("stacked_runs", 1)), 1)
                seconds[device] = seconds.get(device, 0.0) + share
        return seconds

    def _read(self, path: Path) -> tuple[TrainConfig, dict[str, list[float]], dict[str, Any]]:
        """The config, history and metadata stored in ``path``; DamagedRunError if it is not a whole run."""
        try:
            doc = json.loads(path.read_bytes())
            history = {k: [math.nan if v is None else v for v in vals] for k, vals in doc["history"].items()}
            if not isinstance(doc["meta"], dict):
                raise TypeError("meta is not a mapping")
            return TrainConfig.from_dict(doc["config"]), history, doc["meta"]
        except (ValueError, TypeError, KeyError, AttributeError) as e:  # bad JSON, or JSON of the wrong shape
            raise self._damaged(path, f"is damaged ({type(e).__name__}: {e})") from e

    def _damaged(self, path: Path, problem: str) -> DamagedRunError:
        """The error for an unreadable ``path``, saying how to make the run again."""
        name = _experiment_holding(path.name.split(".")[0])
        if name is None:
            fix = "delete it and train the run again (or call load_or_train(config, retrain=True))"
        else:
            store = "" if self.root.resolve() == default_store().resolve() else f" --store {self.root}"
            fix = f"regenerate it with `python -m grok_lib regenerate {name} --missing{store}`"
        return DamagedRunError(f"{path} {problem}; {fix}.")
