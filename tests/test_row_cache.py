"""Rows loaded once for several models (train/row_cache.py): a model trained from the held
rows is the model a fresh load trains (reproducible mode), and a model whose data parameters
or frame differ loads its own rows."""

import os
import re
import shutil
from pathlib import Path

import h5py
import numpy as np

from mpidl.comm import SerialComm
from mpidl.params import validate
from mpidl.train.loop import train
from mpidl.train.row_cache import ROW_PARAMETERS, RowCache

REPO = Path(__file__).resolve().parents[1]
PROSTATE = str(REPO / "data" / "prostate.csv")
BASE = dict(response_column="CAPSULE", ignored_columns=["ID"], hidden=[5], epochs=2, seed=3,
            reproducible=True, train_samples_per_iteration=0, distribution="bernoulli")


def quiet(*args, **kw):
    pass


def fit(tmp_path, name, rows=None, **kw):
    """(model, its file's weights) of a model trained on one rank, with the cache ``rows``."""
    params = validate({"training_frame": PROSTATE, **BASE, **kw}, "test")
    out = str(tmp_path / f"{name}.h5")
    model = train(params, SerialComm(), 1, out, name, log=quiet, rows=rows)
    with h5py.File(out) as f:
        return model, f["buf"][:]


def test_held_rows_train_the_model_a_fresh_load_trains(tmp_path):
    """The first model (with input dropout, which must not touch the rows) loads; the second,
    other hyper-parameters and the same data, takes the held load and equals a fresh one."""
    cache = RowCache()
    fit(tmp_path, "first", cache, input_dropout_ratio=0.2, validation_frame=PROSTATE)
    held = cache.entry
    assert held is not None and held.valid is not None
    cached, buf = fit(tmp_path, "cached", cache, hidden=[7, 3], l1=1e-4,
                      validation_frame=PROSTATE)
    assert cache.entry is held and held.shard is cache.entry.shard   # a hit: nothing loaded
    fresh, fresh_buf = fit(tmp_path, "fresh", None, hidden=[7, 3], l1=1e-4,
                           validation_frame=PROSTATE)
    np.testing.assert_array_equal(buf, fresh_buf)
    assert cached.dinfo == fresh.dinfo and cached.dinfo is not held.dinfo
    assert cached.validation_metrics == fresh.validation_metrics


def test_other_data_parameters_load_their_own_rows(tmp_path):
    """standardize off and another column ignored are other rows: loaded again, each model
    equal to its fresh load (and the standardized one not)."""
    cache = RowCache()
    fit(tmp_path, "standardized", cache)
    held = cache.entry
    for name, change in (("raw", dict(standardize=False)),
                         ("fewer", dict(ignored_columns=["ID", "AGE"]))):
        model, buf = fit(tmp_path, name, cache, **change)
        assert cache.entry is not held
        held = cache.entry
        _, fresh_buf = fit(tmp_path, f"{name}_fresh", None, **change)
        np.testing.assert_array_equal(buf, fresh_buf)
    assert "AGE" not in model.dinfo.num_names
    raw, _ = fit(tmp_path, "raw_again", RowCache(), standardize=False)
    assert set(raw.dinfo.num_sub) == {0.0} and set(raw.dinfo.num_mul) == {1.0}


def test_a_rewritten_frame_is_loaded_again(tmp_path):
    """The same parameters on a frame file whose contents changed (size, modification time):
    the new rows, not the held ones."""
    frame = tmp_path / "p.csv"
    shutil.copy(PROSTATE, frame)
    cache = RowCache()
    fit(tmp_path, "before", cache, training_frame=str(frame))
    lines = frame.read_text().splitlines(keepends=True)
    frame.write_text("".join(lines[:200]))
    os.utime(frame, ns=(1, 1))
    after, _ = fit(tmp_path, "after", cache, training_frame=str(frame))
    assert after.training_rows == 199


def test_the_key_names_every_parameter_the_rows_are_made_from():
    """Every ``params.X`` the DataInfo and the training read use is in the key (a parameter
    added there and not here would let a model take other rows)."""
    code = "".join((REPO / "mpidl" / "data" / name).read_text()
                   for name in ("datainfo.py", "build_info.py"))
    setup = (REPO / "mpidl" / "train" / "setup.py").read_text()
    code += setup[setup.index("def open_training"):setup.index("def _checkpoint_compatible")]
    used = set(re.findall(r"\bparams\.(\w+)", code))
    in_key = set(ROW_PARAMETERS) | {"training_frame", "ignored_columns", "fold_column"}
    assert used and used <= in_key, used - in_key
