"""Adversarial cases of balance_classes: class_sampling_factors of the wrong length, negative
or without balance_classes, balance_classes on a numeric response, a class left without rows
(zero weights) to balance: one line naming the parameter, exit 2, on one rank and under
mpirun."""

import numpy as np
import pytest
from harness import fingerprint, refused, run

pytestmark = [pytest.mark.adversarial, pytest.mark.mpi_skip]


def _job(tmp_path, extra: str, response=lambda i: "abc"[i % 3]) -> str:
    rng = np.random.default_rng(5)
    rows = [f"{rng.normal():.5f},{1 if i % 3 else 0},{response(i)}" for i in range(300)]
    (tmp_path / "f.csv").write_text("a,w,y\n" + "\n".join(rows) + "\n")
    (tmp_path / "job.toml").write_text('training_frame = "f.csv"\nresponse_column = "y"\n'
                                       f"hidden = [4]\nepochs = 1\nseed = 1\n{extra}\n")
    return tmp_path / "job.toml"


@pytest.mark.parametrize("ranks", [None, 2])
def test_class_sampling_factors_of_the_wrong_length(tmp_path, ranks):
    job = _job(tmp_path, "balance_classes = true\nclass_sampling_factors = [1.0, 2.0]")
    model = tmp_path / "m.h5"
    model.write_bytes(b"an older model")
    before = fingerprint([model])
    refused(run(["train", job, "-o", model], cwd=tmp_path, ranks=ranks), "f.csv",
            "class_sampling_factors", "3, got 2", untouched=before)


def test_negative_class_sampling_factor(tmp_path):
    job = _job(tmp_path, "balance_classes = true\nclass_sampling_factors = [1.0, -2.0, 1.0]")
    refused(run(["train", job], cwd=tmp_path), "job.toml", "class_sampling_factors", "> 0")


def test_class_sampling_factors_without_balance_classes(tmp_path):
    job = _job(tmp_path, "class_sampling_factors = [1.0, 2.0, 1.0]")
    refused(run(["train", job], cwd=tmp_path), "job.toml", "class_sampling_factors",
            "balance_classes")


@pytest.mark.parametrize("ranks", [None, 2])
def test_balance_classes_on_a_numeric_response(tmp_path, ranks):
    job = _job(tmp_path, "balance_classes = true", response=lambda i: f"{i * 0.5}")
    refused(run(["train", job], cwd=tmp_path, ranks=ranks), "balance_classes",
            "categorical response")


def test_zero_max_after_balance_size(tmp_path):
    job = _job(tmp_path, "balance_classes = true\nmax_after_balance_size = 0")
    refused(run(["train", job], cwd=tmp_path), "job.toml", "max_after_balance_size")


@pytest.mark.parametrize("ranks", [None, 2])
def test_a_class_whose_rows_all_weigh_zero_cannot_be_balanced(tmp_path, ranks):
    # w is 0 on every third row: exactly the rows of class 'a'
    job = _job(tmp_path, 'balance_classes = true\nweights_column = "w"')
    refused(run(["train", job], cwd=tmp_path, ranks=ranks), "balance_classes", "'a'",
            "no training rows")
