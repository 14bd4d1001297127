"""What the Python API is handed as data, made into a table the train-one-model step reads.

A path (an HDF5 table or a CSV) is used as it is.  A pandas DataFrame or a numpy array is
written to a table in a private folder: numeric columns as float64 (NaN = missing), every
other column (text, pandas categories, booleans) as a categorical, levels made by the
importer's rule for a column forced categorical (``data/importer.py: convert_column``:
numbers sorted numerically, text lexicographically, as H2O; its NA strings missing).  Array columns are named ``C1..Cn``, as
H2O names the columns of a frame without a header.
"""

from __future__ import annotations

import os

import numpy as np

from .data.hdf5 import write_table


def column_names(data, names=None) -> list[str]:
    """The column names ``data`` will have as a table (a DataFrame's own names, else
    ``names``, else ``C1..Cn``)."""
    if hasattr(data, "columns") and hasattr(data, "dtypes"):
        return [str(c) for c in data.columns]
    arr = _as_2d(data)
    if names is not None:
        if len(names) != arr.shape[1]:
            raise ValueError(f"{len(names)} column names for {arr.shape[1]} columns")
        return [str(n) for n in names]
    return [f"C{j + 1}" for j in range(arr.shape[1])]


def _as_2d(data) -> np.ndarray:
    arr = np.asarray(data)
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2:
        raise ValueError(f"expected 2-D data (rows x columns), got {arr.ndim} dimensions")
    return arr


def _column(values, forced: str | None = None) -> tuple[np.ndarray, list[str] | None]:
    """One column -> (float64 values, None) or (int32 codes, levels)."""
    import pandas as pd

    from .data.coltypes import convert_column
    series = pd.Series(values)
    if series.dtype.kind == "b":
        series = series.map({True: "true", False: "false"})
    if series.dtype.kind not in "iuf":   # text, categories, booleans: levels, as asfactor()
        series = series.astype(object).where(series.notna(), "").astype(str)
        forced = "categorical"
    return convert_column(series, forced, lambda *a: None)


def write_frame(data, path: str, names=None, categorical=()) -> str:
    """Write ``data`` (a DataFrame or a 2-D array, rows x columns) to the table ``path``;
    columns named in ``categorical`` become categoricals whatever their values.  Returns
    ``path``.  Raises ValueError for data that is not rows x columns or has no rows."""
    names = column_names(data, names)
    if hasattr(data, "columns") and hasattr(data, "dtypes"):
        cols = [data[c].to_numpy() for c in data.columns]
    else:
        arr = _as_2d(data)
        cols = [arr[:, j] for j in range(arr.shape[1])]
    if not cols or len(cols[0]) == 0:
        raise ValueError("no rows to train or score on")
    columns, domains = {}, {}
    for name, values in zip(names, cols):
        values, domain = _column(values, "categorical" if name in categorical else None)
        columns[name] = values
        if domain is not None:
            domains[name] = domain
    write_table(path, columns, domains)
    return path


def as_table(data, folder: str, stem: str, names=None, categorical=()) -> str:
    """``data`` as a table path: a path as it is, anything else written into ``folder``."""
    if isinstance(data, (str, os.PathLike)):
        return os.fspath(data)
    return write_frame(data, os.path.join(folder, f"{stem}.h5"), names, categorical)
