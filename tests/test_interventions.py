"""StableMax, ⊥Grad, Grokfast and Adam's epsilon: each against maths written out here, and each
reaching the trainer, the store and the lab."""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import pytest
import torch
from option_runs import TINY, assert_each_trains_stores_and_loads

from grok_lib.presentation.lab import Lab
from grok_lib.presentation.lab_settings import GRADIENT_SETTINGS, describe, tell_apart
from grok_lib.training.batches import Stack, example_loss
from grok_lib.training.build import build_model
from grok_lib.training.config import LATER_FIELDS, TrainConfig
from grok_lib.training.gradient_filters import EMAFilter, MAFilter, orthogonalise
from grok_lib.training.losses import log_probabilities, log_stablemax
from grok_lib.training.record import METRICS
from grok_lib.training.trainer import _StackTraining, train, train_many

OPTIONS = {
    "stablemax": dict(output="stablemax"),
    "ortho": dict(ortho_grad=True),
    "ema": dict(grokfast="ema"),
    "ma": dict(grokfast="ma", grokfast_window=3, grokfast_lamb=5.0),
    "eps": dict(adam_eps=1e-3),
}


def _stablemax_np(x: np.ndarray) -> np.ndarray:
    """StableMax as Prieto et al. define it, in float64 numpy, row by row."""
    s = np.where(x >= 0, x + 1.0, 1.0 / (1.0 - np.minimum(x, 0.0)))
    return s / s.sum(-1, keepdims=True)


# ---- StableMax ---------------------------------------------------------------------------------

def test_stablemax_sums_to_one_and_is_its_definition():
    x = torch.randn(3, 5, 97, dtype=torch.float64) * 20
    x[0, 0, :4] = torch.tensor([0.0, -1.0, 1.0, -1e6])
    p = log_stablemax(x).exp()
    torch.testing.assert_close(p.sum(-1), torch.ones(3, 5, dtype=torch.float64), rtol=0, atol=1e-13)
    np.testing.assert_allclose(p.numpy(), _stablemax_np(x.numpy()), rtol=1e-12, atol=0)
    assert torch.equal(p.argmax(-1), x.argmax(-1))  # s is increasing: accuracy does not change
    x32 = x.float()
    np.testing.assert_allclose(log_stablemax(x32).exp().numpy(), _stablemax_np(x.numpy()), rtol=2e-5)


def test_stablemax_loss_is_minus_log_of_the_true_class():
    logits = torch.randn(2, 6, 11, dtype=torch.float64) * 5
    row = torch.tensor([[0, 1, 2, 3, 4, 5, 5], [5, 4, 3, 2, 1, 0, 0]])  # examples read rows, two share one
    y = torch.randint(0, 11, (2, 7))
    loss = example_loss(logits, row, y, "stablemax")
    p = _stablemax_np(logits.numpy())
    want = np.array([[-math.log(p[n, row[n, i], y[n, i]]) for i in range(7)] for n in range(2)])
    np.testing.assert_allclose(loss.numpy(), want, rtol=1e-12)
    soft = example_loss(logits, row, y)  # the default is still softmax
    torch.testing.assert_close(soft, example_loss(logits, row, y, "softmax"))
    assert not torch.allclose(soft, loss)
    with pytest.raises(ValueError, match="stablemax"):
        log_probabilities(logits, "sparsemax")


def test_stablemax_gradient_is_finite_where_a_branch_would_divide_by_zero():
    """At x = 1 the 1/(1 - x) branch, though not taken, would divide by zero (a NaN slope via where)."""
    x = torch.tensor([[1.0, 0.0, -3.0, 2.0]], requires_grad=True)
    log_stablemax(x)[0, 0].backward()
    assert torch.isfinite(x.grad).all()
    s, slope = np.array([2.0, 1.0, 0.25, 3.0]), np.array([1.0, 1.0, 1 / 16, 1.0])  # s(x) and s'(x)
    want = -slope / s.sum()  # d log p_0 / d x_j = s'_j (δ_0j / s_0 - 1 / Σ s)
    want[0] += slope[0] / s[0]
    np.testing.assert_allclose(x.grad[0].numpy(), want, rtol=1e-6)


# ---- ⊥Grad -------------------------------------------------------------------------------------

