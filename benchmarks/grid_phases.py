"""Where a grid's time goes, per model: benchmarks/grid.py's 16-point MNIST grid run in this
process on 1 rank x 1 thread, with every model's seconds split into reading the frame, its
DataInfo (column statistics), the transform into the kernels' arrays, the start-up
calibration, training, scoring, variable importances, writing the model file, and the rest;
with the rows loaded once for all points (``train/row_cache.py``) and, for comparison, loaded
again for every point.

Each phase's seconds are exclusive (a phase called inside another counts once, in the inner
one; the calibration's kernel calls count as calibration).  A first, untimed run loads
numba's compiled kernels into the process; the first point of each timed run (the cache
still empty) is left out of the per-point means and given on its own.

    python benchmarks/grid_phases.py [--rows N] [--epochs 0.2] [--repeats 2] [--record]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import time

for _var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")    # as `mpidl` and benchmarks/grid.py run: 1 thread

from common import WORKDIR, mnist_h5, record, table  # noqa: E402
from grid import subset, write_job  # noqa: E402

# (phase, module, attribute): the functions whose seconds make each phase
PHASES = (("read", "mpidl.train.row_cache", "open_training"),
          ("DataInfo", "mpidl.train.setup", "build_datainfo"),
          ("transform", "mpidl.train.row_cache", "make_shard"),
          ("calibration", "mpidl.train.calibrate", "seconds_per_row"),
          ("training", "mpidl.train.kernel_call", "train_rows"),
          ("scoring", "mpidl.train.evaluate", "score_model"),
          ("importances", "mpidl.train.root", "model_importances"),
          ("writing", "mpidl.train.root", "write_model"))

ABSORBING = {"calibration"}   # its kernel calls are the calibration's, not training


class PhaseClock:
    """Exclusive seconds per phase of the current model (a stack of running phases)."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self.stack: list[list] = []    # [phase, start, seconds of phases inside it]

    def wrap(self, phase: str, fn):
        def timed(*args, **kw):
            if self.stack and self.stack[-1][0] in ABSORBING:
                return fn(*args, **kw)
            self.stack.append([phase, time.perf_counter(), 0.0])
            try:
                return fn(*args, **kw)
            finally:
                name, t0, inner = self.stack.pop()
                took = time.perf_counter() - t0
                self.seconds[name] = self.seconds.get(name, 0.0) + took - inner
                if self.stack:
                    self.stack[-1][2] += took
        return timed


def run_grid(job: str, cached: bool) -> list[dict]:
    """Seconds per phase of each point of the grid, in the order trained."""
    import importlib

    from mpidl.comm import SerialComm
    from mpidl.grid import search
    from mpidl.train.row_cache import RowCache
    clock = PhaseClock()
    saved = []
    for phase, module, name in PHASES:
        mod = importlib.import_module(module)
        saved.append((mod, name, getattr(mod, name)))
        setattr(mod, name, clock.wrap(phase, getattr(mod, name)))
    lookup = RowCache.lookup
    if not cached:
        RowCache.lookup = lambda self, params, comm, node: None
    points, train_point = [], search.train_point

    def timed_point(*args, **kw):
        clock.seconds = {}
        t0 = time.perf_counter()
        train_point(*args, **kw)
        total = time.perf_counter() - t0
        points.append({**clock.seconds, "other": total - sum(clock.seconds.values()),
                       "total": total})
    search.train_point = timed_point
    out = WORKDIR / "grid_phases"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    try:
        search.run(job, str(out), SerialComm(), 1)
    finally:
        search.train_point, RowCache.lookup = train_point, lookup
        for mod, name, fn in saved:
            setattr(mod, name, fn)
    return points


def mean_sd(values: list[float]) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.3f} ± {sd:.3f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=0, help="training rows (0: all 60,000)")
    ap.add_argument("--epochs", type=float, default=0.2)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--record", action="store_true", help="write the table to RESULTS.md")
    args = ap.parse_args()
    train, _ = mnist_h5()
    job = write_job(subset(train, args.rows), args.epochs)
    load_start = os.getloadavg()[0]
    labels = {False: "loaded for every point", True: "loaded once (row cache)"}
    later = {c: [] for c in labels}     # the points after the first, of every repeat
    first, whole = {c: [] for c in labels}, {c: [] for c in labels}
    run_grid(job, True)                 # numba's kernels loaded into this process
    for _ in range(args.repeats):       # the two in rotation: the machine's load drifts
        for cached in labels:
            points = run_grid(job, cached)
            later[cached] += points[1:]
            first[cached].append(points[0]["total"])
            whole[cached].append(sum(p["total"] for p in points))
    names = [p for p, _, _ in PHASES] + ["other", "total"]
    rows = [[name] + [mean_sd([pt.get(name, 0.0) for pt in later[c]]) for c in labels]
            for name in names]
    rows.append(["first point (the cache empty)"] + [mean_sd(first[c]) for c in labels])
    rows.append(["whole grid"] + [mean_sd(whole[c]) for c in labels])
    body = (f"Seconds per grid point (means ± sd over points 2-16 of {args.repeats} runs of "
            f"each, in rotation) of benchmarks/grid.py's 16-point grid, {args.epochs:g} epochs "
            f"of {args.rows or 60000:,} MNIST rows, 1 rank x 1 thread, in one process; the "
            "first point and the whole grid: means ± sd over the runs.\n\n"
            + table(["phase"] + list(labels.values()), rows)
            + f"\nLoad average (1 min) at start / end: {load_start:.1f} / "
            f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.\n")
    print(body)
    if args.record:
        record("grid_phases", "Grid search: where a point's time goes", body)


if __name__ == "__main__":
    main()
