"""The C-heap helpers (ecg_core.memory): glibc found where it is the C library, and the heap settings changed
only under dask's environment."""

from __future__ import annotations

import platform

import pytest

from ecg_core import memory

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not GLIBC, reason="glibc only")
def test_glibc_is_found_on_a_glibc_system():
    # were it not, the 24-hour path would keep ~0.1 GB of freed pages and dask workers would map every array
    assert memory._glibc() is not None
    memory.give_back_freed_memory()


def test_the_heap_settings_change_only_under_dask_s_environment(monkeypatch):
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    memory.reuse_freed_memory.cache_clear()
    try:
        assert memory.reuse_freed_memory() is False  # a plain process keeps glibc's own settings
        memory.reuse_freed_memory.cache_clear()
        monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")  # as a dask nanny starts its workers
        assert memory.reuse_freed_memory() is GLIBC  # glibc took both values
    finally:
        memory.reuse_freed_memory.cache_clear()
