"""Tables of format version 1 (float64 numerics, int32 codes, 65,536-row chunks) still read:
the committed ``tests/data/*_v1.h5`` were written by mpidl's version-1 importer from the CSVs
beside them.  The same CSV imported today (version 2, compact types) holds equal values and
trains the same model."""

from pathlib import Path

import h5py
import numpy as np
import pytest
from cli_run import mpidl

from mpidl.checkpoint import read_model
from mpidl.data import hdf5
from mpidl.data.hdf5 import read_columns, read_info

DATA = Path(__file__).resolve().parent / "data"
PROSTATE_CSV = Path(__file__).resolve().parents[1] / "data" / "prostate.csv"
CASES = [(PROSTATE_CSV, DATA / "prostate_v1.h5", ["CAPSULE"]),
         (DATA / "mixed.csv", DATA / "mixed_v1.h5", [])]


def _import(csv: Path, categorical, out: Path) -> Path:
    args = ["import", csv, "-o", out] + (["--categorical", *categorical] if categorical else [])
    r = mpidl(*args, cwd=out.parent)
    assert r.returncode == 0, r.stderr
    return out


@pytest.mark.parametrize("csv,old,categorical", CASES)
def test_version_1_table_reads_as_the_csv_imported_today(tmp_path, csv, old, categorical):
    with h5py.File(old, "r") as f:
        assert int(f["table"].attrs["version"]) == 1
        assert all(f["table"][k].dtype in (np.float64, np.int32) for k in f["table"])
    new = _import(csv, categorical, tmp_path / "new.h5")
    with h5py.File(new, "r") as f:
        assert int(f["table"].attrs["version"]) == hdf5.VERSION == 2
    old_info, new_info = read_info(old), read_info(new)
    assert old_info.columns == new_info.columns and old_info.nrows == new_info.nrows
    old_cols = read_columns(old, old_info.names)
    new_cols = read_columns(new, new_info.names)
    for name in old_info.names:
        assert old_cols[name].dtype == new_cols[name].dtype
        np.testing.assert_array_equal(old_cols[name], new_cols[name])   # NaN == NaN
    assert new.stat().st_size < old.stat().st_size


def test_version_1_and_2_tables_train_the_same_model(tmp_path):
    """reproducible = true: bit-identical weights and predictions from either table."""
    new = _import(PROSTATE_CSV, ["CAPSULE"], tmp_path / "new.h5")
    preds = []
    for table in (DATA / "prostate_v1.h5", new):
        job = tmp_path / "job.toml"
        job.write_text(f'training_frame = "{table}"\nresponse_column = "CAPSULE"\n'
                       'ignored_columns = ["ID"]\nhidden = [8]\nepochs = 3\nseed = 5\n'
                       'reproducible = true\n')
        model = tmp_path / f"{table.stem}-model.h5"
        r = mpidl("train", job, "-o", model, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        out = tmp_path / f"{table.stem}-preds.csv"
        r = mpidl("predict", model, table, "-o", out, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        preds.append((read_model(str(model)).buf.copy(), out.read_text()))
    np.testing.assert_array_equal(preds[0][0], preds[1][0])
    assert preds[0][1] == preds[1][1]
