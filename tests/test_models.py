"""Model shapes, stacked runs, hooks, the transformer's fast path, the MLP's table trick, and the
plain one-run models computing the stacked models' function (the kernels: tests/test_kernels.py)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from grok_lib.models import PlainMLP, PlainTransformer
from grok_lib.task.data import make_task
from grok_lib.training.build import build_model
from grok_lib.training.config import TrainConfig

P = 11
SMALL = dict(p=P, d_embed=16, d_hidden=24, d_model=16, n_heads=2, d_mlp=32)


def _cfg(**kw) -> TrainConfig:
    return TrainConfig(**(SMALL | kw))


def _inputs(model_kind: str):
    task = make_task("add", P, 0.5, layout=model_kind)
    return task.inputs, task.vocab_size


@pytest.mark.parametrize(
    "kw", [dict(model="mlp", merge="sum"), dict(model="mlp", merge="concat"), dict(model="mlp", n_hidden=3),
           dict(model="transformer"), dict(model="transformer", n_layers=2, layernorm=True, act="gelu")],
)
def test_output_shapes(kw):
    cfg = _cfg(**kw)
    x, vocab = _inputs(cfg.model)
    model = build_model(cfg, vocab, P)
    assert model(x).shape == (P * P, P)
    stacked = build_model(cfg, vocab, P, seeds=[0, 1, 2])
    assert stacked(x.expand(3, *x.shape)).shape == (3, P * P, P)
    with pytest.raises(ValueError, match=r"\[N, batch, tokens\]"):
        stacked(x)


@pytest.mark.parametrize("kw", [dict(model="mlp"), dict(model="mlp", merge="concat", n_hidden=2),
                                dict(model="transformer", layernorm=True)])
def test_stacked_run_equals_single_model_with_its_seed(kw):
    cfg = _cfg(dtype="float64", **kw)
    x, vocab = _inputs(cfg.model)
    seeds = [4, 0, 9]
    stacked = build_model(cfg, vocab, P, seeds=seeds)
    out = stacked(x.expand(3, *x.shape))
    for r, seed in enumerate(seeds):
        single = build_model(cfg.replace(seed=seed), vocab, P)
        torch.testing.assert_close(out[r], single(x), rtol=1e-12, atol=1e-12)
    assert not torch.allclose(out[0], out[1])


def test_single_extracts_one_run():
    cfg = _cfg()
    x, vocab = _inputs("mlp")
    stacked = build_model(cfg, vocab, P, seeds=[3, 5])
    torch.testing.assert_close(stacked.single(1)(x), build_model(cfg.replace(seed=5), vocab, P)(x))


def test_single_keeps_dtype():
    stacked = build_model(_cfg(dtype="float64"), P, P, seeds=[0, 1])
    assert all(p.dtype == torch.float64 for p in stacked.single(0).parameters())


def test_seeds_are_reproducible_and_distinct():
    cfg = _cfg()
    x, vocab = _inputs("mlp")
    a, b, c = (build_model(cfg.replace(seed=s), vocab, P) for s in (1, 1, 2))
    assert torch.equal(a(x), b(x))
    assert not torch.equal(a(x), c(x))


def test_float64_parameters():
    model = build_model(_cfg(dtype="float64"), P, P)
    assert all(p.dtype == torch.float64 for p in model.parameters())


@pytest.mark.parametrize("kw", [dict(model="mlp", n_hidden=2), dict(model="transformer", n_layers=2)])
def test_run_with_cache_names_shapes_and_logits(kw):
    cfg = _cfg(**kw)
    x, vocab = _inputs(cfg.model)
    model = build_model(cfg, vocab, P)
    logits, cache = model.run_with_cache(x)
    assert set(cache) == set(model.hook_points())
    torch.testing.assert_close(logits, model(x))
    torch.testing.assert_close(cache["hook_logits"], logits)
    b = x.shape[0]
    if cfg.model == "mlp":
        assert cache["hook_pre"].shape == (b, cfg.d_hidden)
        assert cache["hidden.0.hook_pre"].shape == (b, cfg.d_hidden)
        torch.testing.assert_close(cache["hook_hidden"], F.relu(cache["hook_pre"]))
    else:
        h, dh, t = cfg.n_heads, cfg.d_model // cfg.n_heads, 4
        assert cache["hook_embed"].shape == (b, t, cfg.d_model)
        for layer in range(cfg.n_layers):
            pre = f"blocks.{layer}."
            assert cache[pre + "hook_q"].shape == (b, h, t, dh)
            assert cache[pre + "hook_pattern"].shape == (b, h, t, t)
            assert cache[pre + "hook_mlp_post"].shape == (b, t, cfg.d_mlp)
            assert cache[pre + "hook_resid_post"].shape == (b, t, cfg.d_model)
            pattern = cache[pre + "hook_pattern"]
            torch.testing.assert_close(pattern.sum(-1), torch.ones(b, h, t))
            assert bool((pattern.triu(1) == 0).all())  # causal: no position reads ahead


def test_transformer_fast_path_equals_all_positions():
    cfg = _cfg(model="transformer", n_layers=2, dtype="float64")
    x, vocab = _inputs("transformer")
    model = build_model(cfg, vocab, P)
    fast = model(x)
    _, cache = model.run_with_cache(x)
    resid = cache["blocks.1.hook_resid_post"]
    assert resid.shape[1] == 4  # the cache holds every position, not only the last
    torch.testing.assert_close(fast, resid[:, -1] @ model.W_U[0], rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(model(x, all_positions=True), fast, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("merge", ["sum", "concat"])
def test_mlp_table_trick_equals_explicit_merge(merge):
    cfg = _cfg(merge=merge, dtype="float64")
    x, vocab = _inputs("mlp")
    model = build_model(cfg, vocab, P)
    E, W_in, b_in = model.W_E[0], model.W_in[0], model.b_in[0]
    ea, eb = E[x[:, 0]], E[x[:, 1]]
    merged = ea + eb if merge == "sum" else torch.cat([ea, eb], dim=-1)
    explicit = torch.relu(merged @ W_in + b_in) @ model.W_out[0] + model.b_out[0]
    torch.testing.assert_close(model(x), explicit, rtol=1e-10, atol=1e-10)
    assert W_in.shape[0] == (cfg.d_embed if merge == "sum" else 2 * cfg.d_embed)


def test_gradients_reach_every_parameter():
    for kind in ("mlp", "transformer"):
        cfg = _cfg(model=kind)
        x, vocab = _inputs(kind)
        model = build_model(cfg, vocab, P)
        F.cross_entropy(model(x), (x[:, 0] + x[:, -2]) % P).backward()
        for name, p in model.named_parameters():
            assert p.grad is not None and p.grad.abs().sum() > 0, name


@pytest.mark.parametrize(
    "kw", [dict(model="mlp", merge="sum"), dict(model="mlp", merge="concat"), dict(model="mlp", n_hidden=2),
           dict(model="mlp", merge="concat", n_hidden=3, act="gelu"), dict(model="transformer"),
           dict(model="transformer", layernorm=True), dict(model="transformer", n_layers=2, layernorm=True),
           dict(model="transformer", n_layers=2, act="gelu")],
    ids=["mlp-sum", "mlp-concat", "mlp-2-hidden", "mlp-concat-3-hidden-gelu", "transformer", "transformer-layernorm",
         "transformer-2-layers-layernorm", "transformer-2-layers-gelu"],
)
def test_plain_model_computes_the_stacked_function(kw):
    """`plain.PlainMLP` / `PlainTransformer` loaded with run r's weights give run r's logits. The
    stacked MLP's first layer runs on the table (W_E @ W_in), so the sums are taken in another
    order: equal to float64 rounding, not bit for bit."""
    cfg = _cfg(dtype="float64", **kw)
    x, vocab = _inputs(cfg.model)
    stacked = build_model(cfg, vocab, P, seeds=[3, 7])
    with torch.no_grad():  # move every weight off its init (biases start at 0, LayerNorm gains at 1)
        gen = torch.Generator().manual_seed(0)
        for p in stacked.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=gen, dtype=p.dtype))
    out = stacked(x.expand(2, *x.shape))
    plain_cls = PlainMLP if cfg.model == "mlp" else PlainTransformer
    for r in range(2):
        plain = plain_cls.from_stacked(stacked, r)
        assert 2 * sum(p.numel() for p in plain.parameters()) == sum(p.numel() for p in stacked.parameters())
        assert all(p.dtype == torch.float64 for p in plain.parameters())
        torch.testing.assert_close(plain(x), out[r], rtol=1e-12, atol=1e-12)
    assert not torch.allclose(out[0], out[1])


def test_plain_model_starts_from_the_weights_it_was_given():
    """A copy, not a view: training the plain model leaves the stacked one as it was."""
    stacked = build_model(_cfg(), P, P)
    before = {k: v.clone() for k, v in stacked.state_dict().items()}
    plain = PlainMLP.from_stacked(stacked)
    with torch.no_grad():
        for p in plain.parameters():
            p.add_(1.0)
    assert all(torch.equal(before[k], v) for k, v in stacked.state_dict().items())
