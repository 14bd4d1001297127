"""Signals outside the training loop: SLURM's SIGUSR1 warning can come after the last
iteration (the job ends close to its limit), and must not kill a rank that is writing, or has
written, the final model."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

DRIVER = """\
import os, signal, sys
from mpidl.cli import main
rc = main(sys.argv[1:])
os.kill(os.getpid(), signal.SIGUSR1)   # the warning, once the model is written
print("alive after SIGUSR1", flush=True)
sys.exit(rc)
"""


def test_sigusr1_after_training_is_ignored(tmp_path):
    model = tmp_path / "m.h5"
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    env = dict(os.environ, NUMBA_NUM_THREADS="1")
    r = subprocess.run([sys.executable, str(driver), "train", str(REPO / "jobs" / "quickstart.toml"),
                        "--set", "epochs=1", "--threads", "1", "-o", str(model)],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "alive after SIGUSR1" in r.stdout
    assert model.exists()
