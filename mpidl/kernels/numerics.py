"""The numeric inputs as the kernels read them: standardized float32, or compact raw values
standardized on the fly (H2O's ``normSub``/``normMul`` applied as a row is filled).

A kernel's ``nums`` argument is either

- ``float32[n, n_num]``: values already standardized (missing values imputed), or
- a ``Numerics`` tuple, the compact form of a training shard:

    raw     uint8 / int8 / int16 / int32 [n, n_num]  the columns' raw integer values
    shift   float64[n_num]  subtracted first (the column mean when standardizing, else 0)
    scale   float64[n_num]  then multiplied (1 / sd when standardizing, else 1)
    fill    float64[n_num]  the input a missing value gives (H2O's mean imputation: the
                            standardized mean, 0 when standardizing)
    marker  int             the raw value that means missing (the type's maximum for uint8,
                            its minimum for the signed types), or ``NO_MARKER`` (no column
                            of the shard has a missing value)

``input_value(nums, row, i)`` is the network input of numeric ``i`` of ``row``:
``(raw - shift) * scale`` in float64 (the float32 path's arithmetic, so both give the same
float32 input), or ``fill`` for the marker.  Numba compiles each kernel once per form and
integer type it meets.
"""

from collections import namedtuple

import numpy as np
from numba import njit, types
from numba.extending import overload

Numerics = namedtuple("Numerics", ["raw", "shift", "scale", "fill", "marker"])
NO_MARKER = -(2 ** 62)   # outside every integer type's range: no raw value equals it


def _array_value(nums, row, i):
    return nums[row, i]


def _compact_value(nums, row, i):
    v = nums.raw[row, i]
    if v == nums.marker:
        return nums.fill[i]
    return (np.float64(v) - nums.shift[i]) * nums.scale[i]


def input_value(nums, row, i):
    """The network input of numeric column ``i`` of ``row`` (float); compiled by the overload
    below, callable from Python too."""
    return (_compact_value if isinstance(nums, Numerics) else _array_value)(nums, row, i)


def column_count(nums):
    """n_num: the numeric columns of ``nums``."""
    return (nums.raw if isinstance(nums, Numerics) else nums).shape[1]


def row_count(nums):
    """n: the rows of ``nums``."""
    return (nums.raw if isinstance(nums, Numerics) else nums).shape[0]


@overload(input_value)
def _input_value(nums, row, i):
    return _array_value if isinstance(nums, types.Array) else _compact_value


@overload(column_count)
def _column_count(nums):
    if isinstance(nums, types.Array):
        return lambda nums: nums.shape[1]
    return lambda nums: nums.raw.shape[1]


@overload(row_count)
def _row_count(nums):
    if isinstance(nums, types.Array):
        return lambda nums: nums.shape[0]
    return lambda nums: nums.raw.shape[0]


@njit(cache=True, error_model="numpy")
def standardized_rows(nums):
    """float32[n, n_num]: every row's numeric inputs, as the kernels fill them."""
    n, k = row_count(nums), column_count(nums)
    out = np.empty((n, k), dtype=np.float32)
    for row in range(n):
        for i in range(k):
            out[row, i] = input_value(nums, row, i)
    return out
