"""Adversarial cases: job files that cannot be used."""

import pytest
from harness import fingerprint, refused, run

pytestmark = [pytest.mark.adversarial, pytest.mark.mpi_skip]


def test_missing_job_file(tmp_path):
    refused(run(["train", tmp_path / "nope.toml"], cwd=tmp_path), "nope.toml")


def test_job_file_that_is_not_toml_leaves_the_old_model(tmp_path):
    job = tmp_path / "job.toml"
    job.write_text("hidden = [8,\n")
    model = tmp_path / "model.h5"
    model.write_bytes(b"an older model")
    before = fingerprint([model])
    refused(run(["train", job, "-o", model], cwd=tmp_path), "job.toml", untouched=before)
