"""Parallel scaling on one machine: MNIST samples/s for ranks x threads, and the allreduce cost.

    python benchmarks/scaling.py --hidden 1024,1024 --epochs 0.1 --record

Runs ``mpirun -n R python -m mpidl train`` for R x T in {1x1, 2x1, 1x2, 4x1 (oversubscribed on
2 cores)} (``--configs`` to choose), each rank on its own shard (replicate_training_data =
false) with train_samples_per_iteration = -2 (auto-tuned from the measured compute and
allreduce times), scoring limited as in H2O's tuning guide (100 training samples, duty cycle
0).  Reports samples/s of training (scoring excluded), parallel efficiency against 1 rank x 1
thread (speed / (R x T x speed_1x1)), the measured time of one allreduce of the model buffer
(weights, biases and optimizer state), samples per iteration and iterations, and each rank's
peak resident memory against the bound data read + 4 x model + 10 % + interpreter (the
interpreter's share is the peak of the same command on the bundled 380-row prostate data).
"""

from __future__ import annotations

import argparse

import common


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hidden", default="1024,1024")
    ap.add_argument("--epochs", type=float, default=0.1)
    ap.add_argument("--configs", default="1x1,2x1,1x2,4x1", help="RANKSxTHREADS,...")
    ap.add_argument("--record", action="store_true", help="write the table to RESULTS.md")
    a = ap.parse_args()
    train, test = common.mnist_h5()
    hidden = [int(h) for h in a.hidden.split(",")]
    params = dict(training_frame=train, validation_frame=test, response_column="C785",
                  hidden=hidden, epochs=a.epochs, seed=1, replicate_training_data=False,
                  train_samples_per_iteration=-2, score_training_samples=100,
                  score_validation_samples=0, score_duty_cycle=0.0)
    tiny = common.run_mpidl(dict(training_frame=str(common.ROOT / "data" / "prostate.csv"),
                                 response_column="CAPSULE", hidden=[8], epochs=1),
                            1, tag="scaling_interpreter")
    interp = tiny["memory"]["peak_rss_mb"][0]
    rows, base = [], None
    for cfg in a.configs.split(","):
        ranks, threads = (int(x) for x in cfg.split("x"))
        r = common.run_mpidl(params, threads, ranks, tag=f"scaling_{cfg}")
        base = base or (r["speed"] if (ranks, threads) == (1, 1) else None)
        eff = f"{100 * r['speed'] / (ranks * threads * base):.0f} %" if base else "n/a"
        mem = r["memory"]
        bound = max(1.1 * (d + 4 * mem["model_mb"]) + interp for d in mem["data_read_mb"])
        rows.append([f"{ranks} x {threads}", f"{r['speed']:.0f}", eff,
                     f"{1e3 * r['allreduce_seconds']:.1f}" if ranks > 1 else "-",
                     r["train_samples_per_iteration"], r["iterations"], f"{r['epochs']:.3f}",
                     f"{100 * r['validation_metrics']['classification_error']:.2f} %",
                     f"{r['wall']:.0f} s",
                     "/".join(f"{x:.0f}" for x in mem["peak_rss_mb"]) + f" (bound {bound:.0f})"])
        print(" | ".join(str(c) for c in rows[-1]), flush=True)
    body = (f"MNIST, hidden [{a.hidden}], Rectifier, ADADELTA, {a.epochs} epoch(s) in all; "
            "each rank trains its own shard.\n\n"
            + common.table(["ranks x threads", "samples/s", "efficiency vs 1x1",
                            "allreduce of model (ms)", "samples/iteration (last)",
                            "iterations", "epochs", "test error", "wall",
                            "peak RSS per rank, MB"], rows)
            + f"\nModel {mem['model_mb']} MB (weights, biases, ADADELTA state); interpreter, "
            f"numba and kernels: {interp:.0f} MB (peak RSS on the 380-row prostate data).\n")
    print(body)
    if a.record:
        common.record("scaling", "Scaling over ranks and threads (one machine)", body)


if __name__ == "__main__":
    main()
