"""Exercise 8's checks (StableMax's probabilities and cross-entropy, the ⊥Grad projection, Grokfast's EMA filter)
accept right answers and reject the typical wrong ones with a message that names the mistake (the notebook:
exercises/solutions/08_numerics.ipynb)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from check_slips import assert_names_the_slip

from grok_lib.exercises import numerics
from grok_lib.training.gradient_filters import orthogonalise
from grok_lib.training.losses import log_probabilities, log_stablemax


def stablemax(x, plus_one=False, normalise=True, dim=-1, shift=False, exp=False, dtype=None, clamp=True):
    """StableMax's probabilities written out; the keyword arguments plant the typical slips."""
    x0 = x
    x = x.float() if dtype == torch.float32 else x
    x = x - x.amax(-1, keepdim=True) if shift else x
    below = 1 / (1 - (x.clamp(max=0) if clamp else x))
    s = x.exp() if exp else (x + 1 if plus_one else torch.where(x >= 0, x + 1, below))
    p = s / s.sum(dim, keepdim=True) if normalise else s
    return p.to(x0.dtype) if dtype == torch.float32 else p


def loss(x, y, log_x=False, sum_of_logs=False, per_example=False, total=False, sign=1, columns=False, dtype=None,
         via_probabilities=False, plus_one=False):
    """StableMax's cross-entropy written out; the keyword arguments plant the typical slips."""
    x0 = x
    x = x.float() if dtype == torch.float32 else x
    s = x + 1 if plus_one else torch.where(x >= 0, x + 1, 1 / (1 - x.clamp(max=0)))
    if via_probabilities:
        logp = (s / s.sum(-1, keepdim=True)).log()
    else:
        norm = s.log().sum(-1, keepdim=True) if sum_of_logs else s.sum(-1, keepdim=True).log()
        logp = (x if log_x else s.log()) - norm
    picked = logp[:, y] if columns else logp.gather(-1, y[:, None])[:, 0]
    per = -sign * picked
    out = per if per_example else per.sum() if total else per.mean()
    return out.to(x0.dtype) if dtype == torch.float32 else out


def orthogonal(g, w, rescale=True, swap=False, per_row=False, eps=1e-30, dtype=None, keep=False, along=False):
    """⊥Grad written out; the keyword arguments plant the typical slips."""
    g0 = g
    if dtype == torch.float32:
        g, w = g.float(), w.float()
    if swap:
        g, w = w, g
    g2, w2 = (g, w) if per_row else (g.reshape(1, -1), w.reshape(1, -1))
    coef = (g2 * w2).sum(1, keepdim=True) / ((w2 * w2).sum(1, keepdim=True) + eps)
    part = coef * w2
    new = part if along else g2 + part if keep else g2 - part
    if rescale:
        new = new * g2.norm(dim=1, keepdim=True) / (new.norm(dim=1, keepdim=True) + eps)
    return new.reshape(g0.shape).to(g0.dtype)


class EMA:
    """Grokfast's EMA filter written out; the keyword arguments plant the typical slips."""

    def __init__(self, alpha, lamb, zero_start=False, swap=False, returns="g + lamb mu", alias=False, late=False,
                 defaults=False):
        self.alpha, self.lamb = (0.98, 2.0) if defaults else (alpha, lamb)
        self.alpha = 1 - self.alpha if swap else self.alpha
        self.zero_start, self.returns, self.alias, self.late = zero_start, returns, alias, late
        self.mu = None

    def __call__(self, g):
        old = self.mu
        if self.mu is None:
            self.mu = torch.zeros_like(g) if self.zero_start else g if self.alias else g.clone()
            if not self.zero_start:
                old = self.mu
            else:
                self.mu = (1 - self.alpha) * g
        else:
            self.mu = self.alpha * self.mu + (1 - self.alpha) * g
        mu = old if self.late else self.mu
        return {"g + lamb mu": lambda: g + self.lamb * mu, "mu": lambda: mu, "lamb mu": lambda: self.lamb * mu,
                "lamb g + mu": lambda: self.lamb * g + mu, "g + mu": lambda: g + mu, "g": lambda: g}[self.returns]()


def _library_orthogonal(g, w):
    out = g.clone()[None]
    orthogonalise([w[None]], [out])
    return out[0]


