"""Initial scale, norm constraint, decay towards the initialisation, weight noise, dropout and TrueGrad:
each against maths written out here, each per run in a stack (a run gets the same result alone or
stacked), each keyed like any run, and the two weight-norm controls in the lab."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from option_runs import TINY, assert_each_trains_stores_and_loads

from grok_lib.models.dropout import Dropout, dropping_out, mask_seed
from grok_lib.presentation.lab import Lab
from grok_lib.presentation.lab_settings import describe, tell_apart
from grok_lib.training.batches import Stack, example_loss
from grok_lib.training.build import build_model
from grok_lib.training.config import LATER_FIELDS, TrainConfig
from grok_lib.training.optimizers import StackedOptimizer
from grok_lib.training.per_example import copied_square_sums, square_gradient_sums
from grok_lib.training.record import METRICS
from grok_lib.training.trainer import train, train_many
from grok_lib.training.weight_changes import WEIGHT_NOISE_SEED_OFFSET

TINY_T = TINY.replace(model="transformer", d_model=16, n_heads=2, d_mlp=32)
OPTIONS = {
    "init_scale": dict(init_scale=3.0),
    "norm": dict(norm_constraint=8.0, weight_decay=0.0),
    "decay_to_init": dict(decay_to="init"),
    "weight_noise": dict(weight_noise=0.05),
    "dropout": dict(dropout=0.2),
    "truegrad": dict(optimizer="truegrad"),
}
F64 = torch.float64


def _norm(params) -> float:
    return math.sqrt(sum(float(p.detach().double().pow(2).sum()) for p in params))


def _assert_same_history(a, b, rtol=1e-9, atol=1e-12):
    assert a.steps == b.steps
    for key in METRICS:
        np.testing.assert_allclose(a.history[key], b.history[key], rtol=rtol, atol=atol, err_msg=key)


def _assert_stacked_equals_alone(configs):
    many = train_many(configs, device="cpu", progress=False)
    assert {r.meta["stacked_runs"] for r in many} == {len(configs)}
    for cfg, stacked in zip(configs, many, strict=True):
        alone = train(cfg, device="cpu", progress=False)
        _assert_same_history(stacked, alone)
        for name, w in stacked.state_dict.items():
            torch.testing.assert_close(w, alone.state_dict[name], rtol=1e-9, atol=1e-12, msg=name)


def _full_batch(cfg: TrainConfig):
    """One run's training examples as the trainer shows them: inputs [rows, tokens], the row each
    example reads, its label and its weight in the loss."""
    data = Stack([cfg], torch.device("cpu"), getattr(torch, cfg.dtype))
    n = int(data.n_train[0])
    return data.batch_x[0], data.batch_row[0, :n], data.train_y[0, :n], data.weight[0, :n]


def _loss(model, cfg, x, rows, y, w):
    return (example_loss(model(x)[None], rows[None], y[None], cfg.output)[0] * w).sum()


# ---- the config ----------------------------------------------------------------------------------

def test_new_fields_keep_old_keys_and_stack_where_they_are_per_run():
    cfg = TrainConfig()
    for name in ("init_scale", "norm_constraint", "decay_to", "weight_noise", "dropout"):
        assert getattr(cfg, name) == LATER_FIELDS[name], name
    assert cfg.key() == "ce3a17434011f6d8"  # the canonical run's key, as stored before these fields
    changed = [cfg.replace(**extra) for extra in OPTIONS.values()]
    assert len({c.key() for c in [cfg, *changed]}) == len(changed) + 1
    assert TrainConfig.from_dict(changed[1].to_dict()) == changed[1]
    per_run = [cfg.replace(init_scale=4.0), cfg.replace(norm_constraint=30.0), cfg.replace(weight_noise=0.01)]
    assert all(c.batch_signature() == cfg.batch_signature() for c in per_run)
    code_paths = [cfg.replace(decay_to="init"), cfg.replace(dropout=0.1), cfg.replace(optimizer="truegrad")]
    assert all(c.batch_signature() != cfg.batch_signature() for c in code_paths)


@pytest.mark.parametrize("changes, message", [
    ({"init_scale": 0.0}, "init_scale=0.0 must be positive"),
    ({"init_scale": math.inf}, "init_scale=inf is not a finite number"),
    ({"norm_constraint": 0.0}, "norm_constraint=0.0 must be a positive number .* or None"),
    ({"norm_constraint": "10"}, "norm_constraint='10' must be a positive number"),
    ({"norm_constraint": math.nan}, "norm_constraint=nan must be a positive number"),
    ({"decay_to": "zero"}, r"decay_to='zero' is not one of \('origin', 'init'\)"),
    ({"weight_noise": -0.1}, "weight_noise=-0.1 is negative"),
    ({"dropout": 1.0}, r"dropout=1.0 must lie in \[0, 1\)"),
    ({"dropout": True}, "dropout=True is not a finite number"),
    ({"optimizer": "truegrad", "dropout": 0.1}, "optimizer='truegrad' cannot be combined with dropout"),
    ({"optimizer": "tgadamw"}, r"optimizer='tgadamw' is not one of \('adamw', 'adam', 'sgd', 'truegrad'\)"),
])
def test_new_settings_are_checked(changes, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**changes)


def test_each_option_trains_stores_and_loads_under_its_own_key(tmp_store):
    assert_each_trains_stores_and_loads(TINY.replace(steps=30, log_every=10), OPTIONS, tmp_store)


# ---- the initial scale -------------------------------------------------------------------------

@pytest.mark.parametrize("cfg", [TINY, TINY.replace(dtype="float64", merge="concat", n_hidden=2),
                                 TINY_T.replace(layernorm=True, n_layers=2)], ids=["mlp", "concat64", "transformer"])
def test_init_scale_multiplies_every_parameter_exactly(cfg):
    default = build_model(cfg).state_dict()
    for alpha in (8.0, 0.3):
        scaled = build_model(cfg.replace(init_scale=alpha)).state_dict()
        for name, w in default.items():
            assert torch.equal(scaled[name], w * alpha), name
    stacked = build_model(cfg, seeds=[1, 2], init_scales=[2.0, 0.5]).state_dict()
    for r, (seed, alpha) in enumerate([(1, 2.0), (2, 0.5)]):
        alone = build_model(cfg.replace(seed=seed, init_scale=alpha)).state_dict()
        assert all(torch.equal(stacked[k][r], v[0]) for k, v in alone.items())


def test_init_scale_sets_the_logged_norm_at_step_0():
    runs = train_many([TINY.replace(steps=2, log_every=1), TINY.replace(steps=2, log_every=1, init_scale=5.0)],
                      device="cpu", progress=False)
    assert runs[1].history["weight_norm"][0] == pytest.approx(5 * runs[0].history["weight_norm"][0], rel=1e-6)


# ---- the norm constraint ---------------------------------------------------------------------------

def _reference_norm_held(cfg: TrainConfig) -> dict[str, torch.Tensor]:
    """A plain loop: torch.optim.AdamW's step, then every weight times c / |w| (and so at the start)."""
    model = build_model(cfg)
    x, rows, y, w = _full_batch(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, betas=cfg.betas, weight_decay=cfg.weight_decay)
    params = list(model.parameters())

    def rescale():
        with torch.no_grad():
            factor = cfg.norm_constraint / _norm(params)
            for p in params:
                p.mul_(factor)

    rescale()
    for _ in range(cfg.steps):
        opt.zero_grad()
        _loss(model, cfg, x, rows, y, w).backward()
        opt.step()  # the unconstrained step ...
        rescale()  # ... rescaled: same direction, the held length
    return model.state_dict()


