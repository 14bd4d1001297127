"""Where the seconds of ``mpidl import`` go on one rank: the streaming importer's phases timed
in this process (CPU seconds of this process, user + system, and wall seconds; mean ± sample
sd over ``--repeats`` runs), on MNIST's training file (gzip, or its decompressed text with
``--plain``) unless ``--csv`` names another.

Phases: ``imports`` (the importer's modules: numpy, pandas, h5py, numba), ``scan load``
(numba loading the cached record scan), ``sniff``, ``read`` (reading / gunzipping the text
and scanning it for records), ``parse`` (pandas' C parser), ``pieces`` (a block's columns to
their compact Pieces), ``tally`` (the first pass's per-column tallies and their merge),
``decide``, ``create`` (the empty table), ``convert`` (Pieces to stored values),
``batch`` (joining blocks into write batches), ``write`` (HDF5 writes), ``close`` (HDF5's
flush and close of the table, or the write of the table built in memory); under
``--ranks N`` (mpirun) also ``split`` (a gz copied to a plain file by rank 0, the byte ranges
found) and ``comm`` (MPI calls, waits included), one pair of columns per rank;
``other`` is the rest of the import.

    python benchmarks/import_profile.py --repeats 3 [--plain] [--ranks 2] [--record]

With ``PYTHONPATH=DIR`` the phases are those of the mpidl package in DIR (another checkout).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

from common import MNIST, mpirun_argv, record, table

PHASES = ("imports", "scan load", "sniff", "split", "read", "parse", "pieces", "tally",
          "decide", "create", "convert", "batch", "write", "close", "comm", "other", "total")

_CHILD = r"""
import json, sys, time
clock = lambda: (time.process_time(), time.perf_counter())
t0 = clock()
from mpidl.comm import world
from mpidl.data import column_tally, csv_blocks, csv_scan, stream_import
comm = world()
seconds = {"imports": tuple(b - a for a, b in zip(t0, clock()))}
stack = [["other", clock()]]   # exclusive time: entering a phase pauses the one around it

def charge(name, since):
    now = clock()
    cpu, wall = seconds.get(name, (0.0, 0.0))
    seconds[name] = (cpu + now[0] - since[0], wall + now[1] - since[1])
    return now

def enter(name):
    stack[-1][1] = charge(stack[-1][0], stack[-1][1])
    stack.append([name, clock()])

def leave():
    name, since = stack.pop()
    stack[-1][1] = charge(name, since)

def timed(owner, attr, name):
    inner = getattr(owner, attr)
    def wrapper(*args, **kwargs):
        enter(name)
        try:
            return inner(*args, **kwargs)
        finally:
            leave()
    setattr(owner, attr, wrapper)

def timed_generator(owner, attr, name):
    inner = getattr(owner, attr)
    def wrapper(*args, **kwargs):
        it = inner(*args, **kwargs)
        while True:
            enter(name)
            try:
                item = next(it)
            except StopIteration:
                return
            finally:
                leave()
            yield item
    setattr(owner, attr, wrapper)

timed(csv_scan, "warm_up", "scan load")
for owner in (stream_import,):
    timed(owner, "sniff", "sniff")
    timed(owner, "open_source", "sniff")
    timed_generator(owner, "read_blocks", "read")
    timed(owner, "decide", "decide")
    timed(owner, "_create", "create")
    timed(owner, "convert", "convert")
    timed_generator(owner, "_batches", "batch")
for owner in (csv_blocks, stream_import):
    timed(owner, "block_pieces", "pieces")
timed_generator(csv_blocks, "record_blocks", "read")
timed(csv_blocks, "parse_block", "parse")
timed(csv_blocks, "tally", "tally")
timed(column_tally.Tally, "merge", "tally")
timed(stream_import._Writer, "write", "write")
timed(stream_import._Writer, "__exit__", "close")
timed(stream_import, "_splittable", "split")
timed(stream_import, "_spans", "split")
for attr in ("send_array", "recv_array", "allreduce_max", "allgather_obj", "allgather_array",
             "bcast_obj"):
    timed(type(comm), attr, "comm")
csv_scan.warm_up()
stream_import.import_table(sys.argv[1], sys.argv[2], comm, categorical=sys.argv[3:])
charge("other", stack[0][1])
seconds["total"] = tuple(sum(v[i] for v in seconds.values()) for i in (0, 1))
print(json.dumps([comm.rank, seconds]), flush=True)
"""


def _spread(xs: list[float]) -> str:
    return f"{statistics.mean(xs):.2f} ± {statistics.stdev(xs):.2f}" if len(xs) > 1 \
        else f"{xs[0]:.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--csv", help="the CSV to import (default: MNIST's training file)")
    ap.add_argument("--categorical", nargs="*", default=None)
    ap.add_argument("--plain", action="store_true", help="MNIST decompressed first")
    ap.add_argument("--ranks", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--record", action="store_true")
    ap.add_argument("--record-as", help="RESULTS.md section name (default from the options)")
    args = ap.parse_args()
    categorical = args.categorical if args.categorical is not None else \
        ([] if args.csv else ["C785"])
    runs = {(r, p): ([], []) for r in range(args.ranks) for p in PHASES}
    loads = []
    with tempfile.TemporaryDirectory() as tmp:
        src = args.csv or str(MNIST / "train.csv.gz")
        if args.plain and not args.csv:
            plain = os.path.join(tmp, "train.csv")
            with gzip.open(src, "rb") as f, open(plain, "wb") as out:
                shutil.copyfileobj(f, out)
            src = plain
        launch = mpirun_argv(args.ranks) if args.ranks > 1 else []
        for _ in range(args.repeats):
            loads.append(os.getloadavg()[0])
            out = subprocess.run(launch + [sys.executable, "-c", _CHILD, src,
                                           os.path.join(tmp, "t.h5"), *categorical],
                                 check=True, capture_output=True, text=True, cwd=tmp).stdout
            for line in out.strip().splitlines():
                rank, seconds = json.loads(line)
                for phase in PHASES:
                    cpu, wall = seconds.get(phase, (0.0, 0.0))
                    runs[rank, phase][0].append(cpu)
                    runs[rank, phase][1].append(wall)
    rows = [[p] + [_spread(runs[r, p][i]) for r in range(args.ranks) for i in (0, 1)]
            for p in PHASES]
    header = ["phase"] + [f"rank {r} {what} s" if args.ranks > 1 else f"{what} s"
                          for r in range(args.ranks) for what in ("CPU", "wall")]
    body = (f"`{os.path.basename(src)}` imported on {args.ranks} rank(s), {args.repeats} runs "
            f"(each a fresh process); load average (1 min) before each: "
            f"{', '.join(f'{x:.1f}' for x in loads)} on 2 shared cores.\n\n"
            + table(header, rows))
    print(body)
    if args.record:
        key = args.record_as or "import_profile" + ("_plain" if args.plain else "") + \
            (f"_{args.ranks}_ranks" if args.ranks > 1 else "")
        record(key, f"Import phases on {args.ranks} rank(s) ({os.path.basename(src)})", body)


if __name__ == "__main__":
    main()
