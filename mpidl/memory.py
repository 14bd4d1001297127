"""Resident memory of this process (Linux /proc and getrusage), for the per-rank memory report."""

from __future__ import annotations

import os
import resource


def current_rss_bytes() -> int:
    """Resident set size now, in bytes (0 where /proc is missing)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def peak_rss_bytes() -> int:
    """High-water mark of the resident set size of this process, in bytes."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def return_freed_memory_promptly() -> None:
    """Have glibc give every large freed block straight back to the system.

    Column arrays of a few hundred KB are freed one by one while a shard is converted; by
    default glibc raises its mmap threshold after the first such free and then keeps the rest
    in its heap, so the raw and the converted shard would both stay resident.  A fixed
    threshold (M_MMAP_THRESHOLD = 128 KiB) keeps the peak near the larger of the two.  No-op
    where glibc is absent.
    """
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 128 * 1024)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        pass