@pytest.mark.parametrize("wd", [0.0, 0.5])
def test_norm_is_held_after_every_step_in_the_unconstrained_direction(wd):
    cfg = TINY.replace(dtype="float64", norm_constraint=6.0, weight_decay=wd, log_every=1)
    run = train(cfg, device="cpu", progress=False)
    np.testing.assert_allclose(run.history["weight_norm"], 6.0, rtol=1e-13)  # logged after every step
    want = _reference_norm_held(cfg)
    for name, w in run.state_dict.items():
        torch.testing.assert_close(w, want[name], rtol=1e-10, atol=1e-12, msg=name)


def test_norm_is_held_to_float32_precision():
    run = train(TINY.replace(norm_constraint=30.0, weight_decay=0.0, log_every=1, steps=20), device="cpu",
                progress=False)
    np.testing.assert_allclose(run.history["weight_norm"], 30.0, rtol=1e-6)


def test_held_and_free_norms_and_scales_stack_as_alone():
    base = TINY.replace(dtype="float64", weight_decay=0.0)
    _assert_stacked_equals_alone([base.replace(norm_constraint=5.0, steps=8),
                                  base.replace(seed=1, lr=3e-3, steps=14),  # free
                                  base.replace(seed=2, norm_constraint=20.0, init_scale=2.0, weight_decay=0.3)])


