"""5-fold cross-validation on MNIST with 2 ranks: the fold models on groups of one rank
(``train --ranks-per-model 1``, two fold models at once) against today's sequential loop (each
fold model on both ranks, ``--ranks-per-model 2``).

The job: Rectifier, hidden ``--hidden`` ([32]), ``--epochs`` (0.5) epochs of MNIST's first
``--rows`` (10,000) training rows, nfolds 5 (Modulo), one thread per rank, scored on 2,000
training samples.  Each configuration runs once to warm up (numba's cache), then ``--repeats``
times in rotation; the table gives means and standard deviations of the wall time of the
whole ``train`` command (start-up, the fold models, the main model, the CV metrics).  The load
average and a two-process CPU control (``scoring.parallel_capacity``) are reported beside it:
other jobs share the machine.

    python benchmarks/cv_groups.py [--rows 10000] [--epochs 0.5] [--repeats 3] [--record]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

from common import WORKDIR, mnist_h5, record, table, toml_value
from grid import subset
from launcher import mpirun_argv
from scoring import mean_sd, parallel_capacity

NFOLDS = 5
RANKS = 2


def write_job(train: str, epochs: float, hidden: list[int]) -> str:
    """The cross-validation job file in WORKDIR."""
    fixed = {"training_frame": train, "response_column": "C785", "activation": "Rectifier",
             "hidden": hidden, "epochs": epochs, "seed": 5, "stopping_rounds": 0,
             "score_training_samples": 2000, "nfolds": NFOLDS, "fold_assignment": "Modulo"}
    path = WORKDIR / "cv_groups_bench.toml"
    path.write_text("".join(f"{k} = {toml_value(v)}\n" for k, v in fixed.items()))
    return str(path)


def run_cv(job: str, per_model: int) -> float:
    """Wall seconds of one whole ``train`` command on RANKS ranks, ``per_model`` ranks per
    fold model (1 thread each)."""
    out = WORKDIR / f"cv_groups_bench_{per_model}"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    cmd = mpirun_argv(RANKS) + [sys.executable, "-m", "mpidl", "train", job, "-o",
                                str(out / "m.h5"), "--threads", "1", "--ranks-per-model",
                                str(per_model)]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=3600,
                       env=dict(os.environ, OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1"))
    seconds = time.perf_counter() - t0
    if r.returncode != 0 or len(list(out.glob("m_cv_*.h5"))) != NFOLDS:
        raise RuntimeError(f"{' '.join(cmd)} failed: {(r.stderr or r.stdout)[-800:]}")
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=10000, help="training rows (0: all 60,000)")
    ap.add_argument("--epochs", type=float, default=0.5)
    ap.add_argument("--hidden", type=int, nargs="+", default=[32])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--record", action="store_true", help="write the table to RESULTS.md")
    args = ap.parse_args()
    train, _ = mnist_h5()
    job = write_job(subset(train, args.rows), args.epochs, args.hidden)
    load_start = os.getloadavg()[0]
    configurations = (RANKS, 1)
    for per_model in configurations:
        run_cv(job, per_model)
    times: dict[int, list[float]] = {k: [] for k in configurations}
    capacity = []
    for rep in range(args.repeats):
        capacity.append(parallel_capacity())
        for per_model in configurations:
            times[per_model].append(run_cv(job, per_model))
            print(f"repeat {rep + 1}: --ranks-per-model {per_model} "
                  f"{times[per_model][-1]:.1f} s", flush=True)
    ratios = [b / a for a, b in zip(times[RANKS], times[1])]
    rows = [[f"fold models one after another on {RANKS} ranks (--ranks-per-model {RANKS})",
             mean_sd(times[RANKS]), "1"],
            [f"{RANKS} fold models at once, 1 rank each (--ranks-per-model 1)",
             mean_sd(times[1]), mean_sd(ratios)]]
    body = (f"{NFOLDS}-fold cross-validation and the main model, hidden {args.hidden}, "
            f"{args.epochs:g} epochs of {args.rows or 60000:,} MNIST rows, {RANKS} ranks x 1 "
            f"thread; wall seconds of the whole `train` command, means ± sd of {args.repeats} "
            f"runs per configuration (rotated).\n\n"
            + table(["configuration", "wall s", "time / sequential"], rows)
            + f"\nMeasured ratio {statistics.mean(ratios):.2f}.  Load average (1 min) at start "
            f"/ end: {load_start:.1f} / {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.  "
            f"Two processes got {mean_sd(capacity)} cores' worth of CPU (control before each "
            f"repeat; 2.00 on two idle cores), which bounds the speed-up.\n")
    print(body)
    if args.record:
        record("cvsplit12", "Cross-validation: fold models on groups of ranks vs sequential",
               body)


if __name__ == "__main__":
    main()
