"""Running ``python -m mpidl`` from tests as a user does, and the prostate CSV they train on."""

import subprocess
import sys
from pathlib import Path

from shared_data import DATA, missing

REPO = Path(__file__).resolve().parents[1]


def prostate() -> Path:
    """The prostate CSV: the shared copy, else the one bundled with the quickstart."""
    for p in (DATA / "prostate" / "prostate.csv", REPO / "data" / "prostate.csv"):
        if p.exists():
            return p
    missing("prostate.csv")


def mpidl(*args, cwd) -> subprocess.CompletedProcess:
    """``python -m mpidl ARGS`` in ``cwd`` (2-minute limit); the exit code is not checked."""
    return subprocess.run([sys.executable, "-m", "mpidl", *map(str, args)], capture_output=True,
                          text=True, timeout=120, cwd=cwd)
