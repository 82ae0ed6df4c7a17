"""Key frequencies, found from a trained model rather than taken from a paper.

Which frequencies a network uses depends on its seed (Nanda et al.'s transformer used
{14, 35, 41, 42, 52}; another seed picks others), so the chapters find them with one stated
rule, the *fair-share rule*:

    a frequency is key when it holds at least ``factor`` times its fair share (1/K of the
    total, K = n//2 frequencies) of a measure spread over the frequencies.

Two measures are offered: the embedding's squared norm per frequency (`key_frequencies` with
``source="embedding"``), and the count of neurons whose activation over the (a, b) grid is
dominated by the frequency (``source="neurons"``, Nanda et al.'s route; only neurons whose
dominant frequency explains at least half their variance are counted). A dense spectrum
(a network at initialisation, or one that has only memorised) gives every frequency about its
fair share, so nothing is key; a sparse one gives a few frequencies many times theirs. The
rule finds at most K/factor frequencies: a model that used more would look dense to it.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from grok_lib.models import StackedModule

from .fourier import dominant_frequencies, frequency_power
from .neurons import embedding, neuron_maps

FACTOR = 3.0  # times the fair share
WELL_EXPLAINED = 0.5  # a neuron counts for its dominant frequency when that explains this much of its variance


def fair_share_keys(per_frequency: Tensor, factor: float = FACTOR) -> list[int]:
    """Frequencies k (1..K) whose share of ``per_frequency[1:]`` is at least factor/K.

    ``per_frequency`` [K+1] has the constant at index 0, which is left out of the shares."""
    values = per_frequency[1:].to(torch.float64)
    total = values.sum()
    if total <= 0:
        return []
    share = values / total
    return [int(k) + 1 for k in torch.nonzero(share >= factor / len(values)).flatten()]


def neuron_frequency_counts(maps: Tensor, well_explained: float = WELL_EXPLAINED) -> Tensor:
    """How many neurons each frequency dominates [K+1] (index 0: neurons explained by none),
    counting a neuron only when its dominant frequency explains ``well_explained`` of its variance."""
    freq, frac = dominant_frequencies(maps)
    freq = torch.where(frac >= well_explained, freq, 0)
    return torch.bincount(freq, minlength=maps.shape[-1] // 2 + 1).to(torch.float64)


def key_frequencies(model: StackedModule, source: str = "embedding", factor: float = FACTOR) -> list[int]:
    """The model's key frequencies by the fair-share rule, from its embedding or its neurons."""
    if source == "embedding":
        return fair_share_keys(frequency_power(embedding(model)), factor)
    if source == "neurons":
        return fair_share_keys(neuron_frequency_counts(neuron_maps(model)), factor)
    raise ValueError(f"source={source!r}; use 'embedding' or 'neurons'")


def key_fraction(table: Tensor, keys: Sequence[int]) -> float:
    """The fraction of a table's non-constant squared norm that the frequencies ``keys`` carry
    (1.0 for a table built from those frequencies only; about len(keys)/K for a random one)."""
    power = frequency_power(table)[1:]
    total = power.sum()
    if total <= 0:
        return 0.0
    return float(power[[k - 1 for k in keys]].sum() / total)


def example_neurons(maps: Tensor, keys: Sequence[int], count: int = 3) -> list[int]:
    """Neurons worth drawing: for each key frequency in turn, the neuron it explains best among the
    busier half (by variance over the grid), until ``count``; then the busiest neurons left."""
    freq, frac = dominant_frequencies(maps)
    var = maps.flatten(1).double().var(1)
    busy = var >= var.median()
    chosen: list[int] = []
    for k in keys:
        mine = torch.nonzero(busy & (freq == k)).flatten()
        if len(mine) and len(chosen) < count:
            chosen.append(int(mine[frac[mine].argmax()]))
    for i in var.argsort(descending=True).tolist():
        if len(chosen) >= count:
            break
        if i not in chosen:
            chosen.append(i)
    return chosen
