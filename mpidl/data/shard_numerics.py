"""The numeric columns of transformed rows: standardized float32, or a training shard's
compact raw values that the kernels standardize as they read them (``kernels/numerics.py``).

H2O keeps a frame in compressed columns and applies its ``normSub``/``normMul`` as a row is
read; a training shard here does the same when every numeric column it needs holds integers
within int32: the raw values are kept in the smallest type that holds all of them exactly
(``compact.storage_type``: uint8, int8, int16 or int32, one type for the shard), with the
DataInfo's per-column ``shift`` (``num_sub``) and ``scale`` (``num_mul``).  A missing value
is the type's missing marker (``compact.py``: 255 for uint8, the minimum of a signed type),
which the kernel maps to ``fill``, the standardized column mean (H2O's mean imputation; 0
when standardizing).  A shard with any non-integer numeric column is float32, standardized
at load (as before).  MNIST's 784 pixels take 1 byte a value instead of 4.  The shard's
type comes from the table's storage types when the columns were read from a table (the
smallest type holding every column's type: a column's values are not read again to choose
it, at the price of a wider type now and then), from the values otherwise.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ..errors import UserError
from .column_stats import standardized
from .compact import NumericSummary, storage_type, stored_summary, summarize


@dataclass(frozen=True)
class CompactNumerics:
    """Compact numerics: ``raw`` int[n, n_num] (C order), ``shift``/``scale``/``fill``
    float64[n_num], ``marker`` (the raw value of a missing one) or None.  Indexing rows
    (``nums[idx]``) gives compact numerics of those rows, as a numpy array would."""

    raw: np.ndarray
    shift: np.ndarray
    scale: np.ndarray
    fill: np.ndarray
    marker: int | None

    @property
    def shape(self) -> tuple:
        return self.raw.shape

    @property
    def itemsize(self) -> int:
        return self.raw.itemsize

    @property
    def nbytes(self) -> int:
        return self.raw.nbytes

    def __getitem__(self, idx) -> "CompactNumerics":
        return CompactNumerics(self.raw[idx], self.shift, self.scale, self.fill, self.marker)

    def kernel(self):
        """The kernels' form (``kernels.numerics.Numerics``)."""
        from ..kernels.numerics import NO_MARKER, Numerics
        marker = NO_MARKER if self.marker is None else int(self.marker)
        return Numerics(self.raw, self.shift, self.scale, self.fill, marker)

    def standardized(self) -> np.ndarray:
        """float32[n, n_num]: the inputs the kernels read (missing values filled)."""
        from ..kernels.numerics import standardized_rows
        return standardized_rows(self.kernel())


def compact_shard_setting() -> bool:
    """``MPIDL_COMPACT_SHARD``: 1 (default) keeps integer training columns compact, 0 makes
    every shard float32 (to measure the difference)."""
    raw = os.environ.get("MPIDL_COMPACT_SHARD", "1").strip()
    if raw not in ("0", "1"):
        raise UserError(f"MPIDL_COMPACT_SHARD={raw!r}: expected 0 (float32 shards) or 1 "
                        "(integer columns kept compact)")
    return raw == "1"


def kernel_numerics(nums):
    """``nums`` as the kernels take it: a float32 array as is, compact numerics as
    ``Numerics``."""
    return nums.kernel() if isinstance(nums, CompactNumerics) else nums


def float_numerics(nums) -> np.ndarray:
    """float32[n, n_num]: the standardized inputs of either form."""
    return nums.standardized() if isinstance(nums, CompactNumerics) else nums


def numeric_block(dinfo, cols: dict, info, source: str, compact: bool,
                  stored_types: dict | None = None):
    """(nums, missing bool[n]) of the DataInfo's numeric columns, popped from ``cols``:
    compact numerics when ``compact`` and every column holds integers within int32, else
    float32[n, n_num] standardized with missing values imputed (C order either way);
    ``missing``: rows with a missing numeric.  ``stored_types``: the table's storage of
    columns (``Frame.stored_types``), which decides the shard's type without a pass over
    their values."""
    for name in dinfo.num_names:
        if info.column(name).kind != "numeric":
            raise UserError(f"{source}: column '{name}' is categorical here but numeric in "
                            "the training frame")
    n = len(next(iter(cols.values()))) if cols else 0
    chosen = _shard_type(cols, dinfo.num_names, stored_types or {}) if compact else None
    if chosen is not None:
        return _compact_block(dinfo, cols, n, *chosen, source)
    return _float_block(dinfo, cols, n, source)


def _shard_type(cols: dict, names, stored_types: dict) -> tuple | None:
    """(dtype, marker or None) that holds every column ``names`` of ``cols`` exactly, or None
    when one is not integer-valued within int32 (the table's storage rule,
    ``compact.storage_type``, over all the columns together).  A column the table stores as
    an integer type (``stored_types``) counts with that type's range (``stored_summary``),
    its values unread; the others (float-stored, a CSV's, an encoding's) are summarized."""
    merged = NumericSummary()
    for name in names:
        stored = stored_types.get(name)
        summary = stored_summary(*stored) if stored is not None else None
        merged = merged.merge(summary or summarize(cols[name], float32_check=False))
        if not merged.integral:
            return None
    dtype, marker = storage_type(merged)
    return (dtype.type, marker) if np.issubdtype(dtype, np.integer) else None


def _compact_block(dinfo, cols: dict, n: int, dtype, marker, source: str):
    """Compact numerics of ``dtype`` (missing values as ``marker``) and the missing rows."""
    k = len(dinfo.num_names)
    raw = np.empty((n, k), dtype=dtype, order="F")
    missing = np.zeros(n, dtype=bool)
    fill = np.empty(k)
    for i, name in enumerate(dinfo.num_names):
        x = np.asarray(cols.pop(name), dtype=np.float64)
        if marker is None:      # the type holds no missing value: no column has one
            raw[:, i] = x
        else:
            bad = np.isnan(x)
            missing |= bad
            raw[:, i] = np.where(bad, marker, x)
        fill[i] = standardized(np.array([dinfo.num_fill[i]]), dinfo.num_sub[i],
                               dinfo.num_mul[i], name, source)[0]
    nums = CompactNumerics(np.ascontiguousarray(raw), np.asarray(dinfo.num_sub, np.float64),
                           np.asarray(dinfo.num_mul, np.float64), fill, marker)
    return nums, missing


def _float_block(dinfo, cols: dict, n: int, source: str):
    """float32 standardized numerics (missing values imputed) and the missing rows; filled
    column by column (each raw column freed as its converted one is written)."""
    nums = np.empty((n, len(dinfo.num_names)), dtype=np.float32, order="F")
    missing = np.zeros(n, dtype=bool)
    for i, name in enumerate(dinfo.num_names):
        x = np.asarray(cols.pop(name), dtype=np.float64)
        bad = np.isnan(x)
        missing |= bad
        nums[:, i] = standardized(np.where(bad, dinfo.num_fill[i], x), dinfo.num_sub[i],
                                  dinfo.num_mul[i], name, source)
    return np.ascontiguousarray(nums), missing


def share_numerics(nums, node):
    """``nums`` in the node's shared memory (``comm.share_array``): the node's rank 0 passes
    its numerics, the others their empty ones, and every rank gets rank 0's form and values."""
    lead = node.rank == 0
    compact = isinstance(nums, CompactNumerics)
    meta = node.bcast_obj((nums.shift, nums.scale, nums.fill, nums.marker)
                          if lead and compact else None)
    raw = node.share_array((nums.raw if compact else nums) if lead else None)
    return raw if meta is None else CompactNumerics(raw, *meta)
