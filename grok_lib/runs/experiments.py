"""The named experiments behind the book: each chapter's stored runs, defined once.

A chapter asks for ``experiments.get("name")`` and passes the configs to `load_or_train`;
``python -m grok_lib regenerate NAME`` (or ``--all``) trains them again and rewrites the
store. A newcomer finds the runs behind any figure here, by the name the chapter uses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from grok_lib.training.config import TrainConfig


@dataclass(frozen=True)
class Experiment:
    name: str
    chapter: str
    description: str
    configs: Callable[[], list[TrainConfig]]


EXPERIMENTS: dict[str, Experiment] = {}


def register(name: str, chapter: str, description: str):
    """Decorator: register a function returning the experiment's configs."""

    def wrap(fn: Callable[[], list[TrainConfig]]) -> Callable[[], list[TrainConfig]]:
        if name in EXPERIMENTS:
            raise ValueError(f"experiment {name!r} registered twice")
        EXPERIMENTS[name] = Experiment(name, chapter, description, fn)
        return fn

    return wrap


def get(name: str) -> list[TrainConfig]:
    """The configs of a named experiment."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; known: {', '.join(sorted(EXPERIMENTS))}")
    return EXPERIMENTS[name].configs()


# ---- Chapter 2: the first grokking run --------------------------------------------------

CANONICAL_MLP = TrainConfig(op="add", p=97, train_frac=0.3, model="mlp", lr=1e-3, weight_decay=1.0,
                            steps=20_000)


@register("ch2_mlp", "02_first_run", "Canonical MLP: a+b mod 97, 30% train, AdamW lr 1e-3, wd 1.")
def _ch2_mlp() -> list[TrainConfig]:
    return [CANONICAL_MLP]


# ---- Chapter 3: the explorer's precomputed sweep ---------------------------------------

EXPLORER_BASE = TrainConfig(op="add", p=31, model="mlp", merge="concat", d_embed=64, d_hidden=64, lr=1e-2,
                            steps=2500, log_every=50, patience=200)
# (operation, how the MLP merges the two embeddings); the explorer lists them in this order
EXPLORER_VARIANTS = [("add", "sum"), ("add", "concat"), ("sub", "sum"), ("sub", "concat"), ("mul", "concat"),
                     ("div", "concat"), ("x2_y2", "concat"), ("x2_xy_y2_x", "concat")]
EXPLORER_FRACS = [0.2, 0.4, 0.5, 0.6, 0.8]
EXPLORER_WDS = [0.0, 0.1, 0.3, 1.0, 3.0]


@register("explorer_sweep", "03_play",
          "Explorer: 6 operations (concat MLP) + add/sub with a sum MLP, x 5 train fractions x 5 weight decays, p=31.")
def _explorer_sweep() -> list[TrainConfig]:
    return [EXPLORER_BASE.replace(op=op, merge=merge, train_frac=f, weight_decay=w)
            for op, merge in EXPLORER_VARIANTS for f in EXPLORER_FRACS for w in EXPLORER_WDS]


# ---- Chapters 4-6: what makes a network grok; sum vs concat; double descent -------------
# One small task shared by these chapters, so their runs stack and their numbers compare:
# a∘b mod 31 with a narrow MLP (embedding and hidden width 64), full-batch AdamW at lr 1e-2,
# logged every 50 steps, at most 2,500 steps. A higher rate than the canonical 1e-3 makes
# grokking happen within a CPU-sized budget. The explorer (chapter 3) uses the same settings;
# the `extra` tag keeps these runs separate from its, so regenerating one chapter never
# changes the numbers stored for another (runs trained in different stacks differ by rounding,
# and grokking times amplify that).

CH4_BASE = TrainConfig(op="add", p=31, model="mlp", merge="sum", d_embed=64, d_hidden=64, lr=1e-2,
                       steps=2500, log_every=50, patience=200, extra={"runs": "ch4-6"})
CH4_WEIGHT_DECAYS = (0.0, 0.1, 0.3, 1.0, 3.0)
CH4_FRACS = (0.2, 0.4, 0.5, 0.6, 0.8)
CH4_SEEDS = range(3)
CH4_SPREAD = dict(weight_decay=1.0, train_frac=0.6)  # the cell whose seeds we count
CH4_SPREAD_SEEDS = range(3, 15)


@register("ch4_phase", "04_what_makes_it_grok",
          "a+b mod 31, sum-MLP: 5 weight decays x 5 train fractions x 3 seeds, plus 12 more seeds in one cell.")
def _ch4_phase() -> list[TrainConfig]:
    from grok_lib.runs.runner import grid

    cells = grid(CH4_BASE, weight_decay=CH4_WEIGHT_DECAYS, train_frac=CH4_FRACS, seed=CH4_SEEDS)
    return cells + grid(CH4_BASE.replace(**CH4_SPREAD), seed=CH4_SPREAD_SEEDS)


CH4_OPT_FRAC = 0.6
CH4_SGD = CH4_BASE.replace(optimizer="sgd", train_frac=CH4_OPT_FRAC)
CH4_ADAM = CH4_BASE.replace(optimizer="adam", train_frac=CH4_OPT_FRAC)
CH4_SGD_LRS = (0.3, 1.0, 3.0)
CH4_SGD_WDS = (0.0, 1e-3, 1e-2)
CH4_ADAM_LRS = (3e-3, 1e-2)
CH4_ADAM_WDS = (0.0, 1e-4, 1e-3, 1e-2)


@register("ch4_optimizers", "04_what_makes_it_grok",
          "a+b mod 31, 60%: SGD and Adam, each with an L2 penalty, to set beside AdamW's runs in ch4_phase.")
def _ch4_optimizers() -> list[TrainConfig]:
    from grok_lib.runs.runner import grid

    return (grid(CH4_SGD, lr=CH4_SGD_LRS, weight_decay=CH4_SGD_WDS)
            + grid(CH4_ADAM, lr=CH4_ADAM_LRS, weight_decay=CH4_ADAM_WDS))


CH4_OPS = ("add", "sub", "div", "x2_y2", "x3_xy")
CH4_OP_FRACS = CH4_FRACS + (0.9,)
CH4_S5_FRACS = (0.2, 0.3, 0.5, 0.8)
CH4_S5_STEPS = 1500


@register("ch4_operations", "04_what_makes_it_grok",
          "Concat-MLP, wd 1: +, -, /, x2+y2, x3+xy mod 31 across 6 train fractions, and S5 composition.")
def _ch4_operations() -> list[TrainConfig]:
    from grok_lib.runs.runner import grid

    concat = CH4_BASE.replace(merge="concat", weight_decay=1.0)
    return (grid(concat, op=CH4_OPS, train_frac=CH4_OP_FRACS)
            + grid(concat.replace(op="s5_xy", steps=CH4_S5_STEPS), train_frac=CH4_S5_FRACS))


CH5_OPS = ("add", "sub", "xy_y2")
CH5_WEIGHT_DECAYS = (0.3, 1.0, 3.0)
CH5_FRACS = (0.4, 0.6, 0.8)
CH5_SEEDS = range(3)


@register("ch5_merge", "05_sum_vs_concat",
          "Sum vs concat MLP on a+b, a-b, ab+b2 mod 31: 3 weight decays x 3 train fractions x 3 seeds, "
          "plus 12 more concat seeds where ch4 has 15 sum seeds.")
def _ch5_merge() -> list[TrainConfig]:
    from grok_lib.runs.runner import grid

    cells = grid(CH4_BASE, op=CH5_OPS, merge=("sum", "concat"), weight_decay=CH5_WEIGHT_DECAYS,
                 train_frac=CH5_FRACS, seed=CH5_SEEDS)
    return cells + grid(CH4_BASE.replace(merge="concat", **CH4_SPREAD), seed=CH4_SPREAD_SEEDS)


@register("ch5_two_hidden", "05_sum_vs_concat",
          "The blog's model (two hidden layers), sum vs concat, on a+b mod 31 at wd 1: 3 fractions x 3 seeds.")
def _ch5_two_hidden() -> list[TrainConfig]:
    from grok_lib.runs.runner import grid

    return grid(CH4_BASE.replace(n_hidden=2, weight_decay=1.0), merge=("sum", "concat"), train_frac=CH5_FRACS,
                seed=CH5_SEEDS)
