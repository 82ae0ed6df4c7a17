"""The plain PyTorch loop that the benchmarks time grok_lib against.

This is how a reader would write the canonical experiment from scratch: ``nn.Embedding``
and ``nn.Linear`` modules, ``torch.optim.AdamW``, full-batch steps, the mean cross-entropy,
and the validation set evaluated every 100 steps. It uses the same task, split, model
function and hyper-parameters as grok_lib, and starts from the very weights grok_lib
initialises for the same seed (`copy_initial_weights`), so both follow the same
trajectory up to float rounding and generalise after about the same number of steps: the
benchmarks then compare the cost of the same training, step for step.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from grok_lib import TrainConfig
from grok_lib.models import StackedModule
from grok_lib.task.data import make_task
from grok_lib.training.build import build_model


class ReferenceMLP(nn.Module):
    """Embed both operands, sum the embeddings, one hidden ReLU layer, class logits."""

    def __init__(self, p: int, d_embed: int, d_hidden: int):
        super().__init__()
        self.embed = nn.Embedding(p, d_embed)
        self.hidden = nn.Linear(d_embed, d_hidden)
        self.out = nn.Linear(d_hidden, p)

    def forward(self, x: Tensor) -> Tensor:
        e = self.embed(x[:, 0]) + self.embed(x[:, 1])
        return self.out(F.relu(self.hidden(e)))


class ReferenceTransformer(nn.Module):
    """One-layer decoder (no LayerNorm, ReLU MLP), reading ``a op b =``; logits at ``=``."""

    def __init__(self, n_vocab: int, n_classes: int, d_model: int, n_heads: int, d_mlp: int):
        super().__init__()
        self.embed = nn.Embedding(n_vocab, d_model)
        self.pos = nn.Parameter(torch.empty(4, d_model))
        self.attn = nn.MultiheadAttention(d_model, n_heads, bias=False, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(d_model, d_mlp), nn.ReLU(), nn.Linear(d_mlp, d_model))
        self.unembed = nn.Linear(d_model, n_classes, bias=False)
        self.register_buffer("mask", torch.triu(torch.ones(4, 4, dtype=torch.bool), 1), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        h = self.embed(x) + self.pos
        h = h + self.attn(h, h, h, attn_mask=self.mask, need_weights=False)[0]
        h = h + self.mlp(h)
        return self.unembed(h[:, -1])


def reference_model(cfg: TrainConfig, n_vocab: int, n_classes: int) -> nn.Module:
    """The reference network for ``cfg.model`` (the canonical hyper-parameters only),
    holding the weights grok_lib initialises for ``cfg.seed``."""
    if cfg.model == "mlp":
        model: nn.Module = ReferenceMLP(n_classes, cfg.d_embed, cfg.d_hidden)
    else:
        model = ReferenceTransformer(n_vocab, n_classes, cfg.d_model, cfg.n_heads, cfg.d_mlp)
    copy_initial_weights(model, build_model(cfg, n_vocab, n_classes))
    return model


@torch.no_grad()
def copy_initial_weights(ref: nn.Module, ours: StackedModule) -> None:
    """Load grok_lib's one-run weights into the reference modules (``nn.Linear`` stores W
    transposed; ``nn.MultiheadAttention`` stacks the heads' Q, K, V into one matrix)."""
    w = {k: v[0] for k, v in ours.state_dict().items()}  # drop the runs dimension
    if isinstance(ref, ReferenceMLP):
        new = {"embed.weight": w["W_E"], "hidden.weight": w["W_in"].T, "hidden.bias": w["b_in"][0],
               "out.weight": w["W_out"].T, "out.bias": w["b_out"][0]}
    else:
        heads = lambda m: m.permute(1, 0, 2).flatten(1).T  # [h, d, dh] -> [h*dh, d]  # noqa: E731
        b = "blocks.0."
        new = {"embed.weight": w["W_E"], "pos": w["W_pos"],
               "attn.in_proj_weight": torch.cat([heads(w[b + n]) for n in ("W_Q", "W_K", "W_V")]),
               "attn.out_proj.weight": w[b + "W_O"].flatten(0, 1).T,
               "mlp.0.weight": w[b + "W_in"].T, "mlp.0.bias": w[b + "b_in"].flatten(),
               "mlp.2.weight": w[b + "W_out"].T, "mlp.2.bias": w[b + "b_out"].flatten(),
               "unembed.weight": w["W_U"].T}
    ref.load_state_dict(new)


def train_reference(cfg: TrainConfig, device: str = "cpu", eval_every: int = 100) -> dict[str, int | None]:
    """Train full-batch until validation accuracy reaches 99% (or ``cfg.steps``).

    Returns the step at which 99% was first seen on an evaluation (``None`` if never)
    and the number of steps taken.
    """
    task = make_task(cfg.op, cfg.p, cfg.train_frac, cfg.split_seed, layout=cfg.model, device=device)
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
