"""The live lab's settings: the choices its controls offer, its default run, and the chapters' contrasts.

Kept apart from the widgets so the chapters' presets and the defaults can be read (and tested)
without building a lab.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from grok_lib.training.config import TrainConfig

MODEL_CHOICES = [("MLP, sum of embeddings", ("mlp", "sum")), ("MLP, concatenated embeddings", ("mlp", "concat")),
                 ("transformer (1 layer)", ("transformer", "sum"))]
OPTIMIZER_CHOICES = [("AdamW", "adamw"), ("Adam", "adam"), ("SGD", "sgd")]
OUTPUT_CHOICES = [("softmax", "softmax"), ("StableMax", "stablemax")]
# what happens to the gradient before the optimiser's step: a name for the lab, and the config fields it sets
# (Grokfast's MA with the authors' own λ for it, 5; their EMA with its defaults, α 0.98 and λ 2)
GRADIENT_SETTINGS: dict[str, dict[str, Any]] = {
    "plain": {}, "ortho": {"ortho_grad": True}, "ema": {"grokfast": "ema"},
    "ma": {"grokfast": "ma", "grokfast_lamb": 5.0},
}
GRADIENT_CHOICES = [("as computed", "plain"), ("⊥Grad (AdamW: ⊥AdamW)", "ortho"), ("Grokfast EMA", "ema"),
                    ("Grokfast MA", "ma")]

# The default run memorises in about a hundred steps and generalises in about a thousand.
DEFAULTS: dict[str, Any] = dict(op="add", p=97, train_frac=0.3, weight_decay=1.0, model=("mlp", "sum"),
                                optimizer="adamw", lr=3e-3, steps=3000, seed=0, output="softmax", gradient="plain",
                                init_scale=1.0, norm_constraint=None)
# what the held-norm box shows before the norm is held: a norm below the default MLP's at initialisation
NORM_START = 50.0
# the settings every chapter preset ran with, set again when a preset is picked
PLAIN_SETTINGS: dict[str, Any] = dict(output="softmax", gradient="plain", init_scale=1.0, norm_constraint=None)
QUICK: dict[str, Any] = dict(DEFAULTS, p=11, train_frac=0.5, steps=60)  # for tests: a run in well under a second


def chapter_presets() -> dict[str, dict[str, Any]]:
    """The key contrasts of chapters 4 and 5, as lab settings taken from their experiments.

    Pick one side, Run, Keep, then pick the other side and Run again to see both curves.
    Hook for chapter 6 (double descent): its contrasts vary the hidden width and label
    noise, which the lab has no controls for yet; add them here once it has.
    """
    from grok_lib.runs.experiments import CH4_BASE, CH4_SPREAD

    base = dict(op=CH4_BASE.op, p=CH4_BASE.p, lr=CH4_BASE.lr, steps=CH4_BASE.steps, optimizer=CH4_BASE.optimizer,
                merge=CH4_BASE.merge, seed=0, **CH4_SPREAD)
    return {
        "Ch. 4 · weight decay 0": base | dict(weight_decay=0.0),
        "Ch. 4 · weight decay 1": base | dict(weight_decay=1.0),
        "Ch. 4 · 20% of the table shown": base | dict(train_frac=0.2),
        "Ch. 4 · 80% of the table shown": base | dict(train_frac=0.8),
        "Ch. 4 · SGD instead of AdamW": base | dict(optimizer="sgd"),
        "Ch. 5 · a − b, summed embeddings": base | dict(op="sub", merge="sum"),
        "Ch. 5 · a − b, concatenated embeddings": base | dict(op="sub", merge="concat"),
    }


def _gradient_words(cfg: TrainConfig) -> str:
    """What the run does to the gradient, with the filter's settings ("" when nothing)."""
    words = []
    if cfg.grokfast == "ema":
        words.append(f"Grokfast EMA α {cfg.grokfast_alpha:g} λ {cfg.grokfast_lamb:g}")
    elif cfg.grokfast == "ma":
        words.append(f"Grokfast MA w {cfg.grokfast_window} λ {cfg.grokfast_lamb:g}")
    if cfg.ortho_grad:
        words.append("⊥Grad")
    return " + ".join(words)


def _words(cfg: TrainConfig) -> dict[str, str]:
    """Each setting a reader chooses in the lab, as it is written in a title or a legend."""
    model = "transformer" if cfg.model == "transformer" else f"{cfg.merge} MLP"
    return {"op": cfg.op, "p": f"p={cfg.p}", "train_frac": f"{cfg.train_frac:.0%} train",
            "weight_decay": f"wd {cfg.weight_decay:g}", "model": model, "optimizer": cfg.optimizer,
            "lr": f"lr {cfg.lr:.2g}", "output": "StableMax" if cfg.output == "stablemax" else "softmax",
            "gradient": _gradient_words(cfg) or "plain gradient", "init_scale": f"init ×{cfg.init_scale:g}",
            "norm": "‖w‖ free" if cfg.norm_constraint is None else f"‖w‖ held at {cfg.norm_constraint:g}",
            "seed": f"seed {cfg.seed}", "steps": f"{cfg.steps:,} steps"}


def describe(cfg: TrainConfig) -> str:
    """The run's settings in one line, for the figure's title (the step budget is its x axis); the
    output, the gradient, the initial scale and the norm only when they are not the plain ones."""
    words = _words(cfg)
    del words["steps"]
    plain = {"output": "softmax", "gradient": "plain gradient", "init_scale": "init ×1", "norm": "‖w‖ free"}
    return ", ".join(w for k, w in words.items() if plain.get(k) != w)


def tell_apart(configs: Sequence[TrainConfig]) -> list[str]:
    """For each config, only the settings in which the configs differ: legend labels short enough to fit,
    that name what changed between the runs drawn together ("" for every one when nothing differs)."""
    words = [_words(c) for c in configs]
    differ = [k for k in (words[0] if words else {}) if len({w[k] for w in words}) > 1]
    return [", ".join(w[k] for k in differ) for w in words]