# ---- weight decay towards the initialisation -----------------------------------------------------------

def _stepped(kind: str, decay_to: str, w: torch.Tensor, w0: torch.Tensor, g: torch.Tensor, lr, wd):
    """One step of ``kind`` from state zero, anchored at ``w0``, the weights then moved to ``w``."""
    p = w0.clone().requires_grad_(True)
    opt = StackedOptimizer([p], kind, torch.tensor(lr, dtype=F64), torch.tensor(wd, dtype=F64), eps=1e-8,
                           decay_to=decay_to)
    with torch.no_grad():
        p.copy_(w)
    p.grad = g.clone()
    opt.step(torch.tensor(lr, dtype=F64))
    return p.detach()


@pytest.mark.parametrize("kind", ["adamw", "adam", "sgd"])
def test_decay_to_init_is_the_hand_computed_step(kind):
    gen = torch.Generator().manual_seed(3)
    w0, w, g = (torch.randn(2, 3, 4, generator=gen, dtype=F64) for _ in range(3))
    lr, wd = [0.1, 0.01], [0.5, 2.0]
    got = _stepped(kind, "init", w, w0, g, lr, wd)
    w0, w, g = w0.numpy(), w.numpy(), g.numpy()
    lr_, wd_ = np.array(lr)[:, None, None], np.array(wd)[:, None, None]
    if kind == "adamw":  # decay pulls towards w0, then Adam's first step: lr · g / (|g| + eps)
        want = w - lr_ * wd_ * (w - w0) - lr_ * g / (np.abs(g) + 1e-8)
    elif kind == "adam":  # L2 penalty wd (w - w0) in the gradient, then the same first step
        g2 = g + wd_ * (w - w0)
        want = w - lr_ * g2 / (np.abs(g2) + 1e-8)
    else:
        want = w - lr_ * (g + wd_ * (w - w0))
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-14)
    origin = _stepped(kind, "origin", torch.tensor(w), torch.tensor(w0), torch.tensor(g), lr, wd)
    assert not torch.allclose(origin, got)  # the anchor matters


def test_decay_to_init_shrinks_the_distance_to_w0_geometrically():
    """With a zero gradient AdamW's step is zero, so w - w0 shrinks by (1 - lr wd) a step."""
    gen = torch.Generator().manual_seed(4)
    w0 = torch.randn(1, 5, generator=gen, dtype=F64)
    p = w0.clone()
    opt = StackedOptimizer([p], "adamw", torch.tensor([0.1], dtype=F64), torch.tensor([0.5], dtype=F64),
                           decay_to="init")
    start = torch.randn(1, 5, generator=gen, dtype=F64)
    p.copy_(start)
    for _ in range(30):
        p.grad = torch.zeros_like(p)
        opt.step(opt.lr)
    torch.testing.assert_close(p - w0, (start - w0) * 0.95**30, rtol=1e-12, atol=1e-15)


