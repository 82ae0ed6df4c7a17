"""Liu et al.'s (2022) toy model of grokking: learning a + b (not mod anything) for a, b in 0..p-1.

Each number k has a trainable embedding E_k (``d_embed`` numbers, 1 as in their function); a decoder reads E_a + E_b and
must output a fixed random vector Y_{a+b} (one per sum 0..2p-2, compared by MSE, predicted by the
nearest Y). The data are the p(p+1)/2 unordered pairs a ≤ b; the network trains on a random subset.
Settings follow the authors' ``train_add`` (``grokking-squared`` repository): p = 10, 45 of the 55
pairs, full batch, a 2-hidden-layer tanh decoder of width 200, 30-dimensional targets, embeddings
drawn uniformly from [-1/2, 1/2], AdamW with learning rate 1e-3 on the embedding and 1e-4 on the
decoder, no weight decay. The RQI (`representation.rqi`) of the embedding is logged with the
accuracies: a network that generalises has arranged its embeddings on a line.

Our trainer cannot express this model (MSE onto random target vectors, two learning rates, tanh,
unordered pairs of a non-modular sum), so it is a few lines of plain PyTorch here, seeded by one
generator. Their code samples with NumPy; ours draws the same kinds of numbers from torch, so a seed
here is not a seed there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from .representation import rqi


@dataclass
class ToyRun:
    """What `train_toy` logged: ``step``, ``train_loss``, ``val_loss``, ``train_acc``, ``val_acc``
    and ``rqi`` columns (at step 0, then after the update of each logged step), and the embedding at
    each of them."""

    history: dict[str, list[float]] = field(default_factory=dict)
    embeddings: list[Tensor] = field(default_factory=list)  # [p, d] at each logged step
    n_train: int = 0
    n_val: int = 0
    reachable: float = 1.0  # share of validation pairs whose sum some training pair has: the most a line gets right


def _decoder(d_in: int, width: int, d_out: int) -> nn.Module:
    return nn.Sequential(nn.Linear(d_in, width), nn.Tanh(), nn.Linear(width, width), nn.Tanh(),
                         nn.Linear(width, d_out))


def _accuracy(out: Tensor, targets: Tensor, sums: Tensor) -> float:
    """The share of outputs whose nearest target vector is their own sum's."""
    return float((torch.cdist(out, targets).argmin(-1) == sums).double().mean())


def train_toy(p: int = 10, d_embed: int = 1, n_train: int = 45, steps: int = 5000, seed: int = 0,
              lr_embed: float = 1e-3, lr_decoder: float = 1e-4, weight_decay_embed: float = 0.0,
              weight_decay_decoder: float = 0.0, width: int = 200, d_out: int = 30,
              log_every: int = 10) -> ToyRun:
    """Train the toy on ``n_train`` of the p(p+1)/2 pairs (full batch) and log every ``log_every`` steps."""
    gen = torch.Generator().manual_seed(seed)
    a, b = torch.triu_indices(p, p)  # unordered pairs a ≤ b
    sums = a + b
    order = torch.randperm(len(a), generator=gen)
    tr, va = order[:n_train], order[n_train:]
    targets = torch.randn(2 * p - 1, d_out, generator=gen)
    embed = nn.Parameter(torch.rand(p, d_embed, generator=gen) - 0.5)
    with torch.random.fork_rng(devices=[]):  # PyTorch's default layer initialisation, seeded, leaving the global RNG be
        torch.manual_seed(seed)
        decoder = _decoder(d_embed, width, d_out)
    opt = torch.optim.AdamW([{"params": [embed], "lr": lr_embed, "weight_decay": weight_decay_embed},
                             {"params": list(decoder.parameters()), "lr": lr_decoder,
                              "weight_decay": weight_decay_decoder}])  # two groups: two AdamWs in one
    reachable = float(torch.isin(sums[va], sums[tr]).double().mean()) if len(va) else 1.0
    out = ToyRun({k: [] for k in ("step", "train_loss", "val_loss", "train_acc", "val_acc", "rqi")}, [],
                 len(tr), len(va), reachable)
    a_tr, b_tr, y_tr = a[tr], b[tr], targets[sums[tr]]
    _log(out, 0, embed.detach().clone(), decoder, targets, (a, b, sums), (tr, va))
    for step in range(1, steps + 1):
        loss = (decoder(embed[a_tr] + embed[b_tr]) - y_tr).square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % log_every == 0 or step == steps:
            _log(out, step, embed.detach().clone(), decoder, targets, (a, b, sums), (tr, va))
    return out


@torch.no_grad()
def _log(out: ToyRun, step: int, e: Tensor, decoder: nn.Module, targets: Tensor, table: tuple[Tensor, Tensor, Tensor],
         split: tuple[Tensor, Tensor]) -> None:
    """Append one row: losses and accuracies on both sides of the split, and the embedding's RQI."""
    (a, b, sums), (tr, va) = table, split
    pred = decoder(e[a] + e[b])
    err = (pred - targets[sums]).square().mean(-1)
    row = {"step": step, "train_loss": float(err[tr].mean()), "val_loss": float(err[va].mean()),
           "train_acc": _accuracy(pred[tr], targets, sums[tr]), "val_acc": _accuracy(pred[va], targets, sums[va]),
           "rqi": rqi(e)}
    for k, v in row.items():
        out.history[k].append(v)
    out.embeddings.append(e)
