"""Import speed against H2O-3's own parse, in one run: ``h2o.import_file`` (a local JVM,
nthreads=2) and ``python -m mpidl import`` on 1 rank and under ``mpirun -n 2``, on MNIST's
training file and the 100k-row airlines 2005 file (both gzip), alternating, ``--repeats``
times: wall seconds, mean ± sample sd.  H2O's first import of each file is not counted (the
JVM's warm-up).  mpidl's wall time is the whole command (Python's start included); "in" is the
time the command reports for the import itself.  The load
average (1 minute) before each dataset's runs is shown: the machine is shared.

    python benchmarks/import_vs_h2o.py --repeats 3 --record
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, mpirun_argv, record, start_h2o, table

SHARED = ROOT.parent / "shared" / "data"
DATASETS = {"mnist train (60k x 785)": (SHARED / "mnist" / "train.csv.gz", ["C785"]),
            "airlines 2005 (100k x 31)": (SHARED / "airlines_2005_100k" / "year2005.csv.gz", [])}


def _mpidl(src: Path, categorical: list[str], out: Path, ranks: int) -> tuple[float, float]:
    """(wall seconds of the command, seconds it reports for the import)."""
    cmd = [sys.executable, "-m", "mpidl", "import", str(src), "-o", str(out)]
    cmd += ["--categorical", *categorical] if categorical else []
    cmd = mpirun_argv(ranks) + cmd if ranks > 1 else cmd
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    return wall, float(re.search(r" in ([\d.]+)s", proc.stdout).group(1))


def _h2o(h2o, src: Path) -> float:
    t0 = time.perf_counter()
    frame = h2o.import_file(str(src))
    wall = time.perf_counter() - t0
    h2o.remove(frame)
    return wall


def _spread(xs: list[float]) -> str:
    return f"{statistics.mean(xs):.2f} ± {statistics.stdev(xs):.2f}" if len(xs) > 1 \
        else f"{xs[0]:.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--record", action="store_true")
    ap.add_argument("--record-as", default="import_vs_h2o", help="RESULTS.md section name")
    args = ap.parse_args()
    h2o = start_h2o(2, "4g")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, (src, categorical) in DATASETS.items():
            _h2o(h2o, src)   # warm-up, not counted
            load = os.getloadavg()[0]
            runs = {"h2o": [], 1: [], 2: []}
            for _ in range(args.repeats):
                runs["h2o"].append((_h2o(h2o, src), None))
                for ranks in (1, 2):
                    runs[ranks].append(_mpidl(src, categorical, Path(tmp) / "t.h5", ranks))
            rows.append([name, f"{load:.1f}", _spread([w for w, _ in runs["h2o"]])]
                        + [f"{_spread([w for w, _ in runs[r]])} (in {_spread([i for _, i in runs[r]])})"
                           for r in (1, 2)])
            print(rows[-1], flush=True)
    version = h2o.cluster().version
    body = (f"H2O {version} (`h2o.import_file`, nthreads=2) against `python -m mpidl import`; "
            f"{args.repeats} repeats, alternating; 2 cores shared with other work.\n\n"
            + table(["data", "load", "H2O s", "mpidl 1 rank s", "mpidl 2 ranks s"], rows))
    print(body)
    if args.record:
        record(args.record_as, "Import speed: mpidl vs H2O-3's parse", body)


if __name__ == "__main__":
    main()
