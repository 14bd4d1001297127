"""A read-only file for h5py's file-object driver that counts the bytes it reads.

Every byte the HDF5 library reads from a table (superblock, object headers, chunk indexes,
chunks) passes through ``readinto`` here, one unbuffered ``read`` system call each, so
``ReadCount.bytes`` is what the process read from the file: the figure a run reports as
"data read".
"""

from __future__ import annotations

from ..rawfile import RawFile


class ReadCount:
    """Bytes read so far from the files opened with this count (``bytes``: int)."""

    def __init__(self):
        self.bytes = 0


class CountedFile(RawFile):
    """``path`` opened read-only and unbuffered; each read adds its length to ``count``."""

    def __init__(self, path: str, count: ReadCount):
        super().__init__(path, "rb")
        self._count = count

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
