"""Adversarial cases: ``train --ranks-per-model K`` that cannot be used (refused with one line
naming the flag, exit 2 on every rank, before any model is trained)."""

from pathlib import Path

import pytest
from harness import refused, run

pytestmark = [pytest.mark.adversarial, pytest.mark.mpi_skip]

PROSTATE = Path(__file__).resolve().parents[2] / "data" / "prostate.csv"
JOB = f"""\
training_frame = "{PROSTATE}"
response_column = "CAPSULE"
ignored_columns = ["ID"]
epochs = 1
hidden = [4]
"""
CV = "nfolds = 3\n"


def _train(tmp_path, text: str, per_model: str, ranks: int | None = None):
    """``train`` of JOB plus ``text`` with ``--ranks-per-model per_model``; no model file may
    be left in the output folder."""
    job = tmp_path / "cv.toml"
    job.write_text(JOB + text)
    out = tmp_path / "out"
    out.mkdir()
    proc = run(["train", job, "-o", out / "m.h5", "--threads", "1", "--ranks-per-model",
                per_model], cwd=tmp_path, ranks=ranks)
    assert not list(out.iterdir()), "a refused train wrote files"
    return proc


def test_ranks_per_model_not_dividing_one_rank(tmp_path):
    """Groups of 2 ranks on a one-rank job."""
    refused(_train(tmp_path, CV, "2"), "--ranks-per-model 2", "divide")


def test_ranks_per_model_not_dividing_three_ranks(tmp_path):
    """Groups of 2 ranks under mpirun -n 3: every rank exits 2, the line printed once."""
    refused(_train(tmp_path, CV, "2", ranks=3), "--ranks-per-model 2", "3 rank(s)")


def test_ranks_per_model_zero(tmp_path):
    """Groups of 0 ranks."""
    refused(_train(tmp_path, CV, "0"), "--ranks-per-model 0")


def test_ranks_per_model_not_a_number(tmp_path):
    """A rank count that is not a whole number."""
    refused(_train(tmp_path, CV, "two"), "--ranks-per-model", "two")


def test_ranks_per_model_without_cross_validation(tmp_path):
    """--ranks-per-model on a job without nfolds or fold_column (one model: nothing to split)."""
    refused(_train(tmp_path, "", "1"), "--ranks-per-model 1", "nfolds")


def _holes(tmp_path) -> Path:
    """A job whose fold_column puts every row with a response in fold 0, so the fold model
    that holds fold 0 out has no training row."""
    rows = [f"{i / 10},{'' if i % 3 else i / 7},{i % 3}" for i in range(30)]
    (tmp_path / "holes.csv").write_text("x,y,f\n" + "\n".join(rows) + "\n")
    job = tmp_path / "holes.toml"
    job.write_text(f'training_frame = "{tmp_path / "holes.csv"}"\nresponse_column = "y"\n'
                   'fold_column = "f"\nepochs = 1\nhidden = [3]\n')
    return job


def test_fold_model_failing_in_one_group(tmp_path):
    """A fold model without training rows in one group of 2 under mpirun -n 4: the other
    group does not wait for it forever; every rank exits 2 with the fold's line."""
    proc = run(["train", _holes(tmp_path), "-o", tmp_path / "m.h5", "--threads", "1",
                "--ranks-per-model", "2"], cwd=tmp_path, ranks=4, timeout=300)
    refused(proc, "holes.csv", "no training rows")
    assert not (tmp_path / "m.h5").exists()


def test_fold_model_without_rows_on_two_ranks(tmp_path):
    """The same fold model on all ranks (mpirun -n 2): every rank knows, so the line is
    printed once (each rank printed it and MPI aborted the job before)."""
    proc = run(["train", _holes(tmp_path), "-o", tmp_path / "m.h5", "--threads", "1"],
               cwd=tmp_path, ranks=2)
    refused(proc, "holes.csv", "no training rows")
