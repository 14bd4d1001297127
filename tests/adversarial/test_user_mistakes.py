"""Adversarial cases: a response in ignored_columns, a constant response, bad thread counts
(option and environment) and a NUL byte in a CSV: one line naming the culprit, exit 2."""

import os

import numpy as np
import pytest
from harness import fingerprint, refused, run

pytestmark = [pytest.mark.adversarial, pytest.mark.mpi_skip]


def _frame(tmp_path, response, name="f.csv"):
    rng = np.random.default_rng(5)
    rows = [f"{rng.normal():.5f},{'xyz'[i % 3]},{response(i)}" for i in range(300)]
    (tmp_path / name).write_text("a,b,y\n" + "\n".join(rows) + "\n")
    (tmp_path / "job.toml").write_text(f'training_frame = "{name}"\nresponse_column = "y"\n'
                                       'hidden = [4]\nepochs = 1\nseed = 1\n')
    return tmp_path / "job.toml"


def test_response_in_ignored_columns_from_job_file(tmp_path):
    job = _frame(tmp_path, lambda i: i % 2)
    job.write_text(job.read_text() + 'ignored_columns = ["b", "y"]\n')
    refused(run(["train", job], cwd=tmp_path), "ignored_columns", "'y'")


def test_response_in_ignored_columns_from_set_under_mpirun(tmp_path):
    job = _frame(tmp_path, lambda i: i % 2)
    refused(run(["train", job, "--set", 'ignored_columns=["y"]'], cwd=tmp_path, ranks=2),
            "ignored_columns", "'y'")


@pytest.mark.parametrize("value", ["3.5", "-1e6"])
def test_constant_numeric_response(tmp_path, value):
    job = _frame(tmp_path, lambda i: value)
    model = tmp_path / "m.h5"
    model.write_bytes(b"an older model")
    before = fingerprint([model])
    refused(run(["train", job, "-o", model], cwd=tmp_path), "f.csv", "'y'", "constant",
            untouched=before)


def test_constant_response_with_missing_values_under_mpirun(tmp_path):
    job = _frame(tmp_path, lambda i: "" if i % 7 == 0 else "2")
    refused(run(["train", job], cwd=tmp_path, ranks=2), "f.csv", "'y'", "constant")


@pytest.mark.parametrize("var,value", [("NUMBA_NUM_THREADS", "abc"),
                                       ("SLURM_CPUS_PER_TASK", "abc"),
                                       ("NUMBA_NUM_THREADS", "0"),
                                       ("SLURM_CPUS_PER_TASK", "-2")])
def test_bad_thread_count_in_the_environment(tmp_path, var, value):
    job = _frame(tmp_path, lambda i: i % 2)
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_NUM_THREADS",
                                                             "SLURM_CPUS_PER_TASK")}
    env[var] = value
    refused(run(["train", job], cwd=tmp_path, env=env), var, value)


def test_bad_thread_count_in_the_environment_under_mpirun(tmp_path):
    job = _frame(tmp_path, lambda i: i % 2)
    env = dict(os.environ, NUMBA_NUM_THREADS="two")
    refused(run(["train", job], cwd=tmp_path, env=env, ranks=2), "NUMBA_NUM_THREADS", "two")


@pytest.mark.parametrize("command,threads", [("train", "0"), ("train", "-1"),
                                             ("predict", "0")])
def test_threads_below_one(tmp_path, command, threads):
    job = _frame(tmp_path, lambda i: i % 2)
    if command == "train":
        args = ["train", job]
    else:
        assert run(["train", job, "-o", "m.h5"], cwd=tmp_path).returncode == 0
        args = ["predict", "m.h5", "f.csv", "-o", "p.csv"]
    refused(run(args + ["--threads", threads], cwd=tmp_path), "--threads", threads)


def test_nul_byte_in_a_field_on_import(tmp_path):
    (tmp_path / "nul.csv").write_bytes(b"a,b,y\n1,x,A\n2,x\x00y,B\n3,z,A\n")
    refused(run(["import", "nul.csv", "-o", "t.h5"], cwd=tmp_path), "nul.csv", "line 3", "NUL")
    assert not (tmp_path / "t.h5").exists()


def test_nul_byte_in_the_header_of_a_training_frame(tmp_path):
    job = _frame(tmp_path, lambda i: i % 2)
    text = (tmp_path / "f.csv").read_bytes()
    (tmp_path / "f.csv").write_bytes(b"a\x00,b,y" + text[text.index(b"\n"):])
    refused(run(["train", job], cwd=tmp_path, ranks=2), "f.csv", "line 1", "NUL")
