"""Gromov's (2023) analytic solution of modular addition, and the check that training finds it.

The network (`grok_lib.models.quadratic.QuadraticMLP`) is ``logits = (W_in x)² W_out`` on the
concatenated one-hot x of (a, b). Gromov writes its weights down: neuron k gets a frequency σ_k
and random phases φ¹_k, φ²_k, and

    W_in[a, k]     = cos(2πσ_k a/p + φ¹_k),      W_in[p + b, k] = cos(2πσ_k b/p + φ²_k),
    W_out[k, q]    = cos(-2πσ_k q/p - φ¹_k - φ²_k).

Squaring the sum of the two inputs gives 2cos(θa + φ¹)cos(θb + φ²) = cos(θ(a+b) + φ¹ + φ²) + ...;
W_out turns the first term into cos(θ(a+b-q))/2, largest at q = a + b, and summed over many
neurons the other terms, with random phases, average out. So accuracy depends on the width:
`smallest_perfect_width` measures where it reaches 100%.

Here σ_k cycles through the chosen frequencies (all of 1..(p-1)/2 by default) and the phases are
uniform; Gromov also draws the frequencies at random. `phase_relation` reads a trained network's
neurons: each should carry a single frequency, the same in a, b and the output, with
φ_out = φ¹ + φ² (mod 2π), writing the output weights as cos(2πσq/p + φ_out).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from grok_lib.models import MLP, StackedModule
from grok_lib.models.quadratic import QuadraticMLP
from grok_lib.task.data import make_task

from .fourier import fourier_basis


def analytic_network(p: int, width: int, frequencies: Sequence[int] | None = None, seed: int = 0) -> QuadraticMLP:
    """Gromov's network with its weights written down: neuron k has frequency ``frequencies[k % len]``
    (default: every frequency 1..(p-1)/2 in turn) and uniformly random phases."""
    freqs = list(range(1, (p - 1) // 2 + 1) if frequencies is None else frequencies)
    gen = torch.Generator().manual_seed(seed)
    sigma = torch.tensor([freqs[k % len(freqs)] for k in range(width)], dtype=torch.float64)
    phi_a, phi_b = (torch.rand(width, generator=gen, dtype=torch.float64) * 2 * math.pi for _ in range(2))
    x = torch.arange(p, dtype=torch.float64)[:, None]
    theta = 2 * math.pi * sigma / p
    net = QuadraticMLP(p, width).double()
    with torch.no_grad():
        net.W_in[0] = torch.cat([torch.cos(theta * x + phi_a), torch.cos(theta * x + phi_b)])
        net.W_out[0] = torch.cos(-theta * x - phi_a - phi_b).T
    return net


def accuracy_on_table(model: StackedModule, p: int) -> float:
    """The fraction of all p² sums a + b (mod p) the model gets right."""
    task = make_task("add", p, 0.5, 0)
    with torch.no_grad():
        return (model(task.inputs).argmax(-1) == task.labels).double().mean().item()


def accuracy_by_width(p: int, widths: Sequence[int], seeds: Sequence[int] = (0, 1, 2),
                      frequencies: Sequence[int] | None = None) -> dict[int, list[float]]:
    """The analytic network's accuracy at each width, one value per seed (phases)."""
    return {w: [accuracy_on_table(analytic_network(p, w, frequencies, s), p) for s in seeds] for w in widths}


def smallest_perfect_width(p: int, widths: Sequence[int], seeds: Sequence[int] = (0, 1, 2),
                           frequencies: Sequence[int] | None = None) -> int | None:
    """The smallest of ``widths`` (sorted) from which on every seed is 100% accurate at every larger one tried."""
    acc = accuracy_by_width(p, sorted(widths), seeds, frequencies)
    perfect = [w for w in sorted(widths) if all(a == 1.0 for a in acc[w])]
    good_from = [w for w in perfect if all(w2 in perfect for w2 in acc if w2 >= w)]
    return good_from[0] if good_from else None


def first_layer_tables(model: StackedModule) -> tuple[Tensor, Tensor, Tensor]:
    """(U_a [n, neuron], U_b [n, neuron], W_out [neuron, n]): what element a (and b) adds to each
    neuron's input, and each neuron's output weights, for the quadratic network or a concat MLP."""
    if isinstance(model, QuadraticMLP):
        n = model.n
        return model.W_in[0, :n].detach(), model.W_in[0, n:].detach(), model.W_out[0].detach()
    if isinstance(model, MLP) and model.merge == "concat":
        d = model.W_E.shape[-1]
        emb = model.W_E[0].detach()
        return emb @ model.W_in[0, :d].detach(), emb @ model.W_in[0, d:].detach(), model.W_out[0].detach()
    raise TypeError("phase_relation reads a network whose two operands enter through separate weights")


