"""What an autoencoder's output means (spec 11): the reconstruction error per row and per
input slot (H2O's ``scoreAutoEncoder``), its metrics, and the reconstruction mapped back to
the data's units (H2O's ``reconstr_`` columns).

Everything is in the expanded input space of ``DataInfo``: ``full_n`` slots, the categorical
one-hot blocks (NA slot included) first, then the numerics, NORMALIZE-d as in training.
"""

from __future__ import annotations

import numpy as np

from .data.shard_numerics import float_numerics


def expanded_inputs(dinfo, nums: np.ndarray, cats: np.ndarray) -> np.ndarray:
    """float64[n, full_n]: the network's input rows without dropout (one-hot slots set to 1,
    the transformed numerics at ``num_start``); ``nums``, ``cats`` as ``DataInfo.transform``
    (either form of numerics)."""
    n = nums.shape[0]
    x = np.zeros((n, dinfo.full_n))
    rows = np.arange(n)
    for c in range(cats.shape[1]):
        hot = cats[:, c] >= 0
        x[rows[hot], cats[hot, c]] = 1.0
    x[:, dinfo.num_start:] = float_numerics(nums)
    return x


def squared_errors(dinfo, nums: np.ndarray, cats: np.ndarray, out: np.ndarray) -> np.ndarray:
    """float64[n, full_n]: (reconstruction - input)^2 per slot (``out``: the autoencoder's
    ``raw_output`` of these rows)."""
    return (out - expanded_inputs(dinfo, nums, cats)) ** 2


def reconstruction_mse(dinfo, nums, cats, out) -> np.ndarray:
    """float64[n]: H2O's ``Reconstruction.MSE`` per row, the mean of ``squared_errors``."""
    return squared_errors(dinfo, nums, cats, out).mean(axis=1)


def reconstruction_metrics(row_mse: np.ndarray, w: np.ndarray, comm) -> dict:
    """H2O's ``ModelMetricsAutoEncoder`` over every rank's rows: MSE = weighted mean of the
    rows' ``row_mse``, RMSE, nobs (a collective; NaN with no rows)."""
    sums = comm.allreduce_sum(np.array([float(np.dot(w, row_mse)), float(w.sum()),
                                        float(row_mse.size)]))
    mse = sums[0] / sums[1] if sums[1] > 0 else float("nan")
    return {"MSE": float(mse), "RMSE": float(np.sqrt(mse)), "nobs": int(sums[2])}


def reconstruction_names(dinfo) -> list[str]:
    """H2O's prediction columns of an autoencoder: ``reconstr_<coefname>``."""
    return [f"reconstr_{name}" for name in dinfo.coef_names()]


def error_names(dinfo) -> list[str]:
    """H2O's per-feature anomaly columns: ``reconstr_<coefname>.SE``."""
    return [f"{name}.SE" for name in reconstruction_names(dinfo)]


def in_data_units(dinfo, out: np.ndarray) -> np.ndarray:
    """float64[n, full_n]: the reconstruction with its numeric slots mapped back to the data's
    units (x = y / mul + sub); categorical slots stay raw activations, as H2O."""
    y = np.array(out, dtype=np.float64)
    lo = dinfo.num_start
    y[:, lo:] = y[:, lo:] / np.asarray(dinfo.num_mul) + np.asarray(dinfo.num_sub)
    return y
