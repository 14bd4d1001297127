"""Adversarial cases: forced column types that cannot apply, data with nothing to predict from."""

import pytest
from harness import fingerprint, refused, run

pytestmark = [pytest.mark.adversarial, pytest.mark.mpi_skip]


@pytest.fixture
def small_csv(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b,y\n1,x,0\n2,y,1\n3,x,0\n4,y,1\n")
    return path


def test_import_numeric_unknown_column(tmp_path, small_csv):
    out = tmp_path / "t.h5"
    line = refused(run(["import", small_csv, "-o", out, "--numeric", "c"], cwd=tmp_path),
                   "t.csv", "'c'", "numeric")
    assert not out.exists(), line


def test_import_column_forced_both_ways_leaves_the_old_table(tmp_path, small_csv):
    out = tmp_path / "t.h5"
    out.write_bytes(b"an older table")
    before = fingerprint([out])
    refused(run(["import", small_csv, "-o", out, "--numeric", "b", "--categorical", "b"],
                cwd=tmp_path), "t.csv", "'b'", "categorical and numeric", untouched=before)


def test_predict_on_data_with_no_predictor(tmp_path, small_csv):
    job = tmp_path / "job.toml"
    job.write_text(f'training_frame = "{small_csv}"\nresponse_column = "y"\nhidden = [2]\n'
                   'epochs = 1\nreproducible = true\nseed = 1\n')
    model = tmp_path / "m.h5"
    assert run(["train", job, "-o", model], cwd=tmp_path).returncode == 0
    other = tmp_path / "other.csv"
    other.write_text("p,q\n1,2\n")
    preds = tmp_path / "p.csv"
    refused(run(["predict", model, other, "-o", preds], cwd=tmp_path), "other.csv",
            "no column in common")
    assert not preds.exists()
