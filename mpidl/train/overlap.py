"""averaging_overlap (issue 16 point 5): model averaging that does not stall training.

Delayed averaging, as DaSGD (Zhou et al. 2020, arXiv:2006.00441) and Overlap Local-SGD
(Wang et al. 2020, arXiv:2002.09539) do it, with a delay of one iteration.  At the end of
iteration k every rank copies its model into ``snapshot`` and starts a non-blocking allreduce
(``comm.iallreduce_model``) of it; it trains iteration k+1 on its own model while the sum is in
flight; at the end of k+1 it waits for the sum and folds it in with the progress it made
meanwhile::

    local <- mean_i(snapshot_i) + (local - snapshot)          (kernels/fold.py)

then starts the next one.  Every iteration's local models are averaged exactly once, as with
blocking averaging, one iteration late.  The optimizer's running means of squares (ADADELTA's
two slots, Adam's second) are kept >= 0 after the fold: adding another rank's difference can
take them below zero, and a negative mean would be a NaN step.

Elastic averaging overlaps the same way, and more naturally: its local models are never
replaced, so the delayed mean of the snapshots only moves the consensus
(``averaging.move_consensus``), one iteration late (EASGD's asynchronous form).

``finish_average`` waits for the sum in flight and folds it in; the loop calls it before
anything that must see one model on every rank (scoring, a checkpoint, a signal exit, the
end): after it the ranks' models are equal (the fold of a sum started with no training since is the mean itself).
The small allreduce of the iteration's counts and the control broadcast stay blocking, so the
ranks stay in step.
"""

from __future__ import annotations

import numpy as np

from ..kernels.codes import OPT_ADADELTA, OPT_ADAM
from ..kernels.fold import fold_delayed_average
from .averaging import ModelCopies, move_consensus


def nonnegative_from(model) -> int:
    """Index of the model buffer from which every element is a running mean of squares
    (``model/network.py``'s slots: ADADELTA's E[g^2] and E[dx^2], Adam's mean squared
    gradient); the buffer's length when the optimizer keeps none."""
    n = model.layout.n_params
    start = {OPT_ADADELTA: n, OPT_ADAM: 2 * n}.get(model.optimizer_code())
    return model.buf.shape[0] if start is None else start


class OverlapCopies(ModelCopies):
    """``ModelCopies`` whose ``combine`` starts the iteration's average without waiting for it
    and folds in the previous one (see the module docstring).  Buffers: ``snapshot`` (what
    this rank sent), ``summed`` (the sum over ranks arriving), each like the model buffer."""

    def __init__(self, model, comm):
        super().__init__(model, comm)
        self.snapshot = np.empty_like(self.local)
        self.summed = np.empty_like(self.local)
        self.nothing = None              # zeros sent by a rank that trained no row
        self.pending = None              # the request of the sum in flight, or None
        self.contributors = 0            # ranks in that sum
        self.nonnegative_from = nonnegative_from(model)
        tiny = np.zeros(1, dtype=self.local.dtype)   # the kernel compiled (or loaded) now,
        fold_delayed_average(tiny, tiny, tiny, tiny.dtype.type(1), 1)   # not in iteration 1

    def combine(self, n_local: int, contributors: int) -> None:
        """Fold in the previous iteration's average, then start this one's (collectives)."""
        self.finish_average()
        if contributors == 0:
            return
        self.snapshot[:] = self.local
        send = self.snapshot
        if n_local == 0:
            if self.nothing is None:
                self.nothing = np.zeros_like(self.local)
            send = self.nothing
        self.pending = self.comm.iallreduce_model(send, self.summed)
        self.contributors = contributors

    def finish_average(self) -> None:
        """Wait for the average in flight, if any, and fold it in."""
        if self.pending is None:
            return
        self.pending.wait()
        self.pending = None
        if self.elastic:
            self.summed /= self.contributors
            move_consensus(self.center, self.summed, self.beta, self.first)
            self.first = False
        else:
            fold_delayed_average(self.local, self.snapshot, self.summed,
                                 self.local.dtype.type(self.contributors), self.nonnegative_from)

