"""Adversarial cases: hand-written or damaged ``.h5`` tables whose categorical codes fall
outside their levels (they used to reach the numba kernels as weight-row indices: SIGSEGV)."""

import h5py
import numpy as np
import pytest
from harness import fingerprint, refused, run

from mpidl.data.hdf5 import write_table

pytestmark = [pytest.mark.adversarial, pytest.mark.mpi_skip]

N = 400


def _table(path, column: str | None = None, row: int = 0, code=None, dtype=None):
    """A valid 400-row table (numeric 'a', categorical 'c' and 'y'), then ``column``'s code
    at ``row`` overwritten with ``code`` (and the dataset stored as ``dtype`` when given)."""
    rng = np.random.default_rng(3)
    write_table(path, {"a": rng.normal(size=N), "c": rng.integers(0, 3, N),
                       "y": np.arange(N) % 2},
                {"c": ["x", "y", "z"], "y": ["no", "yes"]})
    if column is None:
        return
    key = {"a": "c0000", "c": "c0001", "y": "c0002"}[column]
    with h5py.File(path, "a") as f:
        ds = f["table"][key]
        values, domain = ds[...], ds.attrs["domain"]
        values = values.astype(np.int32 if dtype is None else dtype)  # room for any code
        values[row] = code
        del f["table"][key]
        new = f["table"].create_dataset(key, data=values)
        new.attrs["domain"], new.attrs["name"] = domain, column


def _job(tmp_path, frame="bad.h5"):
    job = tmp_path / "job.toml"
    job.write_text(f'training_frame = "{frame}"\nresponse_column = "y"\nhidden = [4]\n'
                   'epochs = 1\nseed = 1\n')
    return job


@pytest.mark.parametrize("column,row,code", [("c", 5, 10**6), ("c", 7, -2), ("y", 3, 2)])
def test_out_of_range_code_is_refused_on_one_rank(tmp_path, column, row, code):
    _table(tmp_path / "bad.h5", column, row, code)
    model = tmp_path / "m.h5"
    model.write_bytes(b"an older model")
    before = fingerprint([model])
    refused(run(["train", _job(tmp_path), "-o", model], cwd=tmp_path), "bad.h5",
            f"'{column}'", str(code), untouched=before)


def test_out_of_range_code_on_the_second_rank(tmp_path):
    _table(tmp_path / "bad.h5", "c", N - 1, 99)   # the last row: rank 1's shard
    refused(run(["train", _job(tmp_path), "-o", "m.h5"], cwd=tmp_path, ranks=2),
            "bad.h5", "'c'", "99")
    assert not (tmp_path / "m.h5").exists()


def test_float_codes_are_refused(tmp_path):
    _table(tmp_path / "bad.h5", "c", 0, 0.5, dtype=np.float64)
    refused(run(["train", _job(tmp_path)], cwd=tmp_path), "bad.h5", "'c'", "float64")


@pytest.mark.parametrize("ranks", [None, 2])
def test_predict_on_a_damaged_table(tmp_path, ranks):
    _table(tmp_path / "good.h5")
    assert run(["train", _job(tmp_path, "good.h5"), "-o", "m.h5"],
               cwd=tmp_path).returncode == 0
    _table(tmp_path / "bad.h5", "c", N // 2 + 1, 3)
    refused(run(["predict", "m.h5", "bad.h5", "-o", "p.csv"], cwd=tmp_path, ranks=ranks),
            "bad.h5", "'c'", "outside its 3 levels")
    assert not (tmp_path / "p.csv").exists()
