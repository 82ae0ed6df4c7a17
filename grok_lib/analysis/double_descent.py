"""Double descent measured: the random-features model on the digits swept over its number of features N and
over the training-set size n, with and without a ridge penalty; and a curve's peak read off with its spread
over seeds.

Each point is one closed-form fit (`models.random_features`), so a sweep of some forty N by five seeds takes
seconds and is recomputed rather than stored. Errors are misclassification rates on the digits' fixed test set
(the arg-max of the ten fitted outputs against the true label); the loss is the squared error that the fit
minimises, summed over the ten outputs and averaged over the test images. The ridge penalty that is "tuned" is
chosen per point on the validation set, never on the test set.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from grok_lib.analysis.curves import rise_then_fall
from grok_lib.models.random_features import LeastSquares, RandomFeatures
from grok_lib.runs.store import default_store
from grok_lib.task.digits import Digits, load_digits, one_hot, training_set

RIDGES = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0)  # the grid a tuned ridge penalty is chosen from
SEEDS = (0, 1, 2, 3, 4)
# the stored sweeps: model-wise (N features at n = 400 training images) and sample-wise (n at N = 400 features)
N_TRAIN = 400
N_FEATURES = 400
NOISES = (0.0, 0.2)
RF_FILE = "random_features.json"


def feature_grid(n_train: int, low: int = 10, high_factor: float = 10.0, per_decade: int = 14) -> list[int]:
    """Log-spaced numbers of features from ``low`` to ``high_factor * n_train``, with ``n_train`` itself and
    its near neighbours included so that the peak is sampled where it is."""
    grid = np.geomspace(low, high_factor * n_train, int(per_decade * np.log10(high_factor * n_train / low)) + 1)
    near = [round(n_train * f) for f in (0.8, 0.9, 0.95, 1.0, 1.05, 1.1, 1.25)]
    return sorted({int(round(g)) for g in grid} | set(near))


def scores(pred: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
    """(misclassification rate, squared-error loss) of least-squares outputs [example, class] against labels."""
    err = (pred.argmax(1) != labels).double().mean().item()
    loss = ((pred - one_hot(labels)) ** 2).sum(1).mean().item()
    return err, loss


def fit_point(n_features: int, n_train: int, label_noise: float, seed: int, ridges: Sequence[float] = (0.0,),
              tune: bool = False, digits: Digits | None = None) -> dict[str, Any]:
    """One random-features fit: the training set and the features drawn by ``seed``; train error (against the
    labels trained on), test error and test loss at each ridge penalty; with ``tune``, also at the penalty of
    `RIDGES` with the lowest validation error (the "tuned" entries, and which penalty it was)."""
    d = digits or load_digits()
    data = training_set(n_train, label_noise, seed, d)
    model = RandomFeatures(d.n_inputs, n_features, seed=1_000_003 + seed)
    phi = model(data.x)
    fit = LeastSquares.fit(phi, one_hot(data.y))
    phi_test = model(d.x_test)
    row: dict[str, Any] = {"n_features": n_features, "n_train": n_train, "label_noise": label_noise, "seed": seed}
    for lam in ridges:
        beta = fit.coef(lam)
        tag = f"{lam:g}"
        row[f"train_error@{tag}"], row[f"train_loss@{tag}"] = scores(phi @ beta, data.y)
        row[f"test_error@{tag}"], row[f"test_loss@{tag}"] = scores(phi_test @ beta, d.y_test)
    if tune:
        phi_val = model(d.x_val)
        val_err = [scores(phi_val @ fit.coef(lam), d.y_val)[0] for lam in RIDGES]
        best = RIDGES[int(np.argmin(val_err))]
        row["tuned_ridge"] = best
        row["test_error@tuned"], row["test_loss@tuned"] = scores(phi_test @ fit.coef(best), d.y_test)
    return row


def sweep(points: Iterable[Mapping[str, Any]], seeds: Sequence[int] = SEEDS,
          on_row: Callable[[dict[str, Any]], None] | None = None, **common: Any) -> list[dict[str, Any]]:
    """`fit_point` at each point (a mapping of its arguments) and seed; ``on_row`` sees each row as it comes."""
    rows = []
    for point in points:
        for seed in seeds:
            row = fit_point(seed=seed, **{**common, **point})
            rows.append(row)
            if on_row is not None:
                on_row(row)
    return rows


@dataclass(frozen=True)
class Band:
    """A curve over seeds: at each x, the median and the lowest and highest value."""

    x: list[float]
    median: list[float]
    low: list[float]
    high: list[float]

    def peak(self) -> tuple[float, float, float, float]:
        """(x, median, low, high) where the median is largest."""
        i = int(np.argmax(self.median))
        return self.x[i], self.median[i], self.low[i], self.high[i]

    def at(self, x: float) -> tuple[float, float, float]:
        """(median, low, high) at ``x`` (a KeyError if the curve has no such x)."""
        if x not in self.x:
            raise KeyError(x)
        i = self.x.index(x)
        return self.median[i], self.low[i], self.high[i]

    def minimum(self, below: float | None = None, above: float | None = None) -> tuple[float, float]:
        """(x, median) where the median is smallest, over the xs strictly between ``above`` and ``below``."""
        idx = [i for i, x in enumerate(self.x) if (below is None or x < below) and (above is None or x > above)]
        i = min(idx, key=lambda k: self.median[k])
        return self.x[i], self.median[i]

    def largest_rise(self) -> float:
        """The largest amount by which the median climbs above an earlier minimum (0 for a curve that only falls):
        the height of a double-descent bump, or its absence."""
        rise = rise_then_fall(self.median)
        return 0.0 if rise is None else rise[2] - rise[1]

    def summary(self, scale: float = 1.0) -> dict[str, float]:
        """What the text quotes about a double-descent curve: its peak, the top of its largest rise (where, the
        median, the lowest and highest seed; the highest point if it never rises), the lowest median before the
        peak, the last point, and the height of the rise; values times ``scale`` (100 for percentages)."""
        rise = rise_then_fall(self.median)
        i = int(np.argmax(self.median)) if rise is None else rise[0]
        j = min(range(i + 1), key=lambda k: self.median[k])
        return {"peak_x": self.x[i], "peak": scale * self.median[i], "peak_low": scale * self.low[i],
                "peak_high": scale * self.high[i], "first_min_x": self.x[j], "first_min": scale * self.median[j],
                "last_x": self.x[-1], "last": scale * self.median[-1], "rise": scale * self.largest_rise()}


def band(rows: Iterable[Mapping[str, Any]], x: str, y: str, **fields: Any) -> Band:
    """``y`` against ``x`` over the rows matching ``fields``, summarised over seeds (all other fields equal)."""
    groups: dict[float, list[float]] = {}
    for r in rows:
        if all(r.get(k) == v for k, v in fields.items()):
            groups.setdefault(r[x], []).append(r[y])
    xs = sorted(groups)
    return Band(xs, [statistics.median(groups[v]) for v in xs], [min(groups[v]) for v in xs],
                [max(groups[v]) for v in xs])


def interpolation_threshold(rows: Iterable[Mapping[str, Any]], x: str, y: str = "train_loss@0",
                            max_value: float = 1e-6, **fields: Any) -> float | None:
    """The smallest ``x`` at which every seed's ``y`` is at most ``max_value``: where the model first fits its
    training set exactly, wrong labels included (by default: zero squared error at ridge 0). None if never."""
    b = band(rows, x, y, **fields)
    return next((v for v, hi in zip(b.x, b.high, strict=True) if hi <= max_value), None)


def sample_grid(n_features: int, high: int = 1000) -> list[int]:
    """Training-set sizes from 20 to ``high`` (the pool), log-spaced, with ``n_features`` and its neighbours."""
    grid = np.geomspace(20, high, 26)
    near = [round(n_features * f) for f in (0.8, 0.9, 0.95, 1.0, 1.05, 1.1, 1.25)]
    return sorted({int(round(g)) for g in grid} | {n for n in near if n <= high})


def random_feature_sweeps(seeds: Sequence[int] = SEEDS) -> dict[str, list[dict[str, Any]]]:
    """The chapter's two sweeps, each without label noise and with 20%, at ridge 0 and tuned on validation."""
    common = dict(ridges=(0.0,), tune=True)
    model_wise = [{"n_features": n, "n_train": N_TRAIN, "label_noise": noise}
                  for noise in NOISES for n in feature_grid(N_TRAIN)]
    sample_wise = [{"n_features": N_FEATURES, "n_train": n, "label_noise": noise}
                   for noise in NOISES for n in sample_grid(N_FEATURES)]
    return {"model_wise": sweep(model_wise, seeds, **common), "sample_wise": sweep(sample_wise, seeds, **common)}


