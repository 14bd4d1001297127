"""Where a model's start-up goes: CPU seconds by phase of ``python -m mpidl train`` on the
first point of ``jobs/grid_mnist.toml`` (hidden [64], Rectifier, l1 0; MNIST's 60,000
training rows, its 10,000 test rows as the validation frame), trained for 0.001 epochs so the
start dominates.

Each run is a fresh process under cProfile with a CPU clock (``time.process_time``: the
machine is shared, wall seconds would measure the other jobs); a phase is the cumulative CPU
time of the functions listed in PHASES (phases may nest: "of which" rows are inside the row
above).  ``--before DIR`` also runs another checkout's mpidl (its package directory on
PYTHONPATH, e.g. /work/main) in rotation with this one.  One untimed run first loads numba's
cached kernels into the OS's file cache.

    python benchmarks/train_start.py [--repeats 3] [--before /work/main] [--record]
"""

from __future__ import annotations

import argparse
import os
import pstats
import subprocess
import sys
import tempfile
import tomllib

from common import ROOT, WORKDIR, mnist_h5, record, table, toml_value
from grid_phases import mean_sd

# (label, substring of the profiled function's "file:line(name)" key without the line)
PHASES = (("whole command (cli.main)", "mpidl/cli.py(main)"),
          ("read the training rows (open_training)", "train/setup.py(open_training)"),
          ("DataInfo (build_datainfo)", "data/build_info.py(build_datainfo)"),
          ("  of which column statistics", "data/column_stats.py(global_column_stats)"),
          ("training shard (make_shard)", "train/setup.py(make_shard)"),
          ("  of which the shard's type (_shard_type)", "data/shard_numerics.py(_shard_type)"),
          ("validation rows (validation_score_set)", "train/setup.py(validation_score_set)"),
          ("calibration (seconds_per_row)", "train/calibrate.py(seconds_per_row)"),
          ("numba's cached kernels loaded", "numba/core/caching.py(load_overload)"),
          ("HDF5 column reads (read_columns)", "data/hdf5.py(read_columns)"),
          ("import pandas", "pandas/__init__.py(<module>)"))

PROFILE = """
import cProfile, runpy, sys, time
out = sys.argv[1]
sys.argv = ["mpidl"] + sys.argv[2:]
profile = cProfile.Profile(time.process_time)
profile.enable()
try:
    runpy.run_module("mpidl", run_name="__main__")
except SystemExit:
    pass
profile.disable()
profile.dump_stats(out)
"""


def write_job(train: str, test: str) -> str:
    """The grid job's fixed parameters and first point, as a train job file in WORKDIR."""
    grid = tomllib.loads((ROOT / "jobs" / "grid_mnist.toml").read_text())
    params = {k: v for k, v in grid.items() if not isinstance(v, dict)}
    params.update({k: v[0] for k, v in grid["hyper_parameters"].items()})
    params.update(training_frame=train, validation_frame=test, epochs=0.001)
    path = WORKDIR / "train_start.toml"
    path.write_text("".join(f"{k} = {toml_value(v)}\n" for k, v in params.items()))
    return str(path)


def profile_run(job: str, package_dir: str | None) -> dict[str, float]:
    """CPU seconds per phase of one ``train`` process (this checkout's mpidl, or the one in
    ``package_dir``)."""
    env = dict(os.environ, OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
    if package_dir:
        env["PYTHONPATH"] = package_dir
    with tempfile.TemporaryDirectory() as tmp:
        stats_path = os.path.join(tmp, "start.prof")
        cmd = [sys.executable, "-c", PROFILE, stats_path, "train", job, "--threads", "1",
               "-o", os.path.join(tmp, "m.h5")]
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600,
                           cwd=package_dir or str(ROOT))
        if r.returncode != 0 or not os.path.exists(stats_path):
            raise RuntimeError(f"{' '.join(cmd)} failed: {(r.stderr or r.stdout)[-800:]}")
        stats = pstats.Stats(stats_path).stats
    seconds = {}
    for label, key in PHASES:
        seconds[label] = max((s[3] for (f, _, name), s in stats.items()
                              if f"{f}({name})".endswith(key)), default=0.0)
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--before", help="another checkout to compare (its directory holding "
                                     "the mpidl package)")
    ap.add_argument("--record", action="store_true", help="write the table to RESULTS.md")
    args = ap.parse_args()
    job = write_job(*mnist_h5())
    checkouts = {"this checkout": None} if not args.before else \
        {f"before ({args.before})": args.before, "this checkout": None}
    load_start = os.getloadavg()[0]
    for package_dir in checkouts.values():
        profile_run(job, package_dir)
    runs = {name: [] for name in checkouts}
    for _ in range(args.repeats):
        for name, package_dir in checkouts.items():
            runs[name].append(profile_run(job, package_dir))
    rows = [[label] + [mean_sd([r[label] for r in runs[name]]) for name in checkouts]
            for label, _ in PHASES]
    body = (f"CPU seconds (cProfile, process time) of `python -m mpidl train` on "
            f"jobs/grid_mnist.toml's first point, 0.001 epochs, 1 thread; means ± sd of "
            f"{args.repeats} processes per checkout, in rotation.\n\n"
            + table(["phase"] + list(checkouts), rows)
            + f"\nLoad average (1 min) at start / end: {load_start:.1f} / "
            f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.\n")
    print(body)
    if args.record:
        record("train_start", "A train start on MNIST: CPU seconds by phase", body)


if __name__ == "__main__":
    main()
