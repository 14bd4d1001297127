"""A training shard's integer columns are kept compact (raw values in the smallest integer
type, a missing marker) and standardized by the kernels as they fill an input row.

The kernels' inputs are checked against plain numpy ``(x - mean) / sd`` of the raw columns
(H2O's sample sd; a missing value gives the standardized mean, 0), and a model trained from
the compact shard against the same model trained from the float32 shard (reproducible mode).
"""

import math

import h5py
import numpy as np
import pytest

from mpidl.comm import SerialComm
from mpidl.cv.run import train_with_cv
from mpidl.data.frame import Frame
from mpidl.data.shard_numerics import CompactNumerics, kernel_numerics
from mpidl.kernels.minibatch import assemble_input
from mpidl.kernels.forward import set_input
from mpidl.params import validate
from mpidl.train.loop import train
from mpidl.train.row_cache import RowCache

NAN = math.nan
#   pixel (0..255)  count (-3..300)  flag     y
TABLE = [(0, -3, 1, "n"),
         (255, 7, NAN, "p"),
         (17, NAN, 0, "p"),
         (NAN, 300, 1, "n"),
         (128, 12, 0, "p"),
         (3, -1, 1, "n")]


def _csv(tmp_path, rows=TABLE, repeat=1):
    path = tmp_path / "ints.csv"
    body = "".join(",".join("" if isinstance(v, float) and math.isnan(v) else str(v)
                            for v in row) + "\n" for row in rows * repeat)
    path.write_text("pixel,count,flag,y\n" + body)
    return str(path)


def _fit(path, tmp_path, name, monkeypatch, compact: bool, **kw):
    """(model, its weights buffer) trained on one rank with compact shards on or off."""
    monkeypatch.setenv("MPIDL_COMPACT_SHARD", "1" if compact else "0")
    params = validate({"training_frame": path, "response_column": "y", "hidden": [4, 3],
                       "epochs": 3, "seed": 5, "reproducible": True, **kw}, "test")
    out = str(tmp_path / f"{name}.h5")
    rows = RowCache()
    model = train(params, SerialComm(), 1, out, name, log=lambda *a, **k: None, rows=rows)
    assert isinstance(rows.entry.shard.nums, CompactNumerics) == compact
    with h5py.File(out) as f:
        return model, f["buf"][:]


def _shard(model, path):
    frame = Frame(path)
    cols = frame.read(model.dinfo.predictors + [model.dinfo.response])
    return model.dinfo.transform(cols, frame.info, path, True, compact=True)[0]


def _by_hand(model) -> np.ndarray:
    """float64[n, 3]: (x - mean) / sd of each raw column (sample sd), 0 where missing, in
    the model's column order."""
    raw = np.array([row[:3] for row in TABLE], dtype=np.float64)
    order = [["pixel", "count", "flag"].index(n) for n in model.dinfo.num_names]
    raw = raw[:, order]
    z = (raw - np.nanmean(raw, axis=0)) / np.nanstd(raw, axis=0, ddof=1)
    return np.where(np.isnan(z), 0.0, z)


def test_the_shard_keeps_raw_integers_and_a_missing_marker(tmp_path, monkeypatch):
    path = _csv(tmp_path)
    model, _ = _fit(path, tmp_path, "m", monkeypatch, compact=True)
    nums = _shard(model, path)
    assert isinstance(nums, CompactNumerics)
    assert nums.raw.dtype == np.int16 and nums.marker == -32768   # 300 and -3 need int16
    assert nums.raw.flags.c_contiguous
    col = model.dinfo.num_names.index("pixel")
    np.testing.assert_array_equal(nums.raw[:, col], [0, 255, 17, -32768, 128, 3])


def test_set_input_standardizes_the_raw_values_as_numpy_does(tmp_path, monkeypatch):
    path = _csv(tmp_path)
    model, _ = _fit(path, tmp_path, "m", monkeypatch, compact=True)
    nums = kernel_numerics(_shard(model, path))
    start = model.dinfo.num_start
    expected = _by_hand(model)
    a0 = np.zeros(model.dinfo.full_n, dtype=np.float32)
    nz = np.zeros_like(a0, dtype=np.int64)
    state = np.ones(1, dtype=np.uint64)
    cats = np.zeros((len(TABLE), 0), dtype=np.int32)
    for row in range(len(TABLE)):
        set_input(a0, nz, nums, cats, row, start, False, 0.0, state)
        np.testing.assert_allclose(a0[start:], expected[row], rtol=1e-6, atol=1e-7)
    x = np.zeros((len(TABLE), model.dinfo.full_n), dtype=np.float32)
    assemble_input(x, nums, cats, np.arange(len(TABLE)), 0, start, 0.0, state)
    np.testing.assert_allclose(x[:, start:], expected, rtol=1e-6, atol=1e-7)


