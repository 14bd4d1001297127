"""Adversarial cases: a simulated network (``MPIDL_SIMULATE_NETWORK``) that cannot be read
ends with one line naming the variable and exit 2, on one rank and on every rank of two, before
training, and leaves no model file."""

import os

import pytest
from harness import refused, run
from launcher import have_mpirun
from shared_inputs import inputs

pytestmark = [pytest.mark.adversarial, pytest.mark.mpi_skip]


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return inputs(tmp_path_factory.mktemp("simnet"))


def _simulated(value: str) -> dict:
    return dict(os.environ, MPIDL_SIMULATE_NETWORK=value)


@pytest.mark.parametrize("value, culprit", [
    ("infiniband-xdr", "unknown network 'infiniband-xdr'"),
    ("alpha=2e-6", "both alpha and beta"),
    ("alpha=2us,beta=8e-11", "alpha='2us'"),
    ("hdr,ranks=-4", "ranks=\'-4\'"),
    ("hdr,nodes=64", "'nodes'"),
])
def test_unreadable_simulated_network(work, tmp_path, value, culprit):
    proc = run(["train", "job.toml", "-o", tmp_path / "m.h5"], cwd=work, env=_simulated(value))
    refused(proc, "MPIDL_SIMULATE_NETWORK", culprit)
    assert not (tmp_path / "m.h5").exists()


@pytest.mark.skipif(not have_mpirun(), reason="no mpirun beside the interpreter")
def test_unknown_network_on_two_ranks(work, tmp_path):
    proc = run(["train", "job.toml", "-o", tmp_path / "m.h5"], cwd=work, ranks=2,
               env=_simulated("hdr200"))
    refused(proc, "MPIDL_SIMULATE_NETWORK", "unknown network 'hdr200'")
    assert not (tmp_path / "m.h5").exists()
