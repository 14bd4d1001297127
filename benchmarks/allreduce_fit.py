"""Shared-memory alpha-beta of this machine for the scaling model (``mpidl/netmodel.py``'s
``shm``): times ``comm.allreduce_sum`` of float32 buffers from 8 bytes to 32 MB on 2 ranks
(best of 7 each, slowest rank) and fits the 2-rank Rabenseifner cost ``2 alpha + n beta``
(the reduction folded into beta) by least squares on the large messages, and alpha on the
small ones (recursive doubling: ``alpha + n beta``).

    mpirun -n 2 python benchmarks/allreduce_fit.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mpidl.comm import world  # noqa: E402

SIZES = [2, 16, 128, 512, 4096, 65536, 1 << 20, 4 << 20, 8 << 20]   # float32 elements


def best_seconds(comm, n: int, tries: int = 7) -> float:
    """Fastest of ``tries`` allreduces of ``n`` float32 (the slowest rank's time)."""
    buf = np.zeros(n, np.float32)
    times = []
    for _ in range(tries):
        comm.barrier()
        t0 = time.perf_counter()
        comm.allreduce_sum(buf)
        times.append(time.perf_counter() - t0)
    return float(comm.allreduce_max(np.array([min(times)]))[0])


def main() -> None:
    comm = world()
    points = [(4 * n, best_seconds(comm, n)) for n in SIZES]
    if not comm.is_root:
        return
    small = [t for b, t in points if b <= 2048]
    big = np.array([(b, t) for b, t in points if b > 2048])
    beta, intercept = np.polyfit(big[:, 0], big[:, 1], 1)
    alpha = float(np.median(small))
    for b, t in points:
        print(f"{b:>10} bytes  {1e6 * t:10.1f} us")
    print(f"alpha {alpha:.2e} s, beta {beta:.2e} s/byte (fit intercept {intercept:.2e} s)")


if __name__ == "__main__":
    main()
