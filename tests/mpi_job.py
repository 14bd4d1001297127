"""A whole ``mpidl train`` job under the MPI launcher, run in the background so that a test (or
``benchmarks/launcher_faults.py``) can signal one rank or the launcher and time the ending.

The launcher comes from ``launcher.mpirun_argv``; ranks are found from their environment with
the variables every MPI family sets (``mpidl.launch_env.RANK_VARS``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from launcher import mpirun_argv

from mpidl.launch_env import RANK_VARS

PY = sys.executable
PROSTATE = str(Path(__file__).resolve().parents[1] / "data" / "prostate.csv")

BASE_JOB = f"""\
training_frame = "{PROSTATE}"
response_column = "CAPSULE"
ignored_columns = ["ID"]
distribution = "bernoulli"
hidden = [10]
"""

# A job that would take hours: only a signal or a fault ends it.
LONG_JOB = BASE_JOB + """\
epochs = 100000
score_interval = 0
stopping_rounds = 0
train_samples_per_iteration = 380
replicate_training_data = false
"""


def job_env() -> dict:
    """The environment for a fresh MPI job (no launcher variables leaking in from outside)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PMI_", "PMIX_", "OMPI_", "HYDRA_", "MPIDL_"))}
    env["NUMBA_NUM_THREADS"] = "1"
    env["OMP_NUM_THREADS"] = "1"
    return env


def write_job(folder: Path, text: str, name: str = "job.toml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def _children(root: int) -> set[int]:
    """Every descendant pid of ``root`` (from /proc)."""
    parent = {}
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                stat = (p / "stat").read_text()
            except OSError:
                continue
            parent[int(p.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    out, frontier = set(), {root}
    while frontier:
        frontier = {c for c, pp in parent.items() if pp in frontier} - out
        out |= frontier
    return out


def alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie left to a non-reaping parent is dead)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _env_rank_of(pid: int) -> int | None:
    """The rank a launcher gave process ``pid`` (its first RANK_VARS entry), or None."""
    env = dict(kv.split(b"=", 1) for kv in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
               if b"=" in kv)
    for v in RANK_VARS:
        if v.encode() in env:
            return int(env[v.encode()])
    return None


def command_pids(launcher_pid: int, command: bytes) -> list[int]:
    """The pids of the ``mpidl COMMAND`` processes (e.g. ``b"grid"``) under the launcher."""
    pids = []
    for pid in _children(launcher_pid):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"mpidl" in cmd and command in cmd:
            pids.append(pid)
    return pids


def rank_pids(launcher_pid: int) -> dict[int, int]:
    """{rank: pid} of the ``mpidl train`` processes started by the launcher ``launcher_pid``."""
    ranks = {}
    for pid in _children(launcher_pid):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            rank = _env_rank_of(pid)
        except OSError:
            continue
        if b"mpidl" in cmd and b"train" in cmd and rank is not None:
            ranks[rank] = pid
    return ranks


class LongJob:
    """``mpirun -n 2 ... train LONG_JOB`` in the background, its output drained by threads.

    ``ranks()`` waits for the first progress line; ``signal(sig, rank)`` signals one rank (or the
    launcher itself with ``rank=None``) and waits for the launcher to end.
    """

    def __init__(self, folder: Path, model: Path, n: int = 2, text: str = LONG_JOB,
                 env: dict | None = None):
        """``text``: the job file; ``env``: variables added to ``job_env()``."""
        job = write_job(folder, text)
        self.n = n
        self.proc = subprocess.Popen(mpirun_argv(n) + [PY, "-m", "mpidl", "train", str(job),
                                                       "--threads", "1", "-o", str(model)],
                                     cwd=folder, env={**job_env(), **(env or {})},
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.lines, self.errs = [], []
        self._progress = threading.Event()
        self._threads = [
            threading.Thread(target=self._drain, args=(self.proc.stdout, self.lines, True),
                             daemon=True),
            threading.Thread(target=self._drain, args=(self.proc.stderr, self.errs, False),
                             daemon=True)]
        for t in self._threads:
            t.start()

    def _drain(self, stream, sink, watch):
        for line in stream:
            sink.append(line)
            if watch and line.startswith("iter"):
                self._progress.set()

    def ranks(self) -> dict[int, int]:
        """{rank: pid} once training has begun (asserts every rank was found)."""
        assert self._progress.wait(90), f"no progress line\n{self.out}{self.err}"
        ranks = {}
        for _ in range(50):
            ranks = rank_pids(self.proc.pid)
            if len(ranks) == self.n:
                break
            time.sleep(0.1)
        assert sorted(ranks) == list(range(self.n)), ranks
        return ranks

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for t in self._threads:
            t.join(5)

    def signal(self, sig, rank: int | None = 1,
               timeout: float = 30) -> tuple[dict[int, int], int, float]:
        """({rank: pid}, launcher's exit code, seconds from the signal to the launcher's end)."""
        try:
            ranks = self.ranks()
            t0 = time.monotonic()
            os.kill(self.proc.pid if rank is None else ranks[rank], sig)
            rc = self.proc.wait(timeout=timeout)
            return ranks, rc, time.monotonic() - t0
        finally:
            self.close()

    def kill_rank(self, rank: int) -> tuple[int, float]:
        """SIGKILL rank ``rank``: (the launcher's exit code, seconds from the kill to its end),
        once every rank's process is gone (AssertionError if one outlives the job by 5 s)."""
        pids, rc, elapsed = self.signal(signal.SIGKILL, rank=rank)
        for _ in range(50):
            if not any(alive(pid) for pid in pids.values()):
                break
            time.sleep(0.1)
        assert not any(alive(pid) for pid in pids.values()), "a rank outlived the job"
        return rc, elapsed

    @property
    def out(self) -> str:
        return "".join(self.lines)

    @property
    def err(self) -> str:
        return "".join(self.errs)
