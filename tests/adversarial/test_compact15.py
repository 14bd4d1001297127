"""Adversarial cases: tables of a format version newer than this mpidl, table attributes that
are not what the format says, and a compression the importer does not offer."""

from pathlib import Path

import h5py
import numpy as np
import pytest
from harness import fingerprint, refused, run

from mpidl.data import hdf5
from mpidl.data.hdf5 import write_table

pytestmark = [pytest.mark.adversarial, pytest.mark.mpi_skip]

PROSTATE = Path(__file__).resolve().parents[2] / "data" / "prostate.csv"


def _table(path: Path, attr: str = "version", value=hdf5.VERSION + 1) -> Path:
    """A valid table, then its group attribute ``attr`` set to ``value`` (by default: the
    version of a later mpidl)."""
    rng = np.random.default_rng(2)
    write_table(path, {"a": rng.normal(size=200), "y": np.arange(200) % 2}, {"y": ["n", "p"]})
    with h5py.File(path, "a") as f:
        f["table"].attrs[attr] = value
    return path


def _job(tmp_path: Path, frame: str) -> Path:
    job = tmp_path / "job.toml"
    job.write_text(f'training_frame = "{frame}"\nresponse_column = "y"\nhidden = [4]\n'
                   "epochs = 1\n")
    return job


@pytest.mark.parametrize("ranks", [None, 2])
def test_train_on_a_newer_table_version_is_refused(tmp_path, ranks):
    _table(tmp_path / "future.h5")
    model = tmp_path / "m.h5"
    model.write_bytes(b"an older model")
    before = fingerprint([model])
    refused(run(["train", _job(tmp_path, "future.h5"), "-o", model], cwd=tmp_path, ranks=ranks),
            "future.h5", f"version {hdf5.VERSION + 1}", untouched=before)


def test_predict_on_a_newer_table_version_is_refused(tmp_path):
    table = _table(tmp_path / "future.h5")
    good = tmp_path / "good.h5"
    write_table(good, {"a": np.arange(200.0), "y": np.arange(200) % 2}, {"y": ["n", "p"]})
    r = run(["train", _job(tmp_path, "good.h5"), "-o", "m.h5"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    refused(run(["predict", "m.h5", table, "-o", "p.csv"], cwd=tmp_path), "future.h5",
            f"version {hdf5.VERSION + 1}")
    assert not (tmp_path / "p.csv").exists()


def test_unknown_compression_is_refused(tmp_path):
    refused(run(["import", PROSTATE, "-o", "t.h5", "--compress", "zstd"], cwd=tmp_path),
            "--compress", "zstd")
    assert not (tmp_path / "t.h5").exists()


@pytest.mark.parametrize("attr,value", [("version", "two"), ("version", [1, 2]),
                                        ("categorical", "y")])
def test_damaged_table_attribute_is_refused(tmp_path, attr, value):
    _table(tmp_path / "odd.h5", attr, value)
    refused(run(["train", _job(tmp_path, "odd.h5"), "-o", "m.h5"], cwd=tmp_path), "odd.h5",
            f"attribute '{attr}'")
