"""A frame to read from: an mpidl HDF5 table, or a CSV file parsed in memory on the fly.

Both give the same two things: ``info`` (a :class:`TableInfo`) and ``read(names, start, stop)``
returning raw columns (float64 numerics with NaN, int32 categorical codes with -1), and
``bytes_read``: the bytes read from the file so far (counted at the reads themselves).
"""

from __future__ import annotations

import os

import numpy as np

from ..errors import UserError
from .counted import ReadCount
from .hdf5 import ColumnInfo, TableInfo, read_columns, read_info
from .stream import is_stream

_H5_SUFFIXES = (".h5", ".hdf5", ".hdf")


class Frame:
    """Row-range reader over one table; ``path`` is .h5 or any CSV the importer reads.

    ``ranks``: how many processes open this frame; a pipe or FIFO can feed only one of them.
    """

    def __init__(self, path: str, ranks: int = 1):
        self.path = str(path)
        if not os.path.exists(self.path):
            raise UserError(f"{self.path}: no such file")
        if ranks > 1 and is_stream(self.path):
            raise UserError(f"{self.path}: a pipe or FIFO can feed one process, not {ranks} "
                            f"ranks; import it first (python -m mpidl import ... -o FILE.h5)")
        self._mem = None
        self._count = ReadCount()
        self.notes: list[str] = []   # the importer's lines about odd tokens (CSV only)
        # numeric columns read from a table: {name: (stored dtype, missing marker or None)}
        self.stored_types: dict[str, tuple] = {}
        if self.path.lower().endswith(_H5_SUFFIXES):
            self.info = read_info(self.path, self._count)
        else:
            from .importer import read_csv
            cols, domains = read_csv(self.path, notes=self.notes, count=self._count)
            self._mem = cols
            nrows = len(next(iter(cols.values()))) if cols else 0
            self.info = TableInfo(
                path=self.path, nrows=nrows,
                columns=tuple(ColumnInfo(n, "categorical" if n in domains else "numeric",
                                         tuple(domains[n]) if n in domains else None)
                              for n in cols))

    @property
    def nrows(self) -> int:
        return self.info.nrows

    @property
    def in_memory(self) -> bool:
        """Whether the rows are already in memory (a CSV parsed on opening), not read later."""
        return self._mem is not None

    @property
    def bytes_read(self) -> int:
        """Bytes read from the file so far (a CSV is read whole, once)."""
        return self._count.bytes

    def read(self, names, start: int = 0, stop: int | None = None) -> dict[str, np.ndarray]:
        """Columns ``names`` for rows [start, stop); only that range is read from disk."""
        if self._mem is None:
            return read_columns(self.path, list(names), start, stop, self._count,
                                self.stored_types)
        return {n: self._mem[n][start:stop] for n in names}
