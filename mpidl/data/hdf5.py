"""The columnar HDF5 table format: one file holds one table.

Layout (format version 2)::

    /table                      group
        attrs: format  = "mpidl-table"
               version = 2
               nrows   = int         number of rows
               columns = list[str]   real column names, in column order
               categorical = int[]   positions of the categorical columns (version 2:
                                     the schema is read without opening every column)
        c0000, c0001, ...           one 1-D dataset per column, in column order,
                                    keyed by position (names may hold any character)
            numeric:     the smallest type that holds the values exactly (``compact.py``:
                         uint8, int8, int16, int32, float32 or float64); float NaN = missing,
                         an integer column with missing values names its marker in
                         attrs: missing = int
            categorical: the smallest signed integer type of the codes into the level
                         names, -1 = missing;
                         attrs: domain = list[str] (level names, code i -> domain[i])
            attrs: name = the real column name (for people browsing with h5dump)

Version 1 (still read) stored every numeric column as float64 and codes as int32, in chunks
of 65,536 rows.  A table of a newer version than ``VERSION`` is refused in one line.

Chunks are sized in bytes (``chunk_rows``): about ``CHUNK_BYTES`` each, but at least
``MIN_CHUNKS`` per column (so a rank of a sharded run reads only about its share of a small
table) and never under ``MIN_CHUNK_ROWS`` rows.  A rank reading its row range
(``ds[start:stop]``, a hyperslab) touches only the chunks that hold those rows, with or
without compression (``lzf`` or ``gzip``, per chunk, with HDF5's shuffle filter for
multi-byte types).  A column is categorical iff its dataset has a ``domain`` attribute.

Reads go through ``counted.CountedFile``: a ``ReadCount`` passed to ``read_info`` /
``read_columns`` receives every byte read from the file.  Many ranks open the same file
read-only at the same time, so HDF5 file locking is switched off
(``HDF5_USE_FILE_LOCKING=FALSE``) before h5py is imported.
"""

from __future__ import annotations

import os

os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")

from contextlib import contextmanager  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import h5py  # noqa: E402
import numpy as np  # noqa: E402

from mpidl.atomic import atomic_h5  # noqa: E402
from mpidl.data.compact import (MISSING_ATTR, code_storage, numeric_storage,  # noqa: E402
                                 numeric_values)
from mpidl.data.counted import CountedFile, ReadCount  # noqa: E402
from mpidl.errors import UserError  # noqa: E402

GROUP = "table"
FORMAT = "mpidl-table"
VERSION = 2
CHUNK_BYTES = 1 << 20
MIN_CHUNKS = 128
MIN_CHUNK_ROWS = 512
COMPRESSIONS = ("lzf", "gzip")
NUMERIC = "numeric"
CATEGORICAL = "categorical"
_NOT_A_TABLE = "not an mpidl HDF5 table (run 'python -m mpidl import' first)"
# Dense attribute storage (HDF5 >= 1.8 format) lifts the 64 KiB limit on object
# headers, which a domain of a few thousand levels would otherwise exceed; the 1.10 format
# indexes a column's chunks in one small fixed array (the 1.8 format's B-tree nodes made a
# rank read several KB of index per column), so tables need HDF5 >= 1.10 to read.
_LIBVER = ("v110", "latest")


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


