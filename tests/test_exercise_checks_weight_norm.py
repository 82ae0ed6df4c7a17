"""Exercise 9's checks (the RQI, the norm held fixed, the scaled initialisation, the losses at c·θ) accept right
answers and reject the typical wrong ones with a message that names the mistake (the notebook:
exercises/solutions/09_weight_norm.ipynb). The right answers here are written out with loops and plain tensor
arithmetic, not with the library they are checked against."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from check_slips import assert_names_the_slip

from grok_lib.analysis.why.representation import TOLERANCE, closing_errors, rqi
from grok_lib.exercises import representation, weight_norm


def rqi_written(e, scale="feature", summed=False, root=False, strict=False, signs=(1, 1, -1, -1), modular=False,
                drop_constant=True):
    """Liu et al.'s RQI with four nested loops; the keyword arguments plant the typical slips."""
    e = e.double()
    if drop_constant:
        e = e[:, e.std(0) > 0]
    centred = e - e.mean(0)
    z = {"feature": centred / e.std(0), "none": centred, "global": centred / e.std(),
         "population": centred / e.std(0, correction=0)}[scale]
    p, closes, total = len(z), 0, 0
    for i in range(p):
        for j in range(i + 1, p):
            for m in range(j + 1 if strict else j, p):
                for n in range(m + 1, p):
                    if (i + n - j - m) % (p if modular else 10 ** 9):
                        continue
                    d = signs[0] * z[i] + signs[1] * z[n] + signs[2] * z[j] + signs[3] * z[m]
                    err = d.square().sum() if summed else d.square().mean()
                    total += 1
                    closes += int((err.sqrt() if root else err) < 0.01)
    return closes / total


def rqi_modular(e):
    """Every unordered pair of distinct pairs {a, b}, {c, d} with a + b ≡ c + d (mod p), counted once."""
    e = e[:, e.std(0) > 0]
    z = (e - e.mean(0)) / e.std(0)
    p = len(z)
    pairs = [(a, b) for a in range(p) for b in range(a, p)]
    errs = [float((z[a] + z[b] - z[c] - z[d]).square().mean()) for k, (a, b) in enumerate(pairs)
            for (c, d) in pairs[k + 1:] if (a + b - c - d) % p == 0]
    return sum(x < 0.01 for x in errs) / len(errs)


def test_rqi_check_accepts_right_answers(capsys):
    representation.check_rqi(rqi)
    representation.check_rqi(rqi_written)
    representation.check_rqi(lambda e: torch.tensor(rqi_written(e)))  # a 0-dim tensor is a number too
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 3 and all(line.startswith("✓") for line in out)
    assert f" on {len(representation.rqi_cases())} " in out[0]


def test_the_rqi_cases_hold_their_edges():
    """Lines close everything, a random table nothing, the noisy lines part; no closing error sits within a
    millionth of δ, where two right answers could round apart; p = 3 has its one parallelogram."""
    cases = dict(representation.rqi_cases())
    values = {what: rqi(e) for what, e in cases.items()}
    assert [v for w, v in values.items() if w.startswith("a line")] == [1.0, 1.0, 1.0]
    assert values["a random table of 10 numbers in 8 dimensions"] < 0.05
    assert sum(0.1 < v < 0.9 for v in values.values()) >= 3
    for e in cases.values():
        err = closing_errors(e)
        assert ((err - TOLERANCE).abs() > 1e-6 * TOLERANCE).all()
    assert len(closing_errors(cases["a line of 3 numbers in 2 dimensions"])) == 1
    assert (cases["a noisy line of 11 numbers in 5 dimensions whose third feature is constant"].std(0) == 0).sum() == 1


def test_the_library_modular_reading_is_the_pairs_counted_once():
    """The slip "wrapped mod p" is recognised with the library's modulus option: pairs of pairs written out."""
    e = representation.rqi_cases()[2][1]
    assert rqi(e, modulus=len(e)) == pytest.approx(rqi_modular(e), abs=1e-12)


RQI_SLIPS = [
    ("not standardised", dict(scale="none", drop_constant=False), "You did not standardise"),
    ("one std for the whole table", dict(scale="global"), "one standard deviation of the whole table"),
    ("population std", dict(scale="population"), "population standard deviation"),
    ("squares summed", dict(summed=True), "You summed the squares over the features"),
    ("distance not squared", dict(root=True), "compare its square"),
    ("j = m left out", dict(strict=True), "You left out the parallelograms with j = m"),
    ("all four added", dict(signs=(1, 1, 1, 1)), "you added all four"),
    ("E_i − E_n − E_j + E_m", dict(signs=(1, -1, -1, 1)), "the pairs with equal sums are {i, n} and {j, m}"),
    ("pairs {i, j} and {n, m}", dict(signs=(1, -1, 1, -1)), "the pairs with equal sums are {i, n} and {j, m}"),
    ("constant feature divided by", dict(drop_constant=False), "standard deviation 0"),
]


