"""The columnar HDF5 table format: one file holds one table.

Layout (format version 1)::

    /table                      group
        attrs: format  = "mpidl-table"
               version = 1
               nrows   = int         number of rows
               columns = list[str]   real column names, in column order
        c0000, c0001, ...           one 1-D dataset per column, in column order,
                                    keyed by position (names may hold any character)
            numeric:     float64[nrows], NaN = missing
            categorical: int32[nrows] codes into the level names, -1 = missing;
                         attrs: domain = list[str] (level names, code i -> domain[i])
            attrs: name = the real column name (for people browsing with h5dump)

Datasets are chunked by ``CHUNK_ROWS`` rows and not compressed, so that a rank
reading its row range (``ds[start:stop]``, a hyperslab) touches only the chunks it
needs. A column is categorical iff its dataset has a ``domain`` attribute.

Many ranks open the same file read-only at the same time, so HDF5 file locking is
switched off (``HDF5_USE_FILE_LOCKING=FALSE``) before h5py is imported.
"""

from __future__ import annotations

import os

os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")

from dataclasses import dataclass  # noqa: E402

import h5py  # noqa: E402
import numpy as np  # noqa: E402

from mpidl.atomic import atomic_h5  # noqa: E402
from mpidl.errors import UserError  # noqa: E402

GROUP = "table"
FORMAT = "mpidl-table"
VERSION = 1
CHUNK_ROWS = 65536
NUMERIC = "numeric"
CATEGORICAL = "categorical"
_NOT_A_TABLE = "not an mpidl HDF5 table (run 'python -m mpidl import' first)"
# Dense attribute storage (HDF5 >= 1.8 format) lifts the 64 KiB limit on object
# headers, which a domain of a few thousand levels would otherwise exceed.
_LIBVER = ("v108", "latest")


@dataclass(frozen=True)
class ColumnInfo:
    """One column: ``kind`` is "numeric" or "categorical"; ``domain`` holds the level
    names of a categorical column (code i -> domain[i]) and is None for numeric ones."""

    name: str
    kind: str
    domain: tuple[str, ...] | None = None


