"""Compact training shards against float32 ones on MNIST: the rows a rank holds, its peak
memory, and training speed.

    python benchmarks/compact_shard.py --repeats 3 --record

One rank trains on MNIST's 60,000 training rows (replicated: the rank holds the whole frame)
with 1 thread, alternately with compact shards (the default: uint8 pixels standardized as the
kernels read them) and with float32 shards (``MPIDL_COMPACT_SHARD=0``, what every run did
before), for hidden [200, 200] and [1024, 1024]; the rounds interleave the two, so a change in
the machine's load falls on both.  Each run's memory record gives the training rows' arrays
held ("data held", MB of 2**20 bytes) and the peak RSS; its scoring history the training speed
(samples/s of training time, scoring excluded).  H2O's frame of the same rows takes 22 MB
(its frame summary's byte_size).  Means over the rounds with the spread (min-max); the load
average before and after is printed with the table.

On a loaded machine whole-run speeds vary by more than the difference looked for, so two
measurements that load affects less come with them: the kernels' cost of filling an input row
(``set_input`` over MNIST's real pixel rows, compact uint8 against standardized float32, in
one process, alternating), and numba's compile time of each form (the bundled-data quickstart
job on an integer table, with an empty cache and then with the cache it filled).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

import common

SHAPES = {"[200,200]": ([200, 200], 20000), "[1024,1024]": ([1024, 1024], 2000)}


def run(train_h5: str, hidden: list[int], rows: int, compact: bool, tag: str) -> dict:
    """The inspect object of one 1-rank run training ``rows`` rows (``compact``: the default
    shards, else float32 ones)."""
    params = {"training_frame": train_h5, "response_column": "C785", "hidden": hidden,
              "epochs": rows / 60000, "seed": 1, "train_samples_per_iteration": rows,
              "score_training_samples": 100, "reproducible": True}
    os.environ["MPIDL_COMPACT_SHARD"] = "1" if compact else "0"
    try:
        return common.run_mpidl(params, 1, 1, tag=tag)
    finally:
        del os.environ["MPIDL_COMPACT_SHARD"]


def spread(xs: list[float], digits: int = 0) -> str:
    """mean (min-max) of ``xs``."""
    f = f"{{:.{digits}f}}"
    return f"{f.format(statistics.mean(xs))} ({f.format(min(xs))}-{f.format(max(xs))})"


def measure(train_h5: str, repeats: int) -> dict:
    """{(shape, compact): {"held": [...], "peak": [...], "speed": [...]}} over ``repeats``
    interleaved rounds."""
    out = {}
    for i in range(repeats):
        for shape, (hidden, rows) in SHAPES.items():
            for compact in (True, False):
                info = run(train_h5, hidden, rows, compact, f"compact_{int(compact)}_{i}")
                m = out.setdefault((shape, compact), {"held": [], "peak": [], "speed": []})
                m["held"].append(info["memory"]["data_held_mb"][0])
                m["peak"].append(info["memory"]["peak_rss_mb"][0])
                m["speed"].append(info["speed"])
                print(f"round {i + 1} {shape} compact={compact}: {info['speed']:.0f} rows/s, "
                      f"held {m['held'][-1]} MB, peak RSS {m['peak'][-1]} MB", flush=True)
    return out


def kernel_us_per_row(train_h5: str, repeats: int) -> dict:
    """{compact: [us per row of set_input over MNIST's rows, one per round]}: the pixels as
    uint8 ``Numerics`` (shift = mean, scale = 1 / sd) against the same standardized float32."""
    from numba import njit

    from mpidl.data.frame import Frame
    from mpidl.kernels.numerics import NO_MARKER, Numerics
    from mpidl.kernels.online import set_input

    @njit
    def fill_rows(nums, cats, n0):
        a0, nz = np.zeros(n0, np.float32), np.zeros(n0, np.int64)
        state, count = np.ones(1, np.uint64), 0
        for row in range(cats.shape[0]):
            count += set_input(a0, nz, nums, cats, row, 0, True, 0.0, state)
        return count

    frame = Frame(train_h5)
    cols = frame.read([n for n in frame.info.names if n != "C785"])
    raw = np.stack([c for c in cols.values()], axis=1)
    raw = raw[:, raw.min(axis=0) < raw.max(axis=0)]          # ignore_const_cols
    shift, scale = raw.mean(axis=0), 1.0 / raw.std(axis=0, ddof=1)
    forms = {True: Numerics(raw.astype(np.uint8), shift, scale, np.zeros_like(shift), NO_MARKER),
             False: ((raw - shift) * scale).astype(np.float32)}
    cats = np.zeros((raw.shape[0], 0), np.int32)
    out = {True: [], False: []}
    for _ in range(repeats + 1):                          # the first round compiles
        for compact, nums in forms.items():
            t0 = time.perf_counter()
            fill_rows(nums, cats, raw.shape[1])
            out[compact].append(1e6 * (time.perf_counter() - t0) / raw.shape[0])
    return {k: v[1:] for k, v in out.items()}


def compile_seconds(compact: bool) -> tuple[float, float]:
    """(wall s with an empty numba cache, wall s with the cache it filled) of a 1-rank job on
    a small integer table."""
    folder = tempfile.mkdtemp(prefix="compact-compile-", dir=common.WORKDIR)
    rows = np.random.default_rng(1).integers(0, 200, (300, 6))
    csv = os.path.join(folder, "ints.csv")
    np.savetxt(csv, rows, fmt="%d", delimiter=",", header="a,b,c,d,e,y", comments="")
    job = os.path.join(folder, "job.toml")
    with open(job, "w") as f:
        f.write(f'training_frame = "{csv}"\nvalidation_frame = "{csv}"\n'
                'response_column = "y"\nhidden = [8]\nepochs = 2\nseed = 1\n')
    env = dict(os.environ, NUMBA_CACHE_DIR=os.path.join(folder, "numba"),
               MPIDL_COMPACT_SHARD="1" if compact else "0")
    times = []
    for _ in range(2):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "mpidl", "train", job, "-o",
                        os.path.join(folder, "m.h5"), "--threads", "1"], check=True,
                       capture_output=True, env=env, cwd=common.ROOT)
        times.append(time.perf_counter() - t0)
    return times[0], times[1]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--train", help="MNIST train.csv.gz (default ../shared/data/mnist)")
    ap.add_argument("--repeats", type=int, default=3, help="interleaved rounds")
    ap.add_argument("--record", action="store_true", help="write the table to RESULTS.md")
    args = ap.parse_args(argv)
    train_h5, _ = common.mnist_h5(args.train)
    load_before = os.getloadavg()
    out = measure(train_h5, args.repeats)
    kernel = kernel_us_per_row(train_h5, args.repeats)
    compiled = {compact: compile_seconds(compact) for compact in (True, False)}
    load_after = os.getloadavg()
    rows = []
    for shape in SHAPES:
        before = statistics.mean(out[(shape, False)]["speed"])
        for compact in (True, False):
            m = out[(shape, compact)]
            change = statistics.mean(m["speed"]) / before - 1
            rows.append([shape, "compact uint8 (now)" if compact else "float32 (before)",
                         spread(m["held"], 1), spread(m["peak"]), spread(m["speed"]),
                         f"{100 * change:+.1f} %"])
    extra = [[name, spread(kernel[compact], 2), f"{compiled[compact][0]:.0f}",
              f"{compiled[compact][1]:.0f}"]
             for compact, name in ((True, "compact uint8"), (False, "float32"))]
    body = (f"1 rank x 1 thread, MNIST 60,000 rows x 784 pixels (717 not constant) held whole "
            "(replicated), "
            f"reproducible; {args.repeats} interleaved rounds of {SHAPES['[200,200]'][1]} "
            f"([200,200]) / {SHAPES['[1024,1024]'][1]} ([1024,1024]) training rows.  Load "
            f"average (1 min) {load_before[0]:.1f} before, {load_after[0]:.1f} after (2 cores, "
            "shared).  H2O holds the same frame in 22 MB.\n\n"
            + common.table(["hidden", "training rows held as", "data held MB, mean (min-max)",
                            "peak RSS MB", "samples/s", "speed vs float32"], rows)
            + "\nFilling the input rows (set_input over the 60,000 rows, us per row, "
            f"{args.repeats} rounds) and a 1-rank job's wall time with an empty numba cache "
            "(compiling) and with the cache it filled:\n\n"
            + common.table(["rows", "set_input us/row", "job s, empty cache",
                            "job s, cached"], extra))
    print(body)
    if args.record:
        common.record("shard15", "Compact training shards on MNIST: memory and speed", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