def chunk_rows(nrows: int, itemsize: int) -> int:
    """Rows per chunk of a column of ``nrows`` values of ``itemsize`` bytes: about
    CHUNK_BYTES, at most nrows / MIN_CHUNKS rows, at least MIN_CHUNK_ROWS (and nrows)."""
    by_bytes = max(1, CHUNK_BYTES // itemsize)
    by_share = -(-nrows // MIN_CHUNKS)
    return max(1, min(nrows, max(MIN_CHUNK_ROWS, min(by_bytes, by_share))))


@contextmanager
def _open_table(path: str, count: ReadCount | None = None):
    """Open ``path`` read-only (its reads added to ``count``) and yield the table group;
    UserError if it is not a table, or a table of a newer format version."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise UserError(f"{path}: no such file")
    if os.path.isdir(path):
        raise UserError(f"{path}: is a directory, not an HDF5 table")
    if not h5py.is_hdf5(path):
        raise UserError(f"{path}: not an HDF5 file (convert a CSV with "
                        "'python -m mpidl import' first)")
    source = CountedFile(path, ReadCount() if count is None else count)
    try:
        try:
            f = h5py.File(source, "r")
        except OSError as err:
            raise UserError(f"{path}: cannot open HDF5 file ({_one_line(err)})") from None
        with f:
            yield _checked_group(path, f)
    finally:
        source.close()


def _checked_group(path: str, f: h5py.File) -> h5py.Group:
    group = f.get(GROUP)
    if not isinstance(group, h5py.Group) or "nrows" not in group.attrs \
            or "columns" not in group.attrs:
        raise UserError(f"{path}: {_NOT_A_TABLE}")
    version = _integers(path, group, "version", default=1)[0]
    if version > VERSION:
        raise UserError(f"{path}: table format version {version} is newer than this mpidl "
                        f"reads (up to {VERSION}); upgrade mpidl or import the CSV again")
    return group


def _integers(path: str, group: h5py.Group, attr: str, default=None) -> list[int]:
    """The integers in the table's attribute ``attr`` (``default`` when absent); UserError
    naming the file and attribute when they are not integers."""
    raw = group.attrs.get(attr, default)
    values = np.asarray(raw).ravel()
    if values.dtype.kind not in "iu" or (attr == "version" and values.size != 1):
        raise UserError(f"{path}: damaged table, attribute '{attr}' is not "
                        f"{'an integer' if attr == 'version' else 'a list of integers'}")
    return [int(v) for v in values]


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


def read_info(path, count: ReadCount | None = None) -> TableInfo:
    """Read the schema (row count, names, kinds, domains) of the table in ``path``
    (the bytes read are added to ``count``)."""
    path = os.fspath(path)
    with _open_table(path, count) as group:
        nrows = int(group.attrs["nrows"])
        names = _names(group)
        if "categorical" in group.attrs:
            categorical = set(_integers(path, group, "categorical"))
        else:   # version 1: every column's dataset says whether it has a domain
            categorical = {i for i in range(len(names))
                           if "domain" in _dataset(path, group, i).attrs}
        cols = []
        for i, name in enumerate(names):
            ds = _dataset(path, group, i) if i in categorical else None
            if ds is not None and "domain" in ds.attrs:
                domain = tuple(_as_str(s) for s in ds.attrs["domain"])
                cols.append(ColumnInfo(name, CATEGORICAL, domain))
            else:
                cols.append(ColumnInfo(name, NUMERIC, None))
        return TableInfo(path, nrows, tuple(cols))


def read_columns(path, names, start: int = 0, stop: int | None = None,
                 count: ReadCount | None = None, types: dict | None = None
                 ) -> dict[str, np.ndarray]:
    """Read rows [start, stop) of the named columns (a hyperslab read per column).

    Returns {name: float64[stop-start]} for numeric columns (NaN = missing) and
    {name: int32[stop-start]} codes for categorical ones (-1 = missing), whatever the
    stored types.  ``stop=None`` means the last row. An unknown name is a UserError.
    The bytes read from the file are added to ``count``; ``types`` (a dict) receives each
    numeric column's stored (dtype, missing marker or None).
    """
    path = os.fspath(path)
    with _open_table(path, count) as group:
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
            block = _read_rows(ds, start, stop)
            if "domain" in ds.attrs:
                out[name] = checked_codes(path, name, block, len(ds.attrs["domain"]))
            else:
                marker = ds.attrs.get(MISSING_ATTR)
                out[name] = numeric_values(block, marker)
                if types is not None:
                    types[name] = (block.dtype, None if marker is None else int(marker))
        return out


def _read_rows(ds: h5py.Dataset, start: int, stop: int) -> np.ndarray:
    """Rows [start, stop) of a 1-D dataset.  Numbers go through HDF5's own read into a new
    array (h5py's slicing costs ~1 ms a column in Python: 0.8 s of MNIST's 1,570 column
    reads at each start); anything else through h5py's slicing."""
    if ds.dtype.kind not in "iuf" or stop <= start:
        return ds[start:stop]
    out = np.empty(stop - start, dtype=ds.dtype)
    file_space = ds.id.get_space()
    file_space.select_hyperslab((start,), (stop - start,))
    ds.id.read(h5py.h5s.create_simple((stop - start,)), file_space, out)
    return out


def write_rows(ds: h5py.Dataset, values: np.ndarray, start: int) -> None:
    """``values`` into rows [start, start + len) of a 1-D dataset, numbers of the dataset's
    type through HDF5's own write (h5py's slicing costs ~0.1 ms a call: 0.2 s of MNIST's
    785 columns x 3 batches at import); anything else through h5py's slicing."""
    if values.dtype != ds.dtype or values.dtype.kind not in "iuf" or not len(values):
        ds[start:start + len(values)] = values
        return
    file_space = ds.id.get_space()
    file_space.select_hyperslab((start,), (len(values),))
    ds.id.write(h5py.h5s.create_simple((len(values),)), file_space,
                np.ascontiguousarray(values))


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


@dataclass(frozen=True)
class ColumnSpec:
    """How one column is stored: ``dtype`` of its dataset, the ``missing`` marker of an integer
    numeric column (or None) and the ``domain`` of a categorical one (None if numeric)."""

    name: str
    dtype: np.dtype
    marker: int | None = None
    domain: tuple[str, ...] | None = None


def write_table(path, columns: dict[str, np.ndarray], domains: dict[str, list[str]],
                compression: str | None = None) -> None:
    """Write a table to ``path`` atomically (``atomic.py``: temp file + os.replace; a full disk
    is a UserError naming ``path``).

    ``columns`` maps names (in column order) to 1-D arrays of one common length; a column
    is categorical iff its name is in ``domains``: its array holds integer codes into
    ``domains[name]`` (-1 = missing). Other columns are numbers (NaN = missing), stored in
    the smallest exact type.  ``compression``: None, "lzf" or "gzip".
    """
    unknown = [n for n in domains if n not in columns]
    if unknown:
        raise ValueError(f"write_table: domains given for unknown columns {unknown}")
    lengths = {len(np.asarray(a)) for a in columns.values()}
    if len(lengths) > 1:
        raise ValueError(f"write_table: columns have different lengths {sorted(lengths)}")
    nrows = lengths.pop() if lengths else 0
    specs, stored = [], []
    for name, values in columns.items():
        data, spec = _stored(name, np.asarray(values), domains.get(name))
        specs.append(spec)
        stored.append(data)
    with atomic_h5(os.fspath(path), libver=_LIBVER) as f:
        datasets = create_columns(f, specs, nrows, compression)
        for ds, data in zip(datasets, stored):
            _write_column(ds, data)


def create_columns(f: h5py.File, specs: list[ColumnSpec], nrows: int,
                   compression: str | None = None) -> list[h5py.Dataset]:
    """Create the table group of the module docstring in the new file ``f``: its attributes
    and one empty dataset of ``nrows`` values per column of ``specs`` (chunked by
    ``chunk_rows``, ``compression`` None, "lzf" or "gzip"); returns the datasets in order."""
    if compression not in (None, *COMPRESSIONS):
        raise ValueError(f"write_table: compression {compression!r} is not one of {COMPRESSIONS}")
    group = f.create_group(GROUP)
    group.attrs["format"] = FORMAT
    group.attrs["version"] = VERSION
    group.attrs["nrows"] = nrows
    group.attrs.create("columns", data=[s.name for s in specs], dtype=h5py.string_dtype())
    group.attrs.create("categorical", data=[i for i, s in enumerate(specs)
                                            if s.domain is not None], dtype=np.int64)
    out = []
    for i, spec in enumerate(specs):
        itemsize = np.dtype(spec.dtype).itemsize
        chunks = (chunk_rows(nrows, itemsize),) if nrows else None
        shuffle = compression is not None and itemsize > 1 and nrows > 0
        ds = group.create_dataset(_key(i), shape=(nrows,), dtype=spec.dtype, chunks=chunks,
                                  compression=compression if nrows else None, shuffle=shuffle)
        ds.attrs["name"] = spec.name
        if spec.marker is not None:
            ds.attrs[MISSING_ATTR] = spec.marker
        if spec.domain is not None:
            ds.attrs.create("domain", data=[str(s) for s in spec.domain],
                            shape=(len(spec.domain),), dtype=h5py.string_dtype())
        out.append(ds)
    return out


def _write_column(ds: h5py.Dataset, data: np.ndarray) -> None:
    if len(data):
        ds[...] = data


def open_columns(f: h5py.File) -> list[h5py.Dataset]:
    """The column datasets, in order, of a table file ``f`` written by ``create_columns``."""
    group = f[GROUP]
    return [group[_key(i)] for i in range(len(group.attrs["columns"]))]


def _stored(name: str, values: np.ndarray, domain) -> tuple[np.ndarray, ColumnSpec]:
    """(the stored array, its ColumnSpec) of column ``name``: numbers in their smallest exact
    type, codes (checked against ``domain``) in the smallest code type."""
    if values.ndim != 1:
        raise ValueError(f"write_table: column '{name}' is not 1-D")
    if domain is None:
        data, marker = numeric_storage(values)
        return data, ColumnSpec(name, data.dtype, marker)
    if values.dtype.kind not in "iu":
        raise ValueError(f"write_table: categorical column '{name}' needs integer codes")
    if len(values) and (values.min() < -1 or values.max() >= len(domain)):
        raise ValueError(f"write_table: codes of column '{name}' outside its "
                         f"{len(domain)} levels")
    data = code_storage(values, len(domain))
    return data, ColumnSpec(name, data.dtype, None, tuple(str(s) for s in domain))
