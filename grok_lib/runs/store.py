"""The results store: every run kept once, keyed by its config, written atomically.

A run lives in ``<store>/<key>.json`` (config, history, metadata) and, when it kept its
weights, ``<store>/<key>.pt``. The key is a hash of the whole config, and loading checks
the stored config equals the asked one, so a run is never returned for another config.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from grok_lib.training.config import TrainConfig
from grok_lib.training.record import Run

SCHEMA = 1


def default_store() -> Path:
    """``$GROK_RESULTS`` if set, else ``results/`` at the root of the course checkout (found
    beside the package for an editable install, or above the working directory)."""
    env = os.environ.get("GROK_RESULTS")
    if env:
        return Path(env)
    for root in [Path(__file__).resolve().parent.parent, Path.cwd().resolve(), *Path.cwd().resolve().parents]:
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


class Store:
    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root is not None else default_store()

    def path(self, config: TrainConfig) -> Path:
        return self.root / f"{config.key()}.json"

    def has(self, config: TrainConfig) -> bool:
        return self.path(config).exists()

    def save(self, run: Run) -> None:
        """Store a completed run (an interrupted or stopped one is refused: it is not the config's result)."""
        if run.meta.get("status") in ("interrupted", "stopped"):
            raise ValueError("refusing to store an interrupted run as the result of its config")
        cfg = run.config
        doc = {"schema": SCHEMA, "key": cfg.key(), "config": cfg.to_dict(), "meta": run.meta,
               "history": {k: _clean(list(v)) for k, v in run.history.items()}}
        if cfg.save_model and run.state_dict is not None:
            _atomic_write(self.root / f"{cfg.key()}.pt", lambda f: torch.save(run.state_dict, f))
        _atomic_write(self.path(cfg), lambda f: f.write(json.dumps(doc, separators=(",", ":")).encode()))

    def load(self, config: TrainConfig) -> Run:
        path = self.path(config)
        doc = json.loads(path.read_text())
        stored = TrainConfig.from_dict(doc["config"])
        if stored != config:
            raise ValueError(f"{path} holds a different config than asked for (hash collision or edited file)")
        history = {k: [math.nan if v is None else v for v in vals] for k, vals in doc["history"].items()}
        weights = self.root / f"{config.key()}.pt"
        state = torch.load(weights, map_location="cpu") if weights.exists() else None
        return Run(stored, history, doc["meta"], state)

    def configs(self) -> list[TrainConfig]:
        """Every config stored here."""
        return [TrainConfig.from_dict(json.loads(p.read_text())["config"]) for p in sorted(self.root.glob("*.json"))]
