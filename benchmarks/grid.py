"""A 16-model grid search on MNIST: 2 ranks taking points from the shared queue
(``--ranks-per-model 1``) against the same grid on 1 rank x 1 thread, one model after another.

The grid (Cartesian, 4 x 2 x 2): hidden [16], [32], [16, 16], [32, 32] x l1 0, 1e-5 x
input_dropout_ratio 0, 0.1; Rectifier, ``--epochs`` (0.2) epochs of MNIST's training set (its
first ``--rows`` rows when given), one thread per rank, scored on training samples only.  Each
configuration runs once to warm up (numba's cache), then ``--repeats`` times in rotation; the
table gives means and standard deviations of the wall time of the whole ``grid`` command
(start-up, data loading, every model, grid.csv).  The load average and a two-process CPU
control (``scoring.parallel_capacity``) are reported beside it: other jobs share the machine.

``--job jobs/grid_mnist.toml`` runs the README's grid instead (its hyper-parameters, epochs and
validation frame as a user runs it, on the benchmark's MNIST tables): models of [64] to
[200,200] units, where training outweighs the per-group start-up that the small models above
expose.

    python benchmarks/grid.py [--rows N] [--epochs 0.2] [--repeats 3] [--record]
    python benchmarks/grid.py --job jobs/grid_mnist.toml --repeats 3 --record --record-as grid_readme
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
import tomllib
from pathlib import Path

from common import WORKDIR, mnist_h5, record, table, toml_value
from launcher import mpirun_argv
from scoring import mean_sd, parallel_capacity

HYPER = {"hidden": [[16], [32], [16, 16], [32, 32]], "l1": [0.0, 1e-5],
         "input_dropout_ratio": [0.0, 0.1]}


def subset(train_h5: str, rows: int) -> str:
    """The first ``rows`` rows of the MNIST training table, as their own table (cached)."""
    from mpidl.data.hdf5 import read_columns, read_info, write_table
    if rows <= 0:
        return train_h5
    path = WORKDIR / f"mnist_train_{rows}.h5"
    if not path.exists():
        info = read_info(train_h5)
        cols = read_columns(train_h5, [c.name for c in info.columns], 0, rows)
        write_table(path, cols, {c.name: c.domain for c in info.columns if c.domain})
    return str(path)


def write_job(train: str, epochs: float) -> str:
    """The grid job file in WORKDIR."""
    fixed = {"training_frame": train, "response_column": "C785", "activation": "Rectifier",
             "epochs": epochs, "seed": 5, "stopping_rounds": 0, "score_training_samples": 2000}
    text = "".join(f"{k} = {toml_value(v)}\n" for k, v in fixed.items())
    text += "[hyper_parameters]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in HYPER.items())
    path = WORKDIR / "grid_bench.toml"
    path.write_text(text)
    return str(path)


def user_job(path: str, train: str, test: str) -> tuple[str, str]:
    """A user's grid job file with the benchmark's MNIST tables as its frames, in WORKDIR;
    and its description for the table."""
    job = tomllib.loads(Path(path).read_text())
    fixed = {k: v for k, v in job.items() if not isinstance(v, dict)}
    fixed.update(training_frame=train, validation_frame=test)
    text = "".join(f"{k} = {toml_value(v)}\n" for k, v in fixed.items())
    for table_name in ("hyper_parameters", "search_criteria"):
        text += f"[{table_name}]\n" + "".join(f"{k} = {toml_value(v)}\n"
                                             for k, v in job.get(table_name, {}).items())
    out = WORKDIR / "grid_user.toml"
    out.write_text(text)
    hyper = " x ".join(f"{k} {job['hyper_parameters'][k]}" for k in job["hyper_parameters"])
    return str(out), (f"`{path}`'s 16 models ({hyper}), {fixed.get('epochs', 10):g} epoch(s) of "
                      "60,000 MNIST rows each, scored on its 10,000 test rows")


def run_grid(job: str, ranks: int) -> float:
    """Wall seconds of one whole grid command on ``ranks`` ranks (1 thread each)."""
    out = WORKDIR / f"grid_bench_{ranks}"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    cmd = [sys.executable, "-m", "mpidl", "grid", job, "-o", str(out), "--threads", "1",
           "--ranks-per-model", "1"]
    if ranks > 1:
        cmd = mpirun_argv(ranks) + cmd
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=3600,
                       env=dict(os.environ, OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1"))
    seconds = time.perf_counter() - t0
    if r.returncode != 0 or len(list(out.glob("*.h5"))) != 16:
        raise RuntimeError(f"{' '.join(cmd)} failed: {(r.stderr or r.stdout)[-800:]}")
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=0, help="training rows (0: all 60,000)")
    ap.add_argument("--epochs", type=float, default=0.2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--record", action="store_true", help="write the table to RESULTS.md")
    ap.add_argument("--record-as", default="grid", help="the RESULTS.md section to write")
    ap.add_argument("--job", help="a 16-point grid job file to run instead (its frames replaced "
                                   "by the benchmark's MNIST tables)")
    args = ap.parse_args()
    train, test = mnist_h5()
    if args.job:
        job, what = user_job(args.job, train, test)
    else:
        job = write_job(subset(train, args.rows), args.epochs)
        what = (f"16 models (hidden x l1 x input_dropout_ratio), {args.epochs:g} epochs of "
                f"{args.rows or 60000:,} MNIST rows each")
    load_start = os.getloadavg()[0]
    for ranks in (1, 2):
        run_grid(job, ranks)
    times: dict[int, list[float]] = {1: [], 2: []}
    capacity = []
    for rep in range(args.repeats):
        capacity.append(parallel_capacity())
        for ranks in (1, 2):
            times[ranks].append(run_grid(job, ranks))
            print(f"repeat {rep + 1}: {ranks} rank(s) {times[ranks][-1]:.1f} s", flush=True)
    ratios = [b / a for a, b in zip(times[1], times[2])]
    rows = [["1 rank x 1 thread, sequential", mean_sd(times[1]), "1"],
            ["2 ranks x 1 thread, --ranks-per-model 1", mean_sd(times[2]), mean_sd(ratios)]]
    body = (f"{what}; wall seconds of the whole `grid` command, "
            f"means ± sd of {args.repeats} runs per configuration (rotated).\n\n"
            + table(["configuration", "wall s", "time / sequential"], rows)
            + f"\nTarget: 2 ranks <= 0.55 x sequential; measured {statistics.mean(ratios):.2f}.  "
            f"Load average (1 min) at start / end: {load_start:.1f} / {os.getloadavg()[0]:.1f} "
            f"on {os.cpu_count()} cores.  Two processes got {mean_sd(capacity)} cores' worth of "
            f"CPU (control before each repeat; 2.00 on two idle cores), which bounds the "
            f"speed-up.\n")
    print(body)
    if args.record:
        record(args.record_as, "Grid search: 16 models on 2 ranks vs sequential", body)


if __name__ == "__main__":
    main()
