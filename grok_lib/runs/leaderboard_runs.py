"""The runs behind the numerics chapter's leaderboard: every intervention on the same splits and seeds, on
the canonical MLP and on a transformer task, ranked by steps to generalise (`analysis.numerics.leaderboard`).

- ``leaderboard_mlp``: the canonical MLP (a+b mod 97, 30%, AdamW lr 1e-3, wd 1), seeds 0-4, with one change
  per arm. The arms chapter 8 and ``grokfast_mlp`` already trained (other weight decays and learning rates,
  Grokfast's EMA filter, the held norm) are those stored runs, under their own budgets; the new arms have a
  8k-step budget (1.6 times the slowest of chapter 8's 30 baseline seeds).
- ``leaderboard_small_transformer``: a 1-layer transformer on a+b mod 31 (half the pairs, full batch, AdamW
  lr 1e-2, wd 1), seeds 0-4, with one change per arm; small enough for a CPU.
- ``leaderboard_transformer``: Grokfast's transformer task (Lee et al. 2024): x·y mod 97, half the pairs,
  minibatches of 512, a 2-layer transformer (width 128, 4 heads, MLP 512, LayerNorm), AdamW lr 1e-3 with
  betas (0.9, 0.98). The baseline takes weight decay 1; Grokfast's own baseline (their code's default,
  no weight decay) and their filters at that setting are arms too. A 15k-step budget: a GPU job.
- ``sgd_transformer``: the first source notebook's run, a 2-layer LayerNorm transformer trained by plain
  SGD (lr 0.1, weight decay 1e-3 as an L2 penalty, minibatches of 512) on 40% of a·b mod 97, 3 seeds.
"""

from __future__ import annotations

from grok_lib.training.config import TrainConfig

from .experiments import CANONICAL_MLP, CH4_BASE, CH4_SPREAD, register
from .numerics_runs import GROKFAST_BASE, NUMERICS_SEEDS
from .runner import grid
from .weight_norm_runs import LR_WD_STEPS, NORM_STEPS

SEEDS = NUMERICS_SEEDS  # 0-4: every arm of a task sees the same five splits and initialisations

# ---- the canonical MLP ----------------------------------------------------------------------------

MLP_BUDGET = 8_000
MLP_NEW = CANONICAL_MLP.replace(steps=MLP_BUDGET)
STORED_LR_WD = CANONICAL_MLP.replace(steps=LR_WD_STEPS)  # chapter 8's lr x wd grid (`why_lr_wd`)
# what each new arm changes from the canonical MLP (Power et al.'s interventions, Prieto et al.'s, Grokfast's
# MA filter with their defaults, TrueGrad, float64, Omnigrok's large initialisation)
MLP_CHANGES: dict[str, dict[str, object]] = {
    "AdamW, wd 0": {"weight_decay": 0.0},
    "⊥AdamW, wd 1": {"ortho_grad": True},
    "⊥AdamW, wd 0": {"ortho_grad": True, "weight_decay": 0.0},
    "StableMax, wd 1": {"output": "stablemax"},
    "StableMax, wd 0": {"output": "stablemax", "weight_decay": 0.0},
    "Grokfast MA": {"grokfast": "ma", "grokfast_window": 100, "grokfast_lamb": 5.0},
    "decay to init": {"decay_to": "init"},
    "dropout 0.1": {"dropout": 0.1},
    "weight noise 0.01": {"weight_noise": 0.01},
    "minibatch 512": {"batch_size": 512},
    "init ×2": {"init_scale": 2.0},
    "float64": {"dtype": "float64"},
    "SGD (lr 0.1, L2 1e-3)": {"optimizer": "sgd", "lr": 0.1, "weight_decay": 1e-3},
    "TrueGrad AdamW": {"optimizer": "truegrad"},
}


