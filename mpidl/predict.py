"""Predictions of a model on a frame, in H2O's columns, written once in row order.

Under mpirun each rank scores a contiguous block of rows and formats it as CSV text; rank 0
writes the header and its own block, then appends each other rank's block, in rank order, as
it arrives (a buffer send per rank), so rank 0 never holds more than two blocks and the file
is byte for byte the one a single rank writes (temp file + rename).
"""

from __future__ import annotations

import io

import numpy as np

from .atomic import atomic_path
from .autoencoder import in_data_units, reconstruction_names
from .data.frame import Frame
from .data.hdf5 import block_range
from .predict_columns import read_adapted, scoring_names


def predictions(model, frame: Frame, start: int, stop: int, threads: int):
    """(labels or values, probabilities or None) for rows [start, stop) of ``frame``; an
    autoencoder's: (None, its reconstruction in the normalized input space)."""
    d = model.dinfo
    cols, info = read_adapted(d, frame, start, stop)
    if d.offset_column in frame.info.names:
        cols.update(frame.read([d.offset_column], start, stop))
    nums, cats, _, _, _ = d.transform(cols, info, frame.path, training=False)
    off = d.link_offsets(cols, info, frame.path)
    return labeled(model, model.raw_output(nums, cats, threads, off=off))


def labeled(model, out: np.ndarray):
    """(labels or values, probabilities or None) from the network outputs ``out``
    (float[n, n_out]): a binomial label is p1 >= the max-F1 threshold of the model's
    validation (else training) metrics, a multinomial one the most probable class; an
    autoencoder's: (None, the reconstruction)."""
    d = model.dinfo
    if d.autoencoder:
        return None, out
    if not d.classification:
        return model.to_response_scale(out[:, 0]), None
    if d.nclasses == 2:
        return (out[:, 1] >= binomial_threshold(model)).astype(np.int64), out
    return out.argmax(axis=1), out


def transformed_block(model, data, comm):
    """(nums, cats, total rows): this rank's block of rows of ``data`` (a path or an open
    ``Frame``), adapted to the model's columns and transformed for scoring (a collective)."""
    def local():
        frame = data if isinstance(data, Frame) else Frame(data, comm.size)
        lo, hi = block_range(frame.nrows, comm.size, comm.rank)
        cols, info = read_adapted(model.dinfo, frame, lo, hi)
        nums, cats = model.dinfo.transform(cols, info, frame.path, training=False)[:2]
        return nums, cats, frame.nrows
    return comm.call_agreed(local)


def binomial_threshold(model) -> float:
    """H2O's label rule for two classes: predict the second level when its probability is
    at least the max-F1 threshold of the validation metrics (else training; 0.5 if none)."""
    m = model.validation_metrics or model.training_metrics or {}
    thr = m.get("max_f1_threshold", 0.5)
    return 0.5 if thr is None or not np.isfinite(thr) else float(thr)


def header_line(model) -> bytes:
    """H2O's prediction columns: ``predict`` then one probability column per class level."""
    d = model.dinfo
    if not d.classification:
        return b"predict\n"
    return (",".join(_csv_name(v) for v in scoring_names(d.response_domain)) + "\n").encode()


def csv_rows(model, labels, probs) -> bytes:
    """The CSV text of predicted rows (no header): labels or values, then probabilities."""
    if probs is None:
        buf = io.BytesIO()
        np.savetxt(buf, labels.reshape(-1, 1), fmt="%.10g")
        return buf.getvalue()
    levels = np.array(model.dinfo.response_domain, dtype=object)
    return "".join(_csv_name(lab) + "," + ",".join(f"{v:.8g}" for v in row) + "\n"
                   for lab, row in zip(levels[labels], probs)).encode()


def _csv_name(s: str) -> str:
    return f'"{s}"' if ("," in s or '"' in s) else s


def _write_in_rank_order(path: str, header: bytes, own: bytes, comm) -> None:
    """Rank 0: header, its block, then every other rank's block as it arrives (atomic).  A
    failed write still receives every block (the senders would wait forever) and then raises."""
    pending = iter(range(1, comm.size))
    try:
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            f.write(header)
            f.write(own)
            for source in pending:
                f.write(_receive_block(comm, source))
    finally:
        for source in pending:
            _receive_block(comm, source)


def _receive_block(comm, source: int) -> bytes:
    """One rank's CSV block (its size first), as bytes."""
    size = comm.recv_array(np.zeros(1, dtype=np.int64), source)[0]
    return comm.recv_array(np.empty(int(size), dtype=np.uint8), source).tobytes()


def predict_to_csv(model, data, out_path: str, comm, threads: int) -> int:
    """Score ``data`` (a path, or a ``Frame`` open on this rank: a pipe is read only once) on
    all ranks; rank 0 writes ``out_path``.  Returns the rows written (on every rank)."""
    def local():
        frame = data if isinstance(data, Frame) else Frame(data, comm.size)
        lo, hi = block_range(frame.nrows, comm.size, comm.rank)
        return (*predictions(model, frame, lo, hi, threads), frame.nrows)
    labels, probs, nrows = comm.call_agreed(local)
    if model.dinfo.autoencoder:   # the reconstruction, H2O's reconstr_ columns
        header, block = reconstruction_csv(model, probs)
    else:
        header, block = header_line(model), csv_rows(model, labels, probs)
    del labels, probs
    write_blocks(out_path, header, block, comm)
    return int(nrows)


def write_blocks(out_path: str, header: bytes, block: bytes, comm) -> None:
    """Every rank's CSV ``block`` (its rows, no header) into ``out_path`` after ``header``, in
    rank order; rank 0 writes (a collective)."""
    if not comm.is_root:
        comm.send_array(np.array([len(block)], dtype=np.int64), 0)
        comm.send_array(np.frombuffer(block, dtype=np.uint8), 0)
    comm.call_root_agreed(_write_in_rank_order, out_path, header, block, comm)


def matrix_csv(names: list[str], values: np.ndarray) -> tuple[bytes, bytes]:
    """(header, rows) of a float matrix with columns ``names``, as the CSV files write it."""
    buf = io.BytesIO()
    if values.size:
        np.savetxt(buf, values, fmt="%.8g", delimiter=",")
    return (",".join(_csv_name(n) for n in names) + "\n").encode(), buf.getvalue()


def reconstruction_csv(model, out: np.ndarray) -> tuple[bytes, bytes]:
    """(header, rows) of an autoencoder's predictions: ``reconstr_<coefname>`` columns."""
    return matrix_csv(reconstruction_names(model.dinfo), in_data_units(model.dinfo, out))
