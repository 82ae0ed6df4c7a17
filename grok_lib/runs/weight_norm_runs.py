"""The runs behind chapter 8 (why grokking takes so long): one question each.

- `why_seeds`: how widely do grokking times spread over seeds? (a lucky random walk would spread them widely)
- `why_lr_wd`: how does the time to generalise scale with lr x weight decay? (AdamW shrinks the weights
  by a factor (1 - lr·wd) a step, so a clock set by the norm would tick at rate lr·wd)
- `why_norm`: with weight decay off and the total weight norm held fixed (Omnigrok), does the delay
  depend on the norm?
- `why_ranks`: the canonical MLP's spectra over training at several weight decays and held norms: is the
  effective rank at generalisation the same in every run?
- `why_sv_grid` / `why_sv_grid_full`: the singular values of a 2-layer transformer's weights over training,
  on a grid in the spirit of one of the course's sources (training fraction x d_ff here; the source's
  training-set size x d_model x d_ff in full).

The MLP experiments are the canonical MLP of chapter 2 with one thing changed; all train in stacks in
seconds to minutes (on a GPU with ``--backend processes``). `why_ranks` and the transformer grid keep float16
checkpoints for their spectra: too large for the repository, so `grok_lib.analysis.why.sv_grid` reduces them
to the spectra the chapter plots (``results/spectra/``) and the checkpoints are not kept.
"""

from __future__ import annotations

from grok_lib.training.config import TrainConfig

from .experiments import CANONICAL_MLP, register
from .runner import grid

SEEDS = range(5)

# ---- the spread of grokking times over seeds -----------------------------------------------

MANY_SEEDS = range(30)


@register("why_seeds", "08_weight_norm", "The canonical MLP (a+b mod 97, 30%, AdamW lr 1e-3, wd 1) over 30 seeds.")
def _why_seeds() -> list[TrainConfig]:
    return [CANONICAL_MLP.replace(seed=s) for s in MANY_SEEDS]


# ---- time to generalise against lr x weight decay --------------------------------------------

LRS = (5e-4, 1e-3, 2e-3, 4e-3)
WEIGHT_DECAYS = (0.25, 0.5, 1.0, 2.0)
LR_WD_STEPS = 60_000  # the slowest cell (lr·wd = 1.25e-4, 8 times below the canonical 1e-3) needs ~8x its time


@register("why_lr_wd", "08_weight_norm",
          "The canonical MLP at 4 learning rates x 4 weight decays (lr·wd from 1.25e-4 to 8e-3) x 5 seeds.")
def _why_lr_wd() -> list[TrainConfig]:
    return grid(CANONICAL_MLP.replace(steps=LR_WD_STEPS), lr=LRS, weight_decay=WEIGHT_DECAYS, seed=SEEDS)


# ---- the norm held fixed ----------------------------------------------------------------------

# The canonical MLP starts at a total weight norm of about 112 and, under weight decay, generalises
# when it has shrunk to about 66 (chapter 2's run). Held norms from well below that to the initial one.
HELD_NORMS = (30.0, 45.0, 60.0, 80.0, 112.0)
NORM_STEPS = 20_000


@register("why_norm", "08_weight_norm",
          "The canonical MLP without weight decay, its total weight norm held at 30, 45, 60, 80 or 112 "
          "(the initial norm) after every step, and free, x 5 seeds.")
def _why_norm() -> list[TrainConfig]:
    free = CANONICAL_MLP.replace(weight_decay=0.0, steps=NORM_STEPS)
    return grid(free, norm_constraint=HELD_NORMS, seed=SEEDS) + grid(free, seed=SEEDS)


# ---- singular values over training ------------------------------------------------------------

# The canonical MLP with checkpoints (reduced to spectra, `grok_lib.analysis.why.sv_grid`): four weight
# decays at lr 1e-3 (generalising 4x apart in time), the norm held at 60 and 80 without weight decay, and
# free without weight decay (never generalises). Is the effective rank at generalisation the same in all?
RANK_RUNS_EVERY = 250


@register("why_ranks", "08_weight_norm",
          "The canonical MLP (seed 0) at wd 0.25/0.5/1/2, held at norm 60/80 without wd, and free without wd, "
          "with checkpoints every 250 steps reduced to spectra.")
def _why_ranks() -> list[TrainConfig]:
    base = CANONICAL_MLP.replace(steps=NORM_STEPS, checkpoint_every=RANK_RUNS_EVERY)
    return ([base.replace(weight_decay=wd) for wd in WEIGHT_DECAYS]
            + [base.replace(weight_decay=0.0, norm_constraint=n) for n in (60.0, 80.0)]
            + [base.replace(weight_decay=0.0)])


# The source's grid (its notebook, 1.5 days on one GPU): a+b mod 97, 800, 900, ..., 2,000 training pairs
# x d_model 64/128/256 x d_ff 256/512/1,024/2,048, a 2-layer decoder with pre-LayerNorm and dropout 0.1,
# 15,000 full-batch steps of Adam (L2 penalty 1e-2, not AdamW) at lr 3e-4, betas (0.9, 0.98), no warm-up.
# Ours differs in the model's details: learned positional embeddings (theirs sinusoidal), an operator
# token, no cross-attention to a zero memory.
SV_BASE = TrainConfig(op="add", p=97, model="transformer", n_layers=2, n_heads=4, layernorm=True, dropout=0.1,
                      optimizer="adam", lr=3e-4, weight_decay=1e-2, betas=(0.9, 0.98), warmup_steps=0,
                      steps=15_000, early_stop=False, checkpoint_every=500)
PAIRS = 97 * 97
SV_FULL_TRAIN = tuple(range(800, 2001, 100))
SV_FULL_D_MODEL = (64, 128, 256)
SV_FULL_D_FF = (256, 512, 1024, 2048)
# What fits this course's 2-core CPU (41 minutes, shared with other work): the source's recipe and model at
# p = 31, where a full-batch step is cheap, over training fractions and MLP widths, to 6,000 steps (the runs
# that generalise do so by then; the source's 15,000 steps at p = 97 take hours a run here).
SV_P = 31
SV_FRACS = (0.3, 0.5, 0.7)
SV_D_FF = (256, 1024)
SV_STEPS = 6_000


def sv_config(n_train: int, d_model: int, d_ff: int, seed: int = 0) -> TrainConfig:
    """One cell of the source's grid: ``n_train`` training pairs of the 9,409, the widths of the residual
    stream and of the MLP."""
    return SV_BASE.replace(train_frac=n_train / PAIRS, d_model=d_model, d_mlp=d_ff, seed=seed)


@register("why_sv_grid", "08_weight_norm",
          "The source's 2-layer transformer and full-batch Adam (lr 3e-4, L2 1e-2) on a+b mod 31: 30/50/70% "
          "training data x d_ff 256/1,024 (d_model 64), 6k steps, spectra every 250 steps.")
def _why_sv_grid() -> list[TrainConfig]:
    return [SV_BASE.replace(p=SV_P, train_frac=f, d_model=64, d_mlp=d_ff, steps=SV_STEPS, checkpoint_every=250)
            for f in SV_FRACS for d_ff in SV_D_FF]


@register("why_sv_grid_full", "08_weight_norm",
          "The source's full grid of 156 runs (800, 900, ..., 2,000 pairs x d_model 64/128/256 x d_ff "
          "256-2,048): a GPU or a cluster job, not stored.")
def _why_sv_grid_full() -> list[TrainConfig]:
    return [sv_config(n, d, f) for n in SV_FULL_TRAIN for d in SV_FULL_D_MODEL for f in SV_FULL_D_FF]
