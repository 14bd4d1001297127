"""Where cross-validation's kept files go, beside the main model, and how rank 0 writes them.

For a main model ``DIR/NAME.h5``: the fold models ``DIR/NAME_cv_1.h5`` .. ``_cv_K.h5``
(model ids ``MODEL_ID_cv_1`` ..., as H2O names them), the combined holdout predictions
``DIR/NAME_cv_holdout_predictions.csv`` (H2O's prediction columns, one line per row of the
training frame, in frame order; a row without a usable response, never held out, is an empty
line of commas) and the fold assignment ``DIR/NAME_cv_fold_assignment.csv`` (one column,
``fold_assignment``, the 0-based fold of each row, H2O's name).  Files are written whole
(temporary file + rename).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ..atomic import atomic_path
from ..predict import csv_rows, header_line


@dataclass
class CvPaths:
    """The kept files' paths for a main model at ``out_path`` and ``nfolds`` folds."""

    models: list[str]
    holdout_predictions: str
    fold_assignment: str


def cv_paths(out_path: str, nfolds: int) -> CvPaths:
    """The paths beside ``out_path`` (its name less ``.h5``)."""
    base = out_path[:-3] if out_path.endswith(".h5") else out_path
    return CvPaths([f"{base}_cv_{k + 1}.h5" for k in range(nfolds)],
                   f"{base}_cv_holdout_predictions.csv", f"{base}_cv_fold_assignment.csv")


def kept_paths(paths: CvPaths, params) -> list[str]:
    """The files ``params`` asks to keep."""
    return ((paths.models if params.keep_cross_validation_models else []) +
            ([paths.holdout_predictions] if params.keep_cross_validation_predictions else []) +
            ([paths.fold_assignment] if params.keep_cross_validation_fold_assignment else []))


def write_fold_assignment(path: str, folds: np.ndarray) -> None:
    """``fold_assignment`` then one 0-based fold per row (folds: int32[N])."""
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        f.write("fold_assignment\n")
        f.write("".join(f"{k}\n" for k in folds.tolist()))


def write_holdout_predictions(path: str, model, parts_by_rank: list, nrows: int) -> None:
    """Every row's holdout prediction in frame order.  parts_by_rank: per rank, per fold,
    (rows int64[n], labels, probs) of that rank's holdout rows."""
    header = header_line(model)
    lines = np.full(nrows, "," * header.count(b","), dtype=object)
    for parts in parts_by_rank:
        for rows, labels, probs in parts:
            if rows.size:
                lines[rows] = csv_rows(model, labels, probs).decode().splitlines()
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        f.write(header.decode())
        f.write("".join(line + "\n" for line in lines))


def remove_quietly(path: str) -> None:
    """Remove a fold model that is not kept (absent already: nothing to do)."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