def test_numerics_checks_accept_right_answers(capsys):
    numerics.check_stablemax(lambda x: log_stablemax(x).exp())
    numerics.check_stablemax(stablemax)
    numerics.check_stablemax_loss(lambda x, y: F.nll_loss(log_probabilities(x, "stablemax"), y))
    numerics.check_stablemax_loss(loss)
    numerics.check_stablemax_loss(lambda x, y: loss(x, y, via_probabilities=True))  # log of p: precise enough
    numerics.check_orthogonal_gradient(_library_orthogonal)
    numerics.check_orthogonal_gradient(orthogonal)
    numerics.check_grokfast_ema(EMA)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 8 and all(line.startswith("✓") for line in out)


def test_the_success_lines_count_the_cases(capsys):
    numerics.check_stablemax(stablemax)
    numerics.check_stablemax_loss(loss)
    numerics.check_orthogonal_gradient(orthogonal)
    numerics.check_grokfast_ema(EMA)
    counts = [len(numerics.stablemax_cases()), len(numerics.loss_cases()), len(numerics.orthogonal_cases()),
              len(numerics.ema_cases())]
    for line, n in zip(capsys.readouterr().out.splitlines(), counts, strict=True):
        assert f" on {n} " in line, line


def test_the_cases_hold_their_edges():
    """Logits at exactly 0 and below it; a softmax that collapses in float32 but not StableMax; a zero weight and a
    zero gradient, which the library leaves as they are."""
    logits = torch.cat([x.flatten().double() for _, x in numerics.stablemax_cases()])
    assert (logits == 0).any() and (logits < -1).any()
    _, far, labels = numerics.loss_cases()[1]
    assert (F.cross_entropy(far.float(), labels, reduction="none") == 0).all()
    assert (F.nll_loss(log_stablemax(far.float()), labels, reduction="none") > 0.1).all()
    for _, g, w in numerics.orthogonal_cases()[-2:]:
        assert torch.equal(_library_orthogonal(g, w), g if not w.any() else torch.zeros_like(g))


def _stablemax_in_place(x):
    """s written into the logits themselves: right values, but the caller's logits are gone."""
    negative = x < 0
    x[negative] = 1 / (1 - x[negative])
    x[~negative] += 1
    return x / x.sum(-1, keepdim=True)


STABLEMAX_SLIPS = [
    ("x + 1 everywhere", dict(plus_one=True), "x + 1 everywhere"),
    ("not normalised", dict(normalise=False), "divide by their sum"),
    ("normalised along axis 0", dict(dim=0), "normalised along axis 0"),
    ("float32 inside", dict(dtype=torch.float32), "float32"),
    ("softmax", dict(exp=True), "That is softmax"),
    ("largest logit subtracted", dict(shift=True), "subtracted the largest logit"),
    ("both branches on every logit", dict(clamp=False), "the gradient is nan where a logit is exactly 1"),
]


@pytest.mark.parametrize(("slip", "message"), [s[1:] for s in STABLEMAX_SLIPS], ids=[s[0] for s in STABLEMAX_SLIPS])
def test_stablemax_check_names_the_slip(slip, message, capsys):
    assert_names_the_slip(numerics.check_stablemax, lambda x: stablemax(x, **slip), message, capsys)


@pytest.mark.parametrize(("fn", "message"), [
    (lambda x: stablemax(x).float(), "returned torch.float32 for torch.float64 input"),
    (lambda x: stablemax(x.double()), "returned torch.float64 for torch.float32 input"),
    (lambda x: stablemax(x).tolist(), "should return a torch.Tensor"),
    (_stablemax_in_place, "changed the logits"),
], ids=["float32 result", "float64 for float32 logits", "a list", "logits changed in place"])
def test_stablemax_check_names_the_form(fn, message):
    with pytest.raises(AssertionError, match=message):
        numerics.check_stablemax(fn)


LOSS_SLIPS = [
    ("log s(x) taken as x", dict(log_x=True), "You took log s(x) to be x"),
    ("sum of logs", dict(sum_of_logs=True), "the log of the sum"),
    ("one loss per example", dict(per_example=True), "return their mean"),
    ("summed over the batch", dict(total=True), "take their mean"),
    ("wrong sign", dict(sign=-1), "The sign"),
    ("every label for every example", dict(columns=True), "each example's own label"),
    ("float32 inside", dict(dtype=torch.float32), "float32"),
    ("x + 1 everywhere", dict(plus_one=True), "s must stay positive"),
]


@pytest.mark.parametrize(("slip", "message"), [s[1:] for s in LOSS_SLIPS], ids=[s[0] for s in LOSS_SLIPS])
def test_loss_check_names_the_slip(slip, message, capsys):
    assert_names_the_slip(numerics.check_stablemax_loss, lambda x, y: loss(x, y, **slip), message, capsys)


