"""Autoencoders under ``mpirun``: training with model averaging over 2 ranks, then
``anomaly`` (both forms), ``features`` and ``predict`` on 2 and 3 ranks write the bytes a
one-rank run writes (each rank scores its block of rows, rank 0 writes in row order)."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from launcher import mpirun_argv
from mpi_job import PY, job_env

pytestmark = [pytest.mark.timeout(300), pytest.mark.mpi_skip]


def _run(args, cwd, n=None):
    cmd = ([] if n is None else mpirun_argv(n)) + [PY, "-m", "mpidl", *map(str, args)]
    r = subprocess.run(cmd, cwd=cwd, env=job_env(), capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    return r


def test_autoencoder_outputs_under_mpirun_equal_one_rank(tmp_path):
    rng = np.random.default_rng(2)
    rows = []
    for i in range(101):
        a = "" if i % 9 == 0 else f"{rng.normal():.4f}"
        b = "" if i % 13 == 0 else "pqr"[i % 3]
        rows.append(f"{a},{b},{rng.uniform(0, 5):.3f}")
    (tmp_path / "f.csv").write_text("a,b,c\n" + "\n".join(rows) + "\n")
    (tmp_path / "ae.toml").write_text('training_frame = "f.csv"\nautoencoder = true\n'
                                      'hidden = [5, 2, 5]\nactivation = "Tanh"\nepochs = 4\n'
                                      'seed = 1\n')
    _run(["train", "ae.toml", "--threads", "1", "-o", "ae.h5"], tmp_path, n=2)
    commands = {"mse": ["anomaly"], "se": ["anomaly", "--per-feature"],
                "df": ["features", "--layer", "2"], "recon": ["predict"]}
    for name, cmd in commands.items():
        outs = []
        for n in (None, 2, 3):
            out = tmp_path / f"{name}{n or 1}.csv"
            _run([cmd[0], "ae.h5", "f.csv", *cmd[1:], "-o", out], tmp_path, n=n)
            outs.append(out.read_bytes())
        assert outs[1] == outs[0] and outs[2] == outs[0], name
        assert len(outs[0].decode().splitlines()) == 102