def single_frequency(table: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """For each column of ``table`` [n, column]: its dominant frequency, the fraction of its non-constant
    power there, and its phase φ, writing the column as A cos(2πkx/n + φ)."""
    n = table.shape[0]
    coef = fourier_basis(n) @ table.double()  # [component, column]
    cos, sin = coef[1 : 2 * ((n - 1) // 2) + 1 : 2], coef[2 : 2 * ((n - 1) // 2) + 1 : 2]
    power = cos.square() + sin.square()  # [frequency 1.., column]
    best = power.argmax(0)
    frac = power.gather(0, best[None])[0] / coef[1:].square().sum(0).clamp_min(1e-300)
    cols = torch.arange(table.shape[1])
    # A cos(θx + φ) = A cos φ cos θx - A sin φ sin θx
    phase = torch.atan2(-sin[best, cols], cos[best, cols])
    return best + 1, frac, phase


@dataclass
class PhaseRelation:
    """Per neuron: its frequency in a, b and the output, how purely single-frequency each is (the
    smallest of the three fractions), its three phases, and its size |u_a| |u_b| |w_out| (how much it
    can move the logits: weight decay shrinks the neurons a network does not use)."""

    freq_a: Tensor
    freq_b: Tensor
    freq_out: Tensor
    purity: Tensor
    phase_a: Tensor
    phase_b: Tensor
    phase_out: Tensor
    size: Tensor

    @property
    def phase_error(self) -> Tensor:
        """φ_out - φ_a - φ_b wrapped to (-π, π]: 0 for Gromov's solution."""
        return torch.remainder(self.phase_out - self.phase_a - self.phase_b + math.pi, 2 * math.pi) - math.pi

    @property
    def same_frequency(self) -> Tensor:
        return (self.freq_a == self.freq_b) & (self.freq_b == self.freq_out)


def phase_relation(model: StackedModule) -> PhaseRelation:
    """Read each neuron's frequencies and phases (see the module docstring)."""
    u_a, u_b, w_out = first_layer_tables(model)
    (fa, pa, phi_a), (fb, pb, phi_b), (fo, po, phi_o) = (single_frequency(t) for t in (u_a, u_b, w_out.T))
    size = u_a.double().norm(dim=0) * u_b.double().norm(dim=0) * w_out.double().norm(dim=1)
    return PhaseRelation(fa, fb, fo, torch.minimum(torch.minimum(pa, pb), po), phi_a, phi_b, phi_o, size)


def main_neurons(relation: PhaseRelation, share: float = 0.9) -> Tensor:
    """The largest neurons that together hold ``share`` of the total size (a boolean mask)."""
    order = relation.size.argsort(descending=True)
    cum = relation.size[order].cumsum(0) / relation.size.sum()
    keep = torch.zeros_like(relation.size, dtype=torch.bool)
    keep[order[: int((cum < share).sum()) + 1]] = True
    return keep


@contextmanager
def one_thread() -> Iterator[None]:
    """Run the block on one CPU thread. The quadratic network's products are a few hundred rows by
    a hundred columns: too small for threads to pay off, and on a CPU shared with other work the
    threads' hand-offs made a training run 25 times slower (300 steps: 49 s on two threads, 2 s on one)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def train_quadratic(p: int, width: int, train_frac: float = 0.5, steps: int = 3000, lr: float = 3e-3,
                    weight_decay: float = 1.0, seed: int = 0) -> tuple[QuadraticMLP, dict[str, list[float]]]:
    """Train Gromov's network on a + b (mod p): full batch, AdamW, cross-entropy, on one CPU thread.

    A short loop of its own because the course's `TrainConfig` has no quadratic model; Gromov
    trains with the MSE loss (and also AdamW), we use the course's cross-entropy. Returns the
    model and its history (``step``, ``train_acc``, ``val_acc`` every 100 steps and at the end)."""
    with one_thread():
        return _train_quadratic(p, width, train_frac, steps, lr, weight_decay, seed)


def _train_quadratic(p: int, width: int, train_frac: float, steps: int, lr: float, weight_decay: float,
                     seed: int) -> tuple[QuadraticMLP, dict[str, list[float]]]:
    torch.manual_seed(seed)
    task = make_task("add", p, train_frac, seed)
    model = QuadraticMLP(p, width)
    model.reset_parameters([seed])
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay, betas=(0.9, 0.98))
    x_tr, y_tr = task.inputs[task.train_idx], task.train_labels
    hist: dict[str, list[float]] = {"step": [], "train_acc": [], "val_acc": []}
    for step in range(steps + 1):
        if step % 100 == 0 or step == steps:
            with torch.no_grad():
                pred = model(task.inputs).argmax(-1)
            hist["step"].append(step)
            hist["train_acc"].append((pred[task.train_idx] == task.labels[task.train_idx]).double().mean().item())
            hist["val_acc"].append((pred[task.val_idx] == task.labels[task.val_idx]).double().mean().item())
        if step == steps:
            break
        opt.zero_grad()
        F.cross_entropy(model(x_tr), y_tr).backward()
        opt.step()
    return model, hist
