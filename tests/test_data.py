"""Splits, label noise and token layouts (the config's own checks are in test_config.py)."""

from __future__ import annotations

import pytest
import torch

from grok_lib.task.data import make_task, noisy_labels, split_indices, tokens


@pytest.mark.parametrize("n, frac", [(529, 0.3), (2209, 0.4), (100, 0.5), (10, 0.01), (10, 0.99)])
def test_split_sizes_disjoint_and_covering(n, frac):
    tr, va = split_indices(n, frac, seed=3)
    assert len(tr) == min(max(round(frac * n), 1), n - 1)
    assert len(tr) + len(va) == n
    assert not set(tr.tolist()) & set(va.tolist())
    assert sorted(tr.tolist() + va.tolist()) == list(range(n))


def test_split_deterministic_per_seed():
    a = split_indices(500, 0.3, seed=1)
    b = split_indices(500, 0.3, seed=1)
    c = split_indices(500, 0.3, seed=2)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])


@pytest.mark.parametrize("frac", [0.0, 1.0, -0.1, 1.5])
def test_split_rejects_fraction_outside_unit_interval(frac):
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        split_indices(100, frac, seed=0)


@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.25, 0.5])
def test_label_noise_changes_exactly_k_labels_to_other_classes(fraction):
    labels = torch.randint(0, 23, (301,), generator=torch.Generator().manual_seed(5))
    noisy = noisy_labels(labels, 23, fraction, seed=4)
    changed = noisy != labels
    assert int(changed.sum()) == round(fraction * len(labels))
    assert int(noisy.min()) >= 0 and int(noisy.max()) < 23
    assert torch.equal(noisy, noisy_labels(labels, 23, fraction, seed=4))
    assert torch.equal(labels, labels.clone())  # input untouched


def test_label_noise_uses_several_wrong_classes():
    labels = torch.zeros(1000, dtype=torch.long)
    noisy = noisy_labels(labels, 11, 0.5, seed=0)
    assert set(noisy[noisy != 0].tolist()) == set(range(1, 11))


def test_make_task_noise_only_on_training_labels():
    task = make_task("add", 23, 0.5, seed=1, label_noise=0.2)
    n_train = len(task.train_idx)
    true = task.labels[task.train_idx]
    assert int((task.train_labels != true).sum()) == round(0.2 * n_train)
    assert torch.equal(task.labels, (task.a + task.b) % 23)


def test_token_layouts():
    a, b = torch.tensor([0, 3, 6]), torch.tensor([5, 1, 0])
    assert tokens(a, b, 7, "mlp").tolist() == [[0, 5], [3, 1], [6, 0]]
    assert tokens(a, b, 7, "transformer").tolist() == [[0, 7, 5, 8], [3, 7, 1, 8], [6, 7, 0, 8]]
    with pytest.raises(ValueError, match="'mlp' or 'transformer'"):
        tokens(a, b, 7, "rnn")


@pytest.mark.parametrize("layout, width, vocab", [("mlp", 2, 11), ("transformer", 4, 13)])
def test_task_layout_and_operands(layout, width, vocab):
    task = make_task("sub", 11, 0.3, seed=0, layout=layout)
    assert task.inputs.shape == (121, width)
    assert task.vocab_size == vocab
    assert torch.equal(task.labels, (task.a - task.b) % 11)
    mask = task.is_train_mask()
    assert int(mask.sum()) == round(0.3 * 121) and bool(mask[task.train_idx].all())


def test_task_split_follows_seed():
    t1, t2 = make_task("add", 23, 0.3, seed=0), make_task("add", 23, 0.3, seed=1)
    assert not torch.equal(t1.train_idx, t2.train_idx)
    assert torch.equal(t1.train_idx, make_task("add", 23, 0.3, seed=0).train_idx)


def test_degenerate_splits_and_noise_are_refused():
    with pytest.raises(ValueError, match="at least 2"):
        split_indices(1, 0.5, seed=0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        noisy_labels(torch.zeros(5, dtype=torch.long), 3, 1.5, seed=0)