def test_decay_to_init_trains_as_the_written_out_loop_and_stacks():
    cfg = TINY.replace(dtype="float64", decay_to="init", weight_decay=2.0)
    run = train(cfg, device="cpu", progress=False)
    model = build_model(cfg)
    w0 = [p.detach().clone() for p in model.parameters()]
    x, rows, y, w = _full_batch(cfg)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, betas=cfg.betas)  # Adam, and the decay by hand
    for _ in range(cfg.steps):
        opt.zero_grad()
        _loss(model, cfg, x, rows, y, w).backward()
        with torch.no_grad():
            for p, p0 in zip(model.parameters(), w0, strict=True):
                p.sub_(cfg.lr * cfg.weight_decay * (p - p0))
        opt.step()
    for name, want in model.state_dict().items():
        torch.testing.assert_close(run.state_dict[name], want, rtol=1e-10, atol=1e-12, msg=name)
    _assert_stacked_equals_alone([cfg.replace(steps=6), cfg.replace(seed=1, weight_decay=0.3),
                                  cfg.replace(seed=2, init_scale=3.0, steps=9)])


# ---- weight noise ------------------------------------------------------------------------------------

def test_weight_noise_is_on_the_weights_each_pass_sees():
    """The gradient of every step is taken at w + σ ε (ε fresh from the run's own generator, parameter
    by parameter), and AdamW updates the clean w."""
    cfg = TINY.replace(dtype="float64", weight_noise=0.1)
    run = train(cfg, device="cpu", progress=False)
    model = build_model(cfg)
    gen = torch.Generator().manual_seed(cfg.seed + WEIGHT_NOISE_SEED_OFFSET)
    x, rows, y, w = _full_batch(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, betas=cfg.betas, weight_decay=cfg.weight_decay)
    for _ in range(cfg.steps):
        noisy = {k: p + 0.1 * torch.randn(p.shape[1:], generator=gen, dtype=F64)
                 for k, p in model.named_parameters()}
        logits = torch.func.functional_call(model, noisy, (x,))
        opt.zero_grad()
        (example_loss(logits[None], rows[None], y[None])[0] * w).sum().backward()
        opt.step()
    for name, want in model.state_dict().items():
        torch.testing.assert_close(run.state_dict[name], want, rtol=1e-10, atol=1e-12, msg=name)
    quiet = train(cfg.replace(weight_noise=0.0), device="cpu", progress=False)
    assert quiet.history["val_loss"][0] == run.history["val_loss"][0]  # evaluation sees the clean weights
    assert quiet.history["train_loss"][-1] != run.history["train_loss"][-1]


def test_weight_noise_stacks_as_alone_beside_runs_without_it():
    base = TINY.replace(dtype="float64")
    _assert_stacked_equals_alone([base.replace(weight_noise=0.05, steps=8), base.replace(seed=1, steps=14),
                                  base.replace(seed=2, weight_noise=0.2, lr=3e-3)])


# ---- dropout -----------------------------------------------------------------------------------------

def test_dropout_masks_are_per_run_and_do_not_depend_on_the_stack():
    drop = Dropout(0.25)
    x = torch.ones(3, 40, 50, dtype=F64)
    assert torch.equal(drop(x), x)  # not switched on: the identity
    drop.seeds = [mask_seed(s, 7, 0) for s in (5, 6, 5)]
    out = drop(x)
    assert set(out.unique().tolist()) == {0.0, 1 / 0.75}
    assert (out == 0).double().mean().item() == pytest.approx(0.25, abs=0.02)
    assert torch.equal(out[0], out[2]) and not torch.equal(out[0], out[1])  # a run's mask is its seed's
    drop.seeds = [mask_seed(5, 7, 0)]
    assert torch.equal(drop(x[:1, :23]), out[:1, :23])  # fewer rows alone (no padding): the same mask
    drop.eval()
    assert torch.equal(drop(x), x)
    assert mask_seed(5, 7, 1) != mask_seed(5, 7, 0) != mask_seed(5, 8, 0)


