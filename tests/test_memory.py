"""The C-heap helpers (ecg_core.memory): glibc found where it is the C library, and both calls safe."""

from __future__ import annotations

import platform

import pytest

from ecg_core import memory


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_glibc_is_found_on_a_glibc_system():
    # were it not, the 24-hour path would keep ~0.1 GB of freed pages and dask workers would map every array
    assert memory._glibc() is not None


def test_the_helpers_run_with_and_without_dask_s_environment(monkeypatch):
    memory.give_back_freed_memory()
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    memory.reuse_freed_memory.cache_clear()
    memory.reuse_freed_memory()
    memory.reuse_freed_memory.cache_clear()
