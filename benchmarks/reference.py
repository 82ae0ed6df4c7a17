"""The plain PyTorch loop that the benchmarks time grok_lib against.

This is how a reader would write the canonical experiment from scratch: the one-run models
of `grok_lib.models.plain` (``nn.Embedding`` and ``nn.Linear`` modules), ``torch.optim.AdamW``,
full-batch steps, the mean cross-entropy, and the validation set evaluated every 100 steps.
It uses the same task, split, model function and hyper-parameters as grok_lib, and starts
from the very weights grok_lib initialises for the same seed (`reference_model`), so both
follow the same trajectory up to float rounding and generalise after about the same number
of steps: the benchmarks then compare the cost of the same training, step for step.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from grok_lib import TrainConfig
from grok_lib.models import PlainMLP, PlainTransformer
from grok_lib.task.data import make_task
from grok_lib.training.build import build_model


def reference_model(cfg: TrainConfig, n_vocab: int, n_classes: int) -> nn.Module:
    """The plain one-run network for ``cfg``, holding the weights grok_lib initialises for
    ``cfg.seed`` (copied from grok_lib's stacked model by ``from_stacked``)."""
    plain = PlainMLP if cfg.model == "mlp" else PlainTransformer
    return plain.from_stacked(build_model(cfg, n_vocab, n_classes), r=0)


def train_reference(cfg: TrainConfig, device: str = "cpu", eval_every: int = 100) -> dict[str, int | None]:
    """Train full-batch until validation accuracy reaches 99% (or ``cfg.steps``).

    Returns the step at which 99% was first seen on an evaluation (``None`` if never)
    and the number of steps taken.
    """
    task = make_task(cfg.op, cfg.p, cfg.train_frac, cfg.split_seed, layout=cfg.model, device=device, split=cfg.split)
    model = reference_model(cfg, task.vocab_size, task.n_classes).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=cfg.betas)
    warmup = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / cfg.warmup_steps, 1.0))
    x_train, y_train = task.inputs[task.train_idx], task.train_labels
    x_val, y_val = task.inputs[task.val_idx], task.labels[task.val_idx]
    generalised_at = None
    step = 0
    for step in range(cfg.steps + 1):
        if step % eval_every == 0:
            with torch.no_grad():
                val_acc = (model(x_val).argmax(-1) == y_val).float().mean().item()
            if val_acc >= 0.99:
                generalised_at = step
                break
        if step == cfg.steps:
            break
        loss = F.cross_entropy(model(x_train), y_train)
        opt.zero_grad()
        loss.backward()
        opt.step()
        warmup.step()
    return {"generalised_at": generalised_at, "steps": step}
