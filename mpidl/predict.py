"""Predictions of a model on a frame, in H2O's columns, written once in row order.

Under mpirun each rank scores a contiguous block of rows; rank 0 gathers the blocks and
writes the CSV (temp file + rename).
"""

from __future__ import annotations

import numpy as np

from .atomic import atomic_path
from .data.frame import Frame
from .data.hdf5 import block_range
from .errors import UserError


def predictions(model, frame: Frame, start: int, stop: int, threads: int):
    """(labels or values, probabilities or None) for rows [start, stop) of ``frame``."""
    d = model.dinfo
    for name in d.predictors:
        if name not in frame.info.names:
            raise UserError(f"{frame.path}: no column '{name}' (the model uses it)")
    names = list(d.predictors)
    cols = frame.read(names, start, stop)
    nums, cats, _, _, _ = d.transform(cols, frame.info, frame.path, training=False)
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
            f.write(",".join(["predict"] + [_csv_name(v) for v in d.response_domain]) + "\n")
            for lab, row in zip(levels[labels], probs):
                f.write(_csv_name(lab) + "," + ",".join(f"{v:.8g}" for v in row) + "\n")


def _csv_name(s: str) -> str:
    return f'"{s}"' if ("," in s or '"' in s) else s


def predict_to_csv(model, data_path: str, out_path: str, comm, threads: int) -> int:
    """Score ``data_path`` on all ranks; rank 0 writes ``out_path``.  Returns rows written."""
    def local():
        frame = Frame(data_path, comm.size)
        lo, hi = block_range(frame.nrows, comm.size, comm.rank)
        return predictions(model, frame, lo, hi, threads)
    labels, probs = comm.call_agreed(local)
    parts = comm.gather_obj((labels, probs))
    if not comm.is_root:
        return 0
    labels = np.concatenate([p[0] for p in parts])
    probs = None if parts[0][1] is None else np.concatenate([p[1] for p in parts])
    write_csv(out_path, model, labels, probs)
    return int(labels.shape[0])
