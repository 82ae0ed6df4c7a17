"""Exercise 3's checks accept the right model and training loop and reject the typical wrong ones
with a message that names the mistake (the notebook: exercises/solutions/03_mlp.ipynb)."""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from check_slips import assert_names_the_slip
from torch import nn

from grok_lib.exercises import models, training_loop


def mlp_class(slip: str = "") -> type[nn.Module]:
    """The exercise's MLP, right, or with one typical slip."""

    class MLP(nn.Module):
        def __init__(self, n_vocab, n_classes, d_embed, d_hidden, merge="sum"):
            super().__init__()
            self.merge = merge
            d_in = d_embed if merge == "sum" and slip != "always concatenated" else 2 * d_embed
            self.embed = nn.Embedding(n_vocab, d_embed)
            if slip == "two tables":
                self.embed_b = nn.Embedding(n_vocab, d_embed)
            self.hidden = nn.Linear(d_in, d_hidden, bias=slip != "bias=False")
            self.out = nn.Linear(d_hidden, n_classes)

        def forward(self, x):
            a, b = self.embed(x[:, 0]), self.embed(x[:, 0 if slip == "a looked up twice" else 1])
            if slip == "b first":
                a, b = b, a
            concat = self.merge == "concat" or slip == "concatenated in the sum model"
            h = torch.cat([a, b], dim=-1) if concat else a + b
            h = h @ self.hidden.weight.T if slip == "bias dropped in forward" else self.hidden(h)
            if slip != "no ReLU":
                h = torch.relu(h)
            logits = self.out(h)
            if slip == "ReLU on the logits":
                logits = torch.relu(logits)
            return logits.softmax(-1) if slip == "softmax" else logits

    return MLP


def test_mlp_check_accepts_the_right_model(capsys):
    models.check_mlp(mlp_class())
    assert capsys.readouterr().out.startswith("✓")


MLP_SLIPS = [
    ("always concatenated", "the two embeddings are added"),
    ("concatenated in the sum model", "the two embeddings are added, d_embed wide"),
    ("bias=False", "has no bias"),
    ("two tables", "One embedding table serves both"),
    ("a looked up twice", "whatever b is"),
    ("b first", "in the order (a, b)"),
    ("no ReLU", "the ReLU is where it differs"),
    ("ReLU on the logits", "not to the output of self.out"),
    ("softmax", "returns probabilities"),
    ("bias dropped in forward", "self.hidden's bias is zero"),
]


@pytest.mark.parametrize(("slip", "message"), MLP_SLIPS, ids=[s for s, _ in MLP_SLIPS])
def test_mlp_check_names_the_slip(slip, message, capsys):
    assert_names_the_slip(models.check_mlp, mlp_class(slip), message, capsys)


def loop(slip: str = ""):
    """The exercise's training loop, right, or with one typical slip."""

    def train_loop(model, task, steps, lr, weight_decay, log_every):
        if slip == "trains a copy":
            model = copy.deepcopy(model)
        x_tr, y_tr = task.inputs[task.train_idx], task.train_labels
        x_va, y_va = task.inputs[task.val_idx], task.labels[task.val_idx]
        kind, kwargs = torch.optim.AdamW, dict(lr=lr, weight_decay=weight_decay, betas=(0.9, 0.98))
        if slip == "Adam with L2":
            kind = torch.optim.Adam
        elif slip == "weight_decay not passed":
            kwargs.pop("weight_decay")
        elif slip == "default betas":
            kwargs.pop("betas")
        opt = kind(model.parameters(), **kwargs)
        hist = {k: [] for k in training_loop.KEYS}
        for step in range(steps + 1):
            if step % log_every == 0 or step == steps:
                if slip == "logs after the update" and step < steps:
                    opt.zero_grad()
                    F.cross_entropy(model(x_tr), y_tr).backward()
                    opt.step()
                with torch.no_grad():
                    lt, lv = model(x_tr), model(x_va)
                    loss = F.cross_entropy(lt, y_tr, reduction="sum" if slip == "summed loss" else "mean")
                    acc = [(out.argmax(-1) == y).double().mean().item() for out, y in ((lt, y_tr), (lv, y_va))]
                    if slip == "train and validation swapped":
                        acc = acc[::-1]
                    scale = 100 if slip == "percent" else 1
                    squares = sum(p.pow(2).sum() for p in model.parameters()).item()
                    hist["step"].append(step)
                    hist["train_loss"].append(loss.item())
                    hist["val_loss"].append(F.cross_entropy(lv, y_va).item())
                    hist["train_acc"].append(scale * acc[0])
                    hist["val_acc"].append(scale * acc[1])
                    hist["weight_norm"].append(squares if slip == "no square root" else math.sqrt(squares))
                if slip == "logs after the update":
                    continue
            if step == steps or (slip == "stops updating at step 30" and step >= 30):
                continue
            if slip != "no zero_grad":
                opt.zero_grad()
            F.cross_entropy(model(x_tr), y_tr).backward()
            opt.step()
        return hist

    return train_loop


def test_loop_check_accepts_the_right_loop(capsys):
    training_loop.check_training_loop(loop())
    out = capsys.readouterr().out
    assert out.startswith("✓") and "within 1,000 steps" in out


LOOP_SLIPS = [
    ("weight_decay not passed", "the same run with weight_decay=0"),
    ("Adam with L2", "optimizer='adam'"),
    ("default betas", "betas=(0.9, 0.999)"),
    ("no zero_grad", "optimizer.zero_grad()"),
    ("logs after the update", "at step 0, before any update"),
    ("summed loss", "the mean cross-entropy"),
    ("no square root", "take its square root"),
    ("percent", "not a percentage"),
    ("train and validation swapped", "swap the sets"),
    ("trains a copy", "left the model it was given unchanged"),
    ("stops updating at step 30", "did not generalise"),
]


@pytest.mark.parametrize(("slip", "message"), LOOP_SLIPS, ids=[s for s, _ in LOOP_SLIPS])
def test_loop_check_names_the_slip(slip, message, capsys):
    assert_names_the_slip(training_loop.check_training_loop, loop(slip), message, capsys)


def test_loop_check_wants_every_logged_step():
    def without_last(model, task, steps, lr, weight_decay, log_every):
        hist = loop()(model, task, steps, lr, weight_decay, log_every)
        return {k: v[:-1] for k, v in hist.items()}

    with pytest.raises(AssertionError, match="the last step"):
        training_loop.check_training_loop(without_last)


def test_loop_check_reads_the_trainers_first_row_from_the_same_weights():
    """The reference run and the learner's loop start from the very same model and split."""
    model, task = training_loop.start(training_loop.EXACT)
    from grok_lib.training.trainer import train

    ref = train(training_loop.EXACT, device="cpu", progress=False).history
    norm = math.sqrt(sum(float(p.detach().double().pow(2).sum()) for p in model.parameters()))
    assert ref["weight_norm"][0] == pytest.approx(norm, rel=1e-12)
    assert len(task.train_idx) + len(task.val_idx) == training_loop.TASK.p ** 2
