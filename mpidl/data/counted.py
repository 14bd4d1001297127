"""A read-only file for h5py's file-object driver that counts the bytes it reads.

Every byte the HDF5 library reads from a table (superblock, object headers, chunk indexes,
chunks) passes through ``readinto`` here, one unbuffered ``read`` system call each, so
``ReadCount.bytes`` is what the process read from the file: the figure a run reports as
"data read".
"""

from __future__ import annotations

import io


class ReadCount:
    """Bytes read so far from the files opened with this count (``bytes``: int)."""

    def __init__(self):
        self.bytes = 0


class CountedFile(io.RawIOBase):
    """``path`` opened read-only and unbuffered; each read adds its length to ``count``."""

    def __init__(self, path: str, count: ReadCount):
        super().__init__()
        self._raw = io.FileIO(path, "rb")
        self._count = count

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, pos: int, whence: int = 0) -> int:
        return self._raw.seek(pos, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def readinto(self, buffer) -> int:
        view = memoryview(buffer).cast("B")
        done = 0
        while done < len(view):
            n = self._raw.readinto(view[done:])
            if not n:
                break
            done += n
        self._count.bytes += done
        return done

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()