@pytest.mark.parametrize(("slip", "message"), [s[1:] for s in RQI_SLIPS], ids=[s[0] for s in RQI_SLIPS])
def test_rqi_check_names_the_slip(slip, message, capsys):
    assert_names_the_slip(representation.check_rqi, lambda e: rqi_written(e, **slip), message, capsys)


def test_rqi_check_names_the_sums_mod_p(capsys):
    assert_names_the_slip(representation.check_rqi, rqi_modular, "You counted the sums mod p", capsys)


def _standardised_in_place(e):
    e -= e.mean(0)
    return rqi_written(e)


@pytest.mark.parametrize(("fn", "message"), [
    (lambda e: [rqi_written(e)], "should return a number"),
    (_standardised_in_place, "changed the embedding"),
], ids=["a list", "embedding changed in place"])
def test_rqi_check_names_the_form(fn, message):
    with pytest.raises(AssertionError, match=message):
        representation.check_rqi(fn)


# ---------------------------------------------------------------- the norm held fixed


def hold_norm(params, target, per_tensor=False, squared=False, grad=False, rebind=False, unit_each=False):
    """The constraint written out; the keyword arguments plant the typical slips."""
    with torch.set_grad_enabled(grad):
        sumsq = sum(float(p.detach().double().square().sum()) for p in params)
        for p in params:
            if unit_each:
                factor = target / len(params) ** 0.5 / float(p.detach().double().norm())
            elif per_tensor:
                factor = target / float(p.detach().double().norm())
            else:
                factor = target / (sumsq if squared else sumsq ** 0.5)
            if rebind:
                p = p * factor
            else:
                p.mul_(factor)


def test_norm_check_accepts_right_answers(capsys):
    weight_norm.check_hold_norm(hold_norm)

    @torch.no_grad()
    def in_own_dtype(params, target):  # the norm in the parameters' own precision, as the library computes it
        norm = torch.stack([p.square().sum() for p in params]).sum().sqrt()
        torch._foreach_mul_(params, target / norm)

    weight_norm.check_hold_norm(in_own_dtype)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and all(line.startswith("✓") for line in out)
    assert f" on {len(weight_norm.norm_cases())} " in out[0]


def test_the_norm_cases_hold_their_edges():
    cases = weight_norm.norm_cases()
    assert all(isinstance(p, torch.nn.Parameter) and p.requires_grad for p in cases[0][1])
    norms = [float(torch.cat([p.detach().double().flatten() for p in params]).norm()) for _, params, _ in cases]
    assert norms[1] < cases[1][2] and norms[2] > cases[2][2] and norms[3] == cases[3][2]
    sizes = [float(p.norm()) for p in cases[4][1]]
    assert max(sizes) / min(sizes) > 1e5


NORM_SLIPS = [
    ("each tensor to the target", dict(per_tensor=True), "you rescaled them one by one"),
    ("squared norm", dict(squared=True), "a squared norm where the norm belongs"),
    ("without no_grad", dict(grad=True), "torch.no_grad"),
    ("p = p * factor", dict(rebind=True), "left the parameters as they were"),
    ("each tensor to unit norm, then scaled", dict(unit_each=True), "The direction changed"),
]


@pytest.mark.parametrize(("slip", "message"), [s[1:] for s in NORM_SLIPS], ids=[s[0] for s in NORM_SLIPS])
def test_norm_check_names_the_slip(slip, message, capsys):
    assert_names_the_slip(weight_norm.check_hold_norm, lambda params, t: hold_norm(params, t, **slip), message,
                          capsys)


def test_norm_check_names_new_tensors_returned(capsys):
    def new(params, target):
        norm = sum(float(p.detach().double().square().sum()) for p in params) ** 0.5
        return [p.detach() * (target / norm) for p in params]

    assert_names_the_slip(weight_norm.check_hold_norm, new, "returned new tensors", capsys)


# ---------------------------------------------------------------- the scaled initialisation


