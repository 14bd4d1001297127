"""The smallest storage type that holds a column's values exactly, and back.

Numeric columns (float64 in memory, NaN = missing) are stored as the first type that holds
every value exactly:

- integer values (no fraction, no ``-0.0``): ``uint8``, ``int8``, ``int16``, ``int32``, in
  that order.  A column with missing values reserves one value of the type as its missing
  marker: the maximum for ``uint8`` (255), the minimum for the signed types (-128, -32768,
  -2**31); the marker is kept in the dataset attribute ``missing``.  A column without missing
  values uses the whole range and has no ``missing`` attribute.
- otherwise ``float32`` if every value survives float64 -> float32 -> float64 unchanged
  (NaN stays the missing value, infinities are kept), else ``float64``.

Categorical codes (-1 = missing, 0..levels-1) are stored in the smallest signed integer type
that holds -1 and the largest code.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

MISSING_ATTR = "missing"
_INTEGER_TYPES = (np.uint8, np.int8, np.int16, np.int32)
_CODE_TYPES = (np.int8, np.int16, np.int32)
_INT32_LOW = int(np.iinfo(np.int32).min) + 1   # the least integer a numeric column stores


def _marker(dtype) -> int:
    """The missing marker of integer storage type ``dtype``: the value that is given up."""
    info = np.iinfo(dtype)
    return int(info.max) if info.min == 0 else int(info.min)


@dataclass(frozen=True)
class NumericSummary:
    """What the storage type of a numeric column depends on, mergeable over blocks of rows.

    ``integral``: every present value is an integer within int32 (no -0.0, no infinity);
    ``lo`` / ``hi``: the least and greatest present value (0, 0 when none is present);
    ``has_missing``: some value is NaN; ``single``: every value survives float32 exactly."""

    integral: bool = True
    lo: float = 0.0
    hi: float = 0.0
    has_missing: bool = False
    single: bool = True
    present: bool = False

    def merge(self, other: "NumericSummary") -> "NumericSummary":
        """The summary of both blocks' rows together."""
        if not other.present:
            return replace(self, has_missing=self.has_missing or other.has_missing,
                           single=self.single and other.single)
        if not self.present:
            return other.merge(self)
        return NumericSummary(self.integral and other.integral, min(self.lo, other.lo),
                              max(self.hi, other.hi), self.has_missing or other.has_missing,
                              self.single and other.single, True)


def summarize(values: np.ndarray, float32_check: bool = True) -> NumericSummary:
    """The ``NumericSummary`` of ``values`` (float64[n], NaN = missing).  Without
    ``float32_check`` (a caller that only stores integers) ``single`` is False: the
    float64 -> float32 round trip is not tried."""
    values = np.asarray(values, dtype=np.float64)
    missing = np.isnan(values)
    present = values[~missing]
    single = False
    if float32_check:
        with np.errstate(over="ignore"):    # beyond float32: inf, which is not equal
            single = bool(np.array_equal(values.astype(np.float32).astype(np.float64),
                                         values, equal_nan=True))
    if present.size == 0:
        return NumericSummary(True, 0.0, 0.0, bool(missing.any()), single, False)
    integral = bool(np.all(np.isfinite(present)) and np.all(present == np.floor(present))
                    and not np.any((present == 0) & np.signbit(present)))
    lo, hi = (float(present.min()), float(present.max())) if integral else (0.0, 0.0)
    return NumericSummary(integral, lo, hi, bool(missing.any()), single, True)


def stored_summary(dtype, marker: int | None) -> NumericSummary | None:
    """What a column stored as integer ``dtype`` (missing values as ``marker``, or none)
    guarantees of its values: integers within the type's range less the marker, missing
    values iff a marker; None for a float type (its values may or may not be integers: a
    version 1 table stores every column as float64)."""
    if np.dtype(dtype).kind not in "iu":
        return None
    info = np.iinfo(dtype)
    low = max(info.min + (1 if marker == info.min else 0), _INT32_LOW)
    high = info.max - (1 if marker == info.max else 0)
    return NumericSummary(True, float(low), float(high), marker is not None, True, True)


def storage_type(summary: NumericSummary) -> tuple[np.dtype, int | None]:
    """(storage dtype, missing marker or None) of a numeric column with ``summary``: the
    smallest type of the module docstring that holds its values exactly."""
    if summary.integral and (_INT32_LOW <= summary.lo
                             and summary.hi <= np.iinfo(np.int32).max):
        for dtype in _INTEGER_TYPES:
            info = np.iinfo(dtype)
            marker = _marker(dtype)
            low = info.min + (1 if summary.has_missing and marker == info.min else 0)
            high = info.max - (1 if summary.has_missing and marker == info.max else 0)
            if low <= summary.lo and summary.hi <= high:
                return np.dtype(dtype), (marker if summary.has_missing else None)
    return np.dtype(np.float32 if summary.single else np.float64), None


def store(values: np.ndarray, dtype: np.dtype, marker: int | None) -> np.ndarray:
    """``values`` (float64[n], NaN = missing) as ``dtype`` (from ``storage_type``), NaN as
    ``marker`` in an integer type."""
    values = np.asarray(values, dtype=np.float64)
    if np.dtype(dtype).kind in "iu":
        fill = 0 if marker is None else marker
        return np.where(np.isnan(values), fill, values).astype(dtype)
    return values.astype(dtype)


def numeric_storage(values: np.ndarray) -> tuple[np.ndarray, int | None]:
    """(stored array, missing marker or None) for numeric column ``values`` (float64[n],
    NaN = missing): the smallest type of the module docstring that holds them exactly."""
    dtype, marker = storage_type(summarize(values))
    return store(values, dtype, marker), marker


def numeric_values(stored: np.ndarray, marker) -> np.ndarray:
    """float64[n] values (NaN = missing) of a stored numeric block; ``marker``: the dataset's
    ``missing`` attribute, or None."""
    values = stored.astype(np.float64)
    if marker is not None:
        values[stored == marker] = np.nan
    return values


def code_storage(codes: np.ndarray, nlevels: int) -> np.ndarray:
    """Categorical codes (-1 = missing, 0..nlevels-1) in the smallest signed type holding them."""
    for dtype in _CODE_TYPES:
        if nlevels - 1 <= np.iinfo(dtype).max:
            return np.asarray(codes).astype(dtype)
    raise ValueError(f"{nlevels} levels do not fit int32 codes")
