"""``sparse = true`` against the dense transform on KDD Cup 99: training speed and test error.

    python benchmarks/sparse_kdd.py --repeats 3 --record

KDD Cup 99's 10 % file (494,021 connections, 41 features: 3 categorical, 38 numeric and
mostly zero; the attack label, 23 classes) is sub-sampled once (seeded) into 40,000 training
and 20,000 test rows, disjoint.  One rank with 1 thread trains for 1 epoch with H2O's defaults
(fast_mode on), with sparse = true (inputs x / sd: zeros stay zero, so the online kernel skips
them) and sparse = false (x - mean) / sd: every input non-zero), alternately, seeds 1..R, for
a hidden layer of 200 x 200 and of 20 units (where the first layer's share of the work is
larger).  Samples/s is H2O's (training time, scoring excluded) and the test error is the
classification error on the 20,000 test rows; means over the seeds with the spread
(min-max).  The share of zeros among the numeric inputs is printed with the table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

import numpy as np
import pandas as pd

import common

KDD = common.ROOT.parent / "shared" / "data" / "kddcup99_10pct" / "kddcup.data_10_percent.gz"
CATEGORICAL = ["C2", "C3", "C4"]
SHAPES = {"[200,200]": [200, 200], "[20]": [20]}


def sample_tables() -> tuple[str, str, float]:
    """(train.h5, test.h5, share of zeros among the numeric values): the seeded sub-sample,
    imported once into WORKDIR."""
    from mpidl.data.importer import import_csv
    frame = pd.read_csv(KDD, header=None)
    frame.columns = [f"C{i + 1}" for i in range(frame.shape[1])]
    rows = np.random.default_rng(99).permutation(len(frame))[:60000]
    numeric = frame.drop(columns=CATEGORICAL + ["C42"])
    zeros = float((numeric.iloc[rows[:40000]] == 0).to_numpy().mean())
    out = []
    for name, part in (("train", rows[:40000]), ("test", rows[40000:])):
        csv, h5 = (common.WORKDIR / f"kdd_{name}.{ext}" for ext in ("csv", "h5"))
        if not h5.exists():
            frame.iloc[part].to_csv(csv, index=False)
            import_csv(str(csv), str(h5), categorical=CATEGORICAL + ["C42"])
        out.append(str(h5))
    return out[0], out[1], zeros


def run(train_h5: str, test_h5: str, hidden: list[int], sparse: bool, seed: int) -> dict:
    params = {"training_frame": train_h5, "validation_frame": test_h5, "response_column": "C42",
              "hidden": hidden, "epochs": 1, "seed": seed, "sparse": sparse,
              "score_training_samples": 1000, "score_validation_samples": 0,
              "score_duty_cycle": 0.0}
    return common.run_mpidl(params, 1, 1, tag=f"kdd_{int(sparse)}")


def spread(xs: list[float], fmt: str = "{:.0f}") -> str:
    return (f"{fmt.format(statistics.mean(xs))} ({fmt.format(min(xs))}-"
            f"{fmt.format(max(xs))})")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3, help="seeds, interleaved")
    ap.add_argument("--record", action="store_true", help="write the table to RESULTS.md")
    args = ap.parse_args(argv)
    common.WORKDIR.mkdir(parents=True, exist_ok=True)
    train_h5, test_h5, zeros = sample_tables()
    load_before = os.getloadavg()
    res = {}
    for seed in range(1, args.repeats + 1):
        for shape, hidden in SHAPES.items():
            for sparse in (True, False):
                info = run(train_h5, test_h5, hidden, sparse, seed)
                err = info["validation_metrics"]["classification_error"]
                m = res.setdefault((shape, sparse), {"speed": [], "err": []})
                m["speed"].append(info["speed"])
                m["err"].append(100 * err)
                print(f"seed {seed} {shape} sparse={sparse}: {info['speed']:.0f} rows/s, "
                      f"test error {100 * err:.3f} %", flush=True)
    load_after = os.getloadavg()
    rows = []
    for shape in SHAPES:
        dense = statistics.mean(res[(shape, False)]["speed"])
        for sparse in (True, False):
            m = res[(shape, sparse)]
            rows.append([shape, "true" if sparse else "false", spread(m["speed"]),
                         f"{100 * (statistics.mean(m['speed']) / dense - 1):+.1f} %",
                         spread(m["err"], "{:.3f}")])
    body = (f"1 rank x 1 thread, KDD Cup 99 (10 %) sub-sample: 40,000 training rows, 20,000 "
            f"test rows; 1 epoch, H2O's defaults, seeds 1..{args.repeats} interleaved.  "
            f"{100 * zeros:.0f} % of the numeric training values are 0.  Load average (1 min) "
            f"{load_before[0]:.1f} before, {load_after[0]:.1f} after (2 cores, shared).\n\n"
            + common.table(["hidden", "sparse", "samples/s, mean (min-max)", "vs dense",
                            "test error %, mean (min-max)"], rows))
    print(body)
    if args.record:
        common.record("shard15-sparse", "sparse = true on KDD Cup 99: speed and test error",
                      body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
