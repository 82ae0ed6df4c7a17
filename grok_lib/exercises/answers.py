"""Reading a learner's answer for the exercise checks: a readable name for their function,
their result as exact integer tensors, and a failure that says in words what is wrong.

The checks raise ``AssertionError`` with a message meant for the learner, so these helpers
phrase each complaint about the form of an answer (a list instead of a tensor, floats,
the wrong shape) before any value is compared.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor


def fn_name(fn: Callable) -> str:
    """The function's own name, or 'your function' for a lambda."""
    name = getattr(fn, "__name__", "")
    return name if name.isidentifier() else "your function"


def fail(message: str) -> None:
    raise AssertionError(message)


def as_int_tensor(x: object, what: str) -> Tensor:
    """The learner's value as a CPU int64 tensor, or a clear complaint about its type."""
    if not isinstance(x, Tensor):
        fail(f"{what} should be a torch.Tensor, but it is a {type(x).__name__}.")
    if x.dtype.is_floating_point or x.dtype.is_complex or x.dtype == torch.bool:
        fail(f"{what} has dtype {x.dtype}; use integers (torch.long) so that every result is exact.")
    return x.detach().to("cpu", torch.long)


def unpack(result: object, names: tuple[str, ...], call: str) -> list[Tensor]:
    """A returned tuple of flat integer tensors, one per name, or a complaint about its form."""
    if not isinstance(result, (tuple, list)) or len(result) != len(names):
        fail(f"{call} should return a tuple ({', '.join(names)}), but it returned {type(result).__name__}"
             + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else "") + ".")
    tensors = [as_int_tensor(x, f"{name} from {call}") for x, name in zip(result, names, strict=True)]
    for t, name in zip(tensors, names, strict=True):
        if t.dim() != 1:
            fail(f"{name} from {call} should be one-dimensional (a flat list), but its shape is {tuple(t.shape)}.")
    return tensors