def test_dropout_is_on_only_within_dropping_out():
    model = build_model(TINY.replace(dropout=0.5))
    x = Stack([TINY], torch.device("cpu"), torch.float32).inputs
    clean = model(x)
    with dropping_out(model, [0], step=3):
        dropped = model(x)
        assert torch.equal(dropped, model(x))  # the same step and seeds: the same masks
    assert not torch.equal(dropped, clean)
    assert torch.equal(model(x), clean)
    assert all(m.seeds is None for m in model.modules() if isinstance(m, Dropout))


def test_mlp_dropout_trains_as_the_written_out_loop():
    """Inverted dropout after the hidden activation, one mask row per example (no row shared by
    (a, b) and (b, a)), drawn as `mask_seed` says; evaluation without dropout."""
    cfg = TINY.replace(dtype="float64", dropout=0.3, steps=5, log_every=1)
    run = train(cfg, device="cpu", progress=False)
    model = build_model(cfg)
    x, rows, y, w = _full_batch(cfg)
    assert torch.equal(rows, torch.arange(len(rows)))  # one row per example
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, betas=cfg.betas, weight_decay=cfg.weight_decay)
    for step in range(cfg.steps):
        gen = torch.Generator().manual_seed(mask_seed(cfg.seed, step, 0))
        keep = torch.rand(len(x), cfg.d_hidden, generator=gen, dtype=F64) >= 0.3
        emb = model.W_E[0]
        h = torch.relu((emb[x[:, 0]] + emb[x[:, 1]]) @ model.W_in[0] + model.b_in[0]) * keep / 0.7
        logits = h @ model.W_out[0] + model.b_out[0]
        opt.zero_grad()
        (torch.nn.functional.cross_entropy(logits[rows], y, reduction="none") * w).sum().backward()
        opt.step()
    for name, want in model.state_dict().items():
        torch.testing.assert_close(run.state_dict[name], want, rtol=1e-10, atol=1e-12, msg=name)
    plain = train(cfg.replace(dropout=0.0), device="cpu", progress=False)
    assert plain.history["val_loss"][0] == run.history["val_loss"][0]  # step 0: evaluation does not drop


@pytest.mark.parametrize("base", [TINY.replace(dropout=0.2), TINY.replace(dropout=0.2, batch_size=16),
                                  TINY_T.replace(dropout=0.1, n_layers=2)], ids=["mlp", "minibatch", "transformer"])
def test_a_dropout_run_stacked_equals_the_run_alone(base):
    """The second run's training split is larger, so the first is padded in the stack."""
    base = base.replace(dtype="float64", train_frac=0.5)
    _assert_stacked_equals_alone([base.replace(steps=8), base.replace(seed=1, train_frac=0.54, lr=3e-3)])


# ---- TrueGrad ------------------------------------------------------------------------------------------

def _brute_force_square_sums(cfg: TrainConfig, model, x, rows, y, w) -> list[torch.Tensor]:
    """Σ_i (w_i ∇ℓ_i)², one backward pass per example, with each example's own tokens (a, b)."""
    table = Stack([cfg], torch.device("cpu"), getattr(torch, cfg.dtype))
    n = len(y)
    own = table.inputs[table.train_idx[0, :n]]  # (b, a) as (b, a), not the row it shares with (a, b)
    sums = [torch.zeros_like(p) for p in model.parameters()]
    for i in range(n):
        model.zero_grad()
        loss = example_loss(model(own[i : i + 1])[None], torch.zeros(1, 1, dtype=torch.long), y[None, i : i + 1],
                            cfg.output)[0, 0]
        (loss * w[i]).backward()
        for s, p in zip(sums, model.parameters(), strict=True):
            s += p.grad**2
    return sums


@pytest.mark.parametrize("route", ["own", "copied"])
@pytest.mark.parametrize("cfg", [TINY, TINY.replace(merge="concat", output="stablemax"), TINY.replace(n_hidden=3),
                                 TINY_T.replace(n_layers=2)],
                         ids=["sum", "concat+stablemax", "3 hidden layers", "transformer"])
