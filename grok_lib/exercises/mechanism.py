"""Checks for exercise 7, parts 4 to 6 (chapter 7, inside the network): Nanda et al.'s restricted loss, and Gromov's
written-down network for a + b (mod p), its weights and its accuracy.

The references are the library's own: ``progress_measures(...).restricted_loss`` and ``grid_loss`` in
`grok_lib.analysis.mechanism.progress`, ``analytic_network`` and ``accuracy_on_table`` in
`grok_lib.analysis.mechanism.analytic`. The restricted loss is checked on small synthetic grids whose neurons carry
planted waves in a + b (with an output bias, so that the bias term matters), the weights and the accuracy on
analytic networks of several widths and on random weights. A mismatch raises an ``AssertionError`` that says what
differs first (the pairs measured on, a neuron's frequency or phase, the sign of the output phase); success prints
one short line starting with ✓. CPU only, well under a second.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from grok_lib.analysis.mechanism.analytic import accuracy_on_table, analytic_network, single_frequency
from grok_lib.analysis.mechanism.neurons import Grid
from grok_lib.analysis.mechanism.progress import grid_loss, progress_measures, restricted_logits
from grok_lib.models.quadratic import QuadraticMLP
from grok_lib.task.data import Task, make_task

from .answers import fail, fn_name


def _number(x: object, call: str) -> float:
    if isinstance(x, Tensor):
        if x.numel() != 1:
            fail(f"{call} should return one number, but it returned a tensor of shape {tuple(x.shape)}.")
        x = x.item()
    if not isinstance(x, (int, float)) or not math.isfinite(x):
        fail(f"{call} should return a finite float, got {x!r}.")
    return float(x)


def synthetic_grid(p: int, width: int, keys: Sequence[int], seed: int) -> Grid:
    """Neurons [a, b, neuron]: noise plus waves cos/sin(2πk(a+b)/p) of ``keys``; a random readout; logits with a
    large output bias, as a trained MLP's are."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.arange(p, dtype=torch.float64)
    s = x[:, None] + x[None, :]
    neurons = torch.randn(p, p, width, generator=gen, dtype=torch.float64)
    for k in keys:
        amp = torch.randn(2, width, generator=gen, dtype=torch.float64)
        angle = 2 * math.pi * k * s[:, :, None] / p
        neurons = neurons + 3 * (amp[0] * torch.cos(angle) + amp[1] * torch.sin(angle))
    readout = torch.randn(width, p, generator=gen, dtype=torch.float64)
    bias = 5 * torch.randn(p, generator=gen, dtype=torch.float64)
    return Grid(neurons @ readout + bias, neurons, readout)


# (p, width, planted frequencies, keys asked for, train fraction, seed)
RESTRICTED_CASES = ((7, 5, (3,), (), 0.6, 3), (11, 6, (2,), (2,), 0.5, 0), (13, 8, (1, 4), (1, 4), 0.3, 1),
                    (13, 8, (1, 4), (4,), 0.3, 2), (17, 10, (2, 5, 8), (2, 5, 8), 0.4, 4))


