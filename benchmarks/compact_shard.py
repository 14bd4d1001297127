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

On a loaded machine whole-run speeds vary by more than the difference looked for, so the
training kernel is also timed alone in one process, by the CPU time of its thread (which
waiting for a core does not inflate): the same MNIST rows in both forms, the same starting
weights, alternating.  Numba's compile time of each form comes last (a small job with an
empty cache, then with the cache it filled).
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


def kernel_cpu_us_per_row(train_h5: str, repeats: int) -> dict:
    """{(shape, compact): [CPU us per row of the online training kernel, one per round]}:
    one process loads MNIST once (compact), then trains the same rows from the same weights
    with the compact rows and with their standardized float32 copy, alternately, timing the
    calling thread's CPU (``time.thread_time``: waiting for a core is not counted).  Both
    forms must end with the same weights."""
    from mpidl.comm import SerialComm
    from mpidl.kernels.bundles import Net, Objective, Rows
    from mpidl.kernels.online import train_chunk
    from mpidl.params import validate
    from mpidl.train.loop import Trainer

    out = {}
    for shape, (hidden, rows) in SHAPES.items():
        os.environ["MPIDL_COMPACT_SHARD"] = "1"
        params = validate({"training_frame": train_h5, "response_column": "C785",
                           "hidden": hidden, "seed": 1, "reproducible": True}, "benchmark")
        t = Trainer(params, SerialComm(), 1, str(common.WORKDIR / "kernel.h5"), "kernel",
                    log=lambda *a, **k: None)
        del os.environ["MPIDL_COMPACT_SHARD"]
        m, shard = t.model, t.shard
        forms = {True: shard.nums.kernel(), False: shard.nums.standardized()}
        net = Net(*m.net_args())
        objective = Objective(m.loss_code(), m.optimizer_code(), m.hyper(m.huber_delta, 0),
                              m.sparsity_state())
        order = np.arange(rows, dtype=np.int64)
        for _ in range(repeats + 1):                      # the first round compiles
            ends = {}
            for compact, nums in forms.items():
                buf = m.buf.copy()
                t0 = time.thread_time()
                train_chunk(net, objective, buf, buf[:1].copy(),
                            Rows(nums, shard.cats, shard.y), order, 0, rows, 7, 1)
                out.setdefault((shape, compact), []).append(
                    1e6 * (time.thread_time() - t0) / rows)
                ends[compact] = buf
            assert np.array_equal(ends[True], ends[False]), "the two forms trained apart"
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
    kernel = kernel_cpu_us_per_row(train_h5, args.repeats)
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
    cpu = {k: statistics.mean(v) for k, v in kernel.items()}
    extra = [[shape, name, spread(kernel[(shape, compact)], 1),
              f"{100 * (cpu[(shape, compact)] / cpu[(shape, False)] - 1):+.1f} %"]
             for shape in SHAPES
             for compact, name in ((True, "compact uint8"), (False, "float32"))]
    compile_rows = [[name, f"{compiled[compact][0]:.0f}", f"{compiled[compact][1]:.0f}"]
                    for compact, name in ((True, "compact uint8"), (False, "float32"))]
    body = (f"1 rank x 1 thread, MNIST 60,000 rows x 784 pixels (717 not constant) held whole "
            "(replicated), "
            f"reproducible; {args.repeats} interleaved rounds of {SHAPES['[200,200]'][1]} "
            f"([200,200]) / {SHAPES['[1024,1024]'][1]} ([1024,1024]) training rows.  Load "
            f"average (1 min) {load_before[0]:.1f} before, {load_after[0]:.1f} after (2 cores, "
            "shared).  H2O holds the same frame in 22 MB.\n\n"
            + common.table(["hidden", "training rows held as", "data held MB, mean (min-max)",
                            "peak RSS MB", "samples/s", "speed vs float32"], rows)
            + "\nThe online training kernel alone, one process, the same rows from the same "
            f"weights in both forms (ending with equal weights), {args.repeats} alternating "
            "rounds: CPU us per row of the calling thread, mean (min-max):\n\n"
            + common.table(["hidden", "rows", "kernel CPU us/row", "vs float32"], extra)
            + "\nA 1-rank job on a small integer table, wall seconds with an empty numba cache "
            "(compiling) and with the cache it filled:\n\n"
            + common.table(["rows", "job s, empty cache", "job s, cached"], compile_rows))
    print(body)
    if args.record:
        common.record("shard15", "Compact training shards on MNIST: memory and speed", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
