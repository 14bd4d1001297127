"""The adversarial matrix's contract: how a bad input or a fault must end.

Every case runs ``python -m mpidl ...`` as a user (or a hostile user) would, on one rank or under
``mpirun``, and checks what ``docs/reliability.md`` promises: the expected exit code, exactly one
non-empty line on stderr naming the file / column / parameter at fault, no Python traceback, no
death by a signal, nothing printed by MPI's abort machinery, and no existing file damaged (the
files a case names are hashed before and after).

Cases are plain pytest tests in ``tests/adversarial/test_*.py`` marked ``adversarial``
(``pytestmark``); the session prints ``adversarial: N cases, N OK`` at the end (tests/conftest.py).
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

from launcher import mpirun_argv


def run(args, cwd, ranks: int | None = None, stdin=None, env=None,
        timeout: float = 120) -> subprocess.CompletedProcess:
    """``python -m mpidl ARGS`` in ``cwd``, under ``mpirun -n RANKS`` when given; text output."""
    cmd = [sys.executable, "-m", "mpidl", *map(str, args)]
    if ranks:
        cmd = mpirun_argv(ranks) + cmd
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=cwd,
                          input=stdin, env=env)


def fingerprint(paths) -> dict[str, str | None]:
    """{path: sha256 of its bytes, or None when absent} for the files a case must not damage."""
    out = {}
    for p in map(Path, paths):
        out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else None
    return out


def refused(proc: subprocess.CompletedProcess, *culprits: str, rc: int = 2,
            untouched: dict | None = None) -> str:
    """Assert the contract for a case that must be refused; returns the one stderr line.

    ``culprits`` must each appear in that line; ``untouched`` is a ``fingerprint`` taken before
    the run, and every file in it must be byte-identical (or still absent) afterwards.
    """
    both = proc.stdout + proc.stderr
    assert proc.returncode >= 0, f"killed by signal {-proc.returncode}:\n{proc.stderr}"
    assert "Traceback" not in both, both
    assert "MPI_Abort" not in both and "application called" not in both, both
    assert proc.returncode == rc, f"exit {proc.returncode} (want {rc}), stderr:\n{proc.stderr}"
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got:\n{proc.stderr}"
    for c in culprits:
        assert c in lines[0], f"{c!r} not named in: {lines[0]}"
    if untouched is not None:
        assert fingerprint(untouched) == untouched, "a file the case must not touch changed"
    return lines[0]
