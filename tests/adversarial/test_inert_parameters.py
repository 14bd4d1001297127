"""Adversarial cases: parameters H2O has that mpidl does not implement yet are refused with one
line (never accepted and ignored); an export folder that cannot be written is refused before
training."""

import pytest
from harness import refused, run

pytestmark = [pytest.mark.adversarial, pytest.mark.mpi_skip]

JOB = ('training_frame = "{data}"\nresponse_column = "CAPSULE"\nignored_columns = ["ID"]\n'
       'distribution = "bernoulli"\nhidden = [3]\nepochs = 0.1\nseed = 1\n')


def _job(tmp_path, extra: str):
    from pathlib import Path
    data = Path(__file__).resolve().parents[2] / "data" / "prostate.csv"
    job = tmp_path / "job.toml"
    job.write_text(JOB.format(data=data) + extra)
    return job


def test_unimplemented_parameter_is_refused(tmp_path):
    job = _job(tmp_path, 'score_validation_sampling = "Stratified"\n')
    refused(run(["train", job, "-o", tmp_path / "m.h5"], cwd=tmp_path),
            "score_validation_sampling", "job.toml")
    assert not (tmp_path / "m.h5").exists()


@pytest.mark.parametrize("ranks", [None, 2])
def test_export_checkpoints_dir_that_is_a_file_is_refused(tmp_path, ranks):
    (tmp_path / "ckpts").write_text("a file, not a folder")
    job = _job(tmp_path, f'export_checkpoints_dir = "{tmp_path / "ckpts"}"\n')
    refused(run(["train", job, "-o", tmp_path / "m.h5"], cwd=tmp_path, ranks=ranks),
            "export_checkpoints_dir", "ckpts")
    assert not (tmp_path / "m.h5").exists()



def test_independent_dropout_masks_without_dropout_are_refused(tmp_path):
    """hidden_dropout_masks = Independent does nothing without a *WithDropout activation."""
    job = _job(tmp_path, 'hidden_dropout_masks = "Independent"\n')
    refused(run(["train", job, "-o", tmp_path / "m.h5"], cwd=tmp_path),
            "hidden_dropout_masks", "job.toml")
    assert not (tmp_path / "m.h5").exists()
