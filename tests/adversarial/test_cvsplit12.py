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
