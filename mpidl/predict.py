"""Predictions of a model on a frame, in H2O's columns, written once in row order.

Under mpirun each rank scores a contiguous block of rows; rank 0 gathers the blocks and
writes the CSV (temp file + rename).
"""

from __future__ import annotations

import numpy as np

from .atomic import atomic_path
from .data.frame import Frame
from .data.hdf5 import block_range
from .predict_columns import read_adapted, scoring_names


def predictions(model, frame: Frame, start: int, stop: int, threads: int):
    """(labels or values, probabilities or None) for rows [start, stop) of ``frame``."""
    d = model.dinfo
    cols, info = read_adapted(d, frame, start, stop)
    nums, cats, _, _, _ = d.transform(cols, info, frame.path, training=False)
    out = model.raw_output(nums, cats, threads)
    if not d.classification:
        return model.to_response_scale(out[:, 0]), None
    if d.nclasses == 2:
        m = model.validation_metrics or model.training_metrics or {}
        thr = m.get("max_f1_threshold", 0.5)
        thr = 0.5 if thr is None or not np.isfinite(thr) else thr
        return (out[:, 1] >= thr).astype(np.int64), out
    return out.argmax(axis=1), out


def write_csv(path: str, model, labels, probs) -> None:
    """H2O's prediction columns: ``predict`` then one probability column per class level."""
    d = model.dinfo
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        if probs is None:
            f.write("predict\n")
            np.savetxt(f, labels.reshape(-1, 1), fmt="%.10g")
        else:
            levels = np.array(d.response_domain, dtype=object)
            f.write(",".join(_csv_name(v) for v in scoring_names(d.response_domain)) + "\n")
            for lab, row in zip(levels[labels], probs):
                f.write(_csv_name(lab) + "," + ",".join(f"{v:.8g}" for v in row) + "\n")


def _csv_name(s: str) -> str:
    return f'"{s}"' if ("," in s or '"' in s) else s


def predict_to_csv(model, data_path: str, out_path: str, comm, threads: int) -> int:
    """Score ``data_path`` on all ranks; rank 0 writes ``out_path``.  Returns rows written."""
    def local():
        frame = Frame(data_path)
        lo, hi = block_range(frame.nrows, comm.size, comm.rank)
        return predictions(model, frame, lo, hi, threads)
    labels, probs = comm.call_agreed(local)
    parts = comm.gather_obj((labels, probs))
    return comm.call_root_agreed(_write_parts, out_path, model, parts) or 0


def _write_parts(out_path: str, model, parts) -> int:
    """Rank 0: write every rank's (labels, probabilities) block in rank order; returns rows."""
    labels = np.concatenate([p[0] for p in parts])
    probs = None if parts[0][1] is None else np.concatenate([p[1] for p in parts])
    write_csv(out_path, model, labels, probs)
    return int(labels.shape[0])
