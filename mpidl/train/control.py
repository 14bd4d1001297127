"""The training control record: everything that changes during training and feeds the kernels
or the loop, built by rank 0 and broadcast before every iteration.

Per-rank state is only the model copy (weights and optimizer state) and the data shard.  What
the kernels read besides the parameters -- the Huber delta, the sample counter that drives rate
annealing and the momentum ramp -- and what the loop acts on -- the next iteration's rows, the
decision -- come from this one record, so every rank trains the same objective by construction
(also after a restart: rank 0's checkpoint values are broadcast like any other).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Control:
    """Rank 0's record for the next step (broadcast; a small pickled message).

    action: "continue", "stop", "signal" or "diverged"; tspi: global rows of the next
    iteration; huber_delta: the Huber loss's delta in training (standardized) units;
    processed: rows trained before the next iteration, all ranks (the kernels' clock for rate
    annealing and the momentum ramp); scoring_seconds: rank 0's scoring in the last iteration;
    checkpoint: write a periodic checkpoint now (a collective: the ranks' local models).
    """

    action: str
    tspi: int
    huber_delta: float
    processed: int
    reason: str = ""
    scoring_seconds: float = 0.0
    checkpoint: bool = False

    def kernel_hyper(self, model) -> np.ndarray:
        """float64[HP_SIZE]: the training kernels' hyper-parameters for the next iteration."""
        return model.hyper(self.huber_delta, self.processed)


def initial_control(model, tspi: int) -> Control:
    """Rank 0's record before the first iteration (fresh: delta 1; restart: the checkpoint's)."""
    return Control("continue", int(tspi), float(model.huber_delta), int(model.processed))


def share(comm, control: Control | str | None) -> Control | str:
    """Rank 0's ``control`` on every rank (a collective; other ranks pass None); a str is the
    verdict "score", sent before the record (``RootState.verdict``)."""
    return comm.bcast_obj(control if comm.is_root else None)
