"""Rank 0's smaller share of a parallel import (``stream_import.nominal_shares``), A/B: 2-rank
imports of one CSV with ``WRITE_PER_PARSE`` = 0 (equal shares) and the module's value,
alternating, ``--repeats`` pairs; wall seconds of each (mpirun included), mean ± sample sd
and the paired differences.

    python benchmarks/gen_csv.py /tmp/big/big.csv --gigabytes 1
    python benchmarks/import_share.py /tmp/big/big.csv --repeats 4
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import mpirun_argv

from mpidl.data.stream_import import WRITE_PER_PARSE


def _import(csv: str, out: str, weight: float) -> float:
    """Wall seconds of one 2-rank import with ``WRITE_PER_PARSE = weight``."""
    code = ("import mpidl.data.stream_import as s; s.WRITE_PER_PARSE = %r; "
            "from mpidl.cli import main; raise SystemExit(main(['import', %r, '-o', %r]))"
            % (weight, csv, out))
    t0 = time.perf_counter()
    subprocess.run(mpirun_argv(2) + [sys.executable, "-c", code], check=True,
                   capture_output=True)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("csv")
    ap.add_argument("--repeats", type=int, default=4)
    args = ap.parse_args()
    runs: dict[float, list[float]] = {0.0: [], WRITE_PER_PARSE: []}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeats):
            for weight, times in runs.items():
                times.append(_import(args.csv, str(Path(tmp) / "t.h5"), weight))
                print(f"WRITE_PER_PARSE {weight}: {times[-1]:.2f} s", flush=True)
    for weight, times in runs.items():
        print(f"WRITE_PER_PARSE {weight}: {statistics.mean(times):.2f} ± "
              f"{statistics.stdev(times):.2f} s")
    diffs = [a - b for a, b in zip(*runs.values())]
    print("paired (equal - smaller rank 0):", ", ".join(f"{d:+.2f}" for d in diffs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
