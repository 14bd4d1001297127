"""Weights and biases under readable names: in the model file, and as CSV / .npy tables.

H2O's ``export_weights_and_biases`` keeps, per weight layer ``l``, the frames
``MODEL.weights.l`` (rows = units of layer l+1, columns C1..Cn = units of layer l; Maxout:
2 rows per unit, its two channels) and ``MODEL.biases.l`` (one column C1).  mpidl keeps the
same tables: with the parameter on, the model file has a group ``weights_and_biases`` with
datasets ``weights_l`` and ``biases_l``; ``mpidl export MODEL --weights DIR`` writes
``weights_l.csv`` / ``.npy`` and ``biases_l.csv`` / ``.npy`` for any model, the CSVs in the
layout of H2O's ``h2o.export_file`` of those frames, and ``input_names.csv``, the names of
layer 0's input units (H2O's coefficient names).
"""

from __future__ import annotations

import os

import numpy as np

from ..atomic import atomic_path
from ..errors import UserError

GROUP = "weights_and_biases"


def weight_tables(model) -> list[tuple[str, np.ndarray]]:
    """[(name, float32 table)]: ``weights_l`` [mult*units[l+1], units[l]] and ``biases_l``
    [mult*units[l+1], 1] for each weight layer l, in H2O's orientation."""
    lay, view = model.layout, model.params_view()
    out = []
    for i in range(lay.n_layers):
        out.append((f"weights_{i}", np.ascontiguousarray(lay.weights(view, i))))
        out.append((f"biases_{i}", np.array(lay.biases(view, i)).reshape(-1, 1)))
    return out


def store_tables(h5file, model) -> None:
    """Write the group ``weights_and_biases`` of ``model`` into the open HDF5 ``h5file``."""
    group = h5file.create_group(GROUP)
    for name, table in weight_tables(model):
        group.create_dataset(name, data=table)


def _csv_text(table: np.ndarray) -> str:
    header = ",".join(f'"C{j + 1}"' for j in range(table.shape[1]))
    body = "\n".join(",".join(f"{v:.9g}" for v in row) for row in table.tolist())
    return header + "\n" + body + "\n"


def write_weight_files(model, folder: str, inputs=()) -> list[str]:
    """Write every table as CSV and .npy (and ``input_names.csv``) into the existing
    ``folder``; returns the paths written.  A missing folder is a UserError naming it."""
    if not os.path.isdir(folder):
        raise UserError(f"{folder}: no such folder (mpidl does not create folders)")
    written = []
    names = "name\n" + "".join(f'"{n}"\n' for n in model.dinfo.coef_names())
    files = [("input_names.csv", names)]
    for name, table in weight_tables(model):
        files += [(f"{name}.csv", _csv_text(table)), (f"{name}.npy", table)]
    for base, content in files:
        path = os.path.join(folder, base)
        with atomic_path(path, inputs) as tmp:
            if isinstance(content, str):
                with open(tmp, "w") as f:
                    f.write(content)
            else:
                with open(tmp, "wb") as f:
                    np.save(f, content)
        written.append(path)
    return written

