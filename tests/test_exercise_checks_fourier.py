"""Exercise 7's checks (the Fourier basis, the power per frequency, the key frequencies, the restricted loss,
Gromov's weights and their accuracy) accept right answers and reject the typical wrong ones with a message that
names the mistake (the notebook: exercises/solutions/07_fourier.ipynb)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from check_slips import assert_names_the_slip

from grok_lib.analysis.mechanism import analytic_network, fourier_basis, frequency_power, progress_measures
from grok_lib.analysis.mechanism.analytic import accuracy_on_table
from grok_lib.analysis.mechanism.frequencies import fair_share_keys
from grok_lib.exercises import fourier, mechanism


def basis(n, shift=0, scale=None, negative_sin=False, blocks=False, constant=True, nyquist=True, dtype=torch.float64):
    """The basis written out; the keyword arguments plant the typical slips."""
    x = torch.arange(n, dtype=torch.float64)
    c, s = (1.0, 1.0) if scale == "none" else (1 / math.sqrt(n), math.sqrt(2 / n))
    ks = range(1 - shift, (n - 1) // 2 + 1 - shift)
    cos = [s * torch.cos(2 * math.pi * k * x / n) for k in ks]
    sin = [(-s if negative_sin else s) * torch.sin(2 * math.pi * k * x / n) for k in ks]
    rows = [torch.full((n,), c, dtype=torch.float64)] if constant else []
    rows += cos + sin if blocks else [r for pair in zip(cos, sin, strict=True) for r in pair]
    if n % 2 == 0 and nyquist:
        rows.append(torch.cos(math.pi * x) / math.sqrt(n))
    return torch.stack(rows).to(dtype)


def power_by_fft(table, normalise=True, sqrt=False, constant=True, per_feature=False, axis=0):
    """The power per frequency from torch.fft.rfft; the keyword arguments plant the typical slips."""
    n = table.shape[axis]
    power = torch.fft.rfft(table.double(), dim=axis).abs().square()
    if axis == 1:
        power = power.T
    if normalise:
        power = power * 2 / n
        power[0] /= 2
        if n % 2 == 0:
            power[-1] /= 2
    power = power if per_feature else power.sum(1)
    power = power.sqrt() if sqrt else power
    return power if constant else power[1:]


def keys(table, factor=3.0, with_constant=False, zero_based=False, fixed_factor=False, count_constant=False,
         descending=False):
    """The fair-share rule written out; the keyword arguments plant the typical slips."""
    power = frequency_power(table)
    total = power.sum() if with_constant else power[1:].sum()
    n_freq = len(power) if count_constant else len(power) - 1
    f = 3.0 if fixed_factor else factor
    found = [k - zero_based for k in range(1, len(power)) if power[k] / total >= f / n_freq]
    return found[::-1] if descending else found


def test_fourier_checks_accept_right_answers(capsys):
    fourier.check_fourier_basis(fourier_basis)
    fourier.check_fourier_basis(basis)
    fourier.check_frequency_power(frequency_power)
    fourier.check_frequency_power(power_by_fft)
    fourier.check_key_frequencies(lambda table, factor: fair_share_keys(frequency_power(table), factor))
    fourier.check_key_frequencies(keys)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 6 and all(line.startswith("✓") for line in out)


def test_key_cases_find_keys_and_none_and_depend_on_the_factor():
    found = [fair_share_keys(frequency_power(fourier._table(*case[:5])), case[5]) for case in fourier.KEY_CASES]
    assert [] in found and any(len(k) >= 3 for k in found)
    assert found[-2] and not found[-1]  # the same table: keys at factor 2, none at factor 3


BASIS_SLIPS = [
    ("unnormalised", lambda n: basis(n, scale="none"), "not normalised"),
    ("frequency off by one", lambda n: basis(n, shift=1), "off by one"),
    ("sin of the negative angle", lambda n: basis(n, negative_sin=True), "sin(−2πkx/n)"),
    ("all cos rows, then all sin rows", lambda n: basis(n, blocks=True), "then for each k"),
    ("no constant", lambda n: basis(n, constant=False), "constant row"),
    ("no frequency n/2 for even n", lambda n: basis(n, nyquist=False), "(−1)^x/√n"),
    ("float32", lambda n: basis(n, dtype=torch.float32), "float64"),
    ("transposed", lambda n: basis(n).T, "transposed"),
]


@pytest.mark.parametrize(("fn", "message"), [s[1:] for s in BASIS_SLIPS], ids=[s[0] for s in BASIS_SLIPS])
def test_basis_check_names_the_slip(fn, message, capsys):
    assert_names_the_slip(fourier.check_fourier_basis, fn, message, capsys)


def _shifted(table):
    power = frequency_power(table)
    return torch.cat([power[:1], power[2:], power[1:2]])  # frequency k stored at entry k - 1


POWER_SLIPS = [
    ("FFT along the features", lambda t: power_by_fft(t, axis=1), "ran along the features"),
    ("unnormalised FFT", lambda t: power_by_fft(t, normalise=False), "unnormalised FFT"),
    ("norms, not power", lambda t: power_by_fft(t, sqrt=True), "return their squares"),
    ("no constant entry", lambda t: power_by_fft(t, constant=False), "entry 0 must be the constant"),
    ("not summed over features", lambda t: power_by_fft(t, per_feature=True), "Add the features"),
    ("frequency off by one", _shifted, "entry k must hold frequency k"),
    ("float32", lambda t: frequency_power(t).float(), "float64"),
]


@pytest.mark.parametrize(("fn", "message"), [s[1:] for s in POWER_SLIPS], ids=[s[0] for s in POWER_SLIPS])
def test_power_check_names_the_slip(fn, message, capsys):
    assert_names_the_slip(fourier.check_frequency_power, fn, message, capsys)


KEY_SLIPS = [
    ("the constant dilutes the shares", dict(with_constant=True), "must not dilute"),
    ("counted from 0", dict(zero_based=True), "Off by one"),
    ("the factor ignored", dict(fixed_factor=True), "Use the factor argument"),
    ("the constant counted among the K frequencies", dict(count_constant=True), "not counting the constant"),
    ("not sorted", dict(descending=True), "increasing order"),
]


@pytest.mark.parametrize(("slip", "message"), [s[1:] for s in KEY_SLIPS], ids=[s[0] for s in KEY_SLIPS])
def test_key_check_names_the_slip(slip, message, capsys):
    assert_names_the_slip(fourier.check_key_frequencies,
                          lambda table, factor: keys(table, factor, **slip), message, capsys)


# --------------------------------------------------------------------------- the restricted loss and Gromov's network


def restricted(grid, task, keys, on="val", bias=True, sign=1, full=False, unit=True):
    """The restricted loss written out; the keyword arguments plant the typical slips."""
    p = grid.n
    x = torch.arange(p, dtype=torch.float64)
    s = x[:, None] + sign * x[None, :]
    kept = grid.neurons.mean((0, 1), keepdim=True).expand_as(grid.neurons)
    for k in keys:
        for wave in (torch.cos, torch.sin):
            d = wave(2 * math.pi * k * s / p)
            d = d / d.norm() if unit else d
            kept = kept + d[:, :, None] * (d[:, :, None] * grid.neurons).sum((0, 1))
    logits = grid.logits if full else kept @ grid.readout
    if bias and not full:
        logits = logits + (grid.logits - logits).mean((0, 1), keepdim=True)
    idx = {"val": task.val_idx, "train": task.train_idx, "all": torch.arange(p * p)}[on]
    return F.cross_entropy(logits[task.a[idx], task.b[idx]], task.labels[idx]).item()


def gromov(p, width, seed, shift=0, sign=1, same_phases=False, swap=False):
    """Gromov's weights written out; the keyword arguments plant the typical slips."""
    sigma = torch.tensor([k % ((p - 1) // 2) + 1 - shift for k in range(width)], dtype=torch.float64)
    gen = torch.Generator().manual_seed(seed)
    phi_a = 2 * math.pi * torch.rand(width, generator=gen, dtype=torch.float64)
    phi_b = phi_a if same_phases else 2 * math.pi * torch.rand(width, generator=gen, dtype=torch.float64)
    phi_a, phi_b = (phi_b, phi_a) if swap else (phi_a, phi_b)
    theta = 2 * math.pi * sigma / p
    x = torch.arange(p, dtype=torch.float64)[:, None]
    w_in = torch.cat([torch.cos(theta * x + phi_a), torch.cos(theta * x + phi_b)])
    return w_in, torch.cos(-sign * theta * x - phi_a - phi_b).T


def accuracy(w_in, w_out, b_rows=True, square=True, reduce=True, scale=1.0):
    """The network's accuracy written out; the keyword arguments plant the typical slips."""
    p = w_out.shape[1]
    a, b = torch.arange(p).repeat_interleave(p), torch.arange(p).repeat(p)
    pre = w_in[a] + w_in[(p if b_rows else 0) + b]
    logits = (pre.square() if square else pre.relu()) @ w_out
    answer = (a + b) % p if reduce else a + b
    return scale * (logits.argmax(1) == answer).double().mean().item()


def test_mechanism_checks_accept_right_answers(capsys):
    mechanism.check_restricted_loss(lambda grid, task, keys: progress_measures(grid, task, keys).restricted_loss)
    mechanism.check_restricted_loss(restricted)
    mechanism.check_gromov_weights(lambda p, w, s: tuple(t[0].detach() for t in (
        analytic_network(p, w, seed=s).W_in, analytic_network(p, w, seed=s).W_out)))
    mechanism.check_gromov_weights(gromov)
    mechanism.check_analytic_accuracy(lambda w_in, w_out: accuracy_on_table(mechanism._network(w_in, w_out),
                                                                            w_out.shape[1]))
    mechanism.check_analytic_accuracy(accuracy)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 6 and all(line.startswith("✓") for line in out)


def test_the_accuracy_cases_are_neither_all_right_nor_all_wrong():
    values = [accuracy(w_in, w_out) for _, w_in, w_out in mechanism.accuracy_cases()]
    assert min(values) < 0.5 and max(values) == 1.0


RESTRICTED_SLIPS = [
    ("on the training pairs", dict(on="train"), "on the training pairs"),
    ("on all pairs", dict(on="all"), "on all pairs"),
    ("no bias term", dict(bias=False), "bias term"),
    ("waves in a − b", dict(sign=-1), "waves in a − b"),
    ("the full logits", dict(full=True), "full model's loss"),
    ("directions not of unit norm", dict(unit=False), "unit norm"),
]


@pytest.mark.parametrize(("slip", "message"), [s[1:] for s in RESTRICTED_SLIPS], ids=[s[0] for s in RESTRICTED_SLIPS])
def test_restricted_loss_check_names_the_slip(slip, message, capsys):
    assert_names_the_slip(mechanism.check_restricted_loss,
                          lambda grid, task, keys: restricted(grid, task, keys, **slip), message, capsys)


GROMOV_SLIPS = [
    ("frequency off by one", dict(shift=1), "its frequency is 0"),
    ("sign of the output phase", dict(sign=-1), "wrong sign"),
    ("one phase for a and b", dict(same_phases=True), "b rows equal your a rows"),
    ("phases drawn in the other order", dict(swap=True), "first φ_a"),
]


@pytest.mark.parametrize(("slip", "message"), [s[1:] for s in GROMOV_SLIPS], ids=[s[0] for s in GROMOV_SLIPS])
def test_gromov_check_names_the_slip(slip, message, capsys):
    assert_names_the_slip(mechanism.check_gromov_weights, lambda p, w, s: gromov(p, w, s, **slip), message, capsys)


def test_gromov_check_names_a_transposed_readout():
    with pytest.raises(AssertionError, match=r"W_out should have shape \(2, 5\)"):
        mechanism.check_gromov_weights(lambda p, w, s: (gromov(p, w, s)[0], gromov(p, w, s)[1].T))


ACCURACY_SLIPS = [
    ("b read from the a rows", dict(b_rows=False), "from the a rows"),
    ("a percentage", dict(scale=100.0), "percentage"),
    ("ReLU instead of the square", dict(square=False), "pre² @ W_out"),
    ("answer not reduced mod p", dict(reduce=False), "(a + b) mod p"),
]


@pytest.mark.parametrize(("slip", "message"), [s[1:] for s in ACCURACY_SLIPS], ids=[s[0] for s in ACCURACY_SLIPS])
def test_accuracy_check_names_the_slip(slip, message, capsys):
    assert_names_the_slip(mechanism.check_analytic_accuracy,
                          lambda w_in, w_out: accuracy(w_in, w_out, **slip), message, capsys)
