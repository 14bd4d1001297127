"""Reading a non-seekable input (pipe, FIFO, ``/dev/stdin``, bash's ``<(...)``) exactly once.

Such an input has no second pass: a reader that sniffs a few bytes with one ``open`` and reads
the data with another loses whatever the first buffered.  ``read_stream`` takes it all in one
read.  A named FIFO that no process ever opens for writing would block ``open`` forever, so
the FIFO is opened without blocking and the first byte (or end of file) is waited for at most
``MPIDL_PIPE_WAIT`` seconds (environment variable, default 60); then the read is refused with
one line naming the path.
"""

from __future__ import annotations

import os
import re
import select

from ..errors import UserError

DEFAULT_WAIT_SECONDS = 60.0
_FD_PATH = re.compile(r"/(?:dev|proc/self)/fd/(\d+)\Z")


def is_stream(path: str) -> bool:
    """Whether ``path`` exists and is neither a regular file nor a directory (readable once)."""
    return os.path.exists(path) and not os.path.isfile(path) and not os.path.isdir(path)


def wait_seconds() -> float:
    """The first-byte wait from ``MPIDL_PIPE_WAIT`` (seconds > 0); a bad value is a UserError."""
    raw = os.environ.get("MPIDL_PIPE_WAIT", "")
    if not raw:
        return DEFAULT_WAIT_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise UserError(f"MPIDL_PIPE_WAIT={raw!r}: expected a number of seconds > 0")
    return value


def _open_nonblocking(path: str) -> int:
    """A new descriptor for ``path``: a duplicate of this process's own ``/dev/fd/N`` (or
    ``/dev/stdin``) when it names one, so its writer's end of file is seen; else a fresh
    non-blocking open (which does not wait for a FIFO's writer)."""
    fd_path = "/dev/fd/0" if path == "/dev/stdin" else path
    m = _FD_PATH.match(fd_path)
    if m:
        try:
            fd = os.dup(int(m.group(1)))
            os.set_blocking(fd, False)
            return fd
        except OSError:
            pass
    return os.open(path, os.O_RDONLY | os.O_NONBLOCK)


def read_stream(path: str) -> bytes:
    """All bytes of the non-seekable input ``path``, read once; UserError naming ``path`` when
    nothing (not even end of file) arrives within ``wait_seconds()``."""
    wait = wait_seconds()
    fd = _open_nonblocking(path)
    try:
        ready, _, _ = select.select([fd], [], [], wait)
        if not ready:
            raise UserError(f"{path}: nothing written within {wait:g} s (a FIFO without a "
                            "writer?); set MPIDL_PIPE_WAIT=SECONDS to wait longer")
        os.set_blocking(fd, True)
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    finally:
        os.close(fd)
