"""A block of records that holds only plain integers, parsed without pandas.

Pixel, count and label files (MNIST: 785 columns of 0..255) are plain integers, and pandas'
C parser spent most of their import tokenizing and converting them one column at a time.
``parse_integers`` reads such a block in one numba pass straight into an int64 array of
columns, and gives up (returns None) at the first byte that is not part of a plain integer:
the block is then parsed by pandas as before (``csv_blocks.parse_block``), so the rule for
anything else stays pandas'.

A plain integer field is ``-?[0-9]{1,18}`` (18 digits always fit int64); records end with
``\\n`` or ``\\r\\n``, empty lines are skipped, the last record may lack its newline.  On those
fields pandas gives an int64 column of the same values, so the Pieces and the table are the
same whichever parser read the block.  A space, a quote, a ``+``, an empty field (missing), a
decimal point, an exponent or a field count other than the layout's: not plain, pandas parses.
"""

from __future__ import annotations

import threading

import numba
import numpy as np

_MAX_DIGITS = 18


_scratch = threading.local()


def parse_integers(block: bytes, sep: str, ncols: int) -> np.ndarray | None:
    """The records of ``block`` as int64[ncols, rows] (each column's values contiguous), or
    None when some byte is not part of a plain integer field (module docstring).

    The array is a view into this thread's buffer, valid until the thread's next call (copy
    what must be kept): a fresh array per block cost more in page faults than the parse
    (MNIST's 16 MB blocks: 56 MB of int64 each, 1.0 s against 0.25 s with the buffer reused).
    """
    buf = np.frombuffer(block, dtype=np.uint8)
    if buf.size == 0 or len(sep) != 1 or not 0 < ord(sep) < 128 or sep in "0123456789-\r\n":
        return None
    most = block.count(b"\n") + 1
    out = _buffer(ncols, most)
    rows = _parse(buf, ord(sep), out)
    return None if rows < 0 else out[:, :rows]


def _buffer(ncols: int, rows: int) -> np.ndarray:
    """This thread's int64[ncols, >= rows] buffer (reallocated only to grow or reshape)."""
    held = getattr(_scratch, "array", None)
    if held is None or held.shape[0] != ncols or held.shape[1] < rows:
        held = _scratch.array = np.empty((ncols, rows), dtype=np.int64)
    return held


@numba.njit(cache=True, nogil=True)
def _parse(buf, sep, out):  # pragma: no cover - compiled
    """Fill ``out`` (int64[ncols, most rows]) from uint8 ``buf``; rows parsed, or -1 when a
    byte is not part of a plain integer field or a record has other than ncols fields."""
    ncols = out.shape[0]
    row, col, value, digits, negative = 0, 0, 0, 0, False
    i, n = 0, buf.size
    while i < n:
        c = buf[i]
        if 48 <= c <= 57:
            value = value * 10 + (c - 48)
            digits += 1
            if digits > _MAX_DIGITS:
                return -1
        elif c == 45 and digits == 0 and not negative:
            negative = True
        elif c == sep:
            if digits == 0 or col + 1 >= ncols:
                return -1
            out[col, row] = -value if negative else value
            col, value, digits, negative = col + 1, 0, 0, False
        elif c == 10 or (c == 13 and i + 1 < n and buf[i + 1] == 10):
            i += 1 if c == 13 else 0
            if digits == 0 and col == 0 and not negative:
                i += 1
                continue   # an empty line
            if digits == 0 or col != ncols - 1:
                return -1
            out[col, row] = -value if negative else value
            row, col, value, digits, negative = row + 1, 0, 0, 0, False
        else:
            return -1
        i += 1
    if digits == 0 and col == 0 and not negative:
        return row
    if digits == 0 or col != ncols - 1:
        return -1
    out[col, row] = -value if negative else value
    return row + 1
