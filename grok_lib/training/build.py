"""From a config to a model: the one place that reads a `TrainConfig`'s model fields (and its initial scale)."""

from __future__ import annotations

import torch

from grok_lib.models import MLP, StackedModule, Transformer
from grok_lib.models.pixel_mlp import DeepPixelMLP
from grok_lib.task.data import vocab_size
from grok_lib.task.digits import N_CLASSES
from grok_lib.task.operations import get_operation

from .config import TrainConfig

DIGIT_PIXELS = 64  # the digits are 8x8 images


def model_kwargs(cfg: TrainConfig) -> dict[str, object]:
    """The architecture fields of ``cfg`` that the config's model class takes."""
    if cfg.task == "digits":
        return dict(d_hidden=cfg.d_hidden, n_hidden=cfg.n_hidden, act=cfg.act, dropout=cfg.dropout)
    if cfg.model == "mlp":
        return dict(d_embed=cfg.d_embed, d_hidden=cfg.d_hidden, n_hidden=cfg.n_hidden, merge=cfg.merge, act=cfg.act,
                    dropout=cfg.dropout)
    return dict(d_model=cfg.d_model, n_heads=cfg.n_heads, d_mlp=cfg.d_mlp, n_layers=cfg.n_layers, act=cfg.act,
                layernorm=cfg.layernorm, dropout=cfg.dropout)


def build_model(cfg: TrainConfig, n_vocab: int | None = None, n_classes: int | None = None,
                seeds: list[int] | None = None, init_scales: list[float] | None = None) -> StackedModule:
    """The model a config names, initialised from ``seeds`` (default: the config's seed), run r's
    parameters all multiplied by ``init_scales[r]`` (default: the config's ``init_scale``).

    The vocabulary and class count default to the config's task; a digits config (``task="digits"``)
    builds a `DeepPixelMLP` over the 64 pixels and ignores them."""
    seeds = [cfg.seed] if seeds is None else seeds
    if cfg.task == "digits":
        model = DeepPixelMLP(DIGIT_PIXELS, N_CLASSES, **model_kwargs(cfg), n_runs=len(seeds))
        return _initialised(model, cfg, seeds, init_scales)
    if n_classes is None:
        n_classes = get_operation(cfg.op).n_elements(cfg.p)
    if n_vocab is None:
        n_vocab = vocab_size(n_classes, cfg.model)
    cls = MLP if cfg.model == "mlp" else Transformer
    return _initialised(cls(n_vocab, n_classes, **model_kwargs(cfg), n_runs=len(seeds)), cfg, seeds, init_scales)


def _initialised(model: StackedModule, cfg: TrainConfig, seeds: list[int],
                 init_scales: list[float] | None) -> StackedModule:
    """``model`` initialised from ``seeds``, in the config's precision, each run scaled by its initial scale."""
    model.reset_parameters(seeds)
    model = model.to(getattr(torch, cfg.dtype))
    scale_init(model, [cfg.init_scale] * len(seeds) if init_scales is None else init_scales)
    return model


@torch.no_grad()
def scale_init(model: StackedModule, scales: list[float]) -> None:
    """Multiply every parameter of run r by ``scales[r]``, in the model's precision: Omnigrok's large
    initialisation (Liu et al. 2023) when above 1. All ones (the default) leaves the model untouched."""
    if len(scales) != model.n_runs:
        raise ValueError(f"need {model.n_runs} initial scales, got {len(scales)}")
    if all(s == 1.0 for s in scales):
        return
    for p in model.parameters():
        p.mul_(torch.tensor(scales, dtype=p.dtype, device=p.device).view(-1, *[1] * (p.dim() - 1)))


def count_parameters(cfg: TrainConfig) -> int:
    """How many weights one run of ``cfg``'s model has (a stack of N runs holds N times as many)."""
    return sum(p.numel() for p in build_model(cfg).parameters())
