"""Weights and biases under readable names: in the model file, and as CSV / .npy tables.

H2O's ``export_weights_and_biases`` keeps, per weight layer ``l``, the frames
``MODEL.weights.l`` (rows = units of layer l+1, columns C1..Cn = units of layer l; Maxout:
2 rows per unit, its two channels) and ``MODEL.biases.l`` (one column C1).  mpidl keeps the
same tables: with the parameter on, the model file has a group ``weights_and_biases`` with
datasets ``weights_l`` and ``biases_l``; ``mpidl export MODEL --weights DIR`` writes
``weights_l.csv`` / ``.npy`` and ``biases_l.csv`` / ``.npy`` for any model, the CSVs in the
layout of H2O's ``h2o.export_file`` of those frames, and ``input_names.csv``, the names of
layer 0's input units (H2O's coefficient names).  ``load_initial_tables`` is the inverse: H2O's
``initial_weights`` / ``initial_biases`` frames (.h5 or CSV, e.g. the CSVs written here) read
into a fresh model in the same layout.
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



def _read_table(path: str, param: str, want: tuple[int, int]) -> np.ndarray:
    """float64[want] from the frame ``path`` (.h5 or CSV, every column numeric, no missing
    value); anything else is a UserError naming ``param`` and the file."""
    from ..data.frame import Frame
    where = f"parameter '{param}': {path}"
    try:
        frame = Frame(path)
    except UserError as e:
        raise UserError(f"{where}: {e}") from None
    cols = frame.info.columns
    if frame.nrows != want[0] or len(cols) != want[1]:
        raise UserError(f"{where}: has {frame.nrows} rows x {len(cols)} columns; this layer "
                        f"needs {want[0]} x {want[1]}")
    bad = [c.name for c in cols if c.kind != "numeric"]
    if bad:
        raise UserError(f"{where}: column '{bad[0]}' is not numeric")
    raw = frame.read([c.name for c in cols])
    table = np.column_stack([raw[c.name] for c in cols]).astype(np.float64)
    if not np.isfinite(table).all():
        raise UserError(f"{where}: has missing or infinite values")
    return table


def load_initial_tables(model, weight_paths, bias_paths) -> list[int]:
    """Overwrite the weights and biases of ``model`` (in place) with H2O's initial_weights /
    initial_biases frames, the inverse of ``weight_tables``; returns the layers loaded.

    As in H2O a layer is loaded only when both its weight and its bias frame are given
    (``""`` leaves it random); a weight frame is [mult*units[l+1], units[l]] (Maxout: rows
    2k, 2k+1 the two channels of unit k), a bias frame [mult*units[l+1], 1].
    """
    if not weight_paths or not bias_paths:
        return []
    lay, view = model.layout, model.params_view()
    loaded = []
    for i, (wpath, bpath) in enumerate(zip(weight_paths, bias_paths)):
        if not wpath or not bpath:
            continue
        w = lay.weights(view, i)
        b = lay.biases(view, i)
        w[...] = _read_table(wpath, "initial_weights", w.shape)
        b[...] = _read_table(bpath, "initial_biases", (b.shape[0], 1))[:, 0]
        loaded.append(i)
    return loaded
