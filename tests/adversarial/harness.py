"""The adversarial matrix's contract: how a bad input or a fault must end.

Every case runs ``python -m mpidl ...`` as a user (or a hostile user) would, on one rank or under
``mpirun``, and checks what ``docs/reliability.md`` promises: the expected exit code, exactly one
non-empty line on stderr naming the file / column / parameter at fault, no Python traceback, no
death by a signal, nothing printed by MPI's abort machinery, and no existing file damaged (the
files a case names are hashed before and after).

Faults a command must ride out (a closed stdout, a signal during the final write) use
``completed`` instead: the expected exit code and a silent stderr.

Cases are plain pytest tests in ``tests/adversarial/test_*.py`` marked ``adversarial``
(``pytestmark``); the session prints ``adversarial: N cases, N OK`` at the end (tests/conftest.py).
"""

from __future__ import annotations

import hashlib
import os
import resource
import subprocess
import sys
from pathlib import Path

from launcher import mpirun_argv


# what MPI prints when a job is aborted (MPICH's Abort line, Hydra's banner, Open MPI's)
_MPI_ABORT_TEXT = ("MPI_Abort", "application called", "BAD TERMINATION", "MPI_ABORT was invoked")


def mpidl_argv(args) -> list[str]:
    """The command line of ``python -m mpidl ARGS``."""
    return [sys.executable, "-m", "mpidl", *map(str, args)]


def run(args, cwd, ranks: int | None = None, stdin=None, env=None, timeout: float = 120,
        umask: int | None = None, file_size_limit: int | None = None,
        argv: list[str] | None = None) -> subprocess.CompletedProcess:
    """``python -m mpidl ARGS`` in ``cwd``, under ``mpirun -n RANKS`` when given; text output.

    ``umask``: the process's umask; ``file_size_limit``: RLIMIT_FSIZE in bytes (a write past
    it fails with EFBIG once SIGXFSZ is ignored); ``argv``: a whole command line instead
    (e.g. ``launcher.mpmd_argv``).
    """
    cmd = argv or mpidl_argv(args)
    if ranks:
        cmd = mpirun_argv(ranks) + cmd

    def limits():
        if umask is not None:
            os.umask(umask)
        if file_size_limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=cwd,
                          input=stdin, env=env, preexec_fn=limits)


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
    assert not any(t in both for t in _MPI_ABORT_TEXT), both
    assert proc.returncode == rc, f"exit {proc.returncode} (want {rc}), stderr:\n{proc.stderr}"
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got:\n{proc.stderr}"
    for c in culprits:
        assert c in lines[0], f"{c!r} not named in: {lines[0]}"
    if untouched is not None:
        assert fingerprint(untouched) == untouched, "a file the case must not touch changed"
    return lines[0]


def completed(proc: subprocess.CompletedProcess, rc: int = 0) -> None:
    """Assert the contract for a fault the command must ride out: exit ``rc``, nothing on
    stderr, no traceback, no death by a signal, no MPI abort."""
    both = proc.stdout + proc.stderr
    assert proc.returncode >= 0, f"killed by signal {-proc.returncode}:\n{proc.stderr}"
    assert "Traceback" not in both and not any(t in both for t in _MPI_ABORT_TEXT), both
    assert proc.returncode == rc, f"exit {proc.returncode} (want {rc}), stderr:\n{proc.stderr}"
    assert not proc.stderr.strip(), f"expected a silent stderr, got:\n{proc.stderr}"


def temp_files(folder) -> list[str]:
    """Names in ``folder`` that look like an atomic write's temporary file."""
    return sorted(p.name for p in Path(folder).iterdir() if ".tmp" in p.name)
