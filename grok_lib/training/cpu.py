"""Two settings that make training on a CPU fast: the matmul kernels, and freed memory.

**Matmul kernels.** PyTorch sends fp32 matrix products on a CPU to MKL. On AMD
processors MKL does not use AVX-512, and its products run at about half the speed of
oneDNN's (measured on the course's 2-core AMD EPYC: 190 against 410 GFLOP/s for 2048^3,
and 2x on the MLP's [2823, 128] x [128, 97]). PyTorch routes fp32 products to oneDNN only
when it is allowed to compute them in bfloat16; on processors without AMX, such as that
one, oneDNN then still computes in fp32. `fp32_products` therefore gives that permission only after a
probe shows that the products it then gets are still exact fp32 -- so results keep full
precision, and on AMX processors (where the permission would cost precision) nothing
changes.

**Freed memory.** glibc gives large freed blocks back to the kernel, so every step's
fresh activations (a stack of 8 runs at p=59 allocates several 5 MB tensors a step) come
back as new pages that the kernel must fault in and zero: 2,400 page faults a step there,
a third of the training time. `keep_freed_memory` asks glibc to keep blocks up to 32 MB in
the heap for reuse (it does nothing on other C libraries, or with GROK_KEEP_MALLOC=1
in the environment). The cost is that a process keeps up to 256 MB of freed memory
instead of returning it.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import torch

_lock = threading.Lock()
_users = 0
_saved = "ieee"


def _setting():
    """PyTorch's switch for CPU matmul precision (None on versions without it)."""
    matmul = getattr(torch.backends.mkldnn, "matmul", None)
    return matmul if matmul is not None and hasattr(matmul, "fp32_precision") else None


@cache
def onednn_is_exact() -> bool:
    """True if products computed under the bfloat16 permission are still exact fp32 here."""
    setting = _setting()
    if setting is None:
        return False
    v = 1 + 2**-8 + 2**-17  # needs 18 significant bits: bfloat16 keeps 8
    x, w = torch.full((1, 128), v), torch.ones(128, 1)
    old = setting.fp32_precision
    try:
        setting.fp32_precision = "bf16"
        got = torch.bmm(x[None], w[None]).item()
    finally:
        setting.fp32_precision = old
    return got == 128 * v


@contextmanager
def fp32_products(device: torch.device) -> Iterator[None]:
    """Within this block, CPU fp32 matrix products use oneDNN where that is exact (see above).

    Re-entrant and thread-safe (the live lab trains in a background thread); the user's
    own setting is restored when the last block exits.
    """
    global _users, _saved
    use = device.type == "cpu" and onednn_is_exact()
    if use:
        with _lock:
            if _users == 0:
                _saved = _setting().fp32_precision
                _setting().fp32_precision = "bf16"
            _users += 1
    try:
        yield
    finally:
        if use:
            with _lock:
                _users -= 1
                if _users == 0:
                    _setting().fp32_precision = _saved


@cache
def keep_freed_memory() -> bool:
    """Ask glibc to reuse freed blocks up to 32 MB instead of unmapping them (see above).
    Process-wide and once; returns whether the settings were made."""
    if not sys.platform.startswith("linux") or os.environ.get("GROK_KEEP_MALLOC") == "1":
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(mallopt(m_mmap_threshold, 32 * 2**20)) and bool(mallopt(m_trim_threshold, 256 * 2**20))


@contextmanager
def fast_cpu(device: torch.device) -> Iterator[None]:
    """Both settings, for a block that trains on ``device`` (nothing changes on a GPU)."""
    if device.type == "cpu":
        keep_freed_memory()
    with fp32_products(device):
        yield
