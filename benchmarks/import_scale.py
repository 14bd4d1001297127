"""The streaming import at scale: a generated CSV of ``--gigabytes`` (``gen_csv.py``: numeric
and categorical columns) imported by ``python -m mpidl import`` on 1 rank and under
``mpirun -n 2``, alternating, ``--repeats`` times: wall time (mean ± sample sd), the speed-up
of 2 ranks, the peak RSS of each run's largest process (``wait4``'s ``ru_maxrss``, which covers
mpirun's ranks), the load average before each run, and whether the 2-rank table equals the
1-rank one (every column compared, a block of rows at a time).  The CSV and the tables are
written under ``--dir`` and deleted at the end.

    python benchmarks/import_scale.py --gigabytes 3 --repeats 3 --record
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
from common import mpirun_argv, record, table
from gen_csv import write_csv

_ROWS_PER_COMPARE = 1 << 22


def _import(src: Path, out: Path, ranks: int) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB of the largest process) of one import."""
    cmd = [sys.executable, "-m", "mpidl", "import", str(src), "-o", str(out)]
    cmd = (mpirun_argv(ranks) + cmd) if ranks > 1 else cmd
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        sys.exit(f"import failed ({proc.returncode}): {proc.stderr.read().decode()}")
    return wall, usage.ru_maxrss / 1024


def _equal_tables(a: Path, b: Path) -> bool:
    """Same attributes, dtypes and values (NaN equal to NaN), compared in blocks of rows."""
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        ga, gb = fa["table"], fb["table"]
        if str(dict(ga.attrs)) != str(dict(gb.attrs)) or set(ga) != set(gb):
            return False
        for key in ga:
            da, db = ga[key], gb[key]
            if da.dtype != db.dtype or str(dict(da.attrs)) != str(dict(db.attrs)):
                return False
            for lo in range(0, da.shape[0], _ROWS_PER_COMPARE):
                x, y = da[lo:lo + _ROWS_PER_COMPARE], db[lo:lo + _ROWS_PER_COMPARE]
                if not np.array_equal(x, y, equal_nan=x.dtype.kind == "f"):
                    return False
    return True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gigabytes", type=float, default=3.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--dir", default="/tmp/mpidl-import-scale")
    ap.add_argument("--record", action="store_true")
    ap.add_argument("--record-as", default="import_scale", help="RESULTS.md section name")
    args = ap.parse_args()
    work = Path(args.dir)
    work.mkdir(parents=True, exist_ok=True)
    try:
        src = work / "big.csv"
        rows = write_csv(str(src), int(args.gigabytes * 1e9))
        runs = {1: [], 2: []}
        for _ in range(args.repeats):
            for ranks in (1, 2):
                load = os.getloadavg()[0]
                wall, rss = _import(src, work / f"n{ranks}.h5", ranks)
                runs[ranks].append((wall, rss, load))
                print(f"{ranks} rank(s): {wall:.1f} s, peak RSS {rss:.0f} MB, load {load:.1f}",
                      flush=True)
        equal = _equal_tables(work / "n1.h5", work / "n2.h5")
        body = _report(src.stat().st_size, rows, runs, equal)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(body)
    if args.record:
        record(args.record_as, "Streaming and parallel import of a generated 3 GB CSV", body)


def _report(size: int, rows: int, runs: dict, equal: bool) -> str:
    def mean_sd(xs):
        return f"{statistics.mean(xs):.1f} ± {statistics.stdev(xs):.1f}" if len(xs) > 1 \
            else f"{xs[0]:.1f}"
    lines = []
    for ranks, rs in runs.items():
        walls = [r[0] for r in rs]
        lines.append([ranks, mean_sd(walls), f"{size / 1e6 / statistics.mean(walls):.0f}",
                      f"{max(r[1] for r in rs):.0f}", ", ".join(f"{r[2]:.1f}" for r in rs)])
    speedups = [a[0] / b[0] for a, b in zip(runs[1], runs[2])]
    return (f"{size / 1e9:.2f} GB, {rows:,} rows x 11 columns (2 categorical), "
            f"{len(runs[1])} repeats alternating 1 and 2 ranks; 2 cores shared with other "
            "work (load average before each run in the last column).\n\n"
            + table(["ranks", "seconds (mean ± sd)", "MB/s", "peak RSS of a process (MB)",
                     "load average"], lines)
            + f"\nSpeed-up of 2 ranks over 1 (per repeat): "
            f"{', '.join(f'{s:.2f}' for s in speedups)} (mean {statistics.mean(speedups):.2f})."
            f"\n2-rank table equal to the 1-rank table: {'yes' if equal else 'NO'}.\n")


if __name__ == "__main__":
    main()
