"""Rows per second of the exported standalone scorer (``mpidl export -o scorer.py``) on the
default MNIST model (hidden [200, 200], Rectifier, jobs/mnist.toml), one Python process.

Trains the model once (``--epochs``, default jobs/mnist.toml's 1; the scoring speed does not
depend on the weights' values), exports the scorer, loads it as a module and times
``predict(rows, columns=names)`` on the 10,000 MNIST test rows given as a float64 2-D array
of the 784 raw pixel columns (preprocessing included: the constant pixels are dropped, the
others standardized).  One warm-up call, then ``--repeats`` timed calls; the table gives the
mean and standard deviation of rows/s over them.  For comparison, the same rows through
``mpidl predict`` (the whole command: start-up, reading the table, writing the CSV), timed
``--repeats`` times, and with ``--h2o`` H2O-3's own ``predict`` of a [200, 200] model on the
same rows (a local JVM).  BLAS runs one thread; rows/s are given per second of wall time and
per second of the process's CPU time (the speed on a core of its own on a shared machine).

    python benchmarks/scorer_speed.py [--repeats 5] [--h2o] [--record]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"   # one process on one core: BLAS threads set before numpy loads

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from common import MNIST, ROOT, WORKDIR, mnist_h5, record, run_mpidl, table  # noqa: E402


def train_model(epochs: float) -> str:
    """The default [200, 200] MNIST model file (trained once per epochs value)."""
    train, test = mnist_h5()
    params = dict(training_frame=train, validation_frame=test, response_column="C785",
                  epochs=epochs, seed=1234)
    path = WORKDIR / f"scorer_speed_{epochs}.h5"
    if not path.exists():
        run_mpidl(params, threads=2, tag=f"scorer_speed_{epochs}")
    return str(path)


def load_scorer(model: str):
    """Export ``model``'s scorer into WORKDIR and import it as a module."""
    path = WORKDIR / "scorer_speed_scorer.py"
    subprocess.run([sys.executable, "-m", "mpidl", "export", model, "-o", str(path)],
                   check=True, cwd=ROOT, capture_output=True)
    spec = importlib.util.spec_from_file_location("scorer_speed_scorer", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, path


def test_rows() -> tuple[np.ndarray, list[str]]:
    """(float64[10000, 784] raw pixels, their column names) of the MNIST test table."""
    from mpidl.data.frame import Frame
    _, test = mnist_h5()
    frame = Frame(test)
    names = [n for n in frame.info.names if n != "C785"]
    cols = frame.read(names)
    return np.column_stack([np.asarray(cols[n], dtype=np.float64) for n in names]), names


def time_calls(call, nrows: int, repeats: int) -> tuple[list[float], list[float]]:
    """(rows/s of wall time, rows/s of this process's CPU time) of ``call()`` over
    ``repeats`` timed calls after one warm-up.  With one BLAS thread the CPU-time figure is
    the speed on a core of its own, whatever else the machine runs."""
    call()
    wall, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        call()
        wall.append(nrows / (time.perf_counter() - t0))
        cpu.append(nrows / (time.process_time() - c0))
    return wall, cpu


def time_predict_command(model: str, repeats: int) -> list[float]:
    """rows/s of the whole ``mpidl predict`` command on the MNIST test table."""
    _, test = mnist_h5()
    out = WORKDIR / "scorer_speed_predict.csv"
    speeds = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "mpidl", "predict", model, test, "-o", str(out),
                        "--threads", "1"], check=True, cwd=ROOT, capture_output=True)
        speeds.append(10_000 / (time.perf_counter() - t0))
    return speeds


