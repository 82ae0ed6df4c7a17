"""Chapter 8's spectra kept beside stored runs (`analysis.why.sv_grid`, `Store.save_derived`)."""

import json
import math

import pytest
import torch

from grok_lib.analysis.why import entropy_rank, plane_frequency, singular_values, stable_rank, sv_grid
from grok_lib.runs import load_or_train
from grok_lib.runs.store import DamagedRunError
from grok_lib.runs.weight_norm_runs import SV_BASE
from grok_lib.training.config import TrainConfig

TINY = SV_BASE.replace(p=7, train_frac=0.5, d_model=16, d_mlp=32, steps=40, checkpoint_every=20, log_every=20)


def test_derived_results_round_trip_and_refuse_a_file_of_another_run(tmp_store):
    cfg = TrainConfig(p=7, steps=5)
    tmp_store.save_derived(cfg, "spectra", {"steps": [0, 5]})
    assert tmp_store.load_derived(cfg, "spectra") == {"steps": [0, 5]}
    with pytest.raises(FileNotFoundError):
        tmp_store.load_derived(cfg.replace(seed=1), "spectra")
    other = cfg.replace(seed=1)
    (tmp_store.root / "spectra" / f"{other.key()}.json").write_text(json.dumps({"key": cfg.key(), "spectra": {}}))
    with pytest.raises(DamagedRunError, match="not a stored spectra result"):
        tmp_store.load_derived(other, "spectra")
    with pytest.raises(ValueError, match="plain name"):
        tmp_store.save_derived(cfg, "../x", {})


def test_summarise_keeps_the_ranks_of_every_matrix_at_every_checkpoint(tmp_store):
    run = load_or_train(TINY, store=tmp_store, progress=False)
    assert sv_grid.summarise_stored([TINY, TINY.replace(seed=9)], store=tmp_store) == 1  # the unstored one skipped
    assert sv_grid.summarise_stored([TINY], store=tmp_store) == 0  # already kept
    spec = sv_grid.load_spectra(TINY, tmp_store)
    assert spec["steps"] == [0, 20, 40]
    sv = singular_values(run.model_at(20))
    for name, s in sv.items():
        assert spec["entropy_rank"][name][1] == pytest.approx(entropy_rank(s[0]).item(), rel=1e-3)
        assert spec["stable_rank"][name][1] == pytest.approx(stable_rank(s[0]).item(), rel=1e-3)
    assert set(spec["spectrum"]) == {"W_E", "W_U", "blocks.0.W_in", "blocks.0.W_out", "blocks.1.W_in",
                                     "blocks.1.W_out"}
    assert spec["spectrum_steps"] == [0, 40] and all(v[0][0] == 1.0 for v in spec["spectrum"].values())


def test_a_run_without_checkpoints_is_refused(tmp_store):
    cfg = TINY.replace(checkpoint_every=0)
    load_or_train(cfg, store=tmp_store, progress=False)
    with pytest.raises(ValueError, match="kept no checkpoints"):
        sv_grid.summarise_stored([cfg], store=tmp_store)


def test_plane_frequency_finds_a_ring_and_not_a_cloud():
    p, k = 31, 7
    x = torch.arange(p)
    ring = torch.stack([torch.cos(2 * torch.pi * k * x / p), torch.sin(2 * torch.pi * k * x / p)], 1)
    assert plane_frequency(3.0 * ring + 1.0) == (k, pytest.approx(1.0))
    assert plane_frequency(torch.randn(p, 2, generator=torch.Generator().manual_seed(0)))[1] < 0.5


def test_run_norms_is_each_runs_norm_over_all_tensors_and_takes_a_per_run_scalar():
    from grok_lib.models import run_norms

    a, b, c = torch.randn(3, 4, 5), torch.randn(3, 7), torch.randn(3)
    expected = [math.sqrt(a[r].square().sum() + b[r].square().sum() + c[r] ** 2) for r in range(3)]
    assert run_norms([a, b, c]).tolist() == pytest.approx(expected, rel=1e-6)
