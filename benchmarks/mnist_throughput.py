"""Training throughput (samples/s) and test error of mpidl on MNIST, one rank.

    python benchmarks/mnist_throughput.py --hidden 200,200 --threads 2 --epochs 1

Reads ../shared/data/mnist (or --train/--test), imports it to HDF5 once (cached in
--workdir), trains with H2O's defaults plus the given options, prints one result line with
samples/s measured as H2O does (training time excluding scoring) and appends it, with the
command, to its own section of benchmarks/RESULTS.md when --record is given.
"""

import argparse
import os
import time

import common

DATA = common.MNIST


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hidden", default="200,200")
    ap.add_argument("--activation", default="Rectifier")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--train", default=str(DATA / "train.csv.gz"))
    ap.add_argument("--test", default=str(DATA / "test.csv.gz"))
    ap.add_argument("--workdir", default="/tmp/mpidl-bench")
    ap.add_argument("--set", dest="extra", action="append", default=[],
                    help="extra job parameters key=value (TOML values)")
    ap.add_argument("--record", action="store_true", help="append the result to RESULTS.md")
    a = ap.parse_args()
    os.environ["NUMBA_NUM_THREADS"] = str(a.threads)
    from mpidl.comm import SerialComm
    from mpidl.data.importer import import_csv
    from mpidl.params import load_job
    from mpidl.train.loop import train
    os.makedirs(a.workdir, exist_ok=True)
    h5 = {}
    for name, src in (("train", a.train), ("test", a.test)):
        h5[name] = os.path.join(a.workdir, f"mnist_{name}.h5")
        if not os.path.exists(h5[name]):
            import_csv(src, h5[name], categorical=["C785"])
    job = os.path.join(a.workdir, "bench.toml")
    with open(job, "w") as f:
        f.write(f'training_frame = "{h5["train"]}"\nvalidation_frame = "{h5["test"]}"\n'
                f'response_column = "C785"\nhidden = [{a.hidden}]\n'
                f'activation = "{a.activation}"\nepochs = {a.epochs}\nseed = 1\n'
                'score_training_samples = 1000\nscore_duty_cycle = 0.0\n')
    params = load_job(job, a.extra)
    t0 = time.perf_counter()
    model = train(params, SerialComm(), a.threads, os.path.join(a.workdir, "bench.h5"), "bench",
                  log=lambda *x, **k: None)
    wall = time.perf_counter() - t0
    speed = model.history[-1]["training_speed"]
    err = model.validation_metrics.get("classification_error", float("nan"))
    line = (f"| mnist [{a.hidden}] {a.activation} {' '.join(a.extra)} | {a.threads} | "
            f"{model.epoch_counter:.2f} | {speed:.0f} | {100 * err:.2f} % | {wall:.0f} s |")
    print(line)
    if a.record:
        common.record(f"mnist_{a.hidden.replace(',', 'x')}_{a.threads}t",
                      f"mpidl alone on MNIST [{a.hidden}], {a.threads} thread(s)",
                      common.table(["run", "threads", "epochs", "samples/s", "test error",
                                    "wall"], [line.strip("| ").split(" | ")]))

if __name__ == "__main__":
    main()
