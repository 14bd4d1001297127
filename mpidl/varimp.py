"""Gedeon variable importances as H2O computes them (spec section 12,
``DeepLearningModelInfo.computeVariableImportances``), and H2O's table of them.

Only the first two weight layers are read: ``W1`` (input -> first hidden layer) and ``W2``
(first hidden layer -> the next layer, hidden or output), both in H2O's orientation
(destination x source) and in float32, as H2O computes them::

    S1_j = sum_i |W1[j, i]|         S2_k = sum_j |W2[k, j]|
    Q_ik = sum_j |W1[j, i]| / S1_j * |W2[k, j]| / S2_k,   Q_ik /= sum_i Q_ik
    VI_i = sum_k Q_ik,             VI /= max(VI)

then the NA slot of every categorical column that no training row hit is set to 0.
"""

from __future__ import annotations

import numpy as np

TABLE_COLUMNS = ("variable", "relative_importance", "scaled_importance", "percentage")


def h2o_weight_rows(w: np.ndarray, mult: int, n_out: int) -> np.ndarray:
    """float32[n_out, n_in]: weight layer ``w`` (mpidl's in-major ``(n_in, mult * n_out)``,
    destination column ``mult * k + c`` = channel ``c`` of unit ``k``) as H2O's
    ``get_weights(l).get(k, i)`` reads it.  H2O stores the same numbers row-major with the
    channels interleaved and reads the first ``n_out`` rows of ``n_in`` values in plain
    row-major order, so for Maxout (``mult`` 2) a "row" mixes units and channels (spec
    section 12's quirk, kept); for ``mult`` 1 this is ``w.T``."""
    n_in = w.shape[0]
    h2o_flat = np.ascontiguousarray(
        w.reshape(n_in, n_out, mult).transpose(1, 0, 2)).ravel()
    return h2o_flat[:n_out * n_in].reshape(n_out, n_in).astype(np.float32)


def gedeon(w1: np.ndarray, w2: np.ndarray | None) -> np.ndarray:
    """float32[n_in] importances, largest 1, from H2O-oriented ``w1`` (float32[n_hidden,
    n_in]) and ``w2`` (float32[n_next, n_hidden]; None: no hidden layer, then
    ``VI_i = sum_j |W1[j, i]|``)."""
    a1 = np.abs(w1.astype(np.float32))
    if w2 is None:
        vi = a1.sum(axis=0, dtype=np.float32)
    else:
        a2 = np.abs(w2.astype(np.float32))
        p1 = a1 / a1.sum(axis=1, dtype=np.float32)[:, None]          # [j, i]
        p2 = a2 / a2.sum(axis=1, dtype=np.float32)[:, None]          # [k, j]
        q = (p1.T @ p2.T).astype(np.float32)                          # [i, k]
        q /= q.sum(axis=0, dtype=np.float32)[None, :]
        vi = q.sum(axis=1, dtype=np.float32)
    return (vi / vi.max()).astype(np.float32)


def model_importances(model) -> list[float]:
    """The model's importances, one per input slot (``dinfo.coef_names()`` order), with
    unseen NA slots zeroed (``model.saw_missing_cats``: one flag per categorical column;
    None: all taken as seen; hashed slots have no NA slot of their own)."""
    lay, buf = model.layout, model.params_view()
    w1 = h2o_weight_rows(lay.weights(buf, 0).T, int(lay.mult[0]), lay.units[1])
    w2 = (h2o_weight_rows(lay.weights(buf, 1).T, int(lay.mult[1]), lay.units[2])
          if lay.n_layers > 1 else None)
    vi = gedeon(w1, w2)
    seen = model.saw_missing_cats
    if seen is not None and not model.dinfo.hash_slots:
        na_slots = model.dinfo.cat_offsets[1:] - 1
        vi[na_slots[~np.asarray(seen, dtype=bool)]] = 0.0
    return [float(v) for v in vi]


def saw_missing_cats(cats: np.ndarray, dinfo, comm) -> list[bool]:
    """Whether any training row of any rank hit each categorical column's NA slot (H2O's
    ``checkMissingCats``).  ``cats``: this rank's int32[n, n_cat] slot indices.  Collective."""
    na_slots = dinfo.cat_offsets[1:] - 1
    hit = (cats == na_slots[None, :].astype(cats.dtype)).any(axis=0).astype(np.float64)
    return [bool(v) for v in comm.allreduce_max(hit)]


def importance_table(names: list[str], importances: list[float]) -> list[dict]:
    """H2O's variable importance table (``ModelMetrics.calcVarImp``): one row per input slot,
    most important first; relative = the importance, scaled = relative / max, percentage =
    relative / sum (fractions, as H2O's table holds them)."""
    vi = np.asarray(importances, dtype=np.float64)
    top, total = vi.max(), vi.sum()
    order = np.argsort(-vi, kind="stable")
    return [{"variable": names[i], "relative_importance": float(vi[i]),
             "scaled_importance": float(vi[i] / top) if top > 0 else 0.0,
             "percentage": float(vi[i] / total) if total > 0 else 0.0} for i in order]
