"""The runs behind chapter 9 (numerics and optimisers): softmax collapse, StableMax and ⊥AdamW, Grokfast, loss spikes.

Registered like those of `experiments` (``python -m grok_lib regenerate NAME``), all trained on a CPU (the
leaderboard's runs are in `leaderboard_runs`):

- ``prieto_mlp``: Prieto et al. (2025)'s headline, AdamW against ⊥AdamW and StableMax without weight decay,
  on their setting and on the course's canonical MLP;
- ``softmax_collapse``: one AdamW run of that setting with checkpoints, and its float64 twin, for
  `grok_lib.analysis.numerics.collapse`;
- ``grokfast_mlp``: Grokfast's EMA filter on the canonical MLP against plain AdamW at 0.5, 1, 2 and 4 times
  its learning rate (the filter makes each step about 1 + λ times longer, so the fair baseline is a tuned one);
- ``loss_spikes``: long runs without weight decay and without early stop, logged densely, to count
  the loss spikes (Thilak et al.'s slingshot), with Adam's epsilon at PyTorch's default and raised; their
  checkpoints show softmax collapse at the spikes;
- ``long_spikes``: the same task for 10^5 steps with the diagnostics columns (`grok_lib.training.diagnostics`),
  Adam's epsilon 1e-8 and 1e-4 in float32 and 1e-8 in float64; ``spike_seeds``: seeds 1-4 of those arms.
"""

from __future__ import annotations

from grok_lib.training.config import TrainConfig

from .experiments import CANONICAL_MLP, register
from .runner import grid

NUMERICS_SEEDS = range(5)

# Prieto et al.'s MLP setting, from their paper and their code's defaults (arXiv:2501.04697, their
# repository's `utils.py` and `run_main_experiments.sh`, figure 6's MLP runs): a+b mod 113, 40% of the
# pairs, full batch, two hidden ReLU layers of 200, AdamW lr 5e-3, betas (0.9, 0.99), Adam epsilon 1e-25,
# no weight decay, no warm-up, 500 steps. Their input is the two one-hot vectors side by side times a
# bias-free linear map; ours is the concat MLP (two embeddings side by side, width 128 >= 113, so the map
# from the one-hot pair to the first layer is as free as theirs), with biases and our initialisation.
PRIETO_MLP = TrainConfig(op="add", p=113, train_frac=0.4, model="mlp", merge="concat", d_embed=128, d_hidden=200,
                         n_hidden=2, lr=5e-3, weight_decay=0.0, betas=(0.9, 0.99), adam_eps=1e-25, warmup_steps=0,
                         steps=500, log_every=10, patience=0)
# the course's canonical MLP without weight decay (its other settings as they are); a 2,000-step budget
CANONICAL_NO_WD = CANONICAL_MLP.replace(weight_decay=0.0, steps=2000, log_every=50, patience=0)
# what each arm changes: plain AdamW, ⊥AdamW (⊥Grad before AdamW), StableMax in place of softmax
NUMERICS_ARMS: dict[str, dict[str, object]] = {"AdamW": {}, "⊥AdamW": {"ortho_grad": True},
                                                "StableMax": {"output": "stablemax"}}
# seed 0 of the AdamW arm, kept with checkpoints (float16, every 100 steps) and its final weights
COLLAPSE_RUN = PRIETO_MLP.replace(checkpoint_every=100, save_model=True)
COLLAPSE_FLOAT64 = COLLAPSE_RUN.replace(dtype="float64")


def arm(base: TrainConfig, name: str) -> TrainConfig:
    """``base`` with the changes of the arm called ``name`` (a key of `NUMERICS_ARMS`)."""
    if name not in NUMERICS_ARMS:
        raise ValueError(f"unknown arm {name!r}; choose one of {list(NUMERICS_ARMS)}")
    return base.replace(**NUMERICS_ARMS[name])


def prieto_configs(base: TrainConfig) -> dict[str, list[TrainConfig]]:
    """Each arm's configs on ``base``, one per seed; on Prieto et al.'s setting, seed 0 of AdamW keeps
    checkpoints (it is `COLLAPSE_RUN`)."""
    out = {name: [arm(base, name).replace(seed=s) for s in NUMERICS_SEEDS] for name in NUMERICS_ARMS}
    if base == PRIETO_MLP:
        out["AdamW"][0] = COLLAPSE_RUN
    return out


@register("prieto_mlp", "09_numerics",
          "Prieto et al.'s MLP (a+b mod 113, 40%, no weight decay, 500 full-batch steps) and the canonical MLP "
          "at wd 0 (2k steps): AdamW, ⊥AdamW and StableMax, 5 seeds each.")
def _prieto_mlp() -> list[TrainConfig]:
    return [c for base in (PRIETO_MLP, CANONICAL_NO_WD) for cs in prieto_configs(base).values() for c in cs]


@register("softmax_collapse", "09_numerics",
          "Seed 0 of prieto_mlp's AdamW arm with checkpoints every 100 steps, and the same run in float64.")
def _softmax_collapse() -> list[TrainConfig]:
    return [COLLAPSE_RUN, COLLAPSE_FLOAT64]


