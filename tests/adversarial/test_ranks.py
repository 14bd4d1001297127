"""Adversarial cases on several ranks: ranks that disagree about the job, and user errors
that only rank 0 can see, end with one line and exit 2 on every rank (no MPI abort banner).

Ranks that read different jobs are started as one MPMD job (``mpirun -n 1 A : -n 1 B``).
"""

import shutil

import pytest
from harness import mpidl_argv, refused, run
from launcher import have_mpirun, mpmd_argv
from shared_inputs import inputs, write_job

pytestmark = [pytest.mark.adversarial, pytest.mark.mpi_skip,
              pytest.mark.skipif(not have_mpirun(), reason="no mpirun beside the interpreter")]


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    folder = inputs(tmp_path_factory.mktemp("ranks"))
    shutil.copy(folder / "prostate.csv", folder / "prostate2.csv")
    write_job(folder, "hidden16.toml", hidden=(16,))
    write_job(folder, "other_data.toml", data="prostate2.csv")
    return folder


def _mpmd(work, *per_rank_args):
    return run([], cwd=work, argv=mpmd_argv([mpidl_argv(a) for a in per_rank_args]))


def test_ranks_read_different_hidden(work, tmp_path):
    """Rank 1 reads a job with hidden = [16], rank 0 one with [8]: refused naming 'hidden'."""
    proc = _mpmd(work, ["train", "job.toml", "-o", tmp_path / "m.h5"],
                 ["train", "hidden16.toml", "-o", tmp_path / "m.h5"])
    refused(proc, "job.toml", "'hidden'", "rank 1")
    assert not (tmp_path / "m.h5").exists()


def test_ranks_read_different_training_frames(work, tmp_path):
    """The ranks' jobs name different training files: refused naming 'training_frame'."""
    proc = _mpmd(work, ["train", "job.toml", "-o", tmp_path / "m.h5"],
                 ["train", "other_data.toml", "-o", tmp_path / "m.h5"])
    refused(proc, "'training_frame'", "prostate2.csv")


def test_ranks_given_different_overrides(work, tmp_path):
    """Same job file, a different --set per rank: refused naming 'epochs'."""
    proc = _mpmd(work, ["train", "job.toml", "--set", "epochs=1", "-o", tmp_path / "m.h5"],
                 ["train", "job.toml", "--set", "epochs=2", "-o", tmp_path / "m.h5"])
    refused(proc, "'epochs'", "rank 1")


def test_ranks_predict_different_data(work, tmp_path):
    """predict with a different data file per rank: refused naming 'data'."""
    proc = _mpmd(work, ["predict", "model.h5", "prostate.csv", "-o", tmp_path / "p.csv"],
                 ["predict", "model.h5", "prostate2.csv", "-o", tmp_path / "p.csv"])
    refused(proc, "'data'", "prostate2.csv")


def test_mpi_train_output_folder_missing(work, tmp_path):
    """2 ranks, -o into a missing folder: rank 0's check is agreed, one line, no training."""
    proc = run(["train", "job.toml", "-o", tmp_path / "nodir" / "m.h5"], cwd=work, ranks=2)
    refused(proc, "nodir", "does not exist")
    assert proc.stdout == ""


def test_mpi_predict_output_is_a_folder(work, tmp_path):
    """2 ranks, predict -o an existing folder: one line, exit 2 on both ranks."""
    proc = run(["predict", "model.h5", "prostate.csv", "-o", tmp_path], cwd=work, ranks=2)
    refused(proc, str(tmp_path), "is a folder")


def test_mpi_inspect_a_folder(work, tmp_path):
    """2 ranks, inspect a folder: rank 0's error is agreed (no abort banner)."""
    refused(run(["inspect", tmp_path], cwd=work, ranks=2), str(tmp_path), "not a model file")


def test_mpi_import_into_proc(work, tmp_path):
    """2 ranks, import -o /proc/x.h5: refused before parsing, one line."""
    proc = run(["import", "prostate.csv", "-o", "/proc/mpidl-x.h5"], cwd=work, ranks=2)
    refused(proc, "/proc/mpidl-x.h5", "cannot write")
