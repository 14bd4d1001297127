"""Adversarial cases: outputs that cannot be written are refused before any work.

Every command (import, train, predict) checks its destination on rank 0 first with one rule
(``mpidl/destination.py``): not a folder or a device, the folder exists (never created), not an
input of the same command, and a file can really be created there.
"""

import os
import stat

import pytest
from harness import fingerprint, refused, run
from shared_inputs import inputs

pytestmark = [pytest.mark.adversarial, pytest.mark.mpi_skip]


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return inputs(tmp_path_factory.mktemp("paths"))


def _command(kind, work, out):
    """The command line of ``kind`` writing to ``out``."""
    return {"import": ["import", work / "prostate.csv", "-o", out],
            "train": ["train", work / "job.toml", "-o", out],
            "predict": ["predict", work / "model.h5", work / "prostate.csv", "-o", out]}[kind]


def _refused_before_work(kind, work, tmp_path, out, *culprits, untouched=None):
    before = fingerprint(untouched or [])
    proc = run(_command(kind, work, out), cwd=tmp_path)
    refused(proc, *culprits, untouched=before)
    assert proc.stdout == "", f"work started before the refusal:\n{proc.stdout}"
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name]


COMMANDS = ["import", "train", "predict"]


@pytest.mark.parametrize("kind", COMMANDS)
def test_output_is_a_folder(kind, work, tmp_path):
    """-o names an existing folder: refused naming it."""
    (tmp_path / "out").mkdir()
    _refused_before_work(kind, work, tmp_path, tmp_path / "out", "out", "is a folder")


@pytest.mark.parametrize("kind", COMMANDS)
def test_output_folder_missing(kind, work, tmp_path):
    """-o into a folder that does not exist: refused naming the folder (never created)."""
    _refused_before_work(kind, work, tmp_path, tmp_path / "nodir" / "x.out", "nodir",
                         "does not exist")
    assert not (tmp_path / "nodir").exists()


@pytest.mark.parametrize("kind", COMMANDS)
def test_output_under_a_file(kind, work, tmp_path):
    """-o FILE/x where FILE is a regular file: refused naming FILE."""
    (tmp_path / "afile").write_text("data")
    _refused_before_work(kind, work, tmp_path, tmp_path / "afile" / "x.out", "afile",
                         "not a folder", untouched=[tmp_path / "afile"])


@pytest.mark.parametrize("kind", COMMANDS)
def test_output_in_proc(kind, work, tmp_path):
    """-o /proc/x: a folder where no file can be created, refused before any work."""
    _refused_before_work(kind, work, tmp_path, "/proc/mpidl-x.out", "/proc/mpidl-x.out",
                         "cannot write")


@pytest.mark.parametrize("kind", COMMANDS)
def test_output_is_a_named_pipe(kind, work, tmp_path):
    """-o names a FIFO (like /dev/null, not a regular file): refused, the FIFO left alone.

    (A FIFO of its own, not /dev/null: a version without the check, run as root, would
    replace the machine's /dev/null by a regular file.)"""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    _refused_before_work(kind, work, tmp_path, fifo, "fifo", "not a regular file")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


@pytest.mark.parametrize("kind,culprit", [("import", "prostate.csv"), ("train", "prostate.csv"),
                                          ("predict", "model.h5")])
def test_output_is_an_input(kind, culprit, work, tmp_path):
    """-o names a file the command reads: refused, the input untouched."""
    target = work / culprit
    _refused_before_work(kind, work, tmp_path, target, culprit, "is also an input",
                         untouched=[target])


def test_default_output_in_a_missing_folder(work, tmp_path):
    """No -o and a model_id with a folder that does not exist: refused naming it."""
    proc = run(["train", work / "job.toml", "--set", 'model_id="sub/m"'], cwd=tmp_path)
    refused(proc, "sub/m.h5", "does not exist")
    assert proc.stdout == ""
