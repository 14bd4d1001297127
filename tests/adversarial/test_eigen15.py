"""Adversarial cases of categorical_encoding Eigen: a frame without categorical columns trains as
in H2O (nothing to encode), on one rank and two; a categorical column whose every training
value is missing is dropped as a constant; the export of an Eigen model to a scorer or an
ONNX graph is refused with one line naming the encoding, nothing written."""

import numpy as np
import pytest
from harness import completed, fingerprint, refused, run

from mpidl.checkpoint import read_model

pytestmark = [pytest.mark.adversarial, pytest.mark.mpi_skip]


def _job(tmp_path, rows: list[str], header: str = "x,g,y") -> str:
    (tmp_path / "f.csv").write_text(header + "\n" + "\n".join(rows) + "\n")
    (tmp_path / "job.toml").write_text(
        'training_frame = "f.csv"\nresponse_column = "y"\ncategorical_encoding = "Eigen"\n'
        "hidden = [3]\nepochs = 1\nseed = 1\nquiet_mode = true\n")
    return tmp_path / "job.toml"


def _rows(g) -> list[str]:
    rng = np.random.default_rng(5)
    return [f"{rng.normal():.5f},{g(i)},{'ab'[i % 2]}" for i in range(200)]


@pytest.mark.parametrize("ranks", [None, 2])
def test_eigen_on_a_frame_without_categoricals_trains(tmp_path, ranks):
    """H2O's CategoricalEigenEncoder copies numeric columns: the model reads the frame as is."""
    job = _job(tmp_path, _rows(lambda i: i % 5))
    completed(run(["train", job, "-o", tmp_path / "m.h5"], cwd=tmp_path, ranks=ranks))
    d = read_model(tmp_path / "m.h5").dinfo
    assert d.num_names == ["x", "g"] and not d.encoding


def test_a_categorical_column_missing_in_every_training_row(tmp_path):
    """Read as a numeric column of NaN, it is dropped as a constant; the other is encoded."""
    rows = [f"{r},{'uv'[i % 3 == 0]}" for i, r in enumerate(_rows(lambda i: ""))]
    job = _job(tmp_path, rows, header="x,g,y,h")
    completed(run(["train", job, "-o", tmp_path / "m.h5"], cwd=tmp_path))
    assert read_model(tmp_path / "m.h5").dinfo.num_names == ["x", "h.Eigen"]


@pytest.mark.parametrize("fmt", ["py", "onnx"])
def test_export_of_an_eigen_encoded_model(tmp_path, fmt):
    job = _job(tmp_path, _rows(lambda i: "pqrs"[i % 4]))
    model = tmp_path / "m.h5"
    assert run(["train", job, "-o", model], cwd=tmp_path).returncode == 0
    out = tmp_path / f"scorer.{fmt}"
    before = fingerprint([out])
    args = ["export", model, "-o", out] + (["--format", "onnx"] if fmt == "onnx" else [])
    refused(run(args, cwd=tmp_path), "m.h5", "categorical_encoding Eigen", "--weights",
            untouched=before)
