"""Chapter 8's digits runs: Omnigrok's large initialisation on a non-algorithmic task.

Liu, Michaud & Tegmark (2023) made an MLP on 1,000 MNIST images generalise long after it had memorised them,
by multiplying every initial parameter by alpha = 8 and training with MSE. Their notebook (``mnist/grokking``
of the authors' repository): three ``nn.Linear`` layers of width 200 (two hidden layers), ReLU, MSE against
one-hot targets, AdamW lr 1e-3, weight decay 0.01, PyTorch's betas (0.9, 0.999) and no warm-up, batch 200
(a fifth of the training set), 100,000 steps, float64.

Here on scikit-learn's 8x8 digits (`task.digits`): the same network over 64 pixels, 200 training images
(``train_frac=0.2`` of the 1,000-image pool, so a quarter of it per batch of 50), graded on the fixed
500-image test set. Two changes, each to fit a CPU budget: float32, and weight decay 0.1 rather than 0.01.
AdamW shrinks the weights by ``lr * wd`` per step, so at their 0.01 an 8-fold large initialisation needs of the
order of ``ln 8 / 1e-5`` = 200,000 steps to come back down; at 0.1 a tenth of that. alpha = 1 and 8, five seeds
each, 20,000 steps, no early stop (the test accuracy of these runs stays below 99%).
"""

from __future__ import annotations

from grok_lib.training.config import TrainConfig

from .experiments import register

OMNIGROK_ALPHAS = (1.0, 8.0)
DIGITS_SEEDS = tuple(range(5))
DIGITS_MLP = TrainConfig(task="digits", loss="mse", train_frac=0.2, d_hidden=200, n_hidden=2, act="relu",
                         optimizer="adamw", lr=1e-3, weight_decay=0.1, betas=(0.9, 0.999), warmup_steps=0,
                         batch_size=50, steps=20_000, early_stop=False, log_every=100)


@register("why_digits", "08_weight_norm",
          "Omnigrok's large initialisation on the 8x8 digits: MLP 64-200-200-10, MSE, 200 training images, "
          "AdamW lr 1e-3 wd 0.1, batch 50, alpha 1 and 8, 5 seeds, 20k steps.")
def _why_digits() -> list[TrainConfig]:
    return [DIGITS_MLP.replace(init_scale=alpha, seed=s) for alpha in OMNIGROK_ALPHAS for s in DIGITS_SEEDS]
