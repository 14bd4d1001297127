"""tests/launcher.py: the MPI family from the library's own version text, and a launcher that
cannot be found is an error (the job tests then fail, never skip)."""

from __future__ import annotations

import launcher
import pytest

# MPI.Get_library_version() as the two families print it (first lines, verbatim)
MPICH_TEXT = ("MPICH Version:      5.0.2\nMPICH Release date: Fri Sep 25 20:45:26 UTC 2026\n"
              "MPICH ABI:          18:2:6\nMPICH Device:       ch4:ucx ofi\n")
OPENMPI_TEXT = ("Open MPI v4.1.4, package: Debian OpenMPI, ident: 4.1.4, repo rev: v4.1.4, "
                "May 26, 2022\x00")

pytestmark = pytest.mark.mpi_skip


def test_family_and_version_from_the_library_text():
    assert launcher.vendor_of(MPICH_TEXT) == "MPICH 5.0.2"
    assert launcher.vendor_of(OPENMPI_TEXT) == "Open MPI 4.1.4"
    assert launcher.family_of("Intel(R) MPI Library 2021.10 for Linux* OS") == "MPICH"
    with pytest.raises(launcher.LauncherError):
        launcher.family_of("Some Other MPI 1.0")


def test_a_missing_launcher_is_an_error(monkeypatch):
    launcher.mpirun.cache_clear()
    monkeypatch.setenv("MPIDL_MPIRUN", "/nonexistent/mpirun")
    try:
        assert not launcher.have_mpirun()
        with pytest.raises(launcher.LauncherError, match="MPIDL_MPIRUN"):
            launcher.mpirun_argv(2)
    finally:
        launcher.mpirun.cache_clear()


def test_the_launcher_matches_mpi4py():
    """The launcher found speaks for the family of the library mpi4py loads."""
    argv = launcher.mpirun_argv(3)
    assert argv[-2:] == ["-n", "3"]
    assert launcher._speaks(argv[0], launcher.family())
    assert ("--oversubscribe" in argv) == (launcher.family() == "Open MPI")
