"""The scaling model's fixed per-iteration cost against the model's size (``docs/scaling.md``).

    python benchmarks/fixed_cost.py --repeats 3 --record

Each iteration costs, outside compute, the model allreduce and the wait, some seconds of its
own: Python and the control record, plus copies of the model (into and out of the averaging
buffer, the best-model snapshot) that grow with its bytes.  This script measures that cost on
2 ranks x 1 thread for four MNIST network sizes, under -2 with train_while_waiting (so rank 0
computes until every rank is done and its wait is the iteration's) and
``target_ratio_comm_to_comp`` = 0.5 (short iterations: tens per run), and fits ``fixed = base + rate x bytes`` by least
squares over every run: whether the cost ``benchmarks/model.py`` measures on [1024,1024] (its
``Setup.fixed``) holds for smaller models too.
"""

from __future__ import annotations

import argparse
import os
import statistics

import common
import numpy as np
from model import MNIST_INPUTS, model_bytes
from model_validation import fixed_seconds, phases

# (hidden, epochs): about 30 iterations of ~0.25 s each here
SIZES = [([64], 10.0), ([200, 200], 2.4), ([512, 512], 0.7), ([1024, 1024], 0.25)]


def job_params(hidden: list[int], epochs: float) -> dict:
    """The job every run of this script trains (MNIST, short -2 iterations)."""
    train, test = common.mnist_h5()
    return dict(training_frame=train, validation_frame=test, response_column="C785",
                hidden=hidden, epochs=epochs, seed=1, replicate_training_data=False,
                train_samples_per_iteration=-2, target_ratio_comm_to_comp=0.5,
                score_training_samples=100, score_validation_samples=0,
                score_duty_cycle=0.0)


def measure(hidden, epochs, tag) -> dict:
    """One 2-rank run's phases (model_validation.phases) with the fixed cost per iteration."""
    p = phases(common.run_mpidl(job_params(hidden, epochs), 1, 2, tag=tag))
    p["fixed"] = fixed_seconds(p)
    return p


def fit(points: list[tuple[int, float]]) -> tuple[float, float]:
    """Least-squares (base seconds, seconds per byte) of ``fixed = base + rate x bytes``."""
    x = np.array([b for b, _ in points], dtype=float)
    y = np.array([f for _, f in points])
    rate, base = np.polyfit(x, y, 1)
    return float(base), float(rate)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--record", action="store_true")
    a = ap.parse_args()
    load0 = os.getloadavg()[0]
    runs = {str(h): [] for h, _ in SIZES}
    for r in range(a.repeats):
        for hidden, epochs in SIZES:
            p = measure(hidden, epochs, f"fixed_{r}_{len(hidden)}_{hidden[0]}")
            runs[str(hidden)].append(p)
            print(hidden, f"fixed {1e3 * p['fixed']:.2f} ms, {p['iterations']} iterations",
                  flush=True)
    points = [(model_bytes([MNIST_INPUTS, *h, 10]), p["fixed"])
              for h, _ in SIZES for p in runs[str(h)]]
    base, rate = fit(points)
    rows = []
    for hidden, _ in SIZES:
        nbytes = model_bytes([MNIST_INPUTS, *hidden, 10])
        f = [1e3 * p["fixed"] for p in runs[str(hidden)]]
        rows.append([str(hidden), f"{nbytes / 1e6:.2f}", runs[str(hidden)][-1]["iterations"],
                     f"{statistics.median(f):.2f} ({min(f):.2f}-{max(f):.2f})",
                     f"{1e3 * (base + rate * nbytes):.2f}"])
    body = (f"2 ranks x 1 thread, MNIST, -2 with target_ratio_comm_to_comp 0.5, {a.repeats} "
            "interleaved round(s); fixed = seconds per iteration outside compute, the model "
            "allreduce and the wait; median (range) over the rounds.\n\n"
            + common.table(["hidden", "model MB", "iterations", "fixed ms", "fit ms"], rows)
            + f"\nFit over all {len(points)} runs: fixed = {1e3 * base:.2f} ms + "
            f"{1e3 * rate * 1e6:.3f} ms per MB.  Load average (1 min) at "
            f"start / end: {load0:.1f} / {os.getloadavg()[0]:.1f} on 2 cores.\n")
    print(body)
    if a.record:
        common.record("scaling-fixed-cost", "The scaling model's fixed cost per iteration",
                      body)


if __name__ == "__main__":
    main()
