"""Write a file atomically: to a temporary file beside the target, then ``os.replace``.

Whatever happens, the target is either its old self or the complete new file:
- the destination is checked first (``destination.check_destination``), and temporary files
  that killed writes to it left behind are removed;
- the file is created with mode 0666 less the umask (as ``open`` does);
- SIGTERM, SIGINT, SIGHUP and SIGUSR1 arriving during the write are held until the file is
  complete and renamed (or removed), then delivered to whatever handler was there before;
  for a long write (``interruptible``) they end it instead: the temporary file is removed,
  then the signal is delivered;
- any OSError while writing (a full disk, a file size limit, a quota) removes the temporary
  file and becomes one UserError naming the target;
- HDF5 files are written through ``_RecordingFile``: the HDF5 library never sees a failed
  write (it cannot close a file it failed to flush, and its handles then crash the process at
  exit); the first failure is kept and raised once HDF5 has closed the file.
"""

from __future__ import annotations

import errno
import os
import signal
import threading
from contextlib import contextmanager

from .destination import check_destination, create_empty, reason, remove_stale_temps, temp_name
from .errors import UserError
from .rawfile import RawFile

os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")
import h5py  # noqa: E402

_HELD_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1)


@contextmanager
def atomic_path(path, inputs=(), interruptible: bool = False):
    """Yield a temporary path to write; on success it becomes ``path``, on any error it is removed.

    ``inputs``: paths the command reads, which ``path`` must not be.  An OSError inside the
    block (or in the rename) becomes a UserError naming ``path``.  ``interruptible``: for a
    long write (an import: a minute for 3 GB), a signal ends the write at once (the
    temporary file removed) and is then delivered, instead of being held until the end.
    """
    dest = check_destination(path, inputs)
    remove_stale_temps(dest)
    tmp = temp_name(dest)
    signals = _InterruptingSignals() if interruptible else _HeldSignals()
    with signals, removed_on_error(tmp, path):
        create_empty(tmp)
        yield tmp
        os.replace(tmp, dest)


@contextmanager
def removed_on_error(tmp, path):
    """On any error in the block remove the file ``tmp`` (if there); an OSError becomes a
    UserError naming ``path``, the file the user asked for."""
    try:
        yield
    except BaseException as e:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        if isinstance(e, OSError):
            raise UserError(f"{os.fspath(path)}: cannot write ({reason(e)})") from None
        raise


@contextmanager
def atomic_h5(path, inputs=(), **h5_options):
    """Yield an ``h5py.File`` open for writing; on success the file becomes ``path``.

    Same guarantees as ``atomic_path``; ``h5_options`` go to ``h5py.File`` (e.g. ``libver``).
    """
    with atomic_path(path, inputs) as tmp:
        sink = _RecordingFile(tmp)
        try:
            with h5py.File(sink, "w", **h5_options) as f:
                yield f
        finally:
            sink.close()
        if sink.error is not None:
            raise sink.error


@contextmanager
def recording_h5(path, mode: str, **h5_options):
    """Yield an ``h5py.File`` on the existing file ``path`` (a temporary file of ``atomic_path``)
    written through ``_RecordingFile``; its first failed write is raised (the OSError) once
    HDF5 has closed the file."""
    sink = _RecordingFile(path)
    try:
        with h5py.File(sink, mode, **h5_options) as f:
            yield f
    finally:
        sink.close()
    if sink.error is not None:
        raise sink.error


class _RecordingFile(RawFile):
    """A file for h5py's file-object driver whose writes never fail: the first OSError is
    kept in ``error`` and every later write or resize is dropped (the file is thrown away)."""

    def __init__(self, path: str):
        super().__init__(path, "r+b")
        self.error: OSError | None = None

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        view = memoryview(data).cast("B")
        done = 0
        try:
            while self.error is None and done < len(view):
                n = self._raw.write(view[done:])
                if not n:
                    raise OSError(errno.EIO, "the write made no progress")
                done += n
        except OSError as e:
            self.error = e
        return len(view)

    def truncate(self, size: int | None = None) -> int:
        if self.error is None:
            try:
                return self._raw.truncate(size)
            except OSError as e:
                self.error = e
        return self.tell() if size is None else size

    def flush(self) -> None:
        """Nothing is buffered here."""


class _Interrupted(KeyboardInterrupt):
    """A signal that ends an interruptible write (``signum``: which)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


class _WriteSignals:
    """SIGTERM / SIGINT / SIGHUP / SIGUSR1 handled by ``_handle`` for the duration of a write
    (main thread only); on the way out the old handlers are put back and the signals in
    ``_arrived`` delivered to them."""

    def __init__(self):
        self._old: dict[int, object] = {}
        self._arrived: list[int] = []

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for s in _HELD_SIGNALS:
                self._old[s] = signal.signal(s, self._handle)
        return self

    def _handle(self, signum, frame):
        raise NotImplementedError

    def __exit__(self, *exc):
        for s, handler in self._old.items():
            signal.signal(s, handler if handler is not None else signal.SIG_DFL)
        for s in self._arrived:
            signal.raise_signal(s)


class _HeldSignals(_WriteSignals):
    """Hold the signals until the write is complete, then deliver them."""

    def _handle(self, signum, frame):
        if signum not in self._arrived:
            self._arrived.append(signum)


class _InterruptingSignals(_WriteSignals):
    """End the write at the first signal (``_Interrupted``), then deliver it."""

    def _handle(self, signum, frame):
        self._arrived.append(signum)
        raise _Interrupted(signum)
