"""The process's C heap (glibc's allocator): give freed pages back, or keep them for reuse.

Both are no-ops where the C library is not glibc (macOS, Windows, musl).
"""

from __future__ import annotations

import functools
import os

__all__ = ["give_back_freed_memory", "reuse_freed_memory"]

#: glibc ``mallopt`` parameters, and what :func:`reuse_freed_memory` sets them to.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD, _TRIM_THRESHOLD = 32 << 20, 64 << 20


@functools.cache
def _glibc():
    """glibc through ctypes, or None."""
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None
    except OSError:
        return None


def give_back_freed_memory() -> None:
    """Return the C heap's free pages to the system (glibc ``malloc_trim``).

    Freed temporaries stay in the allocator's arenas (TensorFlow's threads have their own) and count
    in the process's resident memory; on a 24-hour recording that is ~0.1 GB.
    """
    if (libc := _glibc()) is not None:
        libc.malloc_trim(0)


@functools.cache
def reuse_freed_memory() -> bool:
    """Let this process's C heap keep freed blocks for reuse, where the environment forbids it (once).

    Returns whether it changed the allocator's settings (only where ``MALLOC_TRIM_THRESHOLD_`` is set
    and the C library is glibc).

    A dask nanny starts its workers with ``MALLOC_TRIM_THRESHOLD_=65536``, which also turns off glibc's
    growing mmap threshold: every array above 128 kB is then mapped and unmapped, page faults and all,
    for every file. Arrays up to 32 MiB (a 30-min recording's) come from the heap again; a 24-hour
    recording's larger ones are still mapped.
    """
    if "MALLOC_TRIM_THRESHOLD_" not in os.environ or (libc := _glibc()) is None:
        return False
    took = [libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD), libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)]
    return all(t == 1 for t in took)  # mallopt returns 1 where it took the value
