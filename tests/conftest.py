"""Shared fixtures: few threads, a fixed seed, and a results store in a temporary folder."""

from __future__ import annotations

import os

import pytest
import torch

from grok_lib.runs.store import Store

# one thread by default: the tests are small, and on a busy machine extra threads mostly spin;
# GROK_TEST_THREADS=2 uses both cores of an idle machine
torch.set_num_threads(int(os.environ.get("GROK_TEST_THREADS", "1")))


@pytest.fixture(autouse=True)
def _seed_and_isolate(monkeypatch, tmp_path):
    """A fixed global seed for every test, and a default store that can only be tmp_path."""
    torch.manual_seed(0)
    monkeypatch.setenv("GROK_RESULTS", str(tmp_path / "default-store"))


@pytest.fixture
def tmp_store(tmp_path) -> Store:
    """An empty results store under the test's temporary folder."""
    return Store(tmp_path / "store")