def time_h2o_predict(repeats: int, threads: int) -> list[float]:
    """rows/s of H2O-3's in-cluster ``model.predict`` on the MNIST test rows, by a [200, 200]
    Rectifier model (trained for 0.05 epochs on those rows: the speed does not depend on the
    weights), after one warm-up call; H2O in a local JVM of ``threads`` threads."""
    import h2o
    from h2o.backend import H2OLocalServer
    from h2o.estimators import H2ODeepLearningEstimator
    server = H2OLocalServer.start(nthreads=threads, max_mem_size=4 << 30,
                                  enable_assertions=False, port="54621+", verbose=False)
    try:
        h2o.connect(server=server, verbose=False, strict_version_check=False)
        h2o.no_progress()
        test = h2o.import_file(str(MNIST / "test.csv.gz"), header=-1)
        test["C785"] = test["C785"].asfactor()
        x = [c for c in test.names if c != "C785"]
        model = H2ODeepLearningEstimator(hidden=[200, 200], epochs=0.05, seed=1234)
        model.train(x=x, y="C785", training_frame=test)
        model.predict(test)
        speeds = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            h2o.remove(model.predict(test))
            speeds.append(test.nrows / (time.perf_counter() - t0))
        return speeds
    finally:
        try:
            h2o.cluster().shutdown()
        except Exception:  # noqa: BLE001 - the JVM may already be gone
            pass
        server.shutdown()


def _agreement(got: dict) -> int:
    """Rows whose scorer label equals the label ``mpidl predict`` wrote last."""
    import csv
    with open(WORKDIR / "scorer_speed_predict.csv", newline="") as f:
        labels = [r[0] for r in list(csv.reader(f))[1:]]
    return int(sum(a == b for a, b in zip(labels, got["predict"])))


def _spread(speeds: list[float]) -> str:
    sd = statistics.stdev(speeds) if len(speeds) > 1 else 0.0
    return f"{statistics.mean(speeds):,.0f} ± {sd:,.0f}"


def _row(what: str, wall: list[float], cpu: list[float] | None) -> list:
    return [what, _spread(wall), _spread(cpu) if cpu else "-", len(wall)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--h2o", action="store_true",
                    help="also time H2O-3's predict on the same rows (pip install h2o; Java)")
    ap.add_argument("--h2o-threads", type=int, default=2)
    ap.add_argument("--record", action="store_true", help="write the table to RESULTS.md")
    args = ap.parse_args()
    model = train_model(args.epochs)
    scorer, path = load_scorer(model)
    rows, names = test_rows()
    got = scorer.predict(rows, columns=names)
    n = len(rows)
    named, _ = scorer._named_columns(rows, names)
    x = scorer.preprocess(named, n)
    rows_table = [
        _row("exported scorer: predict() on the raw 2-D array",
             *time_calls(lambda: scorer.predict(rows, columns=names), n, args.repeats)),
        _row("exported scorer: network only (preprocessed input)",
             *time_calls(lambda: scorer.network(x), n, args.repeats)),
        _row("mpidl predict command (start-up, reading, CSV; 1 thread)",
             time_predict_command(model, args.repeats), None)]
    if args.h2o:
        rows_table.append(_row(f"H2O-3 model.predict, in the cluster (nthreads="
                               f"{args.h2o_threads}, REST call included)",
                               time_h2o_predict(args.repeats, args.h2o_threads), None))
    body = (f"Default MNIST model (hidden [200, 200], Rectifier, {args.epochs:g} epoch(s)); "
            f"{n:,} test rows x {len(names)} raw pixel columns; scorer file "
            f"{os.path.getsize(path) / 1e6:.1f} MB; one process, one BLAS thread; load "
            f"average at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other "
            "work shares them: the CPU-time column is the speed on a core of its own).  "
            f"rows/s, mean ± standard deviation over {args.repeats} timed calls after one "
            "warm-up.\n\n"
            + table(["what", "rows/s of wall time", "rows/s of CPU time", "calls"], rows_table)
            + f"\nThe scorer's labels equal `mpidl predict`'s on {_agreement(got):,} of "
            f"{n:,} rows.\n")
    print(body)
    if args.record:
        record("scorer_speed", "Exported scorer speed (MNIST [200,200])", body)


if __name__ == "__main__":
    main()