def test_ortho_gradient_is_orthogonal_per_run_and_parameter_and_keeps_its_norm():
    gen = torch.Generator().manual_seed(1)
    params = [torch.randn(3, 4, 5, generator=gen, dtype=torch.float64), torch.randn(3, 7, generator=gen,
                                                                                     dtype=torch.float64)]
    grads = [torch.randn(p.shape, generator=gen, dtype=torch.float64) + 0.5 * p for p in params]
    before = [g.clone() for g in grads]
    orthogonalise(params, grads)
    for w, g, g0 in zip(params, grads, before, strict=True):
        for r in range(3):  # each run, each parameter alone
            wv, gv, g0v = w[r].numpy().ravel(), g[r].numpy().ravel(), g0[r].numpy().ravel()
            assert abs(wv @ gv) < 1e-12 * np.linalg.norm(wv) * np.linalg.norm(gv)
            assert np.linalg.norm(gv) == pytest.approx(np.linalg.norm(g0v), rel=1e-12)
            g_orth = g0v - (wv @ g0v) / (wv @ wv) * wv  # the projection, written out
            np.testing.assert_allclose(gv, g_orth * np.linalg.norm(g0v) / np.linalg.norm(g_orth), rtol=1e-10)


# ---- Grokfast ----------------------------------------------------------------------------------

@pytest.mark.parametrize("k", [1, 5, 40])
def test_grokfast_ema_after_k_identical_gradients_is_its_closed_form(k):
    """μ starts at the first gradient a; after k more gradients b, μ = α^k a + (1 − α^k) b."""
    alpha, lamb = 0.9, 2.0
    a, b = torch.randn(2, 3, dtype=torch.float64), torch.randn(2, 3, dtype=torch.float64)
    ema = EMAFilter(alpha, lamb)
    g = [a.clone()]
    ema(g)
    torch.testing.assert_close(g[0], (1 + lamb) * a)  # the first step: μ = a
    for _ in range(k):
        g = [b.clone()]
        ema(g)
    mu = alpha**k * a + (1 - alpha**k) * b
    torch.testing.assert_close(ema.mu[0], mu, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(g[0], b + lamb * mu, rtol=1e-12, atol=1e-14)


def test_grokfast_ma_adds_the_mean_of_the_window_once_it_is_full():
    window, lamb = 4, 5.0
    ma = MAFilter(window, lamb)
    seen: deque[torch.Tensor] = deque(maxlen=window)
    gen = torch.Generator().manual_seed(2)
    for t in range(3 * window + 2):  # past two turns of the ring, where its sum is taken afresh
        g = torch.randn(2, 3, 2, generator=gen)
        seen.append(g.clone())
        out = [g.clone()]
        ma(out)
        want = g if len(seen) < window else g + lamb * torch.stack(list(seen)).mean(0)
        torch.testing.assert_close(out[0], want, rtol=1e-5, atol=1e-6, msg=f"step {t}")


# ---- in the trainer: against a loop written out with torch.optim.AdamW ----------------------------

def _reference_weights(cfg: TrainConfig) -> dict[str, torch.Tensor]:
    """``cfg`` trained by a plain loop: this file's StableMax, ⊥ projection and filters, then
    torch.optim.AdamW with the config's betas and epsilon (full batch, no warm-up)."""
    model = build_model(cfg)
    data = Stack([cfg], torch.device("cpu"), torch.float64)
    n = int(data.n_train[0])
    rows, y = data.batch_row[0, :n], data.train_y[0, :n]
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, betas=cfg.betas, eps=cfg.adam_eps,
                            weight_decay=cfg.weight_decay)
    mu, window = None, deque(maxlen=cfg.grokfast_window)
    for _ in range(cfg.steps):
        logits = model(data.batch_x)[0][rows]
        if cfg.output == "stablemax":
            s = torch.where(logits >= 0, logits + 1, 1 / (1 - torch.clamp(logits, max=0)))
            loss = -(s.gather(1, y[:, None]).squeeze(1) / s.sum(1)).log().mean()
        else:
            loss = torch.nn.functional.cross_entropy(logits, y)
        opt.zero_grad()
        loss.backward()
        grads = [p.grad for p in model.parameters()]
        if cfg.grokfast == "ema":
            mu = [g.clone() for g in grads] if mu is None else [
                cfg.grokfast_alpha * m + (1 - cfg.grokfast_alpha) * g for m, g in zip(mu, grads, strict=True)]
            for g, m in zip(grads, mu, strict=True):
                g += cfg.grokfast_lamb * m
        if cfg.grokfast == "ma":
            window.append([g.clone() for g in grads])
            if len(window) == cfg.grokfast_window:
                for i, g in enumerate(grads):
                    g += cfg.grokfast_lamb * sum(w[i] for w in window) / cfg.grokfast_window
        if cfg.ortho_grad:
            for p, g in zip(model.parameters(), grads, strict=True):
                w, gv = p.detach().ravel(), g.ravel().clone()
                g_orth = gv - (w @ gv) / (w @ w) * w
                g.copy_((g_orth * gv.norm() / g_orth.norm()).view_as(g))
        opt.step()
    return model.state_dict()


