"""balance_classes on a skewed set: covtype_20k (7 cover types), split 80/20 by a seeded draw,
the training rows of five classes then sub-sampled (``KEEP``: the rarest class keeps 5 %, so
it is about 1 % of the training rows); mean per-class error and overall error on the held-out 20 %,
with and without balancing, over several seeds (mean and standard deviation), and with
``--h2o`` the real H2O-3's on the same split and parameters (its DeepLearning,
``balance_classes`` the same, ``model_performance`` on the same test rows).

    python benchmarks/balance.py [--seeds 3] [--epochs 10] [--h2o] [--record]
"""

from __future__ import annotations

import argparse
import statistics
import sys

import numpy as np

import common

COVTYPE = common.ROOT.parent / "shared" / "data" / "covtype_20k" / "covtype.20k.data"
RESPONSE = "C55"
KEEP = {1: 1.0, 2: 1.0, 3: 0.25, 4: 0.05, 5: 0.1, 6: 0.25, 7: 0.1}   # per class, training
PARAMS = {"hidden": [50, 50], "activation": "Rectifier", "score_training_samples": 1000,
          "score_validation_samples": 0, "score_duty_cycle": 0.0,
          "overwrite_with_best_model": False, "stopping_rounds": 0}


def split() -> tuple[str, str, np.ndarray]:
    """(train CSV, test CSV, class counts of the training rows): covtype_20k with a header
    C1..C55, rows to the test file with probability 0.2 (seed 2024), the others kept for
    training with their class's ``KEEP`` probability (seed 2025); each CSV is imported
    beside itself as a table (.h5) with C55 categorical."""
    from mpidl.data.importer import import_csv
    if not COVTYPE.exists():
        sys.exit(f"{COVTYPE}: covtype_20k not found")
    rows = COVTYPE.read_text().splitlines()
    test = np.random.default_rng(2024).random(len(rows)) < 0.2
    keep = np.array([KEEP[int(r.rsplit(",", 1)[1])] for r in rows])
    train = ~test & (np.random.default_rng(2025).random(len(rows)) < keep)
    header = ",".join(f"C{i + 1}" for i in range(len(rows[0].split(",")))) + "\n"
    common.WORKDIR.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, chosen in (("train", train), ("test", test)):
        path = common.WORKDIR / f"covtype_{name}.csv"
        path.write_text(header + "\n".join(r for r, k in zip(rows, chosen) if k) + "\n")
        import_csv(str(path), str(path.with_suffix(".h5")), categorical=[RESPONSE])
        paths.append(str(path))
    labels = np.array([int(r.rsplit(",", 1)[1]) for r, k in zip(rows, train) if k])
    return paths[0], paths[1], np.bincount(labels)[1:]


def mpidl_run(train: str, test: str, seed: int, epochs: float, balance: bool) -> dict:
    """Test mean per-class error and error of one mpidl model (1 rank, 1 thread)."""
    job = {"training_frame": train.replace(".csv", ".h5"),
           "validation_frame": test.replace(".csv", ".h5"), "response_column": RESPONSE,
           "epochs": epochs, "seed": seed, "balance_classes": balance, **PARAMS}
    info = common.run_mpidl(job, threads=1, ranks=1, tag=f"balance_{int(balance)}_{seed}")
    m = info["validation_metrics"]
    return {"mpce": float(m["mean_per_class_error"]), "error": float(m["classification_error"]),
            "rows": int(info["training_rows"])}


def h2o_runs(train: str, test: str, seeds: list[int], epochs: float) -> dict:
    """{balance: [result per seed]} of the real H2O-3 (nthreads=2) on the same files."""
    import h2o
    from h2o.backend import H2OLocalServer
    from h2o.estimators import H2ODeepLearningEstimator
    from vs_h2o import H2OSide
    server = H2OLocalServer.start(nthreads=2, max_mem_size=2 << 30, enable_assertions=False,
                                  port="54621+", verbose=False)
    try:
        h2o.connect(server=server, verbose=False, strict_version_check=False)
        h2o.no_progress()
        tr, te = h2o.import_file(train), h2o.import_file(test)
        for f in (tr, te):
            f[RESPONSE] = f[RESPONSE].asfactor()
        out = {False: [], True: []}
        keys = ("hidden", "activation", "score_training_samples", "score_validation_samples",
                "score_duty_cycle", "overwrite_with_best_model", "stopping_rounds")
        for balance in (False, True):
            for seed in seeds:
                m = H2ODeepLearningEstimator(epochs=epochs, seed=seed, balance_classes=balance,
                                             **{k: PARAMS[k] for k in keys})
                m.train(y=RESPONSE, training_frame=tr)
                perf = m.model_performance(te)
                out[balance].append({"mpce": float(perf.mean_per_class_error()),
                                     "error": H2OSide._test_error(perf)})
                h2o.remove(m)
        return out
    finally:
        try:
            h2o.cluster().shutdown()
        except Exception:
            pass
        server.shutdown()


def cell(values: list[float]) -> str:
    """mean ± standard deviation (n runs)."""
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.4f} ± {sd:.4f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--epochs", type=float, default=10.0)
    ap.add_argument("--h2o", action="store_true", help="also train the real H2O-3")
    ap.add_argument("--record", action="store_true", help="write benchmarks/RESULTS.md")
    args = ap.parse_args()
    train, test, counts = split()
    seeds = list(range(1, args.seeds + 1))
    rows = []
    for balance in (False, True):
        res = [mpidl_run(train, test, s, args.epochs, balance) for s in seeds]
        rows.append([f"mpidl, balance_classes = {str(balance).lower()}",
                     cell([r["mpce"] for r in res]), cell([r["error"] for r in res]),
                     res[0]["rows"]])
        print(rows[-1], flush=True)
    if args.h2o:
        for balance, res in h2o_runs(train, test, seeds, args.epochs).items():
            rows.append([f"H2O-3, balance_classes = {str(balance).lower()}",
                         cell([r["mpce"] for r in res]), cell([r["error"] for r in res]), ""])
            print(rows[-1], flush=True)
    body = (f"covtype_20k, {counts.sum()} training rows (class counts {counts.tolist()}), "
            f"{args.epochs:g} epochs, hidden {PARAMS['hidden']}, {len(seeds)} seeds "
            "(mean ± sd); errors on the held-out 20 % (not sub-sampled); "
            "epochs count the resampled rows, as in H2O.\n\n" +
            common.table(["run", "test mean per-class error", "test error", "training rows"],
                         rows))
    print(body)
    if args.record:
        common.record("balance", "balance_classes on a skewed set (covtype_20k)", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