@pytest.mark.parametrize(("fn", "message"), [
    (lambda x, y: F.cross_entropy(x, y), "softmax's cross-entropy"),
    (lambda x, y: loss(x, y).item(), "should return a torch.Tensor, but it returned a float"),
    (lambda x, y: loss(x, y).float(), "returned torch.float32 for torch.float64 input"),
], ids=["softmax", "a Python float", "float32 result"])
def test_loss_check_names_the_form(fn, message):
    with pytest.raises(AssertionError, match=message):
        numerics.check_stablemax_loss(fn)


ORTHO_SLIPS = [
    ("not rescaled", dict(rescale=False), "rescale the projected gradient"),
    ("w projected onto g", dict(swap=True), "you projected w onto g"),
    ("per row", dict(per_row=True), "each row on its own"),
    ("no epsilon", dict(eps=0.0), "A division by zero"),
    ("epsilon too large", dict(eps=1e-8), "Your epsilon is too large"),
    ("float32 inside", dict(dtype=torch.float32), "float32"),
    ("component added", dict(keep=True), "not orthogonal to the weight"),
    ("the component along w", dict(along=True), "points along the weight"),
]


@pytest.mark.parametrize(("slip", "message"), [s[1:] for s in ORTHO_SLIPS], ids=[s[0] for s in ORTHO_SLIPS])
def test_orthogonal_check_names_the_slip(slip, message, capsys):
    assert_names_the_slip(numerics.check_orthogonal_gradient, lambda g, w: orthogonal(g, w, **slip), message, capsys)


def test_orthogonal_check_names_a_zero_weight_and_a_zero_gradient():
    """Without an epsilon, a zero weight and a zero gradient each divide 0 by 0; the message names which."""
    only_gradient = lambda g, w: orthogonal(g, w) if g.any() else orthogonal(g, w, eps=0.0)
    with pytest.raises(AssertionError, match="with a zero gradient"):
        numerics.check_orthogonal_gradient(only_gradient)
    with pytest.raises(AssertionError, match="with a zero weight"):
        numerics.check_orthogonal_gradient(lambda g, w: orthogonal(g, w, eps=0.0))


@pytest.mark.parametrize(("fn", "message"), [
    (lambda g, w: g.clone(), "the gradient unchanged"),
    (lambda g, w: _library_orthogonal(g, w).float(), "returned torch.float32 for torch.float64 input"),
    (lambda g, w: g.sub_(0.5 * w), "changed the gradient"),
], ids=["unchanged", "float32 result", "gradient changed in place"])
def test_orthogonal_check_names_the_form(fn, message):
    with pytest.raises(AssertionError, match=message):
        numerics.check_orthogonal_gradient(fn)


EMA_SLIPS = [
    ("μ starts at zero", dict(zero_start=True), "μ starts at zero"),
    ("α and 1 − α swapped", dict(swap=True), "swapped"),
    ("returns μ", dict(returns="mu"), "You returned μ;"),
    ("λ applied to g", dict(returns="lamb g + mu"), "λ multiplies the gradient"),
    ("returns λ μ", dict(returns="lamb mu"), "You returned λ μ alone"),
    ("λ forgotten", dict(returns="g + mu"), "λ is missing"),
    ("nothing added", dict(returns="g"), "the gradient unchanged"),
    ("μ shares the gradient's memory", dict(alias=True), "shares that tensor's memory"),
    ("μ used before its update", dict(late=True), "before updating it"),
    ("the authors' defaults", dict(defaults=True), "the authors' defaults"),
]


@pytest.mark.parametrize(("slip", "message"), [s[1:] for s in EMA_SLIPS], ids=[s[0] for s in EMA_SLIPS])
def test_ema_check_names_the_slip(slip, message, capsys):
    assert_names_the_slip(numerics.check_grokfast_ema, lambda alpha, lamb: EMA(alpha, lamb, **slip), message, capsys)


def test_ema_check_accepts_a_closure_that_filters_in_place():
    """A closure works as well as a class, and so does adding λ μ to the gradient in place (as the library does)."""
    def make(alpha, lamb):
        state = {}

        def step(g):
            mu = state.get("mu")
            state["mu"] = g.clone() if mu is None else alpha * mu + (1 - alpha) * g
            return g.add_(lamb * state["mu"])
        return step

    numerics.check_grokfast_ema(make)
