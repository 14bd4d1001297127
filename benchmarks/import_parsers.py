"""Which CSV parser the streaming importer uses: pandas' C parser against pyarrow's CSV reader
(one thread, and all threads) on the same generated file (``gen_csv.py``), read whole, mean ±
sd over ``--repeats`` runs, in this process.

    python benchmarks/import_parsers.py --megabytes 100 --repeats 3 [--record]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import pandas as pd
from common import record, table
from gen_csv import write_csv

from mpidl.data.coltypes import NA_STRINGS


def _pandas(path: str) -> None:
    pd.read_csv(path, na_values=list(NA_STRINGS), keep_default_na=False,
                skipinitialspace=True, engine="c")


def _arrow(path: str, threads: bool) -> None:
    import pyarrow.csv as pc
    pc.read_csv(path, read_options=pc.ReadOptions(use_threads=threads),
                convert_options=pc.ConvertOptions(null_values=list(NA_STRINGS),
                                                  strings_can_be_null=True))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--megabytes", type=float, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--record", action="store_true")
    args = ap.parse_args()
    parsers = {"pandas C parser": _pandas, "pyarrow, 1 thread": lambda p: _arrow(p, False),
               "pyarrow, all threads": lambda p: _arrow(p, True)}
    times = {name: [] for name in parsers}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "gen.csv")
        write_csv(path, int(args.megabytes * 1e6))
        size = os.path.getsize(path)
        for _ in range(args.repeats):
            for name, parse in parsers.items():
                t0 = time.perf_counter()
                parse(path)
                times[name].append(time.perf_counter() - t0)
    rows = [[name, f"{statistics.mean(t):.2f} ± {statistics.stdev(t):.2f}",
             f"{size / 1e6 / statistics.mean(t):.0f}"] for name, t in times.items()]
    load = os.getloadavg()[0]
    body = (f"{size / 1e6:.0f} MB generated CSV, {args.repeats} repeats, load average "
            f"{load:.1f} at the end (2 cores, shared).\n\n"
            + table(["parser", "seconds (mean ± sd)", "MB/s"], rows))
    print(body)
    if args.record:
        record("import_parsers", "CSV parsers for the streaming import", body)


if __name__ == "__main__":
    main()
