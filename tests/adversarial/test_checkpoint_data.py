"""Adversarial cases: a checkpoint restart on a training frame the model cannot continue on."""

from pathlib import Path

import pytest
from harness import fingerprint, refused, run
from launcher import have_mpirun

pytestmark = [pytest.mark.adversarial, pytest.mark.mpi_skip]

IRIS = Path(__file__).resolve().parents[3] / "shared" / "data" / "iris" / "iris_wheader.csv"


@pytest.fixture(scope="module")
def two_class_model(tmp_path_factory) -> tuple[Path, Path]:
    """(model trained on iris setosa + versicolor, the whole iris CSV with virginica)."""
    d = tmp_path_factory.mktemp("iris")
    lines = IRIS.read_text().splitlines()
    (d / "iris2.csv").write_text("\n".join(ln for ln in lines if "virginica" not in ln) + "\n")
    (d / "first.toml").write_text('training_frame = "iris2.csv"\nresponse_column = "class"\n'
                                  "hidden = [3]\nepochs = 1\nseed = 1\n")
    proc = run(["train", "first.toml", "--threads", "1", "-o", "first.h5"], cwd=d)
    assert proc.returncode == 0, proc.stderr
    return d / "first.h5", IRIS


@pytest.mark.parametrize("ranks,replicate", [(None, True), (2, True), (2, False)],
                         ids=["1-rank", "2-ranks", "2-ranks-sharded"])
def test_restart_on_new_response_level(tmp_path, two_class_model, ranks, replicate):
    """Exit 2 before training, naming the response column and the new level, on every rank
    (sharded: the virginica rows sit on the last rank only); the checkpoint is untouched."""
    if ranks and not have_mpirun():
        pytest.fail("mpirun not found beside the interpreter")
    model, iris = two_class_model
    job = tmp_path / "more.toml"
    job.write_text(f'training_frame = "{iris}"\nresponse_column = "class"\nhidden = [3]\n'
                   f'epochs = 2\nseed = 1\ncheckpoint = "{model}"\n'
                   f"replicate_training_data = {'true' if replicate else 'false'}\n")
    before = fingerprint([model, tmp_path / "more.h5"])
    refused(run(["train", job, "--threads", "1", "-o", tmp_path / "more.h5"], cwd=tmp_path,
                ranks=ranks), "'class'", "'Iris-virginica'", untouched=before)