def check_restricted_loss(fn: Callable[[Grid, Task, Sequence[int]], object]) -> None:
    """``fn(grid, task, keys)`` should return the restricted loss of a model's grid on a + b (mod p): cross-entropy on
    the held-out pairs of the logits kept along the constant and the keys' cos/sin(2πk(a+b)/p), with the bias term,
    like ``progress_measures(grid, task, keys).restricted_loss``."""
    for p, width, planted, keys, frac, seed in RESTRICTED_CASES:
        grid, task = synthetic_grid(p, width, planted, seed), make_task("add", p, frac, seed)
        kept = (grid.logits.clone(), grid.neurons.clone(), grid.readout.clone())
        call = (f"{fn_name(fn)}(grid, task, keys={list(keys)}) on a + b (mod {p}), {width} neurons, waves of "
                f"frequencies {list(planted)} planted, {frac:.0%} of pairs for training")
        got = _number(fn(grid, task, list(keys)), call)
        if not all(torch.equal(x, y) for x, y in zip((grid.logits, grid.neurons, grid.readout), kept, strict=True)):
            fail(f"{call} changed the grid it was given; work on copies.")
        want = progress_measures(grid, task, keys).restricted_loss
        if abs(got - want) <= 1e-6 * max(1.0, abs(want)):
            continue
        at = f"{call}: expected {want:.6g}, got {got:.6g}"
        other = {"train": progress_measures(grid, task, keys, restricted_on="train").restricted_loss,
                 "all": progress_measures(grid, task, keys, restricted_on="all").restricted_loss}
        if abs(got - other["train"]) <= 1e-6 * max(1.0, abs(want)):
            fail(f"{at}. That is the restricted loss on the training pairs; measure it on the held-out pairs "
                 "(task.val_idx), where it shows whether the key frequencies alone would generalise.")
        if abs(got - other["all"]) <= 1e-6 * max(1.0, abs(want)):
            fail(f"{at}. That is the restricted loss on all pairs; measure it on the held-out pairs (task.val_idx).")
        if abs(got - grid_loss(grid.logits, task, "val")) <= 1e-6 * max(1.0, abs(want)):
            fail(f"{at}. That is the full model's loss on the held-out pairs: project the neurons first, keeping only "
                 "their mean and their parts along cos and sin of 2πk(a+b)/p for the keys.")
        if abs(got - grid_loss(restricted_logits(grid, keys, sign=-1), task, "val")) <= 1e-6 * max(1.0, abs(want)):
            fail(f"{at}. Your directions are waves in a − b; the algorithm for a + b uses cos and sin of 2πk(a+b)/p.")
        if not keys:
            fail(f"{at}. With no key frequencies the neurons keep only their mean over the grid, and the restricted "
                 "logits are the full logits' mean over the grid: did you add the bias term, the grid mean of the "
                 "full logits minus that of the restricted ones?")
        fail(f"{at}. Check each step: the directions cos and sin of 2πk(a+b)/p over the p×p grid, each of unit norm; "
             "each neuron's map projected onto them, plus its mean; times the readout; plus the bias term (grid mean "
             "of the full logits minus that of these); cross-entropy on the held-out pairs with their true labels.")
    print(f"✓ restricted loss matches on {len(RESTRICTED_CASES)} synthetic grids (one, two, three or no keys)")


GROMOV_CASES = ((5, 2, 0), (7, 3, 1), (11, 12, 2), (31, 40, 3))


def _weights(result: object, p: int, width: int, call: str) -> tuple[Tensor, Tensor]:
    if not isinstance(result, (tuple, list)) or len(result) != 2 or not all(isinstance(t, Tensor) for t in result):
        fail(f"{call} should return a tuple of two tensors (W_in, W_out), got {type(result).__name__}.")
    w_in, w_out = result
    for name, t, shape in (("W_in", w_in, (2 * p, width)), ("W_out", w_out, (width, p))):
        if tuple(t.shape) != shape:
            rows = "one row per a, then one per b; one column per neuron" if name == "W_in" else (
                "one row per neuron, one column per answer q")
            fail(f"{call}: {name} should have shape {shape} ({rows}), got {tuple(t.shape)}.")
        if t.dtype != torch.float64:
            fail(f"{call}: {name} is {t.dtype}; build it in float64.")
    return w_in.detach(), w_out.detach()


def _wave_power(table: Tensor) -> Tensor:
    """Each column's squared norm outside the constant, [column]."""
    return table.double().sub(table.double().mean(0)).square().sum(0)


def _phase_gap(got: Tensor, want: Tensor) -> Tensor:
    return torch.remainder(got - want + math.pi, 2 * math.pi) - math.pi


