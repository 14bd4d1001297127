"""The test session's one live SLURM (the ``slurm`` fixture, registered by tests/conftest.py so
that tests/test_slurm.py and tests/test_slurm_study.py share one start), and how tests talk to
it (``slurm_env``, ``slurm_run``).

With ``MPIDL_TEST_SLURM=1`` the session fixture starts a one-node cluster on this machine with
``tests/slurm/up.sh`` (root, Debian/Ubuntu; seconds) and stops it at the end with
``tests/slurm/down.sh`` (``MPIDL_TEST_SLURM_KEEP=1`` leaves it up); ``MPIDL_TEST_SLURM=auto``
(set by .ci/run as root where apt-get exists) does the same but skips when up.sh says the
machine cannot host SLURM (exit 3: e.g. apt-get cannot reach a mirror).  Otherwise the tests
use the SLURM already there, or skip when there is none (or with ``MPIDL_TEST_SLURM=0``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UP, DOWN = ROOT / "tests" / "slurm" / "up.sh", ROOT / "tests" / "slurm" / "down.sh"


def slurm_env() -> dict:
    """The submitting environment (sbatch exports it to the job): this interpreter's venv first
    on PATH, no MPI launcher or SLURM job variables leaking in from outside."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PMI_", "PMIX_", "OMPI_", "HYDRA_", "MPIDL_", "SLURM_"))}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def slurm_run(cmd, timeout=30, **kw) -> subprocess.CompletedProcess:
    """``cmd`` in the submitting environment (``env=`` to give another), text output."""
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                          timeout=timeout, env=kw.pop("env", slurm_env()), **kw)


@pytest.fixture(scope="session")
def slurm():
    """A SLURM with an idle node: started by tests/slurm/up.sh when MPIDL_TEST_SLURM=1."""
    started = False
    mode = os.environ.get("MPIDL_TEST_SLURM", "")
    if mode in ("1", "auto"):
        t0 = time.monotonic()
        try:
            r = slurm_run(["bash", UP], timeout=600)
        except subprocess.TimeoutExpired:
            pytest.fail("tests/slurm/up.sh did not finish in 600 s", pytrace=False)
        if r.returncode == 3 and mode == "auto":
            pytest.skip(r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "no SLURM")
        if r.returncode != 0:
            pytest.fail(f"tests/slurm/up.sh failed (rc {r.returncode}):\n{r.stdout}{r.stderr}",
                        pytrace=False)
        started = True
        sys.stderr.write(f"\n[slurm up in {time.monotonic() - t0:.1f} s]\n")
    elif mode == "0":
        pytest.skip("MPIDL_TEST_SLURM=0")
    elif shutil.which("sbatch") is None:
        pytest.skip("no sbatch on PATH (MPIDL_TEST_SLURM=1 starts a local SLURM: tests/slurm/up.sh)")
    try:
        try:
            idle = slurm_run(["sinfo", "-h", "-t", "idle", "-o", "%n"], timeout=20)
        except subprocess.TimeoutExpired:
            idle = None
        if idle is None or idle.returncode != 0 or not idle.stdout.strip():
            if started:
                pytest.fail("SLURM was started but no node is idle", pytrace=False)
            pytest.skip("sbatch is there but SLURM has no idle node")
        yield
    finally:
        if started and os.environ.get("MPIDL_TEST_SLURM_KEEP") != "1":
            slurm_run(["bash", DOWN], timeout=180)
