"""Checks for exercise 3, part 1: the course MLP (summed or concatenated embeddings) written from
``nn.Embedding`` and ``nn.Linear``.

`check_mlp` builds the learner's module, checks its layers, then copies the weights of the
library's `grok_lib.models.PlainMLP` (random, seeded, with sizeable biases) *into* the
learner's module and compares the two outputs on every pair (a, b), in float64. When they
differ it probes why: it changes b, swaps a and b, zeroes the biases or lifts every hidden
unit above zero (in both models alike) and says which change makes the two agree. Success
prints one line starting with ✓. CPU only, well under a second.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from grok_lib.models import PlainMLP

from .answers import fail

SIZES = ((7, 7, 5, 6), (13, 11, 8, 3))  # (n_vocab, n_classes, d_embed, d_hidden): vocab ≠ classes on purpose
NAMES = {"embed.weight": "embed.weight", "hidden.weight": "hidden.0.weight", "hidden.bias": "hidden.0.bias",
         "out.weight": "out.weight", "out.bias": "out.bias"}  # learner's name -> PlainMLP's name


def _layers(model: nn.Module, call: str, n_vocab: int, n_classes: int, d_embed: int, d_hidden: int,
            merge: str) -> None:
    """The three layers under the names the exercise asks for, with the right shapes and biases."""
    d_in = d_embed if merge == "sum" else 2 * d_embed
    want = {"embed": (nn.Embedding, f"nn.Embedding({n_vocab}, {d_embed})"),
            "hidden": (nn.Linear, f"nn.Linear({d_in}, {d_hidden})"),
            "out": (nn.Linear, f"nn.Linear({d_hidden}, {n_classes})")}
    for name, (kind, text) in want.items():
        if not isinstance(getattr(model, name, None), kind):
            fail(f"{call} should have an attribute self.{name} = {text}; it has "
                 f"{type(getattr(model, name, None)).__name__}.")
    if (model.embed.num_embeddings, model.embed.embedding_dim) != (n_vocab, d_embed):
        fail(f"{call}: self.embed should be nn.Embedding({n_vocab}, {d_embed}), one row of width d_embed per "
             f"token; it is nn.Embedding({model.embed.num_embeddings}, {model.embed.embedding_dim}).")
    if model.hidden.in_features != d_in:
        why = ("the two embeddings are added, so the hidden layer sees one embedding's width, d_embed"
               if merge == "sum" else "the two embeddings sit side by side, so the hidden layer sees 2·d_embed")
        fail(f"{call}: with merge={merge!r} {why} = {d_in} inputs; self.hidden takes {model.hidden.in_features}.")
    for name, (n_in, n_out) in {"hidden": (d_in, d_hidden), "out": (d_hidden, n_classes)}.items():
        layer = getattr(model, name)
        if (layer.in_features, layer.out_features) != (n_in, n_out):
            fail(f"{call}: self.{name} should be nn.Linear({n_in}, {n_out}); it is "
                 f"nn.Linear({layer.in_features}, {layer.out_features}).")
        if layer.bias is None:
            fail(f"{call}: self.{name} has no bias (bias=False); the course's layers keep theirs.")
    extra = sorted(set(dict(model.named_parameters())) - set(NAMES))
    if extra:
        fail(f"{call} has parameters the course's model does not: {extra}. One embedding table serves both "
             "a and b, and there is one hidden layer and one output layer.")


def _reference(n_vocab: int, n_classes: int, d_embed: int, d_hidden: int, merge: str, seed: int) -> PlainMLP:
    """The library's model in float64, with seeded weights and biases large enough to matter."""
    ref = PlainMLP(n_vocab, n_classes, d_embed, d_hidden, n_hidden=1, merge=merge).double()
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in ref.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64))
    return ref


def _load(model: nn.Module, ref: PlainMLP) -> None:
    """Copy the library model's weights into the learner's (the check's direction: library -> learner)."""
    state = ref.state_dict()
    model.load_state_dict({mine: state[theirs].clone() for mine, theirs in NAMES.items()})


def _agree(model: nn.Module, ref: PlainMLP, x: Tensor) -> bool:
    _load(model, ref)
    with torch.no_grad():
        return torch.allclose(model(x), ref(x), rtol=1e-9, atol=1e-9)


def _edited(ref: PlainMLP, **changes: Callable[[Tensor], Tensor]) -> PlainMLP:
    """A copy of ``ref`` with some parameters replaced (``hidden_bias=lambda b: 0 * b``)."""
    new = PlainMLP(ref.embed.num_embeddings, ref.out.out_features, ref.embed.embedding_dim,
                   ref.out.in_features, n_hidden=1, merge=ref.merge).double()
    new.load_state_dict(ref.state_dict())
    params = {"hidden_bias": new.hidden[0].bias, "out_bias": new.out.bias}
    with torch.no_grad():
        for name, change in changes.items():
            params[name].copy_(change(params[name]))
    return new


