"""Where an iteration's seconds go (issue 16 point 1): compute, waiting for other ranks, the
model allreduce, scoring and checkpointing, summed on rank 0 since the last scoring-history row
and written into the next one (``*_seconds`` columns), so any run is a data point of a scaling
study.

Waiting is the one figure that needs the other ranks: each rank puts, in slots of its own, the
seconds from the start of its train step until its share was trained (``ready``) and until it
stopped training (``done``: ``ready`` plus the rows train_while_waiting added) into the
iteration's small allreduce (``averaging.iteration_counts``), which sums them; every other
rank's slots are 0 there, so the sum is every rank's value.  Ranks start an iteration together
(they leave the broadcast of the control record), so the longest any rank waited for the
slowest is ``max(ready) - min(done)``.
"""

from __future__ import annotations

import numpy as np

PHASES = ("compute", "wait", "allreduce", "scoring", "checkpoint")


def wait_slots(rank: int, size: int, ready: float, done: float) -> np.ndarray:
    """float64[2 * size]: this rank's ``ready`` and ``done`` seconds in its own slots (rank,
    size + rank), zeros elsewhere, to be summed over the ranks."""
    slots = np.zeros(2 * size, dtype=np.float64)
    slots[rank], slots[size + rank] = ready, done
    return slots


def max_wait(summed: np.ndarray) -> float:
    """Seconds the rank that waited longest waited for the slowest, from the summed
    ``wait_slots`` of every rank (0 on one rank or when none waited)."""
    size = summed.shape[0] // 2
    return float(max(0.0, summed[:size].max() - summed[size:].min()))


class PhaseSeconds:
    """Rank 0's seconds per phase since the last scoring-history row."""

    def __init__(self):
        self.seconds = dict.fromkeys(PHASES, 0.0)

    def add(self, phase: str, seconds: float) -> None:
        self.seconds[phase] += seconds

    def take(self) -> dict:
        """The row's columns ``{phase}_seconds`` (rounded to microseconds); starts again."""
        row = {f"{k}_seconds": round(v, 6) for k, v in self.seconds.items()}
        self.seconds = dict.fromkeys(PHASES, 0.0)
        return row
