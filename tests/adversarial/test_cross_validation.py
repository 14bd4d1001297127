"""Adversarial cases: cross-validation parameters a job cannot use (nfolds = 1, more folds
than rows, a fold column with one value or none, nfolds with fold_column, fold_assignment
or keep_cross_validation_* without cross-validation, a checkpoint, a pipe): one line naming
the parameter, exit 2, no model trained."""

import pytest
from harness import fingerprint, refused, run

pytestmark = [pytest.mark.adversarial, pytest.mark.mpi_skip]


def _job(tmp_path, extra: str, rows: int = 40):
    lines = [f"{i * 0.1:.2f},{i % 2},{'k' if i % 5 else 'j'},7" for i in range(rows)]
    (tmp_path / "f.csv").write_text("a,y,g,one\n" + "\n".join(lines) + "\n")
    job = tmp_path / "job.toml"
    job.write_text('training_frame = "f.csv"\nresponse_column = "y"\nhidden = [3]\n'
                   'epochs = 1\nseed = 1\n' + extra + "\n")
    model = tmp_path / "job.h5"
    model.write_bytes(b"an older model")
    return job, fingerprint([model, tmp_path / "job_cv_1.h5"])


def test_nfolds_one(tmp_path):
    """nfolds = 1: neither off (0) nor a cross-validation (>= 2)."""
    job, before = _job(tmp_path, "nfolds = 1")
    refused(run(["train", job], cwd=tmp_path), "job.toml", "'nfolds'", ">= 2", untouched=before)


def test_more_folds_than_rows_under_mpirun(tmp_path):
    """nfolds above the training frame's row count, found on every rank."""
    job, before = _job(tmp_path, "nfolds = 41")
    refused(run(["train", job], cwd=tmp_path, ranks=2), "f.csv", "'nfolds'", "41 folds for 40 rows",
            untouched=before)


def test_fold_column_with_one_value(tmp_path):
    """A fold column whose every row holds the same value: one fold."""
    job, before = _job(tmp_path, 'fold_column = "one"')
    refused(run(["train", job], cwd=tmp_path), "'fold_column'", "'one'", "1 distinct value",
            untouched=before)


def test_fold_column_missing_under_mpirun(tmp_path):
    """A fold column the training frame does not have."""
    job, before = _job(tmp_path, 'fold_column = "nope"')
    refused(run(["train", job], cwd=tmp_path, ranks=2), "'fold_column'", "'nope'",
            untouched=before)


def test_nfolds_and_fold_column(tmp_path):
    """Both nfolds and fold_column: two answers to which rows form a fold."""
    job, before = _job(tmp_path, 'nfolds = 3\nfold_column = "g"')
    refused(run(["train", job], cwd=tmp_path), "'nfolds'", "fold_column", untouched=before)


@pytest.mark.parametrize("extra, name", [
    ('fold_assignment = "Modulo"', "fold_assignment"),
    ("keep_cross_validation_predictions = true", "keep_cross_validation_predictions"),
    ("keep_cross_validation_models = false", "keep_cross_validation_models"),
])
def test_cross_validation_choices_without_cross_validation(tmp_path, extra, name):
    """A fold assignment or a keep_cross_validation_* choice with no cross-validation asked."""
    job, before = _job(tmp_path, extra)
    refused(run(["train", job], cwd=tmp_path), f"'{name}'", untouched=before)


def test_cross_validation_of_a_checkpoint(tmp_path):
    """nfolds with a checkpoint to continue (H2O refuses it too)."""
    job, before = _job(tmp_path, 'nfolds = 2\ncheckpoint = "job.h5"')
    refused(run(["train", job], cwd=tmp_path), "'nfolds'", "checkpoint", untouched=before)


def test_cross_validation_from_a_pipe(tmp_path):
    """A training frame read from a pipe: cross-validation reads it once per model."""
    job, before = _job(tmp_path, "nfolds = 2")
    text = job.read_text().replace('training_frame = "f.csv"', 'training_frame = "/dev/stdin"')
    job.write_text(text)
    refused(run(["train", job], cwd=tmp_path, stdin=(tmp_path / "f.csv").read_text()),
            "/dev/stdin", "pipe", untouched=before)
