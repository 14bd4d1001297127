"""The kernel threads of one process: a pool per thread count, made once and reused.

The mini-batch trainer and the block scorer run one Python thread per Hogwild thread; their
numba and BLAS work releases the GIL, so the threads run in parallel.
"""

from concurrent.futures import ThreadPoolExecutor

_POOLS: dict[int, ThreadPoolExecutor] = {}


def thread_pool(nthreads: int) -> ThreadPoolExecutor:
    """A process-wide pool of ``nthreads`` kernel threads (made once, reused)."""
    pool = _POOLS.get(nthreads)
    if pool is None:
        pool = _POOLS[nthreads] = ThreadPoolExecutor(nthreads, thread_name_prefix="mpidl-kernel")
    return pool


def run_slices(work, nthreads: int, n: int):
    """``[work(t, lo, hi) for each thread t]`` over ``nthreads`` contiguous slices of
    ``range(n)``, in parallel on the pool (inline when one thread); results in thread order."""
    bounds = [(n * t // nthreads, n * (t + 1) // nthreads) for t in range(nthreads)]
    if nthreads == 1:
        return [work(0, 0, n)]
    pool = thread_pool(nthreads)
    futures = [pool.submit(work, t, lo, hi) for t, (lo, hi) in enumerate(bounds)]
    return [fu.result() for fu in futures]
