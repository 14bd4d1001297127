"""Which CSV parser the streaming importer uses: pandas' C parser against pyarrow's CSV reader
(one thread, and all threads) on the same generated file (``gen_csv.py``), read whole, mean ±
sd over ``--repeats`` runs, in this process; wall and CPU seconds (user + system, all threads).
``--mnist``: MNIST's training text instead (plain integers), with ``int_block``'s numba
parser as a fourth candidate (its compilation not counted: a first call before the runs).

    python benchmarks/import_parsers.py --megabytes 100 --repeats 3 [--record]
    python benchmarks/import_parsers.py --mnist --repeats 3 [--record --record-as NAME]
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


def _integers(path: str) -> None:
    from mpidl.data.int_block import parse_integers
    with open(path, "rb") as f:
        block = f.read()
    ncols = block[:block.index(b"\n")].count(b",") + 1
    if parse_integers(block, ",", ncols) is None:
        raise SystemExit(f"{path}: not plain integers")


def _mnist_text(tmp: str) -> str:
    import gzip
    import shutil
    from common import MNIST
    path = os.path.join(tmp, "mnist_train.csv")
    with gzip.open(MNIST / "train.csv.gz", "rb") as f, open(path, "wb") as out:
        shutil.copyfileobj(f, out)
    return path


def _spread(xs: list[float]) -> str:
    return f"{statistics.mean(xs):.2f} ± {statistics.stdev(xs):.2f}" if len(xs) > 1 \
        else f"{xs[0]:.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--megabytes", type=float, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--mnist", action="store_true", help="MNIST's training text")
    ap.add_argument("--record", action="store_true")
    ap.add_argument("--record-as", default="import_parsers", help="RESULTS.md section name")
    args = ap.parse_args()
    parsers = {"pandas C parser": _pandas, "pyarrow, 1 thread": lambda p: _arrow(p, False),
               "pyarrow, all threads": lambda p: _arrow(p, True)}
    if args.mnist:
        parsers["int_block (numba, 1 thread)"] = _integers
    times = {name: ([], []) for name in parsers}
    with tempfile.TemporaryDirectory() as tmp:
        if args.mnist:
            path = _mnist_text(tmp)
            _integers(path)   # compiles (or loads) the numba parser
        else:
            path = os.path.join(tmp, "gen.csv")
            write_csv(path, int(args.megabytes * 1e6))
        size = os.path.getsize(path)
        for _ in range(args.repeats):
            for name, parse in parsers.items():
                t0, c0 = time.perf_counter(), time.process_time()
                parse(path)
                times[name][0].append(time.perf_counter() - t0)
                times[name][1].append(time.process_time() - c0)
    rows = [[name, _spread(w), _spread(c), f"{size / 1e6 / statistics.mean(w):.0f}"]
            for name, (w, c) in times.items()]
    load = os.getloadavg()[0]
    what = "MNIST's training text" if args.mnist else "generated CSV"
    body = (f"{size / 1e6:.0f} MB {what}, {args.repeats} repeats, load average "
            f"{load:.1f} at the end (2 cores, shared).\n\n"
            + table(["parser", "wall s (mean ± sd)", "CPU s (mean ± sd)", "MB/s"], rows))
    print(body)
    if args.record:
        record(args.record_as, f"CSV parsers for the streaming import ({what})", body)


if __name__ == "__main__":
    main()