def _why(model: nn.Module, ref: PlainMLP, x: Tensor, call: str, merge: str) -> str:
    """Which probe makes the learner's model agree with the library's: the likely mistake, in words."""
    with torch.no_grad():
        out, want = model(x), ref(x)
        x_aa, x_bb, x_ba = x[:, [0, 0]], x[:, [1, 1]], x[:, [1, 0]]
        if torch.allclose(out, model(x_aa)) and not torch.allclose(want, ref(x_aa)):
            return f"{call} gives the same logits whatever b is: look b up with x[:, 1], and a with x[:, 0]."
        if torch.allclose(out, model(x_bb)) and not torch.allclose(want, ref(x_bb)):
            return f"{call} gives the same logits whatever a is: look a up with x[:, 0], and b with x[:, 1]."
        if torch.allclose(out.sum(-1), torch.ones(len(x), dtype=out.dtype)) and (out >= 0).all():
            return f"{call} returns probabilities (each row sums to 1); return the logits, self.out(h), no softmax."
        if (out >= 0).all() and (want < 0).any():
            return (f"{call} returns no negative logit, the library's model does: apply the ReLU to the hidden "
                    "layer only, not to the output of self.out.")
        if merge == "concat" and torch.allclose(out, ref(x_ba), rtol=1e-9, atol=1e-9):
            return (f"{call} puts b's embedding first: concatenate in the order (a, b), "
                    "torch.cat([embed(a), embed(b)], dim=-1).")
    for name, layer in (("hidden_bias", "self.hidden"), ("out_bias", "self.out")):
        if _agree(model, _edited(ref, **{name: lambda b: 0 * b}), x):
            return f"{call} agrees once {layer}'s bias is zero: add the bias (calling {layer}(h) does)."
    if _agree(model, _edited(ref, hidden_bias=lambda b: b + 1e3), x):
        return (f"{call} agrees once every hidden unit is positive, so the ReLU is where it differs: apply "
                "torch.relu to the hidden layer's output, self.hidden(h), and nowhere else.")
    _load(model, ref)
    with torch.no_grad():
        out = model(x)
    row, cls = (~torch.isclose(out, want, rtol=1e-9, atol=1e-9)).nonzero()[0].tolist()
    a, b = x[row].tolist()
    return (f"{call}: the first logit that differs is for a={a}, b={b}, class {cls}: yours is {out[row, cls]:.6g}, "
            f"the library's PlainMLP gives {want[row, cls]:.6g}.")


def check_mlp(cls: Callable[..., nn.Module]) -> None:
    """``cls(n_vocab, n_classes, d_embed, d_hidden, merge)`` should compute what `PlainMLP` computes."""
    for merge in ("sum", "concat"):
        for k, (n_vocab, n_classes, d_embed, d_hidden) in enumerate(SIZES):
            name = getattr(cls, "__name__", "your model")
            call = f"{name}({n_vocab}, {n_classes}, {d_embed}, {d_hidden}, merge={merge!r})"
            model = cls(n_vocab, n_classes, d_embed, d_hidden, merge=merge)
            if not isinstance(model, nn.Module):
                fail(f"{call} should build an nn.Module (subclass nn.Module, call super().__init__()).")
            _layers(model, call, n_vocab, n_classes, d_embed, d_hidden, merge)
            model = model.double()
            ref = _reference(n_vocab, n_classes, d_embed, d_hidden, merge, seed=10 * k + len(merge))
            x = torch.cartesian_prod(torch.arange(n_vocab), torch.arange(n_vocab))  # every pair (a, b)
            _load(model, ref)
            try:
                with torch.no_grad():
                    out = model(x)
            except RuntimeError as err:
                joined = "added, d_embed wide" if merge == "sum" else "concatenated, 2·d_embed wide"
                fail(f"{call} on a batch x of shape {tuple(x.shape)} raised RuntimeError: {err}. With "
                     f"merge={merge!r} the two embeddings are {joined}, as self.hidden expects.")
            if not isinstance(out, Tensor) or out.shape != (len(x), n_classes):
                shape = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
                fail(f"{call} on x of shape {tuple(x.shape)} should return logits of shape "
                     f"({len(x)}, {n_classes}), one row per pair; it returned {shape}.")
            if not _agree(model, ref, x):
                fail(_why(model, ref, x, call, merge))
    print("✓ your MLP computes what the library's PlainMLP computes, summed and concatenated, on every pair "
          "(a, b) at two sizes (the library's weights copied into yours)")
