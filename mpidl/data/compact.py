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

import numpy as np

MISSING_ATTR = "missing"
_INTEGER_TYPES = (np.uint8, np.int8, np.int16, np.int32)
_CODE_TYPES = (np.int8, np.int16, np.int32)


def _marker(dtype) -> int:
    """The missing marker of integer storage type ``dtype``: the value that is given up."""
    info = np.iinfo(dtype)
    return int(info.max) if info.min == 0 else int(info.min)


def integer_range(values: np.ndarray) -> tuple[int, int] | None:
    """(min, max) of the present values if all are integers within int32 (no -0.0), else
    None.  ``values``: float64[n], NaN = missing; an all-missing column gives (0, 0)."""
    present = values[~np.isnan(values)]
    if present.size == 0:
        return 0, 0
    if not np.all(np.isfinite(present)) or not np.all(present == np.floor(present)):
        return None
    if np.any((present == 0) & np.signbit(present)):
        return None
    lo, hi = float(present.min()), float(present.max())
    if lo < np.iinfo(np.int32).min + 1 or hi > np.iinfo(np.int32).max:
        return None
    return int(lo), int(hi)


def integer_type(lo: int, hi: int, has_missing: bool):
    """(dtype, missing marker or None): the first integer type of the module docstring that
    holds [lo, hi] (and its marker, when ``has_missing``); None when int32 cannot."""
    for dtype in _INTEGER_TYPES:
        info = np.iinfo(dtype)
        marker = _marker(dtype)
        low = info.min + (1 if has_missing and marker == info.min else 0)
        high = info.max - (1 if has_missing and marker == info.max else 0)
        if low <= lo and hi <= high:
            return dtype, (marker if has_missing else None)
    return None


def numeric_storage(values: np.ndarray) -> tuple[np.ndarray, int | None]:
    """(stored array, missing marker or None) for numeric column ``values`` (float64[n],
    NaN = missing): the smallest type of the module docstring that holds them exactly."""
    values = np.asarray(values, dtype=np.float64)
    missing = np.isnan(values)
    has_missing = bool(missing.any())
    bounds = integer_range(values)
    chosen = None if bounds is None else integer_type(*bounds, has_missing)
    if chosen is not None:
        dtype, marker = chosen
        return np.where(missing, marker, values).astype(dtype), marker
    single = values.astype(np.float32)
    if np.array_equal(single.astype(np.float64), values, equal_nan=True):
        return single, None
    return values, None


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
