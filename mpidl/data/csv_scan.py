"""Byte scans of CSV text that run ahead of the parser: where records end, how many fields each
has, and where a rank's share of a file begins.

``scan`` walks a buffer of raw bytes with a ``ScanState`` carried from the previous buffer, so
a file read in blocks of any size (even cutting a record or a doubled quote ``""`` in two)
gives the same answers as one read of the whole file.  Quotes follow pandas' C parser: a quote
opens a quoted field only at the start of a field (after optional spaces), ``""`` inside one is
a quote, and a newline inside one does not end the record.  A quote anywhere else is a literal
character (a "stray" quote: the scan keeps the line of the first).  Blank lines are skipped.

For a parallel import the file is split into byte ranges.  Whether a byte offset lies inside
a quoted field follows from the parity of the quotes before it (each ``"`` of a well-formed
file opens or closes a quoted field, ``""`` toggles twice), so ranks count the quotes of their
nominal ranges (``count_quotes``), add up those before them, and start at the first newline
outside quotes (``record_start``).  A stray quote breaks that parity: a file with one is
refused for a parallel import (``stream_import``).
"""

from __future__ import annotations

import numba
import numpy as np

# the fields of a ScanState (an int64 array, so numba can update it in place)
IN_QUOTES, AT_START, BLANK, FIELDS, LINE, REC_LINE, RECORDS, BAD_LINE, BAD_FIELDS, \
    STRAY_LINE, JUST_CLOSED = range(11)
_STATE_SIZE = 11


def new_state(in_quotes: bool = False) -> np.ndarray:
    """A ScanState at the start of a record (line 1), inside a quoted field if ``in_quotes``."""
    state = np.zeros(_STATE_SIZE, dtype=np.int64)
    state[IN_QUOTES] = int(in_quotes)
    state[AT_START] = state[BLANK] = state[FIELDS] = state[LINE] = state[REC_LINE] = 1
    return state


@numba.njit(cache=True, nogil=True)
def scan(buf, state, sep, quote, ncols, stop_on_stray):  # pragma: no cover - compiled
    """Scan uint8 ``buf`` from ``state`` (updated in place); returns the offset just past the
    last newline outside quotes in ``buf`` (-1 if none).  Each non-blank record ended adds one
    to RECORDS; the first one with a field count other than ``ncols`` sets BAD_LINE and
    BAD_FIELDS and ends the scan, as does the first stray quote when ``stop_on_stray``."""
    in_quotes, at_start, blank = state[IN_QUOTES], state[AT_START], state[BLANK]
    fields, line, rec_line = state[FIELDS], state[LINE], state[REC_LINE]
    records, stray, closed = state[RECORDS], state[STRAY_LINE], state[JUST_CLOSED]
    last = -1
    for i in range(buf.size):
        c = buf[i]
        if in_quotes == 1:
            if c == quote:
                in_quotes, closed = 0, 1
            elif c == 10:
                line += 1
            continue
        was_closed, closed = closed, 0
        if c == 10:
            if blank == 0:
                if fields != ncols:
                    state[BAD_LINE], state[BAD_FIELDS] = rec_line, fields
                    break
                records += 1
            line += 1
            rec_line, fields, blank, at_start, last = line, 1, 1, 1, i + 1
        elif c == sep:
            fields += 1
            blank, at_start = 0, 1
        elif c == quote and (at_start == 1 or was_closed == 1):
            in_quotes, blank, at_start = 1, 0, 0   # an opening quote, or the 2nd of ""
        elif c != 32 and c != 9 and c != 13:
            if c == quote and stray == 0:
                stray = line
                if stop_on_stray:
                    break
            blank, at_start = 0, 0
    state[IN_QUOTES], state[AT_START], state[BLANK] = in_quotes, at_start, blank
    state[FIELDS], state[LINE], state[REC_LINE] = fields, line, rec_line
    state[RECORDS], state[STRAY_LINE], state[JUST_CLOSED] = records, stray, closed
    return last


def finish(state: np.ndarray, ncols: int) -> None:
    """End of input: count a last record without a final newline (checking its fields)."""
    if state[IN_QUOTES] == 0 and state[BLANK] == 0:
        if state[FIELDS] != ncols:
            state[BAD_LINE], state[BAD_FIELDS] = state[REC_LINE], state[FIELDS]
        else:
            state[RECORDS] += 1
            state[BLANK] = 1


def count_quotes(buf: np.ndarray, quote: int) -> int:
    """How many bytes of uint8 ``buf`` are the quote character."""
    return int(np.count_nonzero(buf == quote))


@numba.njit(cache=True)
def record_start(buf, in_quotes, quote):  # pragma: no cover - compiled
    """Offset just past the first newline of uint8 ``buf`` outside quotes (every quote
    toggles), starting inside quotes if ``in_quotes``; -1 if there is none."""
    inside = in_quotes
    for i in range(buf.size):
        c = buf[i]
        if c == quote:
            inside = not inside
        elif c == 10 and not inside:
            return i + 1
    return -1


def warm_up() -> None:
    """Load (or compile) the scans now: numba takes about half a second per process."""
    empty = np.zeros(0, dtype=np.uint8)
    scan(empty, new_state(), 44, 34, 1, False)
    record_start(empty, False, 34)
