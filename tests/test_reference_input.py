"""mpidl's DataInfo (build + transform) against the reference input assembly
(tests/reference_input.py) on a random frame: categoricals with missing values and equal
domain sizes, numerics with missing values and a constant column, weights; every switch."""

from __future__ import annotations

import numpy as np
import pytest

import kernel_driver as KD
import reference_input as RI
from mpidl.comm import SerialComm
from mpidl.data.build_info import build_datainfo
from mpidl.data.frame import Frame
from mpidl.data.hdf5 import write_table
from mpidl.params import validate

DOMAINS = {"a": ["p", "q"], "b": ["u", "v", "w", "x"], "c": ["m", "n"]}


def _random_frame(n: int, seed: int, unseen: bool = False):
    """(codes and numerics by column, domains); ``unseen``: column b's domain gains a level
    the training frame never had, in a different order."""
    rng = np.random.default_rng(seed)
    cols, domains = {}, {k: list(v) for k, v in DOMAINS.items()}
    for name, levels in DOMAINS.items():
        codes = rng.integers(0, len(levels), n).astype(np.int32)
        codes[rng.random(n) < 0.15] = -1
        cols[name] = codes
    if unseen:
        domains["b"] = ["zz"] + DOMAINS["b"][::-1]
        cols["b"] = rng.integers(-1, 5, n).astype(np.int32)
    for name, (mu, sd) in {"x1": (3.0, 2.0), "x2": (-1.0, 0.5)}.items():
        x = rng.normal(mu, sd, n)
        x[rng.random(n) < 0.2] = np.nan
        cols[name] = x
    cols["konst"] = np.where(rng.random(n) < 0.2, np.nan, 4.0)
    cols["w"] = rng.choice([0.0, 0.5, 1.0, 2.5], n)
    cols["y"] = rng.normal(10.0, 3.0, n)
    cols["y"][rng.random(n) < 0.1] = np.nan
    return cols, domains


def _as_reference_columns(cols, domains):
    out = {}
    for name, v in cols.items():
        if name in domains:
            out[name] = ("cat", [domains[name][c] if c >= 0 else None for c in v])
        else:
            out[name] = ("num", np.asarray(v, dtype=np.float64))
    return out


@pytest.mark.parametrize("weights", [None, "w"])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("missing", ["MeanImputation", "Skip"])
@pytest.mark.parametrize("standardize", [True, False])
@pytest.mark.parametrize("use_all", [True, False])
def test_datainfo_equals_the_reference_assembly(tmp_path, request, use_all, standardize,
                                                missing, training, weights):
    cols, domains = _random_frame(40, 1)
    path = str(tmp_path / "train.h5")
    write_table(path, cols, domains)
    ignored = [] if weights else ["w"]
    params = validate({"training_frame": path, "response_column": "y", "weights_column": weights,
                       "ignored_columns": ignored, "use_all_factor_levels": use_all,
                       "standardize": standardize, "missing_values_handling": missing}, "test")
    frame = Frame(path)
    dinfo = build_datainfo(frame, frame.read(frame.info.names), params, SerialComm(), path,
                           log=lambda *a, **k: None)
    ref_cols = {k: v for k, v in _as_reference_columns(cols, domains).items() if k not in ignored}
    plan = RI.fit(ref_cols, domains, "y", weights, use_all, standardize, missing == "Skip")
    if not training:
        cols, domains = _random_frame(30, 2, unseen=True)
        path = str(tmp_path / "score.h5")
        write_table(path, cols, domains)
        frame = Frame(path)
        ref_cols = {k: v for k, v in _as_reference_columns(cols, domains).items()
                    if k not in ignored}
    assert dinfo.cat_names == [c for c, _ in plan.cats] and dinfo.full_n == plan.full_n
    names = [n for n in frame.info.names if n not in ignored]
    nums, cats, y, _, idx = dinfo.transform(frame.read(names), frame.info, path, training)
    X_ref, idx_ref = RI.assemble(plan, ref_cols, training)
    np.testing.assert_array_equal(idx, idx_ref)
    X = KD.dense_inputs(nums, cats, dinfo.num_start, dinfo.full_n)
    np.testing.assert_allclose(X, X_ref, rtol=2e-7, atol=1e-6)
    np.testing.assert_allclose(y, RI.response(plan, ref_cols["y"][1][idx_ref]), rtol=1e-12)