def results_dir() -> Path:
    """``results/double_descent/`` beside the run store."""
    return default_store() / "double_descent"


def write_json(path: Path, doc: Any) -> None:
    """Write ``doc`` to ``path`` atomically (a reader sees the old file or the new one, never half of one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(doc, f, separators=(",", ":"))
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_json(name: str, root: Path | None = None) -> dict[str, Any]:
    """A stored file of ``results/double_descent/``; the error says how to make it when it is missing."""
    path = (root or results_dir()) / name
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: make it with `python -m grok_lib.analysis.double_descent_mlp`")
    return json.loads(path.read_text())


def stored_random_features(root: Path | None = None, recompute: bool = False) -> dict[str, list[dict[str, Any]]]:
    """The stored random-features sweeps (computed and stored first if missing, about a minute)."""
    path = (root or results_dir()) / RF_FILE
    if recompute or not path.exists():
        rounded = {k: [{f: (float(f"{v:.6g}") if isinstance(v, float) else v) for f, v in r.items()} for r in rows]
                   for k, rows in random_feature_sweeps().items()}
        write_json(path, {"about": "random ReLU features on the digits, min-norm and validation-tuned ridge fits",
                          **rounded})
    doc = read_json(RF_FILE, root)
    return {k: doc[k] for k in ("model_wise", "sample_wise")}