def test_square_sums_are_per_example_squares_summed(cfg, route):
    """Both routes (the MLP's own outer products and the general one through copies of the weights)
    against a loop over examples, including pairs (a, a) whose two embedding rows are one row."""
    cfg = cfg.replace(dtype="float64", train_frac=0.6)
    model = build_model(cfg)
    x, rows, y, w = _full_batch(cfg)
    if cfg.model == "mlp":
        assert bool((x[rows][:, 0] == x[rows][:, 1]).any())  # some (a, a): the embedding's cross term counts
    if cfg.merge == "sum" and cfg.model == "mlp":
        assert len(x) < len(y)  # (a, b) and (b, a) share rows: the sums must still be per example
    batch = (x[None], rows[None], y[None], w[None])
    if route == "own":
        got = square_gradient_sums(model, *batch, cfg.output)
    else:
        got = copied_square_sums(model, dict(model.named_parameters()), *batch, cfg.output)
    want = _brute_force_square_sums(cfg, model, x, rows, y, w)
    for s, s0 in zip(got, want, strict=True):
        torch.testing.assert_close(s, s0, rtol=1e-10, atol=1e-16)
    assert all(bool((s > 0).any()) for s in got)


def test_square_sums_of_a_padded_stack_are_each_runs_own():
    cfg = TINY.replace(dtype="float64")
    configs = [cfg, cfg.replace(seed=1, train_frac=0.6)]
    data = Stack(configs, torch.device("cpu"), F64)
    model = build_model(cfg, seeds=[0, 1])
    x, row, y, w = data.full_batch()
    got = square_gradient_sums(model, x, row, y, w, "softmax")
    for r, c in enumerate(configs):
        alone = build_model(c)
        want = square_gradient_sums(alone, *[t[None] for t in _full_batch(c)], "softmax")
        for s, s0 in zip(got, want, strict=True):
            torch.testing.assert_close(s[r], s0[0], rtol=1e-12, atol=1e-18)


def _reference_truegrad(cfg: TrainConfig) -> dict[str, torch.Tensor]:
    """TGAdamW as the TrueGrad project defines it (two betas: β3 = β2; grafting on), written out per
    parameter tensor, with per-example gradients from a loop over examples."""
    model = build_model(cfg)
    params = list(model.parameters())
    x, rows, y, w = _full_batch(cfg)
    (b1, b2), eps, lr, wd = cfg.betas, cfg.adam_eps, cfg.lr, cfg.weight_decay
    m, v, vt = ([torch.zeros_like(p) for p in params] for _ in range(3))
    for t in range(1, cfg.steps + 1):
        s = _brute_force_square_sums(cfg, model, x, rows, y, w)
        model.zero_grad()
        _loss(model, cfg, x, rows, y, w).backward()
        with torch.no_grad():
            for i, p in enumerate(params):
                g = p.grad
                p.mul_(1 - lr * wd)
                m[i] = b1 * m[i] + (1 - b1) * g
                v[i] = b2 * v[i] + (1 - b2) * g * g
                vt[i] = b2 * vt[i] + (1 - b2) * s[i]
                u = m[i] / torch.clamp(torch.sqrt(vt[i] / (1 - b2**t)), min=eps)
                a = m[i] / torch.clamp(torch.sqrt(v[i] / (1 - b2**t)), min=eps)
                p.sub_(lr / (1 - b1**t) * a.norm() / (u.norm() + eps) * u)
    return model.state_dict()


@pytest.mark.parametrize("cfg", [TINY.replace(steps=6, betas=(0.8, 0.95), adam_eps=1e-12),
                                 TINY_T.replace(steps=4, weight_decay=1.0)], ids=["mlp", "transformer"])
def test_truegrad_trains_as_the_written_out_tgadamw(cfg):
    cfg = cfg.replace(dtype="float64", optimizer="truegrad")
    run = train(cfg, device="cpu", progress=False)
    want = _reference_truegrad(cfg)
    for name, w in run.state_dict.items():
        torch.testing.assert_close(w, want[name], rtol=1e-9, atol=1e-12, msg=name)


