"""One call of the Hogwild training kernels on a rank's model copy: the seeds of its threads
and the kernel chosen by the parameters (online, or mini-batch when mini_batch_size > 1).
The training loop (``train/loop.py``) calls it for an iteration's rows, its calibration and
the rows trained while waiting; tests replace ``train_rows`` to slow a rank or count rows.
"""

from __future__ import annotations

import numpy as np

from ..data.shard_numerics import kernel_numerics


def thread_seeds(seed: int, iteration: int, rank: int, threads: int, part: int = 0) -> np.ndarray:
    """One int64 seed per Hogwild thread for (seed, iteration, rank); ``part`` > 0 numbers the
    kernel calls that train while waiting, so each gets streams of its own."""
    key = [seed & (2**63 - 1), iteration, rank] + ([part] if part else [])
    return np.random.SeedSequence(key).generate_state(threads, np.uint64).view(np.int64)


def train_rows(model, buf, center, shard, order, threads, seeds, hp):
    """Run the Hogwild kernel (online, or mini-batch when mini_batch_size > 1) over ``order``
    with the hyper-parameters ``hp`` (``Control.kernel_hyper``); returns rows processed."""
    from ..kernels.bundles import Net, Objective, Rows
    from ..kernels.online import train_chunk, train_hogwild
    objective = Objective(model.loss_code(), model.optimizer_code(), hp, model.sparsity_state())
    nums = kernel_numerics(shard.nums)
    rows = Rows(nums, shard.cats, shard.y) if shard.off is None else \
        Rows(nums, shard.cats, shard.y, shard.off)
    args = (Net(*model.net_args()), objective, buf, center, rows, order)
    batch = int(model.params.mini_batch_size)
    if batch > 1:
        from ..kernels.minibatch import train_minibatch
        return int(train_minibatch(*args, batch, threads, seeds))
    if threads == 1:
        return int(train_chunk(*args, 0, order.shape[0], seeds[0], 1))
    return int(train_hogwild(*args, threads, seeds))