def mlp_arms() -> dict[str, list[TrainConfig]]:
    """Each arm of ``leaderboard_mlp``, one config per seed; the baseline first."""
    stored = {
        "AdamW (baseline)": grid(STORED_LR_WD, seed=SEEDS),
        "AdamW, wd 0.5": grid(STORED_LR_WD.replace(weight_decay=0.5), seed=SEEDS),
        "AdamW, wd 2": grid(STORED_LR_WD.replace(weight_decay=2.0), seed=SEEDS),
        "AdamW, lr ×2": grid(STORED_LR_WD.replace(lr=2e-3), seed=SEEDS),
        "AdamW, lr ×4": grid(STORED_LR_WD.replace(lr=4e-3), seed=SEEDS),
        "Grokfast EMA": grid(GROKFAST_BASE.replace(grokfast="ema", grokfast_alpha=0.98, grokfast_lamb=2.0),
                             seed=SEEDS),
        "held norm 60, wd 0": grid(CANONICAL_MLP.replace(weight_decay=0.0, steps=NORM_STEPS, norm_constraint=60.0),
                                   seed=SEEDS),
    }
    new = {name: grid(MLP_NEW.replace(**change), seed=SEEDS) for name, change in MLP_CHANGES.items()}
    return stored | new


@register("leaderboard_mlp", "09_numerics",
          "The canonical MLP, seeds 0-4: 21 interventions (weight decays, learning rates, ⊥AdamW, StableMax, "
          "Grokfast EMA/MA, decay to init, dropout, weight noise, minibatches, large init, float64, SGD, "
          "TrueGrad, held norm); new arms 8k steps.")
def _leaderboard_mlp() -> list[TrainConfig]:
    return [c for cs in mlp_arms().values() for c in cs]


# ---- a transformer task sized for a CPU -----------------------------------------------------------------
# a+b mod 31 with half the pairs, a 1-layer transformer of width 64 (4 heads, MLP 256), full-batch AdamW
# at lr 1e-2 and weight decay 1: all five seeds generalise within 3,000 steps (a probe gave 700-2,950), at
# ~45 ms a step for a stack of five on one CPU thread. A 5,000-step budget.

SMALL_BUDGET = 5_000
SMALL_TRANSFORMER = TrainConfig(op="add", p=31, train_frac=0.5, model="transformer", n_layers=1, d_model=64,
                                n_heads=4, d_mlp=256, lr=1e-2, weight_decay=1.0, steps=SMALL_BUDGET, log_every=50,
                                patience=200)
SMALL_CHANGES: dict[str, dict[str, object]] = {
    "AdamW (baseline)": {},
    "AdamW, wd 0.3": {"weight_decay": 0.3},
    "AdamW, wd 0": {"weight_decay": 0.0},
    "AdamW, lr ×0.5": {"lr": 5e-3},
    "AdamW, lr ×2": {"lr": 2e-2},
    "weight noise 0.01": {"weight_noise": 0.01},
    "init ×2": {"init_scale": 2.0},
    "Grokfast EMA": {"grokfast": "ema", "grokfast_alpha": 0.98, "grokfast_lamb": 2.0},
    "Grokfast MA": {"grokfast": "ma", "grokfast_window": 100, "grokfast_lamb": 5.0},
    "⊥AdamW, wd 0": {"ortho_grad": True, "weight_decay": 0.0},
    "StableMax, wd 0": {"output": "stablemax", "weight_decay": 0.0},
    "dropout 0.1": {"dropout": 0.1},
    "decay to init": {"decay_to": "init"},
    "minibatch 128": {"batch_size": 128},
    "float64": {"dtype": "float64"},
    "TrueGrad AdamW": {"optimizer": "truegrad"},  # ~13 times a forward and backward pass here (benchmarks: T1)
    # Power et al.'s optimiser comparison: plain SGD at the MLP arm's setting, and at ten times its rate
    "SGD (lr 0.1, L2 1e-3)": {"optimizer": "sgd", "lr": 0.1, "weight_decay": 1e-3},
    "SGD (lr 1, L2 1e-3)": {"optimizer": "sgd", "lr": 1.0, "weight_decay": 1e-3},
    # chapter 8's held norm without weight decay: at about the initial norm (29.2-29.6 over the seeds), and at
    # 26, the median norm at which the baseline's seeds first reached 99% (22.3-32.7 over the five)
    "held norm 30, wd 0": {"weight_decay": 0.0, "norm_constraint": 30.0},
    "held norm 26, wd 0": {"weight_decay": 0.0, "norm_constraint": 26.0},
}


def small_transformer_arms() -> dict[str, list[TrainConfig]]:
    """Each arm of ``leaderboard_small_transformer``, one config per seed; the baseline first."""
    return {name: grid(SMALL_TRANSFORMER.replace(**change), seed=SEEDS) for name, change in SMALL_CHANGES.items()}


