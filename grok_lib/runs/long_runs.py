"""Experiments too long for a CPU session, trained once (on a GPU, or at length on a CPU) and stored.

Each is registered like those of `experiments` and regenerates the same way
(``python -m grok_lib regenerate NAME``, on a CPU too, only slower: ``python -m grok_lib list``
says how long the stored runs took, and on which device). On a GPU, ``--backend processes`` trains
their stacks side by side.
"""

from __future__ import annotations

from grok_lib.training.config import TrainConfig

from .experiments import CANONICAL_MLP, register
from .runner import grid

# Nanda et al. (2023): a+b mod 113, 30% of pairs, 1 layer, d_model 128, 4 heads, d_mlp 512, ReLU,
# no LayerNorm, full-batch AdamW lr 1e-3, wd 1, betas (0.9, 0.98), 10 warm-up steps. Trained past
# generalisation (no early stop) so the clean-up phase is there too, with float16 checkpoints
# for the chapter that takes it apart. One difference: our input has an operator token too.
CANONICAL_TRANSFORMER = TrainConfig(op="add", p=113, train_frac=0.3, model="transformer", lr=1e-3,
                                    weight_decay=1.0, steps=12_000, early_stop=False, save_model=True,
                                    checkpoint_every=500)
SPREAD_SEEDS = (1, 2)  # more seeds of the same, histories only, stopped 500 steps after generalising


@register("canonical_transformer", "02_first_run",
          "Nanda et al.'s transformer, a+b mod 113, 30% train, 12k full-batch AdamW steps with float16 checkpoints "
          "every 500.")
def _canonical_transformer() -> list[TrainConfig]:
    return [CANONICAL_TRANSFORMER]


@register("canonical_transformer_seeds", "02_first_run",
          "The canonical transformer with seeds 1 and 2, to generalisation (histories only).")
def _canonical_transformer_seeds() -> list[TrainConfig]:
    return [CANONICAL_TRANSFORMER.replace(seed=s, save_model=False, checkpoint_every=0, early_stop=True)
            for s in SPREAD_SEEDS]


# The course's MLP on a symmetric split: (a, b) and (b, a) on the same side, so a summed-embedding
# model gets no held-out cell for free and validation accuracy starts at chance. It memorises at
# once and then takes orders of magnitude longer to generalise: the course's long-delay run
# (Power et al.'s first figure shows such a delay). Five seeds to a 20k budget (trained on a GPU),
# and the fastest of them (seed 2) again to 40k, far enough to generalise.
SYMMETRIC_MLP = CANONICAL_MLP.replace(split="symmetric")
SYMMETRIC_LONG = SYMMETRIC_MLP.replace(seed=2, steps=40_000)


@register("symmetric_mlp", "02_first_run",
          "The canonical MLP (a+b mod 97, 30%) on a symmetric split, 5 seeds, 20k-step budget.")
def _symmetric_mlp() -> list[TrainConfig]:
    return [SYMMETRIC_MLP.replace(seed=s) for s in range(5)]


@register("symmetric_long", "02_first_run",
          "Seed 2 of symmetric_mlp with a 40k-step budget, to generalisation.")
def _symmetric_long() -> list[TrainConfig]:
    return [SYMMETRIC_LONG]


# The summed MLP kept through training with checkpoints, for the chapter on what it learns.
MECHANISM_MLP = CANONICAL_MLP.replace(steps=15_000, early_stop=False, save_model=True, checkpoint_every=250)


@register("mechanism_mlp", "07_inside",
          "The canonical MLP trained 15k steps past generalisation, with float16 checkpoints every 250 steps.")
def _mechanism_mlp() -> list[TrainConfig]:
    return [MECHANISM_MLP]


# Chapter 5 at the course's canonical setting: does "concat never groks" depend on Adam's beta2?
BETA2S = (0.98, 0.99, 0.999)
BETA2_BASE = CANONICAL_MLP.replace(steps=50_000)
BLOG = BETA2_BASE.replace(p=53, n_hidden=2)  # the blog post's own table and depth


@register("ch5_beta2", "05_sum_vs_concat",
          "Sum vs concat at a+b mod 97 (1 and 2 hidden layers) and the blog's p=53 (2 hidden), "
          "Adam beta2 0.98/0.99/0.999, 3 seeds, 50k-step budget.")
def _ch5_beta2() -> list[TrainConfig]:
    betas = [(0.9, b2) for b2 in BETA2S]
    canonical = grid(BETA2_BASE, n_hidden=(1, 2), merge=("sum", "concat"), betas=betas, seed=range(3))
    return canonical + grid(BLOG, merge=("sum", "concat"), betas=betas, seed=range(3))
