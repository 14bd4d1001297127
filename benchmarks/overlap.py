"""averaging_overlap against blocking averaging (issue 16 point 5): MNIST, 1 epoch, 2 ranks x 1
thread, over seeds; each seed's runs interleaved in one round.

    python benchmarks/overlap.py --seeds 1 2 3 --record

Per seed: one rank alone (the no-communication speed is twice its samples/s), then 2 ranks
blocking and overlapped under two simulated networks standing for 1,024 nodes
(``MPIDL_SIMULATE_NETWORK``): InfiniBand HDR, and a slow network (``model_validation.SLOW``,
~0.1 s per [200,200] allreduce) where the difference shows.  Reported: test error (the whole
MNIST test set), samples/s (training time without scoring) over the no-communication speed,
and the scaling model's prediction for each run (``benchmarks/model.py`` with that run's
measured kernel speed, ``fixed`` from the same seed's blocking HDR run; with overlap the real
shared-memory transfer is the floor that compute does not hide: MPICH progresses it only
inside MPI calls).  Means over seeds with the standard deviation.
"""

from __future__ import annotations

import argparse
import statistics
from dataclasses import replace

import common
from model import INTERCONNECTS, MNIST_INPUTS, Setup, model_bytes
from model_validation import SLOW, fixed_seconds, phases, predict, run

from mpidl.netmodel import allreduce_seconds

HDR = "hdr,ranks=1024"
CONFIGS = [("blocking, HDR x 1024", HDR, False), ("overlap, HDR x 1024", HDR, True),
           ("blocking, slow x 1024", SLOW, False), ("overlap, slow x 1024", SLOW, True)]


def one_seed(params: dict, seed: int, base: Setup) -> dict:
    """{config label: (test error, speed over the no-communication speed, predicted)} of one
    seed."""
    params = dict(params, seed=seed)
    one = phases(run(params, 1, "", f"overlap_{seed}_1"))
    runs = {}
    for label, network, overlap in CONFIGS:
        info = run(dict(params, averaging_overlap=overlap), 2, network,
                   f"overlap_{seed}_{len(runs)}")
        runs[label] = phases(info)
        runs[label]["error"] = float(info["validation_metrics"]["classification_error"])
        print(seed, label, runs[label], flush=True)
    base = replace(base, fixed=fixed_seconds(runs[CONFIGS[0][0]]))
    out = {}
    for label, network, overlap in CONFIGS:
        p = runs[label]
        setup = replace(base, overlap=overlap)
        predicted = predict((label, 2, network), p, setup, one["rank_speed"])
        out[label] = (p["error"], p["speed"] / (2 * one["speed"]), predicted)
    return out


def _mean_sd(values) -> str:
    values = list(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.2f} ± {sd:.2f}"


def report(results: list[dict], a) -> str:
    rows = []
    for label in [c[0] for c in CONFIGS]:
        errs = [100 * r[label][0] for r in results]
        eff = [100 * r[label][1] for r in results]
        pred = [100 * r[label][2] for r in results]
        gap = [100 * (r[label][2] - r[label][1]) / r[label][1] for r in results]
        rows.append([label, _mean_sd(errs) + " %", _mean_sd(eff) + " %",
                     _mean_sd(pred) + " %", f"{statistics.mean(gap):+.1f} % "
                     f"({min(gap):+.1f}..{max(gap):+.1f})"])
    return (f"MNIST {a.hidden}, {a.epochs} epoch, 2 ranks x 1 thread, -2, seeds "
            f"{', '.join(map(str, a.seeds))}; mean ± standard deviation over the seeds. "
            "Speed: training samples/s over the no-communication speed (2 x one rank alone, "
            "same seed).\n\n"
            + common.table(["run", "test error", "samples/s / no-communication",
                            "model predicts", "model vs measured (mean, range)"], rows))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--hidden", default="200,200")
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--record", action="store_true")
    a = ap.parse_args()
    train, test = common.mnist_h5()
    hidden = [int(h) for h in a.hidden.split(",")]
    params = dict(training_frame=train, validation_frame=test, response_column="C785",
                  hidden=hidden, epochs=a.epochs, replicate_training_data=False,
                  train_samples_per_iteration=-2)
    nbytes = model_bytes([MNIST_INPUTS, *hidden, 10])
    base = Setup(nbytes, 0.0, INTERCONNECTS["shm"], epochs=a.epochs,
                 floor=allreduce_seconds(nbytes, 2, INTERCONNECTS["shm"]))
    results = [one_seed(params, seed, base) for seed in a.seeds]
    body = report(results, a)
    print(body)
    if a.record:
        common.record("overlap16", "averaging_overlap against blocking averaging", body)


if __name__ == "__main__":
    main()