@register("leaderboard_small_transformer", "09_numerics",
          "A 1-layer transformer (width 64) on a+b mod 31, 50%, full-batch AdamW lr 1e-2 wd 1, seeds 0-4: "
          "20 interventions (TrueGrad, SGD and held norms included), 5k steps. A CPU job.")
def _leaderboard_small_transformer() -> list[TrainConfig]:
    return [c for cs in small_transformer_arms().values() for c in cs]


# ---- Grokfast's transformer task --------------------------------------------------------------------

TRANSFORMER_BUDGET = 15_000
TRANSFORMER_BASE = TrainConfig(op="mul", p=97, train_frac=0.5, model="transformer", n_layers=2, d_model=128,
                               n_heads=4, d_mlp=512, layernorm=True, lr=1e-3, weight_decay=1.0, betas=(0.9, 0.98),
                               batch_size=512, steps=TRANSFORMER_BUDGET, log_every=100, patience=500)
GROKFAST_EMA_SETTING: dict[str, object] = {"grokfast": "ema", "grokfast_alpha": 0.98, "grokfast_lamb": 2.0}
GROKFAST_MA_SETTING: dict[str, object] = {"grokfast": "ma", "grokfast_window": 100, "grokfast_lamb": 5.0}
# their published filter runs add an L2 penalty through Adam (0.01 with MA, 0.005 with EMA; README, Table 3)
THEIR_L2: dict[str, object] = {"optimizer": "adam", "weight_decay": 0.01}  # the MA run's penalty, alone
THEIR_MA_RUN: dict[str, object] = THEIR_L2 | GROKFAST_MA_SETTING
THEIR_EMA_RUN: dict[str, object] = {"optimizer": "adam", "weight_decay": 0.005} | GROKFAST_EMA_SETTING
TRANSFORMER_CHANGES: dict[str, dict[str, object]] = {
    "AdamW (baseline)": {},
    "AdamW, wd 0.1": {"weight_decay": 0.1},
    "AdamW, lr ×3": {"lr": 3e-3},
    "AdamW, wd 0 (Grokfast's baseline)": {"weight_decay": 0.0},
    "Grokfast EMA, wd 0": {"weight_decay": 0.0} | GROKFAST_EMA_SETTING,
    "Grokfast MA, wd 0": {"weight_decay": 0.0} | GROKFAST_MA_SETTING,
    "Grokfast EMA": GROKFAST_EMA_SETTING,
    "⊥AdamW, wd 0": {"ortho_grad": True, "weight_decay": 0.0},
    "StableMax, wd 0": {"output": "stablemax", "weight_decay": 0.0},
    "dropout 0.1": {"dropout": 0.1},
    "weight noise 0.01": {"weight_noise": 0.01},
    "decay to init": {"decay_to": "init"},
    "full batch": {"batch_size": None},
    "float64": {"dtype": "float64"},
    "TrueGrad AdamW": {"optimizer": "truegrad"},
    "Adam, L2 0.01": THEIR_L2,
    "Grokfast MA, Adam L2 0.01 (their run)": THEIR_MA_RUN,
    "Grokfast EMA, Adam L2 0.005 (their run)": THEIR_EMA_RUN,
}


def transformer_arms() -> dict[str, list[TrainConfig]]:
    """Each arm of ``leaderboard_transformer``, one config per seed; the baseline first."""
    return {name: grid(TRANSFORMER_BASE.replace(**change), seed=SEEDS) for name, change in TRANSFORMER_CHANGES.items()}


@register("leaderboard_transformer", "09_numerics",
          "Grokfast's task (x·y mod 97, 50%, 2-layer transformer, minibatches of 512), seeds 0-4: 18 arms "
          "(weight decays, tuned lr, Grokfast EMA/MA, their published runs, ⊥AdamW, StableMax, dropout, noise, "
          "decay to init, full batch, float64, TrueGrad), 15k steps. A GPU job.")
def _leaderboard_transformer() -> list[TrainConfig]:
    return [c for cs in transformer_arms().values() for c in cs]


# ---- the first source notebook's SGD transformer --------------------------------------------------------

