"""Adversarial cases of averaging_overlap: a configuration it cannot serve (single_node_mode:
nothing to average; reproducible: the ranks meet at each scoring, whose times vary) or a value
that is not a boolean: one line naming the parameter, exit 2, on one rank and under mpirun,
before training, an older model left as it was."""

import pytest
from harness import fingerprint, refused, run

pytestmark = [pytest.mark.adversarial, pytest.mark.mpi_skip]

DATA = """\
training_frame = "{data}"
response_column = "CAPSULE"
ignored_columns = ["ID"]
hidden = [4]
epochs = 1
seed = 1
"""


def _job(tmp_path, extra: str):
    from shared_inputs import REPO
    job = tmp_path / "job.toml"
    job.write_text(DATA.format(data=REPO / "data" / "prostate.csv") + extra + "\n")
    model = tmp_path / "m.h5"
    model.write_bytes(b"an older model")
    return job, model


@pytest.mark.parametrize("ranks", [None, 2])
def test_overlap_with_single_node_mode(tmp_path, ranks):
    """averaging_overlap with single_node_mode (rank 0 alone trains: nothing to average)."""
    job, model = _job(tmp_path, "averaging_overlap = true\nsingle_node_mode = true")
    before = fingerprint([model])
    refused(run(["train", job, "-o", model], cwd=tmp_path, ranks=ranks), "job.toml",
            "averaging_overlap", "single_node_mode", untouched=before)


@pytest.mark.parametrize("ranks", [None, 2])
def test_overlap_with_reproducible(tmp_path, ranks):
    """averaging_overlap (from --set) with reproducible: the ranks meet at every scoring,
    whose times vary, so the results would not be bit-identical."""
    job, model = _job(tmp_path, "reproducible = true")
    before = fingerprint([model])
    refused(run(["train", job, "-o", model, "--set", "averaging_overlap=true"], cwd=tmp_path,
                ranks=ranks), "averaging_overlap", "reproducible", untouched=before)


def test_overlap_with_a_node_shared_model(tmp_path):
    """averaging_overlap with node_shared_model (the node leaders' average is blocking)."""
    job, model = _job(tmp_path, "averaging_overlap = true\nnode_shared_model = true")
    before = fingerprint([model])
    refused(run(["train", job, "-o", model], cwd=tmp_path, ranks=2), "job.toml",
            "averaging_overlap", "node_shared_model", untouched=before)


def test_overlap_that_is_not_a_boolean(tmp_path):
    """averaging_overlap = "sometimes"."""
    job, model = _job(tmp_path, 'averaging_overlap = "sometimes"')
    before = fingerprint([model])
    refused(run(["train", job, "-o", model], cwd=tmp_path), "job.toml", "averaging_overlap",
            untouched=before)
