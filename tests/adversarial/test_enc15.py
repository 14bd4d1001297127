"""Adversarial cases of categorical_encoding and max_categorical_features: the encodings H2O's
Deep Learning refuses (Enum, OneHotExplicit), either count below 1, SortByResponse without a
response and hashing the inputs of an autoencoder, and the export of a model whose columns
are rewritten or hashed: one line naming the parameter, exit 2, nothing written."""

import numpy as np
import pytest
from harness import fingerprint, refused, run

pytestmark = [pytest.mark.adversarial, pytest.mark.mpi_skip]


def _job(tmp_path, extra: str) -> str:
    rng = np.random.default_rng(5)
    rows = [f"{rng.normal():.5f},{'pqrs'[i % 4]},{'ab'[i % 2]}" for i in range(200)]
    (tmp_path / "f.csv").write_text("x,g,y\n" + "\n".join(rows) + "\n")
    (tmp_path / "job.toml").write_text('training_frame = "f.csv"\nhidden = [3]\nepochs = 1\n'
                                       f"seed = 1\nquiet_mode = true\n{extra}\n")
    return tmp_path / "job.toml"


@pytest.mark.parametrize("encoding", ["Enum", "OneHotExplicit"])
def test_encodings_h2os_deep_learning_refuses(tmp_path, encoding):
    job = _job(tmp_path, f'response_column = "y"\ncategorical_encoding = "{encoding}"')
    refused(run(["train", job], cwd=tmp_path), "job.toml", "categorical_encoding", encoding)


def test_max_categorical_levels_below_one(tmp_path):
    job = _job(tmp_path, 'response_column = "y"\ncategorical_encoding = "EnumLimited"\n'
                         "max_categorical_levels = 0")
    refused(run(["train", job], cwd=tmp_path), "job.toml", "max_categorical_levels")


@pytest.mark.parametrize("ranks", [None, 2])
def test_sort_by_response_without_a_response(tmp_path, ranks):
    job = _job(tmp_path, 'autoencoder = true\ncategorical_encoding = "SortByResponse"')
    refused(run(["train", job], cwd=tmp_path, ranks=ranks), "job.toml",
            "categorical_encoding", "SortByResponse")


def test_export_of_a_binary_encoded_model(tmp_path):
    job = _job(tmp_path, 'response_column = "y"\ncategorical_encoding = "Binary"')
    model = tmp_path / "m.h5"
    assert run(["train", job, "-o", model], cwd=tmp_path).returncode == 0
    scorer = tmp_path / "scorer.py"
    before = fingerprint([scorer])
    refused(run(["export", model, "-o", scorer], cwd=tmp_path), "m.h5",
            "categorical_encoding Binary", "--weights", untouched=before)


def test_max_categorical_features_below_one(tmp_path):
    job = _job(tmp_path, 'response_column = "y"\nmax_categorical_features = 0')
    refused(run(["train", job], cwd=tmp_path), "job.toml", "max_categorical_features")


@pytest.mark.parametrize("ranks", [None, 2])
def test_hashing_an_autoencoders_inputs(tmp_path, ranks):
    job = _job(tmp_path, "autoencoder = true\nmax_categorical_features = 2")
    model = tmp_path / "m.h5"
    before = fingerprint([model])
    refused(run(["train", job, "-o", model], cwd=tmp_path, ranks=ranks), "f.csv",
            "max_categorical_features", "autoencoder", untouched=before)


def test_export_of_a_hashed_model(tmp_path):
    job = _job(tmp_path, 'response_column = "y"\nmax_categorical_features = 2')
    model = tmp_path / "m.h5"
    assert run(["train", job, "-o", model], cwd=tmp_path).returncode == 0
    scorer = tmp_path / "scorer.py"
    before = fingerprint([scorer])
    refused(run(["export", model, "--format", "onnx", "-o", scorer], cwd=tmp_path), "m.h5",
            "max_categorical_features", "--weights", untouched=before)