@dataclass(frozen=True)
class TableInfo:
    """The schema of a table file: its path, row count and columns in order."""

    path: str
    nrows: int
    columns: tuple[ColumnInfo, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def ncols(self) -> int:
        return len(self.columns)

    def column(self, name: str) -> ColumnInfo:
        for c in self.columns:
            if c.name == name:
                return c
        raise UserError(f"{self.path}: no column '{name}'")


def _key(index: int) -> str:
    return f"c{index:04d}"


def block_range(nrows: int, size: int, rank: int) -> tuple[int, int]:
    """Rows [start, stop) of a contiguous balanced split of ``nrows`` over ``size``
    ranks: the first ``nrows % size`` ranks get one row more than the others."""
    if size < 1 or not 0 <= rank < size or nrows < 0:
        raise ValueError(f"block_range: bad nrows={nrows}, size={size}, rank={rank}")
    base, extra = divmod(nrows, size)
    start = rank * base + min(rank, extra)
    return start, start + base + (1 if rank < extra else 0)


def _open_table(path: str) -> tuple[h5py.File, h5py.Group]:
    """Open ``path`` read-only and return (file, table group); UserError if it is not one."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise UserError(f"{path}: no such file")
    if os.path.isdir(path):
        raise UserError(f"{path}: is a directory, not an HDF5 table")
    try:
        f = h5py.File(path, "r")
    except OSError as err:
        if not h5py.is_hdf5(path):
            raise UserError(f"{path}: not an HDF5 file (convert a CSV with "
                            "'python -m mpidl import' first)") from None
        raise UserError(f"{path}: cannot open HDF5 file ({_one_line(err)})") from None
    try:
        group = f.get(GROUP)
        if not isinstance(group, h5py.Group) or "nrows" not in group.attrs \
                or "columns" not in group.attrs:
            raise UserError(f"{path}: {_NOT_A_TABLE}")
        return f, group
    except BaseException:
        f.close()
        raise


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__


def _names(group: h5py.Group) -> list[str]:
    return [_as_str(n) for n in group.attrs["columns"]]


def _as_str(x) -> str:
    return x.decode("utf-8") if isinstance(x, bytes) else str(x)


def _dataset(path: str, group: h5py.Group, index: int) -> h5py.Dataset:
    ds = group.get(_key(index))
    if not isinstance(ds, h5py.Dataset):
        raise UserError(f"{path}: damaged table, column dataset '{_key(index)}' is missing")
    return ds


def read_info(path) -> TableInfo:
    """Read the schema (row count, names, kinds, domains) of the table in ``path``."""
    path = os.fspath(path)
    f, group = _open_table(path)
    with f:
        nrows = int(group.attrs["nrows"])
        cols = []
        for i, name in enumerate(_names(group)):
            ds = _dataset(path, group, i)
            if "domain" in ds.attrs:
                domain = tuple(_as_str(s) for s in ds.attrs["domain"])
                cols.append(ColumnInfo(name, CATEGORICAL, domain))
            else:
                cols.append(ColumnInfo(name, NUMERIC, None))
        return TableInfo(path, nrows, tuple(cols))


def read_columns(path, names, start: int = 0, stop: int | None = None) -> dict[str, np.ndarray]:
    """Read rows [start, stop) of the named columns (a hyperslab read per column).

    Returns {name: float64[stop-start]} for numeric columns (NaN = missing) and
    {name: int32[stop-start]} codes for categorical ones (-1 = missing).
    ``stop=None`` means the last row. An unknown name is a UserError.
    """
    path = os.fspath(path)
    f, group = _open_table(path)
    with f:
        nrows = int(group.attrs["nrows"])
        stop = nrows if stop is None else stop
        if not 0 <= start <= stop <= nrows:
            raise ValueError(f"{path}: bad row range [{start}, {stop}) of {nrows} rows")
        index = {n: i for i, n in enumerate(_names(group))}
        out = {}
        for name in names:
            if name not in index:
                raise UserError(f"{path}: no column '{name}'")
            ds = _dataset(path, group, index[name])
            if ds.shape != (nrows,):
                raise UserError(f"{path}: damaged table, column '{name}' holds {ds.shape} "
                                f"values for {nrows} rows")
            block = ds[start:stop]
            if "domain" in ds.attrs:
                out[name] = checked_codes(path, name, block, len(ds.attrs["domain"]))
            else:
                out[name] = block.astype(np.float64, copy=False)
        return out


def checked_codes(path: str, name: str, block: np.ndarray, nlevels: int) -> np.ndarray:
    """int32 codes of categorical column ``name``; UserError naming the file and column when
    one is not an integer in [-1, nlevels) (a damaged or hand-written table: the kernels
    index weight rows with these codes)."""
    if block.dtype.kind not in "iu":
        raise UserError(f"{path}: damaged table, categorical column '{name}' holds "
                        f"{block.dtype} values, not integer codes")
    if block.size and (block.min() < -1 or block.max() >= nlevels):
        bad = block[(block < -1) | (block >= nlevels)][0]
        raise UserError(f"{path}: damaged table, column '{name}' has code {bad} outside its "
                        f"{nlevels} levels (0..{nlevels - 1}, -1 = missing)")
    return block.astype(np.int32, copy=False)


def write_table(path, columns: dict[str, np.ndarray], domains: dict[str, list[str]]) -> None:
    """Write a table to ``path`` atomically (``atomic.py``: temp file + os.replace; a full disk
    is a UserError naming ``path``).

    ``columns`` maps names (in column order) to 1-D arrays of one common length; a column
    is categorical iff its name is in ``domains``: its array holds integer codes into
    ``domains[name]`` (-1 = missing). Other columns are stored as float64 (NaN = missing).
    """
    path = os.fspath(path)
    unknown = [n for n in domains if n not in columns]
    if unknown:
        raise ValueError(f"write_table: domains given for unknown columns {unknown}")
    lengths = {len(np.asarray(a)) for a in columns.values()}
    if len(lengths) > 1:
        raise ValueError(f"write_table: columns have different lengths {sorted(lengths)}")
    nrows = lengths.pop() if lengths else 0
    with atomic_h5(path, libver=_LIBVER) as f:
        group = f.create_group(GROUP)
        group.attrs["format"] = FORMAT
        group.attrs["version"] = VERSION
        group.attrs["nrows"] = nrows
        group.attrs.create("columns", data=list(columns), dtype=h5py.string_dtype())
        for i, (name, values) in enumerate(columns.items()):
            _write_column(group, _key(i), name, np.asarray(values), nrows, domains.get(name))


def _write_column(group: h5py.Group, key: str, name: str, values: np.ndarray, nrows: int,
                  domain) -> None:
    if values.ndim != 1:
        raise ValueError(f"write_table: column '{name}' is not 1-D")
    if domain is None:
        data = values.astype(np.float64, copy=False)
    else:
        if values.dtype.kind not in "iu":
            raise ValueError(f"write_table: categorical column '{name}' needs integer codes")
        data = values.astype(np.int32, copy=False)
        if nrows and (data.min() < -1 or data.max() >= len(domain)):
            raise ValueError(f"write_table: codes of column '{name}' outside its "
                             f"{len(domain)} levels")
    chunks = (min(CHUNK_ROWS, nrows),) if nrows else None
    ds = group.create_dataset(key, data=data, chunks=chunks)
    ds.attrs["name"] = name
    if domain is not None:
        ds.attrs.create("domain", data=[str(s) for s in domain], shape=(len(domain),),
                        dtype=h5py.string_dtype())
