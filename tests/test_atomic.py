"""atomic.py and destination.py in-process: held signals, temp names, the destination rule."""

import os
import signal

import pytest

from mpidl.atomic import atomic_path
from mpidl.destination import check_destination, remove_stale_temps, temp_name
from mpidl.errors import UserError


def test_a_signal_during_a_write_is_delivered_after_the_rename(tmp_path):
    target = tmp_path / "out.csv"
    seen = []

    def handler(signum, frame):
        seen.append((signum, target.read_text() if target.exists() else None))
    old = signal.signal(signal.SIGUSR1, handler)
    try:
        with atomic_path(target) as tmp:
            with open(tmp, "w") as f:
                f.write("a,b\n")
                os.kill(os.getpid(), signal.SIGUSR1)
                f.write("1,2\n")
            assert seen == []          # held while the file is incomplete
    finally:
        signal.signal(signal.SIGUSR1, old)
    assert seen == [(signal.SIGUSR1, "a,b\n1,2\n")]


def test_an_interruptible_write_ends_at_the_signal_and_leaves_the_old_file(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old")
    seen, written = [], []

    def handler(signum, frame):
        seen.append((signum, sorted(p.name for p in tmp_path.iterdir())))
    old = signal.signal(signal.SIGUSR1, handler)
    try:
        # a handler that returns: the write still ends (as a KeyboardInterrupt)
        with pytest.raises(KeyboardInterrupt), atomic_path(target, interruptible=True) as tmp:
            with open(tmp, "w") as f:
                f.write("a,b\n")
                os.kill(os.getpid(), signal.SIGUSR1)
                written.append("1,2\n")     # not reached: the signal ended the write
    finally:
        signal.signal(signal.SIGUSR1, old)
    # delivered to the old handler once the temporary file was gone
    assert written == [] and seen == [(signal.SIGUSR1, ["out.csv"])]
    assert target.read_text() == "old"


def test_an_error_in_the_block_removes_the_temp_and_keeps_the_old_file(tmp_path):
    target = tmp_path / "m.h5"
    target.write_text("old")
    with pytest.raises(UserError, match="m.h5: cannot write"):
        with atomic_path(target) as tmp:
            open(tmp, "w").write("partial")
            raise OSError(28, "No space left on device")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.h5"]


def test_temp_names_are_cleaned_only_for_dead_writers_of_the_same_target(tmp_path):
    dest = str(tmp_path / "m.h5")
    mine = temp_name(dest)                      # this (live) process's
    open(mine, "w").close()
    dead = mine.replace(f"-{os.getpid()}-", "-999999999-")
    open(dead, "w").close()
    assert remove_stale_temps(dest) == [dead]
    assert os.path.exists(mine)


def test_check_destination_returns_the_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert check_destination("x.h5") == str(tmp_path / "x.h5")
    assert list(tmp_path.iterdir()) == []       # the probe file is gone
