"""How the ranks of a parallel import hand their converted rows to rank 0, the one writer:
each other rank sends its batches (stored columns, a header of row count and first row)
without waiting for rank 0 to take them; rank 0 writes its own batches and the others' in
turns, so they convert while it writes (``stream_import.py`` makes the batches)."""

from __future__ import annotations

import numpy as np


def send_batches(comm, batches, row: int) -> None:
    """Send each batch to rank 0 as soon as it is converted: (rows, first row), then each
    stored column, without waiting for rank 0 to take it (the previous batch's sends end
    before the next starts, so a rank holds at most two batches); (0, row) at the end."""
    pending: list = []
    for batch in batches:
        _wait(pending)
        header = np.array([len(batch[0]), row], dtype=np.int64)
        pending = [(a, comm.isend_array(a, 0)) for a in
                   [header] + [np.ascontiguousarray(column) for column in batch]]
        row += len(batch[0])
    _wait(pending)
    comm.send_array(np.array([0, row], dtype=np.int64), 0)


def _wait(pending: list) -> None:
    """Wait for the (array, request) pairs of ``pending`` (the arrays kept alive till then)."""
    for _, request in pending:
        request.wait()


def write_batches(comm, writer, batches, row: int, dtypes) -> None:
    """Rank 0: write its own batches and the other ranks' in turns (its next batch, then the
    next of each rank still sending), so the others convert while it writes.  Raises the
    first OSError of a write once every rank's batches are received."""
    sending, errors = list(range(1, comm.size)), []
    own = next(batches, None)
    while own is not None or sending:
        if own is not None:
            _write(writer, own, row, errors)
            row += len(own[0])
        for r in list(sending):
            got, at = _recv_batch(comm, r, dtypes)
            if got is None:
                sending.remove(r)
            else:
                _write(writer, got, at, errors)
        own = None if own is None else next(batches, None)
    if errors:
        raise errors[0]


def _write(writer, stored: list[np.ndarray], row: int, errors: list) -> None:
    """Write one batch at ``row`` unless a write failed before; keeps the OSError of a
    failed write in ``errors``."""
    if errors:
        return
    try:
        writer.write(stored, row)
    except OSError as e:
        errors.append(e)


def _recv_batch(comm, rank: int, dtypes) -> tuple[list | None, int]:
    """Rank ``rank``'s batch (stored columns of ``dtypes``) and its first row."""
    rows, row = comm.recv_array(np.zeros(2, dtype=np.int64), rank)
    if rows == 0:
        return None, int(row)
    return [comm.recv_array(np.empty(int(rows), dtype=t), rank) for t in dtypes], int(row)
