"""The MPI launcher the tests start jobs with: the one place that knows how to call ``mpirun``.

The launcher must belong to the MPI that mpi4py was built against (an MPICH ``mpirun`` cannot
start Open MPI ranks, nor the reverse), so the family is read from the library itself
(``MPI.Get_library_version()``, in a child process that does not initialize MPI):

- MPICH (PyPI's ``mpich`` wheel, or a system MPICH): the ``mpirun`` beside the interpreter, else
  ``mpirun.mpich`` / ``mpiexec.hydra`` / ``mpirun`` on PATH.  Hydra oversubscribes by itself.
- Open MPI (mpi4py built against it): ``mpirun.openmpi`` / ``mpirun`` on PATH, with
  ``--oversubscribe`` (more ranks than cores, as CI runs ``-n 4`` on two), ``-q`` (no
  "Primary job terminated normally, but 1 process returned a non-zero exit code" notice after
  mpidl's own one-line error) and, as root, ``--allow-run-as-root`` (refused otherwise).

``MPIDL_MPIRUN`` names the launcher outright (its family's options are still added).  Run as a
script it prints what ``.ci/run`` needs: ``python tests/launcher.py --vendor`` gives
``MPI: Open MPI 4.1.4 (launcher PATH)``, ``--family`` ``Open MPI``, ``--argv 3`` the argv, one word a
line.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

_LIBRARY_VERSION = ("import mpi4py; mpi4py.rc.initialize = mpi4py.rc.finalize = False; "
                    "from mpi4py import MPI; print(MPI.Get_library_version())")
# candidate launchers of each family, in order (Debian names the families' copies apart)
_CANDIDATES = {"MPICH": ("mpirun.mpich", "mpiexec.hydra", "mpirun", "mpiexec"),
               "Open MPI": ("mpirun.openmpi", "mpirun", "mpiexec")}


class LauncherError(RuntimeError):
    """No launcher of the family mpi4py was built against was found (a failure, not a skip)."""


@functools.cache
def library_version() -> str:
    """``MPI.Get_library_version()`` of the mpi4py in use, as one line (whitespace squeezed)."""
    r = subprocess.run([sys.executable, "-c", _LIBRARY_VERSION], capture_output=True, text=True,
                       timeout=60, env=_clean_env())
    if r.returncode != 0:
        raise LauncherError(f"mpi4py does not load: {r.stderr.strip()[-500:]}")
    return " ".join(r.stdout.split())


def family_of(text: str) -> str:
    """``"MPICH"`` or ``"Open MPI"`` from a library version text (Intel MPI and MVAPICH are
    MPICH derivatives, started by hydra launchers)."""
    if "Open MPI" in text:
        return "Open MPI"
    if re.search(r"MPICH|Intel\(R\) MPI|MVAPICH", text):
        return "MPICH"
    raise LauncherError(f"unknown MPI library: {text[:200]}")


def vendor_of(text: str) -> str:
    """``"MPICH 5.0.2"`` / ``"Open MPI 4.1.4"``: the family and version in a version text."""
    m = (re.search(r"Open MPI v?(\d+(?:\.\d+)*)", text)
         or re.search(r"Version:\s*(\d+(?:\.\d+)*)", text))
    return f"{family_of(text)} {m.group(1) if m else '(version unknown)'}"


def family() -> str:
    """The family of the MPI library mpi4py loads."""
    return family_of(library_version())


def vendor() -> str:
    """The family and version of the MPI library mpi4py loads."""
    return vendor_of(library_version())


def _speaks(path: str, fam: str) -> bool:
    """Whether ``path --version`` announces a launcher of family ``fam``."""
    try:
        r = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30,
                           env=_clean_env())
    except OSError:
        return False
    text = r.stdout + r.stderr
    if fam == "Open MPI":
        return "Open MPI" in text or "OpenRTE" in text
    return "hydra" in text.lower()


@functools.cache
def mpirun() -> str:
    """The launcher's path (``MPIDL_MPIRUN``, else the first candidate of mpi4py's family)."""
    forced = os.environ.get("MPIDL_MPIRUN")
    if forced:
        path = shutil.which(forced)
        if path is None:
            raise LauncherError(f"MPIDL_MPIRUN={forced}: no such executable")
        return path
    fam = family()
    beside = Path(sys.executable).parent / "mpirun"
    candidates = [str(beside)] if os.access(beside, os.X_OK) else []
    candidates += [p for p in map(shutil.which, _CANDIDATES[fam]) if p]
    for path in candidates:
        if _speaks(path, fam):
            return path
    raise LauncherError(f"no {fam} launcher (tried {', '.join(candidates) or 'none on PATH'}; "
                        "set MPIDL_MPIRUN)")


def family_options() -> list[str]:
    """The options the family needs to run the tests: oversubscription, root."""
    if family() != "Open MPI":
        return []
    opts = ["--oversubscribe", "-q"]  # -q: no launcher notice after mpidl's one-line error
    if os.geteuid() == 0:
        opts.append("--allow-run-as-root")
    return opts


def bind_to_cores(cores: int) -> list[str]:
    """The family's options binding each rank to ``cores`` consecutive cores."""
    if family() == "Open MPI":
        return ["--map-by", f"slot:pe={cores}", "--bind-to", "core"]
    return ["-bind-to", f"core:{cores}"]


def forwards_sigterm() -> bool:
    """Whether SIGTERM sent to the launcher reaches the ranks as SIGTERM, the launcher waiting
    for them and exiting with their status (hydra).  Open MPI's ``mpirun`` SIGKILLs the ranks a
    second later and exits 1 whatever they did, and refuses to forward SIGTERM at all
    (``ess_base_forward_signals``); SIGUSR1 is forwarded by both (docs/mpi_families.md)."""
    return family() != "Open MPI"


def mpirun_argv(n: int, *options: str) -> list[str]:
    """``[mpirun, FAMILY OPTIONS..., OPTIONS..., -n, N]``; raises LauncherError without one."""
    return [mpirun(), *family_options(), *options, "-n", str(n)]


def have_mpirun() -> bool:
    """Whether a launcher of mpi4py's family was found."""
    try:
        mpirun()
    except LauncherError:
        return False
    return True


def mpmd_argv(commands: list[list[str]]) -> list[str]:
    """One MPI job whose rank i runs ``commands[i]`` (MPMD: ``mpirun -n 1 A : -n 1 B``)."""
    out = [mpirun(), *family_options()]
    for i, cmd in enumerate(commands):
        out += ([":"] if i else []) + ["-n", "1", *cmd]
    return out


def _clean_env() -> dict:
    """This environment less the launcher variables of an MPI job we may be running in."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("PMI_", "PMIX_", "OMPI_", "HYDRA_"))}


def _main(argv: list[str]) -> int:
    try:
        if argv[:1] == ["--vendor"]:
            print(f"MPI: {vendor()} (launcher {mpirun()})")
        elif argv[:1] == ["--family"]:
            print(family())
        elif argv[:1] == ["--argv"] and len(argv) == 2:
            print("\n".join(mpirun_argv(int(argv[1]))))
        else:
            print("usage: python tests/launcher.py --vendor | --family | --argv N", file=sys.stderr)
            return 2
    except LauncherError as e:
        print(f"tests/launcher.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
