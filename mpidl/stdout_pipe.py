"""A closed stdout (``mpidl train job.toml | head -1``) ends the output, not the work.

Unix tools die quietly when their reader goes away; a training run should not lose its model
for it.  ``guard_stdout`` wraps ``sys.stdout`` so that the first BrokenPipeError points the
stream at /dev/null: nothing more is printed, no message, and the command finishes its work
(the model or predictions are written) with its usual exit code.
"""

from __future__ import annotations

import os
import sys


class _PipeSafeStream:
    """A text stream whose writes and flushes go to /dev/null once its reader has gone."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._to_devnull()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._to_devnull()

    def _to_devnull(self) -> None:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, self._stream.fileno())
        os.close(devnull)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def guard_stdout() -> None:
    """Make ``sys.stdout`` survive a closed pipe (idempotent)."""
    if not isinstance(sys.stdout, _PipeSafeStream) and sys.stdout is not None:
        sys.stdout = _PipeSafeStream(sys.stdout)
