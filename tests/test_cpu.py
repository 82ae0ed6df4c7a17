"""The CPU settings: products stay exact fp32, the user's setting comes back, glibc is asked politely."""

import sys
import threading

import pytest
import torch

from grok_lib.training import cpu


def _precision():
    setting = cpu._setting()
    return None if setting is None else setting.fp32_precision


def test_products_stay_fp32_and_the_setting_is_restored():
    before = _precision()
    x, w = torch.randn(3, 300, 128), torch.randn(3, 128, 97)
    exact = torch.bmm(x.double(), w.double())
    with cpu.fp32_products(torch.device("cpu")):
        with cpu.fp32_products(torch.device("cpu")):  # re-entrant
            got = torch.bmm(x, w)
        if cpu.onednn_is_exact():
            assert _precision() == "bf16"  # PyTorch's name for the permission; the probe showed fp32 results
    assert _precision() == before
    # fp32 accumulation over 128 terms: errors near 1e-5, where bfloat16 inputs would give about 1e-1
    assert (got.double() - exact).abs().max() < 1e-3


def test_products_setting_is_shared_between_threads():
    before = _precision()
    inside = threading.Event()
    leave = threading.Event()

    def worker():
        with cpu.fp32_products(torch.device("cpu")):
            inside.set()
            leave.wait(5)

    t = threading.Thread(target=worker)
    t.start()
    inside.wait(5)
    with cpu.fp32_products(torch.device("cpu")):
        pass  # leaving here must not undo the worker's setting
    during = _precision()
    leave.set()
    t.join()
    if cpu.onednn_is_exact():
        assert during == "bf16"
    assert _precision() == before


def test_gpu_device_changes_nothing():
    before = _precision()
    with cpu.fast_cpu(torch.device("cuda")):
        assert _precision() == before


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_keep_freed_memory_can_be_declined(monkeypatch):
    monkeypatch.setenv("GROK_KEEP_MALLOC", "1")
    assert cpu.keep_freed_memory.__wrapped__() is False
    monkeypatch.delenv("GROK_KEEP_MALLOC")
    assert isinstance(cpu.keep_freed_memory.__wrapped__(), bool)
