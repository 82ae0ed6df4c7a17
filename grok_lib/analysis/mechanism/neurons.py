"""A model's neurons over the whole (a, b) grid, and the weights that read them out.

Every mechanism measure looks at one model at one step on every pair (a, b) of the table,
arranged as a p×p grid (row a, column b). This module runs any of the course's one-run models
there and returns what the measures need:

- the logits over the grid, [a, b, class];
- the hidden neurons that feed the output linearly, [a, b, neuron]: the transformer's MLP
  activations at the ``=`` position (``blocks.0.hook_mlp_post``), the MLP's hidden layer
  (``hook_hidden``), the quadratic network's squares;
- the readout from neurons to logits, [neuron, class]: ``W_out @ W_U`` for the transformer,
  ``W_out`` for the MLPs;
- the embedding whose Fourier spectrum the chapters show, [element, feature].
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from einops import einsum, rearrange
from torch import Tensor

from grok_lib.models import MLP, StackedModule, Transformer
from grok_lib.models.quadratic import QuadraticMLP
from grok_lib.task.data import tokens


@dataclass
class Grid:
    """One model's activity on the p×p grid (see the module docstring)."""

    logits: Tensor  # [a, b, class]
    neurons: Tensor  # [a, b, neuron]
    readout: Tensor  # [neuron, class]

    @property
    def n(self) -> int:
        return self.logits.shape[0]

    def neuron_maps(self) -> Tensor:
        """Each neuron's activation as a p×p image: [neuron, a, b]."""
        return rearrange(self.neurons, "a b neuron -> neuron a b")


def n_elements(model: StackedModule) -> int:
    """How many elements (classes) the model's task has."""
    return model.hparams["n"] if isinstance(model, QuadraticMLP) else model.hparams["n_classes"]


def grid_inputs(model: StackedModule) -> Tensor:
    """Every pair (a, b), row-major in (a, b), in the model's token layout: [n², 2 or 4]."""
    n = n_elements(model)
    a, b = torch.arange(n).repeat_interleave(n), torch.arange(n).repeat(n)
    layout = "transformer" if isinstance(model, Transformer) else "mlp"
    device = next(model.parameters()).device
    return tokens(a, b, n, layout).to(device)


def run_grid(model: StackedModule) -> Grid:
    """Run a one-run model on the whole grid (no gradients) and read its neurons and readout."""
    if model.n_runs != 1:
        raise ValueError(f"give one run (model.single(r)); this model holds {model.n_runs}")
    n = n_elements(model)
    logits, cache = model.run_with_cache(grid_inputs(model))
    if isinstance(model, Transformer):
        if model.hparams["n_layers"] != 1 or model.hparams["layernorm"]:
            raise ValueError("the neuron readout is linear only for one layer without LayerNorm (Nanda et al.'s model)")
        neurons = cache["blocks.0.hook_mlp_post"][:, -1]  # at "="
        readout = einsum(model.blocks[0].W_out[0], model.W_U[0], "neuron d_model, d_model cls -> neuron cls")
    elif isinstance(model, MLP):
        if model.hparams["n_hidden"] != 1:
            raise ValueError("the neuron readout is linear only for one hidden layer")
        neurons, readout = cache["hook_hidden"], model.W_out[0]
    elif isinstance(model, QuadraticMLP):
        neurons, readout = cache["hook_hidden"], model.W_out[0]
    else:
        raise TypeError(f"no neuron readout known for {type(model).__name__}")
    grid = lambda t: rearrange(t.detach().to(torch.float64), "(a b) d -> a b d", a=n, b=n)
    return Grid(grid(logits), grid(neurons), readout.detach().to(torch.float64))


def neuron_maps(model: StackedModule) -> Tensor:
    """Each hidden neuron's activation over the (a, b) grid: [neuron, a, b]."""
    return run_grid(model).neuron_maps()


def embedding(model: StackedModule) -> Tensor:
    """The table that turns an element into the model's first vectors, [element, feature]:
    ``W_E``'s rows for the numbers (the transformer's ``op`` and ``=`` rows left out); for the
    quadratic network, the a-rows and b-rows of ``W_in`` side by side."""
    if isinstance(model, QuadraticMLP):
        n = model.n
        return torch.cat([model.W_in[0, :n], model.W_in[0, n:]], -1).detach().to(torch.float64)
    return model.W_E[0, : n_elements(model)].detach().to(torch.float64)