def check_gromov_weights(fn: Callable[[int, int, int], object]) -> None:
    """``fn(p, width, seed)`` should return Gromov's weights (W_in [2p, width], W_out [width, p]) with frequencies
    cycling through 1..(p−1)/2 and phases drawn from the seed, like ``analytic_network(p, width, seed=seed)``."""
    for p, width, seed in GROMOV_CASES:
        call = f"{fn_name(fn)}({p}, {width}, seed={seed})"
        w_in, w_out = _weights(fn(p, width, seed), p, width, call)
        ref = analytic_network(p, width, seed=seed)
        ref_in, ref_out = ref.W_in[0].detach(), ref.W_out[0].detach()
        for part, got, want in (("a", w_in[:p], ref_in[:p]), ("b", w_in[p:], ref_in[p:]), ("out", w_out.T, ref_out.T)):
            if torch.allclose(got, want, atol=1e-9):
                continue
            (f_got, _, ph_got), (f_want, _, ph_want) = single_frequency(got), single_frequency(want)
            f_got = torch.where(_wave_power(got) > 1e-9, f_got, 0)  # a constant column has frequency 0
            k = int(((got - want).abs().max(0).values > 1e-9).nonzero()[0])
            rows = {"a": f"W_in[:{p}] (the a rows)", "b": f"W_in[{p}:] (the b rows)", "out": "W_out"}[part]
            at = f"{call}: neuron {k}'s weights in {rows} differ"
            if int(f_got[k]) != int(f_want[k]):
                fail(f"{at}: its frequency is {int(f_got[k])}, it should be σ = {int(f_want[k])}. Neuron k has "
                     f"frequency k % K + 1 with K = (p − 1) // 2 = {(p - 1) // 2}: 1, 2, ..., K, 1, 2, ...")
            if part == "out" and torch.allclose(_phase_gap(ph_got, -ph_want), torch.zeros_like(ph_got), atol=1e-6):
                fail(f"{at}: the phases have the wrong sign. W_out[k, q] = cos(−θq − φ_a − φ_b), which is "
                     "cos(θq + φ_a + φ_b); with cos(θq − φ_a − φ_b) the network's answer is −(a + b).")
            if part == "b" and torch.allclose(w_in[p:], w_in[:p], atol=1e-9):
                fail(f"{at}: your b rows equal your a rows. Each neuron has two phases, φ_a and φ_b, drawn one after "
                     "the other.")
            fail(f"{at}: its phase is {float(ph_got[k]):.4f}, it should be {float(ph_want[k]):.4f}. Draw, from "
                 "g = torch.Generator().manual_seed(seed), first φ_a = 2π·torch.rand(width, generator=g, "
                 "dtype=torch.float64), then φ_b the same way; the output phase is φ_a + φ_b.")
    print(f"✓ Gromov's weights match for (p, width, seed) in {list(GROMOV_CASES)}")


def _network(w_in: Tensor, w_out: Tensor) -> QuadraticMLP:
    p, width = w_out.shape[1], w_out.shape[0]
    net = QuadraticMLP(p, width).double()
    with torch.no_grad():
        net.W_in[0], net.W_out[0] = w_in, w_out
    return net


def accuracy_cases() -> list[tuple[str, Tensor, Tensor]]:
    """(description, W_in, W_out): analytic networks of several widths, and random weights."""
    cases = []
    for p, width, seed in ((7, 3, 0), (7, 30, 1), (23, 10, 0), (23, 200, 2)):
        net = analytic_network(p, width, seed=seed)
        cases.append((f"Gromov's network, p = {p}, width {width}", net.W_in[0].detach(), net.W_out[0].detach()))
    net = QuadraticMLP(11, 16).double()
    net.reset_parameters([5])
    cases.append(("random weights, p = 11, width 16", net.W_in[0].detach(), net.W_out[0].detach()))
    return cases


def check_analytic_accuracy(fn: Callable[[Tensor, Tensor], object]) -> None:
    """``fn(W_in, W_out)`` should return the share of all p² pairs (a, b) on which the quadratic network
    logits = (W_in[a] + W_in[p + b])² @ W_out puts its largest logit on (a + b) mod p, like ``accuracy_on_table``."""
    cases = accuracy_cases()
    for what, w_in, w_out in cases:
        call = f"{fn_name(fn)}(W_in, W_out) on {what}"
        got = _number(fn(w_in.clone(), w_out.clone()), call)
        p = w_out.shape[1]
        want = accuracy_on_table(_network(w_in, w_out), p)
        if abs(got - want) <= 1e-9:
            continue
        at = f"{call}: expected {want:.6g}, got {got:.6g}"
        if abs(got - 100 * want) <= 1e-6:
            fail(f"{at}. Return a fraction between 0 and 1, not a percentage.")
        if abs(got - accuracy_on_table(_network(torch.cat([w_in[:p], w_in[:p]]), w_out), p)) <= 1e-9:
            fail(f"{at}. You read b's weights from the a rows: b's row is W_in[p + b], after the {p} a rows.")
        fail(f"{at}. For every pair (a, b), all p² of them: pre = W_in[a] + W_in[p + b] (the b rows come after the "
             f"{p} a rows), logits = pre² @ W_out, and the answer is right when the largest logit is at (a + b) mod p.")
    print(f"✓ accuracy matches on {len(cases)} networks (analytic of four widths, random weights)")
