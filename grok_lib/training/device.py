"""Which device trains, and the description of the machine each stored run records."""

from __future__ import annotations

import datetime as _dt
import platform
from typing import Any

import torch

from grok_lib.version import __version__


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """CUDA when present, else CPU; asking for CUDA without it is an error that says why."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(
            "device='cuda' was asked for, but PyTorch sees no CUDA GPU here "
            f"(torch {torch.__version__}). Use device='cpu' (or leave device unset to pick "
            "automatically); on Colab choose Runtime > Change runtime type > GPU."
        )
    return dev


def cpu_name() -> str:
    """The processor's model name (platform.processor() is empty on Linux)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "cpu"


def environment(device: torch.device) -> dict[str, Any]:
    """Library and PyTorch versions, device, threads and date: the metadata of a stored run."""
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_name()
    return {"grok_lib": __version__, "torch": torch.__version__, "device": f"{device.type}: {name}",
            "threads": torch.get_num_threads(),
            "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
