"""Validation scoring of a large frame: time and per-rank peak memory, before and after
distributed scoring.

A generated binomial frame (10 numeric predictors, a logistic response) of ``--rows`` rows
(1,000,000 by default) is the validation frame of a short run (hidden [10], one epoch of a
20,000-row training frame, one thread per rank, scoring only at the end), so the run's one
scoring event is dominated by the validation frame.  Each configuration runs once to warm up
(numba's cache), then ``--repeats`` times, in rotation; the table gives means and standard deviations of the model's
``scoring_seconds`` (rank 0's time in the scoring step) and of each rank's peak RSS.

"Before" runs the code of another checkout (``--before DIR``: a worktree of the code to
compare with, e.g. ``git worktree add --detach DIR <commit>``) through ``PYTHONPATH``;
"after" runs this checkout.

    python benchmarks/scoring.py --before /work/wt-score10-base [--record]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

import numpy as np

from common import ROOT, WORKDIR, prepare_run, record, table

N_PRED = 10


def write_frames(rows: int) -> tuple[str, str]:
    """(train.h5, valid.h5) in WORKDIR: x ~ N(0, 1), P(y = 1) = logistic(x . beta)."""
    from mpidl.data.hdf5 import write_table
    WORKDIR.mkdir(parents=True, exist_ok=True)
    beta = np.linspace(-1.0, 1.0, N_PRED)
    paths = []
    for name, n, seed in (("train", 20_000, 1), ("valid", rows, 2)):
        path = WORKDIR / f"scoring_{name}_{n}.h5"
        if not path.exists():
            rng = np.random.default_rng(seed)
            x = rng.standard_normal((n, N_PRED))
            y = (rng.random(n) < 1.0 / (1.0 + np.exp(-x @ beta))).astype(np.int32)
            cols = {f"x{i}": x[:, i] for i in range(N_PRED)}
            cols["y"] = y
            write_table(path, cols, {"y": ["0", "1"]})
        paths.append(str(path))
    return paths[0], paths[1]


def run_once(code_root: str, ranks: int, train: str, valid: str, tag: str) -> dict:
    """One training run of ``code_root``'s mpidl; (scoring seconds, peak RSS MB per rank,
    validation AUC)."""
    from mpidl.checkpoint import read_model
    params = dict(training_frame=train, validation_frame=valid, response_column="y",
                  hidden=[10], epochs=1, seed=7, score_duty_cycle=0.0,
                  overwrite_with_best_model=False, train_samples_per_iteration=0)
    cmd, model_path, env = prepare_run(params, 1, ranks, tag)
    env["PYTHONPATH"] = code_root
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=WORKDIR, env=env, timeout=1800)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {(r.stderr or r.stdout)[-800:]}")
    m = read_model(str(model_path))
    if len(m.history) != 1:
        raise RuntimeError(f"{tag}: {len(m.history)} scoring events, expected 1")
    return {"seconds": m.scoring_seconds, "rss": m.memory["peak_rss_mb"],
            "auc": m.validation_metrics["AUC"]}


_BUSY = ("import sys, time, numpy as np; x = np.random.default_rng(0).random(200_000); "
         "t = time.perf_counter(); [np.sort(x) for _ in range(int(sys.argv[1]))]; "
         "print(time.perf_counter() - t)")


def parallel_capacity(work: int = 80) -> float:
    """How many cores two processes get here: seconds of ``work`` sorts in one process over
    seconds of two processes doing half each at the same time (2.0 on two idle cores)."""
    def start(n):
        return subprocess.Popen([sys.executable, "-c", _BUSY, str(n)], stdout=subprocess.PIPE,
                                text=True)
    alone = float(start(work).communicate()[0])
    pair = [start(work // 2), start(work // 2)]
    return alone / max(float(p.communicate()[0]) for p in pair)


def mean_sd(values) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.3f} ± {sd:.3f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", required=True, help="checkout of the code to compare with")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--record", action="store_true", help="write the table to RESULTS.md")
    args = ap.parse_args()
    train, valid = write_frames(args.rows)
    load_start = os.getloadavg()[0]
    before = os.path.abspath(args.before)
    configs = [("before", before, 1), ("before", before, 2), ("after", str(ROOT), 1),
               ("after", str(ROOT), 2)]
    runs = {(c[0], c[2]): [] for c in configs}
    for name, root, ranks in configs:   # numba compiles and caches its kernels once per checkout
        run_once(root, ranks, train, valid, f"scoring_{name}_{ranks}")
    capacity = []
    for rep in range(args.repeats):
        capacity.append(parallel_capacity())
        for name, root, ranks in configs:
            out = run_once(root, ranks, train, valid, f"scoring_{name}_{ranks}")
            runs[(name, ranks)].append(out)
            print(f"repeat {rep + 1} {name} {ranks} rank(s): {out}", flush=True)
    rows = []
    for (name, ranks), outs in runs.items():
        rss = np.array([o["rss"] for o in outs])
        rows.append([name, ranks, mean_sd([o["seconds"] for o in outs]),
                     " / ".join(mean_sd(rss[:, r]) for r in range(ranks)),
                     f"{np.mean(rss[:, 0] / rss[:, -1]):.3f}" if ranks > 1 else "-",
                     f"{outs[0]['auc']:.6f}"])
    base = statistics.mean(o["seconds"] for o in runs[("before", 1)])
    after = statistics.mean(o["seconds"] for o in runs[("after", 2)])
    body = (f"Validation frame: {args.rows:,} rows x {N_PRED} numeric predictors (binomial), "
            f"hidden [10], 1 thread per rank, one scoring event per run; means ± sd of "
            f"{args.repeats} runs per configuration (rotated).\n\n"
            + table(["code", "ranks", "scoring s", "peak RSS MB per rank", "rank 0 / last",
                     "valid AUC (run 1)"], rows)
            + f"\nScoring time, after on 2 ranks / before on 1 rank: {after / base:.2f}.  "
            f"Load average (1 min) at start / end: {load_start:.1f} / {os.getloadavg()[0]:.1f} "
            f"on {os.cpu_count()} cores (other jobs share the machine: hence the spread).  "
            f"Two processes got {mean_sd(capacity)} cores' worth of CPU (a control measured "
            f"before each repeat: one process's sorting time over two processes' doing half "
            f"each; 2.00 on two idle cores), which bounds the 2-rank speed-up.\n")
    print(body)
    if args.record:
        record("scoring", "Distributed validation scoring (1 M rows)", body)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    t0 = time.perf_counter()
    main()
    print(f"{time.perf_counter() - t0:.0f} s")