@pytest.mark.parametrize("option", [*OPTIONS, "stablemax+ortho"])
def test_each_option_trains_as_the_written_out_loop(option):
    """Reaches the loss, the gradient and the optimiser: betas (0.8, 0.95) and epsilon 1e-3 too,
    so a wrapper that dropped them would not match."""
    extra = OPTIONS.get(option) or dict(output="stablemax", ortho_grad=True)
    cfg = TINY.replace(**{"dtype": "float64", "betas": (0.8, 0.95), "adam_eps": 1e-3} | extra)
    run = train(cfg, device="cpu", progress=False)
    want = _reference_weights(cfg)
    for name, w in run.state_dict.items():
        torch.testing.assert_close(w, want[name], rtol=1e-9, atol=1e-11, msg=f"{option}: {name}")


def test_stablemax_is_the_loss_logged_for_train_and_validation():
    cfg = TINY.replace(dtype="float64", output="stablemax", steps=1)
    run = train(cfg, device="cpu", progress=False)
    model = build_model(cfg)  # the weights at step 0, when the first row is logged
    data = Stack([cfg], torch.device("cpu"), torch.float64)
    with torch.no_grad():
        p = _stablemax_np(model(data.inputs).numpy())  # every pair of the table
    nll = -np.log(p[np.arange(len(p)), data.table_y[0].numpy()])
    is_train = data.is_train[0].numpy()
    assert run.history["train_loss"][0] == pytest.approx(nll[is_train].mean(), rel=1e-10)
    assert run.history["val_loss"][0] == pytest.approx(nll[~is_train].mean(), rel=1e-10)


def test_epsilon_and_betas_reach_the_stacked_optimiser():
    for extra in ({}, dict(ortho_grad=True), dict(grokfast="ema")):
        stack = _StackTraining([TINY.replace(adam_eps=1e-25, betas=(0.8, 0.9), **extra)], torch.device("cpu"))
        assert stack.opt.eps == 1e-25 and stack.opt.betas == (0.8, 0.9), extra


def test_float64_matches_float32_over_the_first_steps():
    cfgs = [TINY.replace(steps=8, log_every=2, **extra) for extra in
            (dict(output="stablemax", ortho_grad=True), dict(grokfast="ema"), dict(grokfast="ma", grokfast_window=2))]
    runs32 = train_many(cfgs, device="cpu", progress=False)
    runs64 = train_many([c.replace(dtype="float64") for c in cfgs], device="cpu", progress=False)
    for r32, r64 in zip(runs32, runs64, strict=True):
        assert r32.steps == r64.steps
        for key in ("train_loss", "val_loss", "weight_norm"):
            np.testing.assert_allclose(r32.history[key], r64.history[key], rtol=1e-4, err_msg=key)


@pytest.mark.parametrize("extra", [dict(grokfast="ema", grokfast_alpha=0.9),
                                   dict(grokfast="ma", grokfast_window=3, ortho_grad=True)], ids=["ema", "ma+ortho"])
def test_a_stack_with_grokfast_matches_its_runs_trained_alone(extra):
    """Each run's filter state is its own: the shorter run leaves the stack (and the filter) first."""
    base = TINY.replace(dtype="float64", **extra)
    configs = [base.replace(seed=0, steps=8), base.replace(seed=1, lr=3e-3, weight_decay=0.1, steps=14)]
    many = train_many(configs, device="cpu", progress=False)
    assert {r.meta["stacked_runs"] for r in many} == {2}
    for cfg, stacked in zip(configs, many, strict=True):
        alone = train(cfg, device="cpu", progress=False)
        assert stacked.steps == alone.steps
        for key in METRICS:
            np.testing.assert_allclose(stacked.history[key], alone.history[key], rtol=1e-9, atol=1e-12,
                                       err_msg=key)


