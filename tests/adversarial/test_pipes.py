"""Adversarial cases: input read from a pipe, a FIFO or bash's process substitution.

Such inputs can be read once; every row must arrive (checked against numpy's own parse of the
same text), a FIFO nobody writes to must end with one line instead of hanging, and several
ranks cannot share one pipe.
"""

import os
import shlex
import subprocess
import sys
import threading

import numpy as np
import pytest
from harness import refused, run

from mpidl.data.hdf5 import read_columns, read_info

pytestmark = [pytest.mark.adversarial, pytest.mark.mpi_skip]

ROWS = 3000  # ~70 KB: many pipe buffers and several read-ahead blocks


def _csv_text() -> str:
    rng = np.random.default_rng(7)
    lines = ["a,b,y"] + [f"{rng.normal():.6f},{rng.integers(0, 100)},{'AB'[i % 2]}"
                         for i in range(ROWS)]
    return "\n".join(lines) + "\n"


def _assert_all_rows(table, text: str) -> None:
    expected = np.loadtxt(text.splitlines()[1:], delimiter=",", usecols=(0, 1))
    info = read_info(table)
    assert info.nrows == ROWS
    cols = read_columns(table, ["a", "b"])
    np.testing.assert_array_equal(cols["a"], expected[:, 0])
    np.testing.assert_array_equal(cols["b"], expected[:, 1])


def _bash(command: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", command], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


def test_import_from_stdin_pipe_keeps_every_row(tmp_path):
    text = _csv_text()
    proc = run(["import", "/dev/stdin", "-o", "t.h5"], cwd=tmp_path, stdin=text)
    assert proc.returncode == 0, proc.stderr
    _assert_all_rows(tmp_path / "t.h5", text)


def test_import_from_stdin_under_mpirun(tmp_path):
    text = _csv_text()   # mpirun forwards its stdin to rank 0, the rank that imports
    proc = run(["import", "/dev/stdin", "-o", "t.h5"], cwd=tmp_path, stdin=text, ranks=2)
    assert proc.returncode == 0, proc.stderr
    _assert_all_rows(tmp_path / "t.h5", text)


def test_import_gzip_from_process_substitution(tmp_path):
    import gzip
    text = _csv_text()
    (tmp_path / "f.csv.gz").write_bytes(gzip.compress(text.encode()))
    py = shlex.quote(sys.executable)
    proc = _bash(f"{py} -m mpidl import <(cat f.csv.gz) -o t.h5", tmp_path)
    assert proc.returncode == 0, proc.stderr
    _assert_all_rows(tmp_path / "t.h5", text)


def test_train_and_predict_from_process_substitution(tmp_path):
    (tmp_path / "f.csv").write_text(_csv_text())
    (tmp_path / "job.toml").write_text('response_column = "y"\nhidden = [4]\nepochs = 1\n'
                                       'seed = 1\nreproducible = true\n')
    py = shlex.quote(sys.executable)
    proc = _bash(f"{py} -m mpidl train job.toml --set training_frame=<(cat f.csv) -o m.h5 && "
                 f"{py} -m mpidl predict m.h5 <(cat f.csv) -o p.csv", tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert len((tmp_path / "p.csv").read_text().splitlines()) == ROWS + 1


def test_import_from_fifo_with_a_late_writer(tmp_path):
    text = _csv_text()
    fifo = tmp_path / "in.csv"
    os.mkfifo(fifo)

    def write():
        with open(fifo, "w") as f:  # blocks until the importer opens the FIFO
            f.write(text)
    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    proc = run(["import", fifo, "-o", "t.h5"], cwd=tmp_path)
    writer.join(timeout=60)
    assert proc.returncode == 0, proc.stderr
    _assert_all_rows(tmp_path / "t.h5", text)


def test_fifo_without_writer_times_out_with_one_line(tmp_path):
    fifo = tmp_path / "nobody.csv"
    os.mkfifo(fifo)
    env = dict(os.environ, MPIDL_PIPE_WAIT="1")
    refused(run(["import", fifo, "-o", "t.h5"], cwd=tmp_path, env=env, timeout=60),
            "nobody.csv", "MPIDL_PIPE_WAIT")
    assert not (tmp_path / "t.h5").exists()


def test_empty_pipe_is_an_empty_file(tmp_path):
    refused(run(["import", "/dev/stdin", "-o", "t.h5"], cwd=tmp_path, stdin=""),
            "/dev/stdin", "empty")


def test_bad_pipe_wait_is_named(tmp_path):
    fifo = tmp_path / "in.csv"
    os.mkfifo(fifo)
    env = dict(os.environ, MPIDL_PIPE_WAIT="soon")
    refused(run(["import", fifo, "-o", "t.h5"], cwd=tmp_path, env=env), "MPIDL_PIPE_WAIT")


@pytest.mark.parametrize("command", ["train", "predict"])
def test_fifo_under_two_ranks_is_refused(tmp_path, command):
    (tmp_path / "f.csv").write_text(_csv_text())
    fifo = tmp_path / "shared.csv"
    os.mkfifo(fifo)
    (tmp_path / "job.toml").write_text(f'training_frame = "{fifo}"\nresponse_column = "y"\n'
                                       'hidden = [4]\nepochs = 1\n')
    if command == "train":
        args = ["train", "job.toml", "-o", "m.h5"]
    else:
        assert run(["train", "job.toml", "--set", 'training_frame="f.csv"', "-o", "m.h5"],
                   cwd=tmp_path).returncode == 0
        args = ["predict", "m.h5", fifo, "-o", "p.csv"]
    refused(run(args, cwd=tmp_path, ranks=2), "shared.csv", "2 ranks")
