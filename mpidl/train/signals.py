"""SIGTERM / SIGUSR1 while training: a flag the loop reads once per iteration.

SLURM sends SIGUSR1 (``--signal``) before a job's time limit and SIGTERM when it ends or
preempts it; either makes every rank stop at the end of the iteration and rank 0 write a
resumable model (``train/loop.py``'s checkpoint step).
"""

from __future__ import annotations

import signal


class SignalFlag:
    """Records SIGTERM / SIGUSR1 so training can stop cleanly at the end of the iteration.

    On leaving, SIGTERM gets its old handler back; SIGUSR1 (SLURM's warning before the time
    limit) is ignored from then on unless something else had claimed it: once training is
    over there is nothing left to checkpoint, and its default action would kill the rank
    while it writes the final model.  A signal caught here is passed on, on leaving, to the
    handler this flag replaced when that is a Python function (an outer flag, such as a grid
    search's around its models), so the outer one learns of it too; a flag entered inside an
    outer one that has caught a signal starts raised."""

    def __init__(self):
        self.raised = False
        self._old = {}
        self._caught = []

    def __enter__(self):
        for s in (signal.SIGTERM, signal.SIGUSR1):
            self._old[s] = signal.signal(s, self._handle)
            outer = getattr(self._old[s], "__self__", None)
            if isinstance(outer, SignalFlag) and outer.raised:
                self.raised = True   # an outer flag's signal came first: act on it at once
        return self

    def _handle(self, signum, frame):
        self.raised = True
        self._caught.append(signum)

    def __exit__(self, *exc):
        for s, h in self._old.items():
            ignore = s == signal.SIGUSR1 and h in (signal.SIG_DFL, None)
            # a handler that does nothing, not SIG_IGN: an ignored signal stays ignored in
            # every process started afterwards (a shell cannot even trap it)
            signal.signal(s, _ignore if ignore else h)
            if s in self._caught and callable(h):
                h(s, None)


def _ignore(signum, frame):
    """A signal handler that does nothing."""
