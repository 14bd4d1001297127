"""The plain unbuffered file that h5py's file-object driver reads and writes through, for the
wrappers that watch what passes (``data/counted.py`` counts reads, ``atomic.py`` keeps the
first failed write)."""

from __future__ import annotations

import io


class RawFile(io.RawIOBase):
    """``path`` opened unbuffered (``mode`` "rb" or "r+b"), seekable, each call passed on."""

    def __init__(self, path: str, mode: str):
        super().__init__()
        self._raw = io.FileIO(path, mode)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, pos: int, whence: int = 0) -> int:
        return self._raw.seek(pos, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def readinto(self, buffer) -> int:
        return self._raw.readinto(buffer)

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()
