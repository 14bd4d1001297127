"""Adversarial cases: model files whose weights were changed, are NaN, or do not fit their
column plan (inspect and predict used to accept them and predict "nan"); and model files
written before checksums existed, which must still load.

``data/model_before_checksums.h5`` was written by mpidl before this change (hidden = [3],
2 epochs on data/prostate.csv, CAPSULE as bernoulli).
"""

import json
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
from harness import fingerprint, refused, run

pytestmark = [pytest.mark.adversarial, pytest.mark.mpi_skip]

OLD_MODEL = Path(__file__).parent / "data" / "model_before_checksums.h5"
PROSTATE = Path(__file__).parents[2] / "data" / "prostate.csv"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A freshly trained model file (with checksums) and its training CSV."""
    d = tmp_path_factory.mktemp("model")
    (d / "job.toml").write_text(f'training_frame = "{PROSTATE}"\nresponse_column = "CAPSULE"\n'
                                'ignored_columns = ["ID"]\ndistribution = "bernoulli"\n'
                                'hidden = [3]\nepochs = 1\nseed = 1\nreproducible = true\n')
    assert run(["train", "job.toml", "-o", "m.h5"], cwd=d).returncode == 0
    return d / "m.h5"


def _copy(src, tmp_path, name="m.h5"):
    dst = tmp_path / name
    shutil.copyfile(src, dst)
    return dst


def _edit_dataset(path, name, index, value):
    with h5py.File(path, "a") as f:
        f[name][index] = value


def _drop_checksums(path):
    with h5py.File(path, "a") as f:
        for key in [k for k in f.attrs if k.endswith("_crc32")]:
            del f.attrs[key]


@pytest.mark.parametrize("dataset,value", [("buf", np.nan), ("best_buf", 0.123)])
@pytest.mark.parametrize("command", ["inspect", "predict"])
def test_changed_weights_fail_the_checksum(tmp_path, trained, dataset, value, command):
    model = _copy(trained, tmp_path)
    _edit_dataset(model, dataset, 5, value)
    args = ["inspect", model] if command == "inspect" else \
        ["predict", model, PROSTATE, "-o", tmp_path / "p.csv"]
    refused(run(args, cwd=tmp_path), "m.h5", f"'{dataset}'", "checksum")
    assert not (tmp_path / "p.csv").exists()


def test_changed_weights_under_mpirun(tmp_path, trained):
    model = _copy(trained, tmp_path)
    _edit_dataset(model, "buf", 0, 1e30)
    preds = tmp_path / "p.csv"
    preds.write_text("older predictions\n")
    before = fingerprint([preds])
    refused(run(["predict", model, PROSTATE, "-o", preds], cwd=tmp_path, ranks=2),
            "m.h5", "checksum", untouched=before)


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_nan_weights_without_checksum_are_refused(tmp_path, trained, value):
    model = _copy(trained, tmp_path)
    _edit_dataset(model, "buf", 2, value)
    _drop_checksums(model)
    refused(run(["predict", model, PROSTATE, "-o", "p.csv"], cwd=tmp_path), "m.h5", "NaN")
    refused(run(["inspect", model], cwd=tmp_path), "m.h5", "NaN")


def test_restart_from_a_nan_checkpoint_is_refused(tmp_path, trained):
    model = _copy(trained, tmp_path, "ck.h5")
    _edit_dataset(model, "best_buf", 1, np.nan)
    _drop_checksums(model)
    job = trained.parent / "job.toml"
    refused(run(["train", job, "--set", f'checkpoint="{model}"', "--set", "epochs=3",
                 "-o", tmp_path / "new.h5"], cwd=tmp_path), "ck.h5", "NaN")


def test_layers_that_do_not_fit_the_column_plan(tmp_path, trained):
    model = _copy(trained, tmp_path)
    with h5py.File(model, "a") as f:
        dinfo = json.loads(f.attrs["datainfo"])
        dinfo["num_names"] = dinfo["num_names"][1:]      # one input fewer than the weights
        dinfo["num_sub"], dinfo["num_mul"] = dinfo["num_sub"][1:], dinfo["num_mul"][1:]
        f.attrs["datainfo"] = json.dumps(dinfo)
    refused(run(["predict", model, PROSTATE, "-o", "p.csv"], cwd=tmp_path, ranks=2),
            "m.h5", "do not fit")


def _probabilities(csv_path):
    rows = [line.split(",") for line in Path(csv_path).read_text().splitlines()[1:]]
    return np.array([[float(v) for v in r[1:]] for r in rows])


@pytest.mark.parametrize("source", ["before_checksums", "checksums_removed"])
def test_model_without_checksums_still_loads(tmp_path, trained, source):
    model = _copy(OLD_MODEL if source == "before_checksums" else trained, tmp_path)
    if source == "checksums_removed":
        _drop_checksums(model)
    inspected = run(["inspect", model, "--json"], cwd=tmp_path)
    assert inspected.returncode == 0, inspected.stderr
    assert json.loads(inspected.stdout)["layers"]
    proc = run(["predict", model, PROSTATE, "-o", "p.csv"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    p = _probabilities(tmp_path / "p.csv")
    assert p.shape == (380, 2) and np.isfinite(p).all()
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-6)
