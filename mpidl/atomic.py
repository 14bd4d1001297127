"""Write a file atomically: to a temporary name in the target's folder, then ``os.replace``."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager

from .errors import UserError


@contextmanager
def atomic_path(path: str):
    """Yield a temporary path to write; on success it becomes ``path``, on any error it is removed."""
    path = os.path.abspath(path)
    d = os.path.dirname(path)
    try:
        os.makedirs(d, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".", suffix=".tmp", dir=d)
        os.close(fd)
    except OSError as e:
        raise UserError(f"{path}: cannot write ({e.strerror})") from None
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