# ---- the config: keys, stacks and checks ---------------------------------------------------------

def test_new_fields_keep_old_keys_and_split_stacks():
    cfg = TrainConfig()
    for name, default in LATER_FIELDS.items():
        assert getattr(cfg, name) == default, name
    assert cfg.key() == "ce3a17434011f6d8"  # the canonical run's key, as stored before these fields
    changed = [cfg.replace(**extra) for extra in [*OPTIONS.values(), dict(grokfast_alpha=0.9),
                                                  dict(grokfast_lamb=1.0), dict(grokfast_window=50)]]
    assert len({c.key() for c in [cfg, *changed]}) == len(changed) + 1
    assert all(c.batch_signature() != cfg.batch_signature() for c in changed)  # one optimiser, one loss per stack
    assert TrainConfig.from_dict(changed[1].to_dict()) == changed[1]


@pytest.mark.parametrize("changes, message", [
    ({"output": "sparsemax"}, r"output='sparsemax' is not one of \('softmax', 'stablemax'\)"),
    ({"grokfast": "kalman"}, r"grokfast='kalman' is not one of \('none', 'ema', 'ma'\)"),
    ({"grokfast_alpha": 1.0}, r"grokfast_alpha=1.0 must lie in \[0, 1\)"),
    ({"grokfast_lamb": -1.0}, "grokfast_lamb=-1.0 is negative"),
    ({"grokfast_window": 0}, "grokfast_window=0 must be at least 1"),
    ({"grokfast_window": 2.5}, r"grokfast_window=2.5 must be a whole number"),
    ({"adam_eps": -1e-8}, "adam_eps=-1e-08 is negative"),
    ({"adam_eps": math.nan}, "adam_eps=nan is not a finite number"),
    ({"ortho_grad": 1}, "ortho_grad=1 must be True or False"),
])
def test_new_settings_are_checked(changes, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**changes)


def test_each_option_trains_stores_and_loads_under_its_own_key(tmp_store):
    base = TrainConfig(op="add", p=23, d_embed=16, d_hidden=16, steps=200, log_every=100, early_stop=False)
    assert_each_trains_stores_and_loads(base, OPTIONS, tmp_store)


# ---- the lab -------------------------------------------------------------------------------------

def test_lab_offers_stablemax_ortho_adamw_and_grokfast():
    lab = Lab(quick=True, device="cpu")
    assert [v for _, v in lab.output.options] == ["softmax", "stablemax"]
    assert {"ortho", "ema"} <= {v for _, v in lab.gradient.options} == set(GRADIENT_SETTINGS)
    cfg = lab.config()
    assert (cfg.output, cfg.ortho_grad, cfg.grokfast) == ("softmax", False, "none")
    cfg = lab.set(optimizer="adamw", gradient="ortho", output="stablemax").config()
    assert (cfg.optimizer, cfg.ortho_grad, cfg.output, cfg.grokfast) == ("adamw", True, "stablemax", "none")
    assert "StableMax" in describe(cfg) and "⊥Grad" in describe(cfg)
    cfg = lab.set(gradient="ema").config()
    assert (cfg.grokfast, cfg.grokfast_alpha, cfg.grokfast_lamb, cfg.ortho_grad) == ("ema", 0.98, 2.0, False)
    assert lab.set(gradient="ma").config().grokfast_lamb == 5.0
    assert tell_apart([cfg, cfg.replace(grokfast="none")]) == ["Grokfast EMA α 0.98 λ 2", "plain gradient"]
    lab.preset.value = next(iter(lab.presets))  # a chapter's contrast: softmax and the plain gradient again
    assert (lab.output.value, lab.gradient.value) == ("softmax", "plain")


@pytest.mark.parametrize("settings", [dict(output="stablemax", gradient="ortho"), dict(gradient="ema")])
def test_lab_runs_each_intervention(settings):
    lab = Lab(quick=True, device="cpu", redraw_every=0.2)
    lab.set(steps=30, **settings)
    lab.run_button.click()
    assert lab.wait(60) and lab.error is None, lab.error
    assert lab.history["step"][-1] == 30
    assert lab.result.config == lab.last_config and lab.result.config.output == lab.output.value