SGD_TRANSFORMER = TrainConfig(op="mul", p=97, train_frac=0.4, model="transformer", n_layers=2, d_model=128,
                              n_heads=4, d_mlp=512, layernorm=True, optimizer="sgd", lr=0.1, weight_decay=1e-3,
                              batch_size=512, warmup_steps=0, steps=20_000, log_every=100, early_stop=False)


@register("sgd_transformer", "09_numerics",
          "The source notebook's run: a 2-layer LayerNorm transformer, SGD lr 0.1, L2 1e-3, minibatches of 512, "
          "40% of a·b mod 97, 20k steps, 3 seeds. A GPU job.")
def _sgd_transformer() -> list[TrainConfig]:
    return grid(SGD_TRANSFORMER, seed=range(3))


# ---- TrueGrad on chapter 4's cell --------------------------------------------------------------------------
# Beside the leaderboards' TrueGrad arms: chapter 4's small task (a+b mod 31, 60%, sum MLP of width 64, lr 1e-2,
# wd 1), the same five splits and seeds as chapter 4's AdamW runs of that cell (stored in `ch4_phase`).

def truegrad_arms() -> dict[str, list[TrainConfig]]:
    """AdamW (chapter 4's stored runs) and TrueGrad AdamW on chapter 4's wd-1, 60% cell, seeds 0-4."""
    cell = CH4_BASE.replace(**CH4_SPREAD)
    return {"AdamW (baseline)": grid(cell, seed=SEEDS), "TrueGrad AdamW": grid(cell.replace(optimizer="truegrad"),
                                                                               seed=SEEDS)}


@register("truegrad_small", "09_numerics",
          "TrueGrad AdamW on chapter 4's cell (a+b mod 31, 60%, sum MLP 64, lr 1e-2, wd 1), seeds 0-4, beside "
          "chapter 4's AdamW runs of the same cell.")
def _truegrad_small() -> list[TrainConfig]:
    return [c for cs in truegrad_arms().values() for c in cs]


# ---- Grokfast's task scaled to a CPU ----------------------------------------------------------------------
# Their architecture and optimiser (2-layer transformer of width 128 with LayerNorm, AdamW lr 1e-3, betas
# (0.9, 0.98), their code's default of no weight decay) on x·y mod 31 instead of 97, half the pairs, and
# minibatches of 64 (about the same share of the 480 training pairs as their 512 of 4,704): plain AdamW at their
# rate and at 3 times it (≈ 1 + λ), and their EMA and MA filters at their defaults. 6k steps, 5 seeds.
# Their published filter runs (``THEIR_MA_RUN``, ``THEIR_EMA_RUN``) add an L2 penalty their baseline lacks:
# those two runs, and that penalty without a filter at their rate and at 3 times it.
GROKFAST_SMALL = TRANSFORMER_BASE.replace(p=31, weight_decay=0.0, batch_size=64, steps=6000)
GROKFAST_SMALL_CHANGES: dict[str, dict[str, object]] = {
    "AdamW (their baseline)": {}, "AdamW, lr ×3": {"lr": 3e-3},
    "Grokfast EMA": GROKFAST_EMA_SETTING, "Grokfast MA": GROKFAST_MA_SETTING,
    "Adam, L2 0.01": THEIR_L2,
    "Adam, L2 0.01, lr ×3": THEIR_L2 | {"lr": 3e-3},
    "Grokfast MA, Adam L2 0.01 (their run)": THEIR_MA_RUN, "Grokfast EMA, Adam L2 0.005 (their run)": THEIR_EMA_RUN,
}


def grokfast_small_arms() -> dict[str, list[TrainConfig]]:
    """Each arm of ``grokfast_transformer_small``, one config per seed."""
    return {name: grid(GROKFAST_SMALL.replace(**change), seed=SEEDS) for name, change in GROKFAST_SMALL_CHANGES.items()}


@register("grokfast_transformer_small", "09_numerics",
          "Grokfast's task scaled to a CPU: 2-layer transformer, x·y mod 31, 50%, minibatches of 64, AdamW lr 1e-3 "
          "wd 0: AdamW at lr x1 and x3, Grokfast EMA and MA; their published runs (Adam with L2 0.01 and MA, "
          "0.005 and EMA) and Adam with L2 0.01 alone at lr x1 and x3; 5 seeds, 6k steps.")
def _grokfast_transformer_small() -> list[TrainConfig]:
    return [c for cs in grokfast_small_arms().values() for c in cs]
