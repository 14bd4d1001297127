"""Adversarial cases: allocations sized by user data (hidden sizes, levels of a predictor,
classes of the response, mini_batch_size) that cannot fit are refused before they are made,
naming what sized them (``hidden = [1e11]`` was "internal error: MemoryError").

``MPIDL_MEMORY_LIMIT`` caps a rank's memory so that the refusal does not depend on this
machine's memory; ``hidden = [1e11]`` (39 TB) needs no cap.
"""

import os

import pytest
from harness import fingerprint, refused, run

pytestmark = [pytest.mark.adversarial, pytest.mark.mpi_skip]


def _frame(tmp_path, levels=3, classes=2):
    rows = max(levels, classes, 300)
    lines = [f"{i % 7},L{i % levels},K{i % classes}" for i in range(rows)]
    (tmp_path / "f.csv").write_text("a,c,y\n" + "\n".join(lines) + "\n")
    (tmp_path / "job.toml").write_text('training_frame = "f.csv"\nresponse_column = "y"\n'
                                       'hidden = [8]\nepochs = 1\nseed = 1\n')
    return tmp_path / "job.toml"


def _capped(limit):
    return dict(os.environ, MPIDL_MEMORY_LIMIT=limit)


@pytest.mark.parametrize("ranks", [None, 2])
def test_hidden_1e11(tmp_path, ranks):
    job = _frame(tmp_path)
    model = tmp_path / "m.h5"
    model.write_bytes(b"an older model")
    before = fingerprint([model])
    line = refused(run(["train", job, "--set", "hidden=[1e11]", "-o", model], cwd=tmp_path,
                       ranks=ranks), "hidden=[100000000000]", "TB", untouched=before)
    assert "MemoryError" not in line


def test_two_wide_hidden_layers_under_a_cap(tmp_path):
    job = _frame(tmp_path)
    refused(run(["train", job, "--set", "hidden=[3000,3000]"], cwd=tmp_path,
                env=_capped("150M")), "hidden=[3000, 3000]", "MB")


def test_many_levels_of_a_predictor(tmp_path):
    job = _frame(tmp_path, levels=20000)
    refused(run(["train", job, "--set", "hidden=[1000]"], cwd=tmp_path, env=_capped("300M"),
                ranks=2), "column 'c'", "20000 levels")


def test_many_classes_of_the_response(tmp_path):
    job = _frame(tmp_path, classes=20000)
    refused(run(["train", job, "--set", "hidden=[1000]"], cwd=tmp_path, env=_capped("300M")),
            "response_column 'y'", "20000 classes")


@pytest.mark.parametrize("ranks", [None, 2])
def test_huge_mini_batch(tmp_path, ranks):
    job = _frame(tmp_path)
    refused(run(["train", job, "--set", "hidden=[100000]", "--set", "mini_batch_size=100000"],
                cwd=tmp_path, env=_capped("2G"), ranks=ranks), "mini_batch_size=100000")


@pytest.mark.parametrize("limit", ["lots", "-5G"])
def test_bad_memory_limit_is_named(tmp_path, limit):
    job = _frame(tmp_path)
    refused(run(["train", job], cwd=tmp_path, env=_capped(limit)), "MPIDL_MEMORY_LIMIT", limit)
