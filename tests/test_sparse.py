"""``sparse = true``: H2O's DESCALE transform (spec 1.1, 4.7): numeric inputs are divided by
their sd but not mean-shifted, so a zero stays zero and fast_mode touches only a row's non-zero
inputs.  Checked against a hand computation of x / sd (H2O's sample sd; a missing value gives
mean / sd, the descaled mean)."""

import math

import numpy as np
import pytest

from mpidl.comm import SerialComm
from mpidl.data.frame import Frame
from mpidl.data.shard_numerics import kernel_numerics
from mpidl.errors import UserError
from mpidl.kernels.forward import set_input
from mpidl.params import validate
from mpidl.train.loop import train

NAN = math.nan
#   a (int)   b (fractional)   y
TABLE = [(0, 0.0, 1.0),
         (3, 0.0, 2.0),
         (0, 2.5, 0.5),
         (NAN, 0.0, 1.5),
         (7, -1.25, 3.0),
         (0, 0.0, 0.0)]


def _model(tmp_path, **kw):
    csv = tmp_path / "s.csv"
    csv.write_text("a,b,y\n" + "".join(",".join("" if math.isnan(v) else repr(v) for v in row)
                                       + "\n" for row in TABLE))
    params = validate({"training_frame": str(csv), "response_column": "y", "hidden": [3],
                       "epochs": 1, "seed": 2, "reproducible": True, "sparse": True, **kw},
                      "test")
    return train(params, SerialComm(), 1, str(tmp_path / "m.h5"), "m",
                 log=lambda *a, **k: None), str(csv)


def _by_hand() -> np.ndarray:
    """float64[n, 2]: x / sd (sample sd of the present values), mean / sd where missing."""
    raw = np.array([row[:2] for row in TABLE])
    sd = np.nanstd(raw, axis=0, ddof=1)
    return np.where(np.isnan(raw), np.nanmean(raw, axis=0), raw) / sd


@pytest.mark.parametrize("compact", ["1", "0"], ids=["compact", "float32"])
def test_sparse_divides_by_the_sd_and_keeps_zeros(tmp_path, monkeypatch, compact):
    monkeypatch.setenv("MPIDL_COMPACT_SHARD", compact)
    model, csv = _model(tmp_path, ignored_columns=["b"] if compact == "1" else [])
    d = model.dinfo
    assert d.num_sub == [0.0] * len(d.num_names)
    frame = Frame(csv)
    nums = d.transform(frame.read(d.predictors + ["y"]), frame.info, csv, True,
                       compact=compact == "1")[0]
    expected = _by_hand()[:, [["a", "b"].index(n) for n in d.num_names]]
    a0 = np.zeros(d.full_n, dtype=np.float32)
    nz = np.zeros(d.full_n, dtype=np.int64)
    cats = np.zeros((len(TABLE), 0), dtype=np.int32)
    for row in range(len(TABLE)):
        count = set_input(a0, nz, kernel_numerics(nums), cats, row, d.num_start, True, 0.0,
                          np.ones(1, dtype=np.uint64))
        np.testing.assert_allclose(a0, expected[row], rtol=1e-6)
        assert list(nz[:count]) == list(np.flatnonzero(expected[row]))   # zeros stay zero


def test_without_sparse_the_inputs_are_mean_shifted(tmp_path):
    model, _ = _model(tmp_path, sparse=False)
    raw = np.array([row[:2] for row in TABLE])
    np.testing.assert_allclose(model.dinfo.num_sub, np.nanmean(raw, axis=0))


def test_sparse_with_elastic_averaging_is_refused():
    with pytest.raises(UserError, match="'sparse'.*elastic_averaging"):
        validate({"training_frame": "t.csv", "response_column": "y", "sparse": True,
                  "elastic_averaging": True}, "job.toml")