# Grokfast (Lee et al. 2024, arXiv:2405.20233): the EMA filter with the setting their README gives for
# algorithmic data, alpha 0.98 and lambda 2, on the canonical MLP at its own lr 1e-3, against plain AdamW
# at 0.5, 1, 2 and 4 times that rate. The baselines are the weight-decay-1 cells of chapter 8's lr x wd
# grid (the same configs, so the same stored runs: `why_lr_wd` in `weight_norm_runs`), logged and stopped
# as the canonical MLP is (every 100 steps; 500 steps held at 99%); the filtered arm is logged the same way.
GROKFAST_BASE = CANONICAL_MLP.replace(steps=60_000)
GROKFAST_EMA = GROKFAST_BASE.replace(grokfast="ema", grokfast_alpha=0.98, grokfast_lamb=2.0)
GROKFAST_LR_FACTORS = (0.5, 1, 2, 4)


def grokfast_arms() -> dict[str, list[TrainConfig]]:
    """The arms of ``grokfast_mlp``: 'AdamW lr xk' for each factor, and 'Grokfast EMA', one config per seed."""
    arms = {f"AdamW lr x{k:g}": grid(GROKFAST_BASE.replace(lr=GROKFAST_BASE.lr * k), seed=NUMERICS_SEEDS)
            for k in GROKFAST_LR_FACTORS}
    return arms | {"Grokfast EMA": grid(GROKFAST_EMA, seed=NUMERICS_SEEDS)}


@register("grokfast_mlp", "09_numerics",
          "Canonical MLP: Grokfast EMA (alpha 0.98, lambda 2) against AdamW at lr x0.5, x1, x2, x4, 5 seeds each.")
def _grokfast_mlp() -> list[TrainConfig]:
    return [c for cs in grokfast_arms().values() for c in cs]


# Long runs for loss spikes. The canonical MLP costs ~9 ms a step on the course's 2-core CPU (15 min per
# 100k steps), so these use chapters 4-6's small task (a+b mod 31, widths 64, lr 1e-2, 2-5 ms a step) at
# half the pairs, without weight decay: it memorises, never generalises, and its loss spikes every ~1,300
# steps. 20k steps without early stop (a CPU budget; 10^5 steps belong on a GPU), logged every 20 steps,
# with float16 checkpoints every 1,000 steps (16 kB each) for `grok_lib.analysis.numerics.collapse`.
SPIKE_RUN = TrainConfig(op="add", p=31, train_frac=0.5, model="mlp", merge="sum", d_embed=64, d_hidden=64, lr=1e-2,
                        weight_decay=0.0, steps=20_000, early_stop=False, log_every=20, checkpoint_every=1000)
SPIKE_EPS = (1e-8, 1e-4)


@register("loss_spikes", "09_numerics",
          "a+b mod 31, 50%, wd 0, 20k steps without early stop, logged every 20: Adam epsilon 1e-8 and 1e-4.")
def _loss_spikes() -> list[TrainConfig]:
    return [SPIKE_RUN.replace(adam_eps=e) for e in SPIKE_EPS]


# The long runs of the chapter: 10^5 steps of the same task (1.4 ms a step here), with the diagnostics
# columns (the last layer's norm, the update, Adam's state there, the fraction of exactly-zero losses) logged
# every 25 steps, float16 checkpoints every 5,000 steps; Adam's epsilon at PyTorch's default and raised, and
# the default in float64.
LONG_SPIKE_RUN = SPIKE_RUN.replace(steps=100_000, log_every=25, checkpoint_every=5000, diagnostics=True)
LONG_SPIKE_ARMS = {"float32, eps 1e-8": LONG_SPIKE_RUN, "float32, eps 1e-4": LONG_SPIKE_RUN.replace(adam_eps=1e-4),
                   "float64, eps 1e-8": LONG_SPIKE_RUN.replace(dtype="float64")}


@register("long_spikes", "09_numerics",
          "a+b mod 31, 50%, wd 0, 10^5 steps, with the last layer's norm, the update, Adam's state and the "
          "exactly-zero losses logged every 25: eps 1e-8 and 1e-4 in float32, eps 1e-8 in float64.")
def _long_spikes() -> list[TrainConfig]:
    return list(LONG_SPIKE_ARMS.values())


# Seeds 1-4 of the three long arms, for 20k steps (every spike of seed 0 came before step 12k): does each
# arm spike, or not, over seeds too?
SPIKE_SEEDS = range(1, 5)
SPIKE_SEED_STEPS = 20_000


def spike_seed_arms() -> dict[str, list[TrainConfig]]:
    """Each arm of `LONG_SPIKE_ARMS` with seeds 1-4, 20k steps, no checkpoints."""
    return {name: [c.replace(seed=s, steps=SPIKE_SEED_STEPS, checkpoint_every=0) for s in SPIKE_SEEDS]
            for name, c in LONG_SPIKE_ARMS.items()}


@register("spike_seeds", "09_numerics", "Seeds 1-4 of long_spikes' three arms, 20k steps each.")
def _spike_seeds() -> list[TrainConfig]:
    return [c for cs in spike_seed_arms().values() for c in cs]
