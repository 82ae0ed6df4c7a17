"""The plain, serialisable description of one training run.

A `TrainConfig` is all a run depends on: the results store hashes it to find a
stored run, and the trainer reads nothing else.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field, fields, replace
from numbers import Integral, Real
from typing import Any

from grok_lib.task.operations import get_operation

MODELS = ("mlp", "transformer")
MERGES = ("sum", "concat")
OPTIMIZERS = ("adamw", "adam", "sgd", "truegrad")  # truegrad: TrueGrad-style AdamW (see `optimizers`)
DTYPES = ("float32", "float64")
SPLITS = ("ordered", "symmetric")
ACTIVATIONS = ("relu", "gelu")
OUTPUTS = ("softmax", "stablemax")  # how logits become probabilities (see `losses`)
GRADIENT_FILTERS = ("none", "ema", "ma")  # Grokfast's filters (see `gradient_filters`)
DECAY_TARGETS = ("origin", "init")  # what weight decay pulls the weights towards
TASKS = ("modular", "digits")  # an operation table, or scikit-learn's 8x8 digits (see `task.digits`)
LOSSES = ("cross_entropy", "mse")  # see `losses`: mse is Omnigrok's squared error against one-hot targets
# fields of the operation-table task that mean nothing for the digits: they must stay at these defaults there
MODULAR_ONLY = {"op": "add", "p": 97, "merge": "sum", "d_embed": 128, "split": "ordered"}
THRESHOLD = 0.99  # accuracy that counts as "learned" (memorised, generalised) throughout the course

# the numeric settings, with an example of a sensible value for each error message
REAL_FIELDS = {"train_frac": 0.3, "label_noise": 0.0, "lr": 1e-3, "weight_decay": 1.0, "momentum": 0.9,
               "adam_eps": 1e-8, "grokfast_alpha": 0.98, "grokfast_lamb": 2.0, "init_scale": 1.0,
               "weight_noise": 0.01, "dropout": 0.1}
INT_FIELDS = {"p": 97, "d_embed": 128, "d_hidden": 128, "n_hidden": 1, "n_layers": 1, "d_model": 128, "n_heads": 4,
              "d_mlp": 512, "warmup_steps": 10, "steps": 10_000, "patience": 500, "seed": 0, "log_every": 100,
              "checkpoint_every": 1000, "grokfast_window": 100}
# fields added after runs were first stored: left out of the key while at their default, so every
# run stored before they existed keeps its key (and its file)
LATER_FIELDS = {"split": "ordered", "checkpoint_every": 0, "output": "softmax", "adam_eps": 1e-8,
                "ortho_grad": False, "grokfast": "none", "grokfast_alpha": 0.98, "grokfast_lamb": 2.0,
                "grokfast_window": 100, "init_scale": 1.0, "norm_constraint": None, "decay_to": "origin",
                "weight_noise": 0.0, "dropout": 0.0, "task": "modular", "loss": "cross_entropy",
                "diagnostics": False}
OPTIONAL_INT_FIELDS = {"data_seed": "0, or None for the run's seed", "batch_size": "64, or None for full batch"}


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a run. Defaults are the course's canonical MLP.

    ``task="digits"`` trains an MLP on the 64 pixels of scikit-learn's digits instead of an operation table:
    its training set is ``round(train_frac * 1000)`` images drawn by ``split_seed`` from `task.digits`'s
    1,000-image pool (``label_noise`` of them mislabelled), and its "val" columns grade the fixed 500-image
    test set. ``n_hidden`` hidden layers of width ``d_hidden``; the operation-table fields (`MODULAR_ONLY`)
    stay at their defaults.

    ``loss="mse"`` is Omnigrok's loss: ``mean over classes of (output - one_hot(label))²`` per example, on the
    raw outputs (no softmax), averaged over the batch as any loss here -- PyTorch's ``nn.MSELoss()`` with its
    default mean over batch and classes, as in the authors' MNIST notebook (whose *logged* loss sums over the
    classes instead, ten times this).
    """

    # task
    task: str = "modular"  # "digits": scikit-learn's handwritten digits (see the class docstring)
    op: str = "add"
    p: int = 97
    train_frac: float = 0.3
    data_seed: int | None = None  # split seed; None means "same as seed"
    label_noise: float = 0.0  # fraction of training labels replaced by wrong ones
    split: str = "ordered"  # "symmetric": (a, b) and (b, a) always fall on the same side of the split
    # model
    model: str = "mlp"
    merge: str = "sum"  # MLP only: how the two operand embeddings are combined
    d_embed: int = 128  # MLP embedding width
    d_hidden: int = 128  # MLP hidden width
    n_hidden: int = 1  # MLP hidden layers
    n_layers: int = 1  # transformer
    d_model: int = 128
    n_heads: int = 4
    d_mlp: int = 512
    act: str = "relu"
    layernorm: bool = False
    dropout: float = 0.0  # while training: residual dropout in the transformer, after each hidden activation in the MLP
    init_scale: float = 1.0  # every parameter multiplied by this at initialisation (Omnigrok's large initialisation)
    output: str = "softmax"  # "stablemax": Prieto et al.'s StableMax in place of softmax, in training and evaluation
    loss: str = "cross_entropy"  # "mse": squared error of the raw outputs against one-hot targets (Omnigrok)
    # optimisation
    optimizer: str = "adamw"
    lr: float = 1e-3
    weight_decay: float = 1.0
    betas: tuple[float, float] = (0.9, 0.98)
    momentum: float = 0.0  # SGD only
    adam_eps: float = 1e-8  # Adam's epsilon (PyTorch's default; Prieto et al.'s code defaults to 1e-25)
    ortho_grad: bool = False  # ⊥Grad: drop each gradient's component along its weights (with adamw: ⊥AdamW)
    grokfast: str = "none"  # Grokfast's filter of the gradient: "ema" or "ma" (Lee et al. 2024)
    grokfast_alpha: float = 0.98  # EMA filter: the memory of the running average
    grokfast_lamb: float = 2.0  # either filter: how much of the slow gradient is added (their MA default is 5.0)
    grokfast_window: int = 100  # MA filter: how many gradients are averaged
    decay_to: str = "origin"  # "init": weight decay pulls towards the initial weights, w - w0 (Power et al.)
    weight_noise: float = 0.0  # std of the Gaussian noise on the weights each training pass sees (Power et al.)
    norm_constraint: float | None = None  # hold each run's total weight norm at this value (Omnigrok); None: free
    warmup_steps: int = 10
    batch_size: int | None = None  # None: full batch
    dtype: str = "float32"
    steps: int = 10_000
    early_stop: bool = True  # stop once val accuracy has held >= 99% for `patience` steps
    patience: int = 500
    seed: int = 0
    log_every: int = 100
    save_model: bool = False  # keep final weights in the store (for chapters that analyse them)
    checkpoint_every: int = 0  # keep the weights at step 0, every this many steps and at the end (0: none)
    diagnostics: bool = False  # also log the last layer's norm, the update, Adam's state there and exact-zero losses
    extra: dict[str, Any] = field(default_factory=dict)  # free-form tags; part of the key

    def __hash__(self) -> int:  # `extra` is a dict, so hash the canonical key instead
        return hash(self.key())

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise a ValueError that says what to change, for any impossible setting."""
        self._check_types()
        self._check_task_settings()
        op = get_operation(self.op)
        op.check_p(self.p)
        if not 0.0 < self.train_frac < 1.0:
            raise ValueError(f"train_frac={self.train_frac} must lie strictly between 0 and 1 (e.g. 0.3).")
        if not 0.0 <= self.label_noise < 1.0:
            raise ValueError(f"label_noise={self.label_noise} must be in [0, 1).")
        if self.weight_decay < 0:
            raise ValueError(f"weight_decay={self.weight_decay} is negative; use 0 for none.")
        if self.lr <= 0:
            raise ValueError(f"lr={self.lr} must be positive.")
        for name, value, allowed in [
            ("model", self.model, MODELS),
            ("merge", self.merge, MERGES),
            ("optimizer", self.optimizer, OPTIMIZERS),
            ("dtype", self.dtype, DTYPES),
            ("act", self.act, ACTIVATIONS),
            ("split", self.split, SPLITS),
            ("output", self.output, OUTPUTS),
            ("grokfast", self.grokfast, GRADIENT_FILTERS),
            ("decay_to", self.decay_to, DECAY_TARGETS),
            ("task", self.task, TASKS),
            ("loss", self.loss, LOSSES),
        ]:
            if value not in allowed:
                raise ValueError(f"{name}={value!r} is not one of {allowed}.")
        for name in ("steps", "log_every", "d_embed", "d_hidden", "n_hidden", "n_layers", "d_model", "n_heads",
                     "d_mlp"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1.")
        for name in ("warmup_steps", "patience", "checkpoint_every"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}={getattr(self, name)} is negative; use 0 or more.")
        if not 0.0 <= self.momentum < 1.0 or not all(0.0 <= b < 1.0 for b in self.betas):
            raise ValueError(f"momentum={self.momentum} and betas={self.betas} must each lie in [0, 1) (e.g. 0.9).")
        if self.model == "transformer" and self.d_model % self.n_heads:
            raise ValueError(f"d_model={self.d_model} must be divisible by n_heads={self.n_heads}.")
        if self.batch_size is not None and self.batch_size < 1:
            raise ValueError("batch_size must be a positive integer, or None for full batch.")
        self._check_gradient_settings()
        self._check_weight_settings()

    def _check_task_settings(self) -> None:
        """The digits take an MLP and none of the operation table's fields; MSE scores raw outputs."""
        if self.loss == "mse":
            if self.output != "softmax":
                raise ValueError(f"loss='mse' compares the raw outputs with one-hot targets, so output="
                                 f"{self.output!r} means nothing there; leave output='softmax' (the default).")
            if self.optimizer == "truegrad":
                raise ValueError("optimizer='truegrad' takes per-example cross-entropy gradients; use loss="
                                 "'cross_entropy' with it, or another optimizer with loss='mse'.")
        if self.task != "digits":
            return
        if self.model != "mlp":
            raise ValueError(f"task='digits' trains an MLP over the 64 pixels; model={self.model!r} is not "
                             "available there: use model='mlp'.")
        for name, default in MODULAR_ONLY.items():
            if getattr(self, name) != default:
                raise ValueError(f"{name}={getattr(self, name)!r} describes the operation-table task and means "
                                 f"nothing for task='digits'; leave it at {default!r}.")

    def _check_weight_settings(self) -> None:
        """Initial scale, norm constraint, weight noise and dropout: what is done to the weights (or, for
        dropout, to the activations) beside the optimiser's step."""
        if self.init_scale <= 0:
            raise ValueError(f"init_scale={self.init_scale} must be positive (1 is the default initialisation).")
        norm = self.norm_constraint
        if norm is not None and (not _is_real(norm) or not math.isfinite(norm) or norm <= 0):
            raise ValueError(f"norm_constraint={norm!r} must be a positive number (the total weight norm to hold), "
                             "or None to leave the norm free.")
        if self.weight_noise < 0:
            raise ValueError(f"weight_noise={self.weight_noise} is negative; use 0 for none.")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout={self.dropout} must lie in [0, 1) (e.g. 0.1); use 0 for none.")
        if self.optimizer == "truegrad" and self.dropout > 0:
            raise ValueError("optimizer='truegrad' cannot be combined with dropout: its per-example gradients come "
                             "from a second pass, which would drop other units than the pass that gave the gradient.")

    def _check_gradient_settings(self) -> None:
        """Adam's epsilon, ⊥Grad and Grokfast: the settings of the update that the optimiser is given."""
        if self.adam_eps < 0:
            raise ValueError(f"adam_eps={self.adam_eps} is negative; use 0 or more (PyTorch's default is 1e-8).")
        for name in ("ortho_grad", "diagnostics"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name}={getattr(self, name)!r} must be True or False.")
        if not 0.0 <= self.grokfast_alpha < 1.0:
            raise ValueError(f"grokfast_alpha={self.grokfast_alpha} must lie in [0, 1) (e.g. 0.98).")
        if self.grokfast_lamb < 0:
            raise ValueError(f"grokfast_lamb={self.grokfast_lamb} is negative; use 0 or more (e.g. 2.0).")
        if self.grokfast_window < 1:
            raise ValueError(f"grokfast_window={self.grokfast_window} must be at least 1 (e.g. 100).")

    def _check_types(self) -> None:
        """Numbers must be numbers: finite reals, whole numbers where a count or seed is meant
        (a bool is neither). A NaN learning rate would otherwise train, and store, a run of NaNs."""
        for name, example in REAL_FIELDS.items():
            value = getattr(self, name)
            if not _is_real(value) or not math.isfinite(value):
                raise ValueError(f"{name}={value!r} is not a finite number; give one such as {example}.")
        betas = self.betas
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2
                and all(_is_real(b) and math.isfinite(b) for b in betas)):
            raise ValueError(f"betas={betas!r} must be two finite numbers in [0, 1), such as (0.9, 0.98).")
        given = {name: example for name, example in OPTIONAL_INT_FIELDS.items() if getattr(self, name) is not None}
        for name, example in (INT_FIELDS | given).items():
            value = getattr(self, name)
            if not isinstance(value, Integral) or isinstance(value, bool):
                raise ValueError(f"{name}={value!r} must be a whole number (an int), such as {example}.")

    @property
    def split_seed(self) -> int:
        return self.seed if self.data_seed is None else self.data_seed

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["betas"] = list(self.betas)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown config fields {sorted(unknown)}")
        d = dict(d)
        if "betas" in d:
            d["betas"] = tuple(d["betas"])
        return cls(**d)

    def key(self) -> str:
        """A stable hash of every field: two configs share a key only if they are equal.

        A field of `LATER_FIELDS` at its default is left out, so adding a field keeps old keys."""
        d = {k: v for k, v in self.to_dict().items() if k not in LATER_FIELDS or v != LATER_FIELDS[k]}
        text = json.dumps(d, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def replace(self, **changes: Any) -> TrainConfig:
        return replace(self, **changes)

    def batch_signature(self) -> tuple:
        """Fields that must agree for runs to be trained together in one stacked pass.

        Runs may differ in seed, split, label noise, learning rate, weight decay, warm-up,
        step budget and early stopping; everything that changes tensor shapes or code
        paths must match: the output (softmax or StableMax), ⊥Grad and the Grokfast filter with
        its settings (its window sizes a buffer), and Adam's epsilon (one number for the stack's
        optimiser, as PyTorch's fused kernel takes it), dropout (a model setting) and what weight decay
        pulls towards. The initial scale, the norm constraint and the weight noise are per run, so
        runs that differ in them stack.
        """
        free = {"seed", "data_seed", "train_frac", "label_noise", "lr", "weight_decay",
                "warmup_steps", "steps", "early_stop", "patience", "save_model", "extra", "split",
                "checkpoint_every", "init_scale", "norm_constraint", "weight_noise"}
        return tuple((k, v) for k, v in sorted(self.to_dict().items()) if k not in free and k != "betas") + (
            ("betas", tuple(self.betas)),
        )


def _is_real(value: Any) -> bool:
    """An int or float (numpy's included), but not a bool."""
    return isinstance(value, Real) and not isinstance(value, bool)
