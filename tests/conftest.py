"""Fixtures shared by the MPI tests (tests/mpi, run inside ``mpirun ... pytest --with-mpi``), and
the session's one live SLURM (``slurm``, from tests/slurm_cluster.py).

They are only instantiated by tests that ask for them, so a plain serial ``pytest tests``
never touches MPI here.
"""

from __future__ import annotations

import inspect
import shutil
import tempfile
import traceback
from pathlib import Path

import numpy as np
import pytest
from slurm_cluster import slurm  # noqa: F401  (the session's one live SLURM, for every test file)


@pytest.fixture
def comm():
    """The world communicator (MPIComm under mpirun, SerialComm otherwise)."""
    from mpidl.comm import world
    return world()


@pytest.fixture
def shared_dir(comm):
    """A fresh folder every rank can see: rank 0 creates it and broadcasts its path.

    (Not ``tmp_path``: each rank would make its own pytest base folder.)
    """
    path = tempfile.mkdtemp(prefix="mpidl-mpitest-") if comm.is_root else None
    path = comm.bcast_obj(path)
    yield Path(path)
    comm.barrier()
    if comm.is_root:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def everywhere(comm):
    """``everywhere(body)`` runs ``body()`` on every rank and fails the test on EVERY rank if
    it failed on ANY rank (the failing ranks' messages are shown), so one rank's assertion
    never leaves the others hanging in the next collective or passing alone.

    Returns ``body()``'s value.  It is a collective: every rank must call it.
    """
    def run(body):
        out, msg = None, None
        try:
            out = body()
        except (Exception, pytest.fail.Exception, pytest.skip.Exception) as e:  # noqa: BLE001
            msg = "".join(traceback.format_exception(e)).rstrip()
        flag = comm.allreduce_sum(np.array([0 if msg is None else 1], dtype=np.int64))
        if flag[0]:
            msgs = comm.allgather_obj(msg)
            pytest.fail("\n".join(f"--- rank {r} of {comm.size}:\n{m}"
                                  for r, m in enumerate(msgs) if m is not None), pytrace=False)
        return out
    return run


def pytest_terminal_summary(terminalreporter):
    """``adversarial: N cases, N OK`` when the session ran cases of tests/adversarial."""
    reports = [r for key in ("passed", "failed", "error")
               for r in terminalreporter.stats.get(key, [])
               if getattr(r, "when", "call") == "call" and "adversarial" in getattr(r, "keywords", {})]
    if reports:
        ok = sum(r.passed for r in reports)
        terminalreporter.write_line(f"adversarial: {len(reports)} cases, {ok} OK")


# ``--launching-only``: keep, of each adversarial file, its first case that starts ranks under
# an MPI launcher: a case whose function, or whose module's helpers, pass ``ranks=`` or start
# a ``LongJob``, ``mpirun``, ``srun`` or an MPMD launch (module-level helpers count for every
# case of the module that calls one), and of a parametrized case only its variant with the most
# ranks (the largest integer parameter; else the last).  The second MPI family's CI run uses
# it: the other cases never start MPI, behave the same under either family and already ran
# under the first; a file's other launching cases differ in the input, not in how the launcher
# ends, reports or exits (each file, one kind of fault: its first case stands for it).
_LAUNCHING = ("ranks=", "LongJob", "mpirun", "srun", "mpmd")


def pytest_addoption(parser):
    parser.addoption("--launching-only", action="store_true", default=False,
                     help="adversarial cases that start MPI ranks only")


def _launches(item) -> bool:
    """Whether the case's function, or a function of its module that it calls, launches."""
    try:
        source = inspect.getsource(item.function)
        module = inspect.getmodule(item.function)
        helpers = [inspect.getsource(f) for name, f in vars(module).items()
                   if inspect.isfunction(f) and f.__module__ == module.__name__
                   and not name.startswith("test_") and f"{name}(" in source]
    except (OSError, TypeError, AttributeError):
        return True
    return any(word in text for text in [source, *helpers] for word in _LAUNCHING)


def _rank_weight(item) -> int:
    """The largest integer parameter of a parametrized case (its rank count, where it has
    one), 0 without."""
    spec = getattr(item, "callspec", None)
    values = [v for v in (spec.params.values() if spec else ())
              if isinstance(v, int) and not isinstance(v, bool)]
    return max(values, default=0)


def pytest_collection_modifyitems(config, items):
    if not config.getoption("--launching-only"):
        return
    chosen = {}
    for i in items:
        if "adversarial" in str(i.fspath) and _launches(i):
            key, first = str(i.fspath), chosen.get(str(i.fspath))
            if first is None or (first.originalname == i.originalname
                                 and _rank_weight(i) >= _rank_weight(first)):
                chosen[key] = i
    kept = [i for i in items if "adversarial" not in str(i.fspath)
            or chosen.get(str(i.fspath)) is i]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept
