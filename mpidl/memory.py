"""Memory of this process: resident size (Linux /proc and getrusage; PSS and shared pages
from smaps_rollup) for the per-rank memory report, and the one rule for allocations sized by user data (``require``): checked against the
memory this rank may use before they are made, the message naming what sized them."""

from __future__ import annotations

import os
import resource

from .errors import UserError


def current_rss_bytes() -> int:
    """Resident set size now, in bytes (0 where /proc is missing)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def resident_split_bytes() -> tuple[int, int, int]:
    """(RSS, PSS, shared) of this process now, in bytes, from ``/proc/self/smaps_rollup``
    (zeros where it is missing).  PSS counts each page shared by k processes as 1/k, so the
    PSS of a node's ranks adds up to the node's memory; shared is the resident pages that
    other processes map too (Shared_Clean + Shared_Dirty), e.g. the node's training rows."""
    fields = {}
    try:
        with open("/proc/self/smaps_rollup") as f:
            for line in f:
                key, _, rest = line.partition(":")
                parts = rest.split()
                if len(parts) == 2 and parts[1] == "kB":
                    fields[key] = int(parts[0]) * 1024
    except (OSError, ValueError):
        return 0, 0, 0
    return (fields.get("Rss", 0), fields.get("Pss", 0),
            fields.get("Shared_Clean", 0) + fields.get("Shared_Dirty", 0))


def peak_rss_bytes() -> int:
    """High-water mark of the resident set size of this process, in bytes: ``VmHWM`` of
    ``/proc/self/status``, the high-water mark of this program's own memory.  getrusage's
    ``ru_maxrss`` (used only where /proc is missing) also counts the process that started
    this one: Linux carries the parent's resident size across a vfork + exec, so a rank
    started from a 1.5 GB Python process reported a 1.5 GB peak."""
    hwm = _kib_field("/proc/self/status", "VmHWM")
    return hwm if hwm is not None else int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def _kib_field(path: str, key: str) -> int | None:
    """Bytes of the ``key:  N kB`` line of a /proc file; None where it is missing."""
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


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


_SUFFIXES = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def _meminfo_available() -> int | None:
    return _kib_field("/proc/meminfo", "MemAvailable")


def _cgroup_room() -> int | None:
    """Bytes left under this process's cgroup memory limit (v2, then v1); None if unlimited."""
    for limit_file, usage_file in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                   ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                                    "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            with open(limit_file) as f:
                limit = f.read().strip()
            with open(usage_file) as f:
                usage = int(f.read().strip())
        except (OSError, ValueError):
            continue
        if limit.isdigit() and int(limit) < 2**60:
            return max(0, int(limit) - usage)
    return None


def memory_limit_setting() -> int | None:
    """``MPIDL_MEMORY_LIMIT`` (bytes this rank may use, suffix K/M/G/T allowed), or None."""
    raw = os.environ.get("MPIDL_MEMORY_LIMIT", "").strip()
    if not raw:
        return None
    number, suffix = raw[:-1], raw[-1].upper()
    if suffix not in _SUFFIXES:
        number, suffix = raw, ""
    try:
        value = float(number) * _SUFFIXES[suffix]
    except ValueError:
        value = -1.0
    if not value > 0:
        raise UserError(f"MPIDL_MEMORY_LIMIT={raw!r}: expected bytes > 0 (e.g. 8G, 512M)")
    return int(value)


def available_bytes(ranks_on_node: int = 1) -> int | None:
    """Bytes this rank may still allocate: the node's MemAvailable, capped by the cgroup
    limit, shared by ``ranks_on_node`` ranks, and by ``MPIDL_MEMORY_LIMIT`` less what this
    process holds; None when nothing is known."""
    known = [b for b in (_meminfo_available(), _cgroup_room()) if b is not None]
    room = min(known) // max(1, ranks_on_node) if known else None
    setting = memory_limit_setting()
    if setting is not None:
        own = max(0, setting - current_rss_bytes())
        room = own if room is None else min(room, own)
    return room


def human_bytes(n: float) -> str:
    """``n`` bytes as 1.5 GB (powers of 1024)."""
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1024 or unit == "PB":
            return f"{n:.3g} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.3g} PB"


def require(nbytes: int, what: str, ranks_on_node: int = 1) -> None:
    """The one rule for allocations sized by user data: before making one of ``nbytes``,
    a UserError ``what: needs X, more than the Y this rank may use`` when it cannot fit
    (``what`` names the parameter or column that sized it)."""
    room = available_bytes(ranks_on_node)
    if room is not None and nbytes > room:
        raise UserError(f"{what} needs {human_bytes(nbytes)} of memory, more than the "
                        f"{human_bytes(room)} this rank may use (MPIDL_MEMORY_LIMIT, or the "
                        "node's available memory shared by its ranks)")
