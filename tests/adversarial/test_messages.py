"""Adversarial cases: what a user reads.

One line naming the culprit and the right exit code for models that are not files and
malformed --set values, and silence (with the work done) when the reader of stdout has gone
away, as Unix tools die quietly."""

import os
import subprocess

import pytest
from harness import completed, mpidl_argv, refused, run
from shared_inputs import inputs

pytestmark = [pytest.mark.adversarial, pytest.mark.mpi_skip]


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return inputs(tmp_path_factory.mktemp("messages"))


def test_inspect_a_folder(work, tmp_path):
    """inspect DIR: one line naming it (not two lines of HDF5 text)."""
    refused(run(["inspect", tmp_path], cwd=work), str(tmp_path), "not a model file")


def test_inspect_a_named_pipe(work, tmp_path):
    """inspect FIFO: refused at once (opening it would wait for a writer forever)."""
    fifo = tmp_path / "model.h5"
    os.mkfifo(fifo)
    refused(run(["inspect", fifo], cwd=work, timeout=60), "model.h5", "not a model file")


def test_predict_with_a_folder_as_model(work, tmp_path):
    """predict DIR data -o out: one line naming the folder, nothing written."""
    proc = run(["predict", tmp_path, "prostate.csv", "-o", tmp_path / "p.csv"], cwd=work)
    refused(proc, str(tmp_path), "not a model file")
    assert not (tmp_path / "p.csv").exists()


@pytest.mark.parametrize("value", ["hidden=[8,", "hidden=[8", 'model_id="abc'],
                         ids=["list-unclosed-after-comma", "list-unclosed", "string-unclosed"])
def test_set_with_unclosed_toml(value, work, tmp_path):
    """--set with an unclosed list or string: one line naming the parameter, no odd advice."""
    proc = run(["train", "job.toml", "--set", value, "-o", tmp_path / "m.h5"], cwd=work)
    line = refused(proc, f"'{value.partition('=')[0]}'", "not a valid TOML value")
    assert '["' not in line


def _closed_stdout(args, cwd) -> subprocess.CompletedProcess:
    """Run with a stdout pipe whose reader is already gone (``mpidl ... | head`` after head
    exits): every write to stdout fails with EPIPE."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        p = subprocess.run(mpidl_argv(args), cwd=cwd, stdout=writer, stderr=subprocess.PIPE,
                           text=True, timeout=120)
    finally:
        os.close(writer)
    return subprocess.CompletedProcess(p.args, p.returncode, "", p.stderr)


def test_closed_stdout_train(work, tmp_path):
    """train with stdout closed: no message, exit 0, the model written."""
    completed(_closed_stdout(["train", "job.toml", "-o", tmp_path / "m.h5"], work))
    assert (tmp_path / "m.h5").is_file()


def test_closed_stdout_predict(work, tmp_path):
    """predict with stdout closed: no message, exit 0, the predictions written."""
    out = tmp_path / "p.csv"
    completed(_closed_stdout(["predict", "model.h5", "prostate.csv", "-o", out], work))
    assert len(out.read_text().splitlines()) == 381


def test_closed_stdout_inspect(work, tmp_path):
    """inspect --json with stdout closed: no message, exit 0."""
    completed(_closed_stdout(["inspect", "model.h5", "--json"], work))