def scale_init(model, alpha, skip_biases=False, first_only=False, twice=False, grad=False, linear_only=False,
               to_float64=False):
    """Omnigrok's initialisation written out; the keyword arguments plant the typical slips."""
    with torch.set_grad_enabled(grad):
        named = list(model.named_parameters())
        if linear_only:  # the stacked models hold their weights directly, in no nn.Linear
            named = [(n, p) for m in model.modules() if isinstance(m, torch.nn.Linear) for n, p in m.named_parameters()]
        for k, (name, p) in enumerate(named):
            if (skip_biases and name.rsplit(".", 1)[-1].startswith("b_")) or (first_only and k > 0):
                continue
            if to_float64:
                p.data = p.data.double() * alpha
            else:
                p.mul_(alpha ** 2 if twice else alpha)


def test_init_check_accepts_right_answers(capsys):
    weight_norm.check_scale_init(scale_init)

    def by_state_dict(model, alpha):  # the state dict's tensors share the parameters' memory
        for value in model.state_dict().values():
            value.mul_(alpha)

    weight_norm.check_scale_init(by_state_dict)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and all(line.startswith("✓") for line in out)


def test_the_init_cases_have_biases_and_several_layers():
    for _, cfg, _ in weight_norm.init_cases():
        names = [n for n, _ in weight_norm.build_model(cfg).named_parameters()]
        assert any(n.rsplit(".", 1)[-1].startswith("b_") for n in names) and len(names) >= 4


INIT_SLIPS = [
    ("biases left alone", dict(skip_biases=True), "You left the biases"),
    ("one layer only", dict(first_only=True), "Only W_E was multiplied by α"),
    ("α²", dict(twice=True), "got α²"),
    ("without no_grad", dict(grad=True), "torch.no_grad"),
    ("nn.Linear modules only", dict(linear_only=True), "left the model's parameters as they were"),
    ("cast to float64", dict(to_float64=True), "changed the parameters' dtype"),
]


@pytest.mark.parametrize(("slip", "message"), [s[1:] for s in INIT_SLIPS], ids=[s[0] for s in INIT_SLIPS])
def test_init_check_names_the_slip(slip, message, capsys):
    assert_names_the_slip(weight_norm.check_scale_init, lambda m, a: scale_init(m, a, **slip), message, capsys)


def test_init_check_names_a_scaled_copy(capsys):
    def scaled_copy(model, alpha):
        out = copy.deepcopy(model)
        scale_init(out, alpha)
        return out

    assert_names_the_slip(weight_norm.check_scale_init, scaled_copy, "multiply them in place", capsys)


# ---------------------------------------------------------------- the losses at c·θ


def losses_at_scale(model, task, c, logits_times_c=False, skip_biases=False, swap=False, true_labels=False,
                    every_pair=False, total=False, in_place=False):
    """The training and validation loss at c·θ written out; the keyword arguments plant the typical slips."""
    m = model if in_place else copy.deepcopy(model)
    if not logits_times_c:
        scale_init(m, c, skip_biases=skip_biases)
    with torch.no_grad():
        logits = m(task.inputs).double() * (c if logits_times_c else 1)
    tr, va = task.train_idx, task.val_idx
    reduction = "sum" if total else "mean"
    if every_pair:
        both = F.cross_entropy(logits, task.labels).item()
        return both, both
    train_labels = task.labels[tr] if true_labels else task.train_labels
    out = (F.cross_entropy(logits[tr], train_labels, reduction=reduction).item(),
           F.cross_entropy(logits[va], task.labels[va], reduction=reduction).item())
    return out[::-1] if swap else out


def test_landscape_check_accepts_right_answers(capsys):
    weight_norm.check_losses_at_scale(losses_at_scale)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and out[0].startswith("✓") and f" on {len(weight_norm.landscape_cases())} " in out[0]


def test_the_landscape_cases_have_noisy_labels_and_biases():
    _, _, task, _ = weight_norm.landscape_cases()[1]
    assert (task.train_labels != task.labels[task.train_idx]).any()


LANDSCAPE_SLIPS = [
    ("logits times c", dict(logits_times_c=True), "You multiplied the logits by c"),
    ("biases left alone", dict(skip_biases=True), "You left the biases as they were"),
    ("swapped", dict(swap=True), "swapped"),
    ("true labels for training", dict(true_labels=True), "use those"),
    ("every pair", dict(every_pair=True), "You used every pair"),
    ("summed", dict(total=True), "take the mean"),
    ("model scaled in place", dict(in_place=True), "changed the model it was given"),
]


@pytest.mark.parametrize(("slip", "message"), [s[1:] for s in LANDSCAPE_SLIPS], ids=[s[0] for s in LANDSCAPE_SLIPS])
def test_landscape_check_names_the_slip(slip, message, capsys):
    assert_names_the_slip(weight_norm.check_losses_at_scale, lambda m, t, c: losses_at_scale(m, t, c, **slip),
                          message, capsys)
