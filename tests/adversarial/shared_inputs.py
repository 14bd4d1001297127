"""Small inputs shared by the adversarial cases of writes, output paths and ranks.

``inputs(folder)`` fills ``folder`` with H2O's prostate data (``prostate.csv``), a one-epoch
job on it (``job.toml``), the table and model made from them (``table.h5``, ``model.h5``) and
a larger regression set (``wide.csv``, 6,000 rows x 9 columns) whose table, model and
predictions are each bigger than 64 KiB.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from harness import run

REPO = Path(__file__).resolve().parents[2]
JOB = """\
training_frame = "{data}"
response_column = "{response}"
ignored_columns = {ignored}
hidden = {hidden}
epochs = 1
seed = 1
reproducible = true
"""


def write_job(folder: Path, name: str = "job.toml", data: str = "prostate.csv",
              response: str = "CAPSULE", ignored=("ID",), hidden=(8,)) -> Path:
    """A one-epoch job file in ``folder`` (returns its path)."""
    path = folder / name
    path.write_text(JOB.format(data=data, response=response, hidden=list(hidden),
                               ignored=str(list(ignored)).replace("'", '"')))
    return path


def _wide_csv(path: Path, rows: int = 6000) -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(rows, 8))
    y = x @ rng.normal(size=8) + 0.1 * rng.normal(size=rows)
    np.savetxt(path, np.column_stack([x, y]), delimiter=",", fmt="%.9f", comments="",
               header=",".join([f"x{i}" for i in range(8)] + ["y"]))


def inputs(folder: Path) -> Path:
    """Make the shared inputs in ``folder`` (see the module docstring); returns ``folder``."""
    shutil.copy(REPO / "data" / "prostate.csv", folder / "prostate.csv")
    write_job(folder)
    _wide_csv(folder / "wide.csv")
    write_job(folder, "wide.toml", data="wide.csv", response="y", ignored=(), hidden=(128, 128))
    for args in (["import", "prostate.csv", "-o", "table.h5"],
                 ["train", "job.toml", "-o", "model.h5"],
                 ["train", "wide.toml", "-o", "wide.h5"],
                 ["predict", "wide.h5", "wide.csv", "-o", "wide_pred.csv"]):
        proc = run(args, cwd=folder)
        assert proc.returncode == 0, proc.stderr
    return folder
