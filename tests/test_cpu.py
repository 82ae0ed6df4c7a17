"""The CPU settings: products stay exact fp32, the user's setting comes back, glibc is asked politely."""

import ctypes
import platform
import sys
import threading

import pytest
import torch

from grok_lib.training import cpu

CPU = torch.device("cpu")
no_setting = pytest.mark.skipif(cpu._setting() is None, reason="this PyTorch has no CPU matmul precision setting")


def _precision():
    setting = cpu._setting()
    return None if setting is None else setting.fp32_precision


def test_products_stay_fp32_and_the_setting_is_restored():
    before = _precision()
    x, w = torch.randn(3, 300, 128), torch.randn(3, 128, 97)
    exact = torch.bmm(x.double(), w.double())
    with cpu.fp32_products(CPU):
        with cpu.fp32_products(CPU):  # re-entrant
            got = torch.bmm(x, w)
    assert _precision() == before
    # fp32 accumulation over 128 terms: errors near 1e-5, where bfloat16 inputs would give about 1e-1
    assert (got.double() - exact).abs().max() < 1e-3


@pytest.mark.skipif(not cpu.onednn_is_exact(), reason="the probe found oneDNN inexact (or absent) on this CPU")
def test_permission_is_given_where_the_probe_found_it_exact():
    with cpu.fp32_products(CPU):
        assert _precision() == "bf16"  # PyTorch's name for the permission; the probe showed fp32 results


@pytest.mark.skipif(cpu.onednn_is_exact(), reason="the probe found oneDNN exact on this CPU")
def test_no_permission_where_the_probe_found_it_inexact():
    before = _precision()
    with cpu.fp32_products(CPU):
        assert _precision() == before


@no_setting
def test_products_setting_is_shared_between_threads(monkeypatch):
    """The reference count, whatever this CPU's probe says: the probe is taken as passed and
    nothing is computed while the permission is on."""
    monkeypatch.setattr(cpu, "onednn_is_exact", lambda: True)
    before = _precision()
    inside = threading.Event()
    leave = threading.Event()

    def worker():
        with cpu.fp32_products(CPU):
            inside.set()
            leave.wait(5)

    t = threading.Thread(target=worker)
    t.start()
    inside.wait(5)
    with cpu.fp32_products(CPU):
        pass  # leaving here must not undo the worker's setting
    during = _precision()
    leave.set()
    t.join()
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


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="needs glibc, whose mallopt takes these settings")
def test_keep_freed_memory_is_set_on_glibc(monkeypatch):
    monkeypatch.delenv("GROK_KEEP_MALLOC", raising=False)
    assert cpu.keep_freed_memory.__wrapped__() is True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the library lookup is Linux-only")
def test_keep_freed_memory_without_glibc_does_nothing(monkeypatch):
    def no_glibc(name):
        raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.delenv("GROK_KEEP_MALLOC", raising=False)
    monkeypatch.setattr(ctypes, "CDLL", no_glibc)
    assert cpu.keep_freed_memory.__wrapped__() is False
