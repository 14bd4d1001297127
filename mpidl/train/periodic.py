"""Periodic checkpoints (mpidl's ``checkpoint_interval``) and H2O's ``export_checkpoints_dir``.

Every ``checkpoint_interval`` seconds of training (by default 300 s when running under SLURM,
else never) rank 0 writes a resumable model next to the output model, ``STEM.ckpt-NNNNNN.h5``
(NNNNNN: the iteration), atomically (temp file + rename), and keeps the newest two: a node
that dies (SIGKILL, hardware) loses at most one interval.  A checkpoint holds what a signal
checkpoint holds -- weights, optimizer state, every counter, the scoring history, the best
model -- plus, with elastic averaging, every rank's local model, so a resume on the same number
of ranks continues as the uninterrupted run would.  ``slurm/train.sbatch`` resumes from the
newest of the output model and these files after a requeue.

``export_checkpoints_dir`` (H2O): the finished model is also written to DIR/MODEL_ID.h5; the
folder must be writable (checked before training starts).
"""

from __future__ import annotations

import glob
import os
import re

import numpy as np

from ..checkpoint import write_model
from ..errors import UserError

SLURM_DEFAULT_SECONDS = 300.0


def interval_seconds(user: float, environ=os.environ) -> float:
    """Seconds between periodic checkpoints; 0 = none.  -1 (the default): 300 s when running
    under SLURM (``SLURM_JOB_ID`` set), else none."""
    if user < 0:
        return SLURM_DEFAULT_SECONDS if environ.get("SLURM_JOB_ID") else 0.0
    return float(user)


def check_export_dir(path: str | None) -> None:
    """export_checkpoints_dir must be a folder this process can write (created if missing)."""
    if not path:
        return
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as e:
        raise UserError(f"parameter 'export_checkpoints_dir': {path}: cannot create the folder "
                        f"({e.strerror})") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise UserError(f"parameter 'export_checkpoints_dir': {path}: folder is not writable")


def export_finished(model, folder: str | None) -> str | None:
    """H2O's export of the finished model to ``folder/MODEL_ID.h5`` (rank 0); returns the path."""
    if not folder:
        return None
    path = os.path.join(folder, f"{model.model_id}.h5")
    write_model(path, model)
    return path


def checkpoint_files(out_path: str) -> list[str]:
    """The periodic checkpoints of ``out_path`` that exist, oldest iteration first."""
    stem = os.path.splitext(out_path)[0]
    pattern = re.compile(re.escape(os.path.basename(stem)) + r"\.ckpt-(\d+)\.h5$")
    found = [(int(m.group(1)), f) for f in glob.glob(glob.escape(stem) + ".ckpt-*.h5")
             if (m := pattern.search(os.path.basename(f)))]
    return [f for _, f in sorted(found)]


class PeriodicCheckpoints:
    """Rank 0's clock and writer.  ``due(seconds)`` after an iteration (training seconds so
    far); ``write(model, local_bufs)`` when the broadcast control record says so."""

    def __init__(self, out_path: str, interval: float, start_seconds: float, keep: int = 2):
        self.out_path, self.interval, self.keep = out_path, interval, keep
        self.last = start_seconds

    def due(self, seconds: float) -> bool:
        return self.interval > 0 and seconds - self.last >= self.interval

    def write(self, model, local_bufs) -> str:
        """Write ``model`` (with the ranks' local models, float32[nranks, n] or None) as the
        newest checkpoint, then remove all but the newest ``keep``; returns its path."""
        path = f"{os.path.splitext(self.out_path)[0]}.ckpt-{model.iterations:06d}.h5"
        write_model(path, model, local_bufs)
        for old in checkpoint_files(self.out_path)[:-self.keep]:
            os.unlink(old)
        self.last = model.train_seconds
        return path


def gather_local_models(comm, local: np.ndarray) -> np.ndarray | None:
    """Elastic averaging: every rank's local model on rank 0, float32[nranks, n] (None on the
    other ranks).  A collective."""
    parts = comm.gather_obj(local)
    return np.stack(parts) if comm.is_root else None


def restore_local_model(model, comm, local: np.ndarray) -> bool:
    """Elastic averaging: take this rank's local model from a checkpoint that holds one per
    rank (same rank count) into ``local``; returns whether it did (then the consensus is the
    checkpoint's, not a fresh mean).  The model keeps no copy afterwards."""
    saved, model.local_bufs = model.local_bufs, None
    if saved is None or saved.shape[0] != comm.size:
        return False
    local[:] = saved[comm.rank]
    return True
