"""Adversarial cases: a scaling study (``benchmarks/scaling.py --slurm STUDY.toml``) that cannot
run ends with one line naming the study file and the key at fault (or the variable) and exit 2,
before anything is submitted and before its results folder is made.

A stand-in ``sinfo`` shows a partition of two nodes; a stand-in ``sbatch`` records any call."""

import os
import sys
from pathlib import Path

import pytest
from harness import refused, run

pytestmark = [pytest.mark.adversarial, pytest.mark.mpi_skip]

REPO = Path(__file__).resolve().parents[2]
SINFO = '#!/bin/bash\necho "n1 debug*"\necho "n2 debug*"\necho "n1 gpu"\n'
SBATCH = '#!/bin/bash\necho "$@" >> "$(dirname "$0")/sbatch.calls"\necho 7\n'
GOOD = {"job": f'"{REPO / "jobs" / "quickstart.toml"}"', "samples": "20000"}


def _study(folder: Path, top: dict, tables: str = "[strong]\nnodes = [1, 2]\n") -> Path:
    path = folder / "study.toml"
    path.write_text("".join(f"{k} = {v}\n" for k, v in top.items()) + tables)
    return path


def _scaling(folder: Path, study: Path, env_extra=None, with_sinfo=True):
    """``scaling.py --slurm STUDY --out folder/out`` with the stand-ins first on PATH."""
    bindir = folder / "bin"
    bindir.mkdir()
    tools = {"sbatch": SBATCH, **({"sinfo": SINFO} if with_sinfo else {})}
    for name, text in tools.items():
        (bindir / name).write_text(text)
        (bindir / name).chmod(0o755)
    path = str(bindir) + (os.pathsep + os.environ["PATH"] if with_sinfo else "")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MPIDL_", "SLURM_"))}
    env.update(PATH=path, **(env_extra or {}))
    argv = [sys.executable, str(REPO / "benchmarks" / "scaling.py"), "--slurm", str(study),
            "--out", str(folder / "out")]
    return run([], cwd=folder, env=env, argv=argv)


def _nothing_done(folder: Path) -> None:
    assert not (folder / "bin" / "sbatch.calls").exists(), "a point was submitted"
    assert not (folder / "out").exists(), "the results folder was made"


def test_more_nodes_than_the_partition_has(tmp_path):
    """[strong] nodes = [1, 2, 4] on a partition of 2 nodes (read from sinfo)."""
    proc = _scaling(tmp_path, _study(tmp_path, GOOD, "[strong]\nnodes = [1, 2, 4]\n"))
    refused(proc, "study.toml", "4 nodes asked, partition debug has 2")
    _nothing_done(tmp_path)


def test_more_nodes_than_a_named_partition_has(tmp_path):
    """partition = "gpu" (1 node) with [weak] nodes = [2]."""
    proc = _scaling(tmp_path, _study(tmp_path, {**GOOD, "partition": '"gpu"'},
                                     "[weak]\nnodes = [2]\nrows_per_rank = 10\n"))
    refused(proc, "study.toml", "2 nodes asked, partition gpu has 1")
    _nothing_done(tmp_path)


def test_unknown_partition(tmp_path):
    proc = _scaling(tmp_path, _study(tmp_path, {**GOOD, "partition": '"big"'}))
    refused(proc, "study.toml", "partition big not found")
    _nothing_done(tmp_path)


def test_no_slurm_on_this_machine(tmp_path):
    """No sinfo on PATH: not a SLURM cluster."""
    proc = _scaling(tmp_path, _study(tmp_path, GOOD), with_sinfo=False)
    refused(proc, "sinfo not found")
    _nothing_done(tmp_path)


def test_unknown_network_name_in_the_study(tmp_path):
    proc = _scaling(tmp_path, _study(tmp_path, {**GOOD, "network": '"hdr200,ranks=64"'}))
    refused(proc, "study.toml", "network", "unknown network 'hdr200'")
    _nothing_done(tmp_path)


def test_malformed_simulated_network_in_the_environment(tmp_path):
    """MPIDL_SIMULATE_NETWORK=alpha=2us,beta=8e-11 at submission (sbatch would export it)."""
    proc = _scaling(tmp_path, _study(tmp_path, GOOD),
                    {"MPIDL_SIMULATE_NETWORK": "alpha=2us,beta=8e-11"})
    refused(proc, "MPIDL_SIMULATE_NETWORK", "alpha='2us'")
    _nothing_done(tmp_path)


@pytest.mark.parametrize("top, tables, culprit", [
    ({**GOOD, "nodez": "[1]"}, "[strong]\nnodes = [1]\n", "unknown key 'nodez'"),
    (GOOD, "[strong]\nnodes = [1]\nrows_per_rank = 9\n", "unknown key [strong] 'rows_per_rank'"),
    (GOOD, "[strong]\nnodes = []\n", "[strong] nodes must be a non-empty list"),
    (GOOD, "[weak]\nnodes = [0, 1]\nrows_per_rank = 9\n", "[weak] nodes must be"),
    (GOOD, "", "no [strong] or [weak] table"),
    ({**GOOD, "seconds": "30"}, "[strong]\nnodes = [1]\n", "either samples"),
    ({**GOOD, "repeats": "0"}, "[strong]\nnodes = [1]\n", "repeats must be a number > 0"),
    ({**GOOD, "set": '["epochs=3"]'}, "[strong]\nnodes = [1]\n", "the study sets epochs"),
    ({**GOOD, "set": '["hiden=[3]"]'}, "[strong]\nnodes = [1]\n", "unknown parameter 'hiden'"),
    (GOOD, "[weak]\nnodes = [2]\nrows_per_rank = 200\n", "needs 400 rows"),
], ids=["unknown-key", "unknown-key-in-table", "empty-nodes", "zero-nodes", "no-series",
        "samples-and-seconds", "zero-repeats", "set-epochs", "set-unknown-parameter", "weak-rows-missing"])
def test_bad_study_file(tmp_path, top, tables, culprit):
    """A study file with one mistake, named by the case's id."""
    proc = _scaling(tmp_path, _study(tmp_path, top, tables))
    refused(proc, "study.toml", culprit)
    _nothing_done(tmp_path)


def test_study_file_not_toml(tmp_path):
    study = tmp_path / "study.toml"
    study.write_text("job = \n[strong\n")
    refused(_scaling(tmp_path, study), "study.toml", "not a TOML study file")
    _nothing_done(tmp_path)