def test_uint8_columns_without_missing_values_use_all_256_values(tmp_path, monkeypatch):
    rows = [(v, v % 7, v % 2, "np"[v % 2]) for v in (0, 255, 9, 200, 31, 64)]
    path = _csv(tmp_path, rows)
    model, _ = _fit(path, tmp_path, "m", monkeypatch, compact=True)
    nums = _shard(model, path)
    assert nums.raw.dtype == np.uint8 and nums.marker is None
    assert kernel_numerics(nums).marker < -255   # never a raw value


def test_a_fractional_column_keeps_the_shard_float32(tmp_path, monkeypatch):
    path = _csv(tmp_path, [(1, 2, 0.5, "n"), (3, 4, 1, "p"), (5, 6, 0, "p")])
    model, _ = _fit(path, tmp_path, "m", monkeypatch, compact=False)
    monkeypatch.setenv("MPIDL_COMPACT_SHARD", "1")
    assert _shard(model, path).dtype == np.float32


@pytest.mark.parametrize("kw", [dict(), dict(mini_batch_size=4),
                                dict(standardize=False, missing_values_handling="Skip"),
                                dict(autoencoder=True, response_column=None, hidden=[2]),
                                dict(balance_classes=True, class_sampling_factors=[1.0, 0.5])],
                         ids=["online", "minibatch", "raw_skip", "autoencoder", "balance"])
def test_the_compact_shard_trains_the_float32_shards_model(tmp_path, monkeypatch, kw):
    path = _csv(tmp_path, repeat=20)
    if kw.get("autoencoder"):
        kw = {**kw, "ignored_columns": ["y"]}
    compact, compact_buf = _fit(path, tmp_path, "c", monkeypatch, compact=True, **kw)
    plain, plain_buf = _fit(path, tmp_path, "p", monkeypatch, compact=False, **kw)
    np.testing.assert_array_equal(compact_buf, plain_buf)
    assert compact.training_metrics.keys() == plain.training_metrics.keys()
    for key in ("MSE", "logloss"):
        if key in plain.training_metrics:
            assert compact.training_metrics[key] == pytest.approx(plain.training_metrics[key],
                                                                  rel=1e-5)


def test_cross_validation_on_compact_rows_equals_float32(tmp_path, monkeypatch):
    """Fold models train on subsets of the compact shard and score its holdout rows."""
    path = _csv(tmp_path, repeat=10)
    metrics, bufs = {}, {}
    for compact in ("1", "0"):
        monkeypatch.setenv("MPIDL_COMPACT_SHARD", compact)
        params = validate({"training_frame": path, "response_column": "y", "hidden": [3],
                           "epochs": 2, "seed": 5, "reproducible": True, "nfolds": 2}, "test")
        out = str(tmp_path / f"cv{compact}.h5")
        model = train_with_cv(params, SerialComm(), 1, out, f"cv{compact}",
                              log=lambda *a, **k: None)
        metrics[compact], bufs[compact] = model.cross_validation_metrics, model.buf
    np.testing.assert_array_equal(bufs["1"], bufs["0"])
    assert metrics["1"] == metrics["0"]


def test_hogwild_threads_train_from_compact_rows(tmp_path, monkeypatch):
    """Two Hogwild threads (the parallel kernel takes the rows apart: numba's parallel loop
    cannot take the compact tuple inside the rows' tuple) train every row of 3 epochs."""
    monkeypatch.setenv("MPIDL_COMPACT_SHARD", "1")
    path = _csv(tmp_path, repeat=50)
    params = validate({"training_frame": path, "response_column": "y", "hidden": [4],
                       "epochs": 3, "seed": 5, "train_samples_per_iteration": 0}, "test")
    rows = RowCache()
    model = train(params, SerialComm(), 2, str(tmp_path / "h.h5"), "h",
                  log=lambda *a, **k: None, rows=rows)
    assert isinstance(rows.entry.shard.nums, CompactNumerics)
    assert model.processed == 3 * len(TABLE) * 50
    assert np.isfinite(model.buf).all() and np.isfinite(model.training_metrics["logloss"])


def test_a_bad_setting_is_refused(monkeypatch):
    from mpidl.data.shard_numerics import compact_shard_setting
    from mpidl.errors import UserError
    monkeypatch.setenv("MPIDL_COMPACT_SHARD", "yes")
    with pytest.raises(UserError, match="MPIDL_COMPACT_SHARD"):
        compact_shard_setting()
