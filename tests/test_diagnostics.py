"""The diagnostics columns (``TrainConfig(diagnostics=True)``): present only when asked for, and each equal to
what it claims to measure, computed independently here."""

import math

import torch

from grok_lib.training import TrainConfig, train
from grok_lib.training.diagnostics import DIAGNOSTICS, Diagnostics, output_weight_index
from grok_lib.training.trainer import _StackTraining

TINY = TrainConfig(p=11, d_embed=16, d_hidden=16, steps=12, log_every=4, lr=1e-2, weight_decay=0.5,
                   warmup_steps=0, diagnostics=True)


def test_columns_only_when_asked_and_old_keys_kept():
    plain = train(TINY.replace(diagnostics=False), progress=False)
    assert not set(DIAGNOSTICS) & set(plain.history)
    run = train(TINY, progress=False)
    assert all(len(run.history[k]) == len(run.history["step"]) for k in DIAGNOSTICS)
    assert TINY.replace(diagnostics=False).key() == TrainConfig(**{**TINY.to_dict(), "diagnostics": False}).key()
    assert TINY.key() != TINY.replace(diagnostics=False).key()


def test_out_norm_is_the_last_layers_norm():
    for model in ("mlp", "transformer"):
        cfg = TINY.replace(model=model, d_model=16, n_heads=2, d_mlp=32)
        run = train(cfg, progress=False)
        name = "W_out" if model == "mlp" else "W_U"
        assert math.isclose(run.history["out_norm"][-1], run.state_dict[name].norm().item(), rel_tol=1e-5)


def test_update_norm_is_the_change_over_the_last_step():
    before = train(TINY.replace(steps=11, log_every=100), progress=False).state_dict
    after = train(TINY, progress=False)
    change = math.sqrt(sum((after.state_dict[k] - before[k]).pow(2).sum().item() for k in before))
    assert after.history["step"][-1] == 12
    assert math.isclose(after.history["update_norm"][-1], change, rel_tol=1e-4)
    assert math.isnan(after.history["update_norm"][0])  # nothing before step 0


def test_adam_moments_after_one_step_agree():
    """After Adam's first step m = (1 - β1) g and v / (1 - β2) = g², so ‖m‖ = (1 - β1) √n · RMS(√v̂)."""
    run = train(TINY.replace(steps=1, log_every=1, weight_decay=0.0), progress=False)
    i = run.history["step"].index(1)
    n = run.state_dict["W_out"].numel()
    expected = (1 - TINY.betas[0]) * math.sqrt(n) * run.history["adam_v_out"][i]
    assert math.isclose(run.history["adam_m_out"][i], expected, rel_tol=1e-4)


def test_sgd_keeps_no_adam_state():
    run = train(TINY.replace(optimizer="sgd", lr=0.1, weight_decay=0.0), progress=False)
    assert all(math.isnan(v) for v in run.history["adam_v_out"])
    assert all(math.isnan(v) for v in run.history["adam_m_out"])


class _Scaled(torch.nn.Module):
    """A model whose logits are ``scale`` times another's: same weights, sharper softmax."""

    def __init__(self, inner: torch.nn.Module, scale: float):
        super().__init__()
        self.inner, self.scale = inner, scale

    def forward(self, x):
        return self.inner(x) * self.scale


def test_zero_loss_fraction_counts_collapsed_examples():
    """Equal logits give every example a loss of log(p) > 0; logits scaled by 10^4 round the right answer's
    softmax to exactly 1 wherever it wins (and leave a huge loss where it loses): the fraction of exactly-zero
    losses is then the training accuracy."""
    cfg = TINY.replace(steps=300, weight_decay=0.0)
    stack = _StackTraining([cfg], torch.device("cpu"))
    run = train(cfg, progress=False)
    stack.model.load_state_dict(run.state_dict)
    diag = Diagnostics(stack.model)
    assert output_weight_index(stack.model) == [n for n, _ in stack.model.named_parameters()].index("W_out")
    fraction = lambda scale: diag.row(_Scaled(stack.model, scale), stack.opt, stack.data, "softmax",  # noqa: E731
                                      "cross_entropy")[0, -1].item()
    assert fraction(0.0) == 0.0
    assert run.history["train_acc"][-1] > 0.5
    assert math.isclose(fraction(1e4), run.history["train_acc"][-1], abs_tol=1e-6)
