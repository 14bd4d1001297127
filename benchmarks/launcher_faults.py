"""How the MPI launcher ends a job on faults and signals: exit codes and seconds, per MPI family.

Runs the long prostate job of tests/test_mpi_jobs.py under ``mpirun -n 2`` (the launcher of the
MPI family mpi4py was built against: tests/launcher.py) and, ``--repeats`` times each:

- ``SIGKILL rank 1``: seconds from the kill to the launcher's end (the other rank is killed);
- ``SIGTERM rank 1``: mpidl checkpoints on every rank and exits 75;
- ``SIGUSR1 launcher`` / ``SIGTERM launcher``: what a batch system or a user sends to ``mpirun``
  itself; whether the launcher forwards it (a checkpoint written, exit 75) or kills the ranks;
- ``SIGTERM launcher, 4 s handler``: a plain Python rank whose SIGTERM handler needs 4 s (a
  large model's checkpoint): whether the launcher lets it finish ("handler finished" column)
  or kills the rank first (Open MPI: SIGKILL ``odls_base_sigkill_timeout`` = 1 s later);
- ``MPI_Abort(3) rank 1``: the launcher's exit code when one rank calls ``comm.abort(3)``.

Usage: ``python benchmarks/launcher_faults.py [--repeats 3]`` from each venv (``.venv`` with
PyPI's MPICH, ``.venv-ompi`` with Open MPI); the table goes to RESULTS.md, one section a family.
"""

from __future__ import annotations

import argparse
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from common import record, table  # noqa: E402
from launcher import mpirun_argv, vendor  # noqa: E402
from mpi_job import PY, LongJob, alive, job_env  # noqa: E402

ABORT = """\
from mpidl.comm import world
comm = world()
if comm.rank == 1:
    comm.abort(3)
comm.barrier()
"""

SLOW_TERM = """\
import os, signal, sys, time
from mpidl.launch_env import env_rank
prefix = sys.argv[1] + str(env_rank())
def on_term(signum, frame):
    time.sleep(4)
    open(prefix + ".done", "w").close()
    sys.exit(75)
signal.signal(signal.SIGTERM, on_term)
open(prefix + ".ready", "w").close()
while True:
    time.sleep(0.05)
"""

CASES = {"SIGKILL rank 1": (signal.SIGKILL, 1), "SIGTERM rank 1": (signal.SIGTERM, 1),
         "SIGUSR1 launcher": (signal.SIGUSR1, None), "SIGTERM launcher": (signal.SIGTERM, None)}


def signal_case(sig, rank) -> tuple[int, float, bool, bool]:
    """(launcher exit code, seconds to its end, checkpoint written, a rank outlived the job)."""
    with tempfile.TemporaryDirectory(prefix="mpidl-faults-") as tmp:
        model = Path(tmp) / "m.h5"
        job = LongJob(Path(tmp), model)
        ranks, rc, seconds = job.signal(sig, rank, timeout=120)
        time.sleep(1)
        left = any(alive(pid) for pid in ranks.values())
        return rc, seconds, "checkpoint written to" in job.out and model.exists(), left


def abort_case() -> tuple[int, float]:
    """(launcher exit code, seconds of the whole job) when rank 1 aborts with code 3."""
    t0 = time.monotonic()
    r = subprocess.run(mpirun_argv(2) + [PY, "-c", ABORT], env=job_env(), capture_output=True,
                       text=True, timeout=120)
    return r.returncode, time.monotonic() - t0


def slow_term_case() -> tuple[int, float, int]:
    """(launcher exit code, seconds from SIGTERM to its end, ranks whose handler finished)."""
    with tempfile.TemporaryDirectory(prefix="mpidl-faults-") as tmp:
        prefix = str(Path(tmp) / "rank")
        proc = subprocess.Popen(mpirun_argv(2) + [PY, "-c", SLOW_TERM, prefix], env=job_env(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ready = [Path(f"{prefix}{r}.ready") for r in (0, 1)]
        for _ in range(600):
            if all(p.exists() for p in ready):
                break
            time.sleep(0.05)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=120)
        seconds = time.monotonic() - t0
        return rc, seconds, sum(Path(f"{prefix}{r}.done").exists() for r in (0, 1))


def _spread(values) -> str:
    """mean +- sample standard deviation (min-max), seconds."""
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.2f} +- {sd:.2f} ({min(values):.2f}-{max(values):.2f})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-record", action="store_true", help="print only, leave RESULTS.md")
    args = ap.parse_args()
    fam = vendor()
    rows = []
    for name, (sig, rank) in CASES.items():
        runs = [signal_case(sig, rank) for _ in range(args.repeats)]
        rows.append([name, sorted({r[0] for r in runs}), _spread([r[1] for r in runs]),
                     f"{sum(r[2] for r in runs)}/{len(runs)}", f"{sum(r[3] for r in runs)}", "-"])
        print(rows[-1], flush=True)
    runs = [slow_term_case() for _ in range(args.repeats)]
    rows.append(["SIGTERM launcher, 4 s handler", sorted({r[0] for r in runs}),
                 _spread([r[1] for r in runs]), "-", "-",
                 f"{sum(r[2] for r in runs)}/{2 * len(runs)}"])
    print(rows[-1], flush=True)
    runs = [abort_case() for _ in range(args.repeats)]
    rows.append(["MPI_Abort(3) rank 1", sorted({r[0] for r in runs}), _spread([r[1] for r in runs]),
                 "-", "-", "-"])
    print(rows[-1], flush=True)
    body = table(["case", "launcher exit codes", "seconds to the end: mean +- sd (min-max)",
                  "checkpoint written", "runs where a rank outlived the job",
                  "handler finished (ranks)"], rows)
    print(body)
    if not args.no_record:
        key = "launcher-faults-" + fam.rsplit(" ", 1)[0].lower().replace(" ", "")
        record(key, f"Faults and signals under {fam}'s launcher ({args.repeats} runs each)", body)


if __name__ == "__main__":
    main()
