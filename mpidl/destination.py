"""Where an output may go: the one rule for "can this destination be written", and the names of
the temporary files that atomic writes (``atomic.py``) use beside it.

A destination is writable when it is not a folder or some other non-regular file, its folder
already exists (mpidl never creates folders, as H2O's ``export_file`` does not), it is not also
an input of the same command, and a file can really be created in its folder (a probe file is
made and removed: permission bits say nothing for root, nor for /proc or a read-only mount).

Temporary files are named ``.BASE.tmp-HOST-PID-HEX12`` in the destination's folder, so a later
write to the same destination can tell which ones a killed run left behind (its host, a pid
that no longer runs) and remove them, never touching a live writer's file or anything else.
"""

from __future__ import annotations

import os
import re
import socket
import uuid

from .errors import UserError


def temp_name(dest: str) -> str:
    """A fresh temporary path beside the absolute path ``dest`` (same folder: rename is atomic)."""
    folder, base = os.path.split(dest)
    return os.path.join(folder, f".{base}.tmp-{socket.gethostname()}-{os.getpid()}-"
                                f"{uuid.uuid4().hex[:12]}")


def create_empty(path: str) -> None:
    """Create the empty file ``path`` (never an existing one), mode 0666 less the umask."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))


def check_destination(path, inputs=()) -> str:
    """The absolute path of the output ``path``; UserError naming it unless it can be written.

    ``inputs``: the paths this command reads (None entries ignored); writing onto one of them
    is refused.
    """
    shown = os.fspath(path)
    dest = os.path.abspath(shown)
    folder = os.path.dirname(dest)
    if os.path.isdir(dest):
        raise UserError(f"{shown}: is a folder (give a file name to write)")
    if os.path.lexists(dest) and not os.path.isfile(dest):
        raise UserError(f"{shown}: exists and is not a regular file")
    if not os.path.lexists(folder):
        raise UserError(f"{shown}: folder {folder} does not exist (create it first)")
    if not os.path.isdir(folder):
        raise UserError(f"{shown}: {folder} is not a folder")
    for src in inputs:
        if src is not None and os.path.isfile(dest) and os.path.exists(src) \
                and os.path.samefile(dest, src):
            raise UserError(f"{shown}: is also an input of this command (write elsewhere)")
    probe = temp_name(dest)
    try:
        create_empty(probe)
        os.unlink(probe)
    except OSError as e:
        raise UserError(f"{shown}: cannot write in {folder} ({reason(e)})") from None
    return dest


def reason(err: BaseException) -> str:
    """One line saying why an OS call failed (the errno's text when there is one)."""
    text = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
    return " ".join(text.split()) or type(err).__name__


def remove_stale_temps(dest: str) -> list[str]:
    """Remove the temporary files that killed writes to the absolute path ``dest`` left behind.

    Only names of ``temp_name``'s pattern for ``dest``, from this host, whose pid no longer
    runs; returns the paths removed.
    """
    folder, base = os.path.split(dest)
    pattern = re.compile(r"\." + re.escape(base) + r"\.tmp-(?P<host>.+)-(?P<pid>\d+)-[0-9a-f]{12}")
    host = socket.gethostname()
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        m = pattern.fullmatch(name)
        if m and m["host"] == host and not _running(int(m["pid"])):
            try:
                os.unlink(os.path.join(folder, name))
                removed.append(os.path.join(folder, name))
            except OSError:
                pass
    return removed


def _running(pid: int) -> bool:
    """Whether a process ``pid`` exists on this host (one we may not signal counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