def test_truegrad_step_has_adams_length_and_ignores_the_scale_of_s():
    gen = torch.Generator().manual_seed(5)
    g = [torch.randn(2, 4, 3, generator=gen, dtype=F64), torch.randn(2, 6, generator=gen, dtype=F64)]
    s = [torch.rand(t.shape, generator=gen, dtype=F64) for t in g]
    steps = []
    for kind, scale in (("adamw", 1.0), ("truegrad", 1.0), ("truegrad", 7.0)):
        params = [torch.zeros_like(t) for t in g]
        opt = StackedOptimizer(params, kind, torch.tensor([0.1, 0.01], dtype=F64), torch.zeros(2, dtype=F64),
                               eps=1e-12)
        for p, gi in zip(params, g, strict=True):
            p.grad = gi
        opt.step(opt.lr, [scale * si for si in s])
        steps.append(params)
    for adam, tg, tg7 in zip(*steps, strict=True):
        torch.testing.assert_close(tg.flatten(1).norm(dim=1), adam.flatten(1).norm(dim=1), rtol=1e-10, atol=0)
        torch.testing.assert_close(tg7, tg, rtol=1e-10, atol=0)  # up to the eps in the graft
        assert not torch.allclose(tg, adam)  # the direction is TrueGrad's own


def test_truegrad_runs_stack_as_alone():
    base = TINY.replace(dtype="float64", optimizer="truegrad")
    _assert_stacked_equals_alone([base.replace(steps=6), base.replace(seed=1, lr=3e-3, weight_decay=0.1, steps=10),
                                  base.replace(seed=2, weight_noise=0.05, init_scale=2.0)])


# ---- the lab -----------------------------------------------------------------------------------------

def test_lab_sets_and_checks_the_initial_scale_and_the_held_norm():
    lab = Lab(quick=True, device="cpu")
    cfg = lab.config()
    assert (cfg.init_scale, cfg.norm_constraint) == (1.0, None) and lab.norm.box.disabled
    cfg = lab.set(init_scale=8, norm_constraint=20, weight_decay=0).config()
    assert (cfg.init_scale, cfg.norm_constraint, cfg.weight_decay) == (8.0, 20.0, 0.0)
    assert not lab.norm.box.disabled
    assert describe(cfg).endswith("init ×8, ‖w‖ held at 20, seed 0")
    assert tell_apart([cfg, cfg.replace(norm_constraint=None)]) == ["‖w‖ held at 20", "‖w‖ free"]
    for control, typed, words in [(lab.init_scale, "0", "init scale: 0 is outside the allowed range, 0.001 to 1000"),
                                  (lab.init_scale, "big", "init scale: 'big' is not a number"),
                                  (lab.norm, "-3", "held weight norm: -3 is outside the allowed range")]:
        control.box.value = typed
        assert lab.error and words in lab.error and "Cannot run" in lab.message.value
        control.box.value = "2"
        assert lab.error is None
    lab.norm.box.value = "-3"
    lab.hold_norm.value = False  # a free norm does not read the box
    assert lab.error is None and lab.config().norm_constraint is None and lab.norm.box.disabled
    lab.set(norm_constraint=20, init_scale=3)
    lab.preset.value = next(iter(lab.presets))  # a chapter's contrast: the default scale and a free norm
    cfg = lab.config()
    assert (cfg.init_scale, cfg.norm_constraint, lab.hold_norm.value) == (1.0, None, False)


def test_lab_runs_with_a_held_norm_and_a_large_init():
    lab = Lab(quick=True, device="cpu", redraw_every=0.2)
    lab.set(steps=10, init_scale=4, norm_constraint=25, weight_decay=0)
    lab.run_button.click()
    assert lab.wait(60) and lab.error is None, lab.error
    assert lab.result.config.norm_constraint == 25.0 and lab.result.config.init_scale == 4.0
    np.testing.assert_allclose(lab.history["weight_norm"], 25.0, rtol=1e-5)
