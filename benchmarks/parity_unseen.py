"""Where a parity gap sits: test AUC on rows whose categorical levels were all seen in training
and on the rows with a level the training split lacks, for H2O-3 and mpidl.

    python benchmarks/parity_unseen.py --dataset airlines_2005_100k \
        --settings binary,enumlimited --seeds 5 --record

parity.py's split, settings and training (both systems train afresh here, 2 threads each);
the AUC of each system's predictions on all test rows, on the rows whose every categorical
predictor holds a training level ("seen") and on the rest ("unseen"); mean +- standard error
over seeds.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import WORKDIR, record, start_h2o, table  # noqa: E402
from parity import DATASETS, SETTINGS, h2o_frames, mean_se, prepare, run_mpidl_once  # noqa: E402


def seen_rows(train_csv: Path, test_csv: Path, response: str) -> np.ndarray:
    """bool[test rows]: every categorical (text) predictor holds a level of the training file."""
    train = pd.read_csv(train_csv, low_memory=False)
    test = pd.read_csv(test_csv, low_memory=False)
    seen = np.ones(len(test), dtype=bool)
    for c in train.columns:
        if c != response and not pd.api.types.is_numeric_dtype(train[c]):
            seen &= test[c].isna().to_numpy() | test[c].isin(set(train[c].dropna())).to_numpy()
    return seen


def h2o_positive(h2o, spec, setting: str, seed: int, frames) -> np.ndarray:
    """H2O's probability of the second class on the test frame."""
    from h2o.estimators import H2ODeepLearningEstimator
    train, test = frames
    m = H2ODeepLearningEstimator(epochs=spec.epochs, seed=seed, **SETTINGS[setting])
    m.train(x=[c for c in train.names if c != spec.response], y=spec.response,
            training_frame=train)
    p = m.predict(test).as_data_frame(use_multi_thread=False).iloc[:, 2].to_numpy()
    h2o.remove(m)
    return p


def aucs(y: np.ndarray, p: np.ndarray, seen: np.ndarray) -> list[float]:
    """AUC on all rows, the seen rows and the unseen rows."""
    from sklearn.metrics import roc_auc_score
    return [float(roc_auc_score(y[rows], p[rows])) for rows in (slice(None), seen, ~seen)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dataset", default="airlines_2005_100k", choices=list(DATASETS))
    ap.add_argument("--settings", default="binary,enumlimited", help=",".join(SETTINGS))
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--record", action="store_true")
    ap.add_argument("--section", default="parity-unseen")
    args = ap.parse_args()
    spec = DATASETS[args.dataset]
    if spec.task != "binomial":
        sys.exit(f"parity_unseen: --dataset {args.dataset} is not binomial")
    warnings.simplefilter("ignore")
    train_csv, test_csv = prepare(args.dataset, spec)
    seen = seen_rows(train_csv, test_csv, spec.response)
    h2o = start_h2o(2, "3g")
    frames = h2o_frames(h2o, spec, train_csv, test_csv)
    classes = frames[0][spec.response].levels()[0]
    y = (pd.read_csv(test_csv, low_memory=False)[spec.response].astype(str)
         == classes[1]).to_numpy()
    rows = []
    for setting in args.settings.split(","):
        runs = {"H2O": [], "mpidl": []}
        for seed in range(1, args.seeds + 1):
            runs["H2O"].append(aucs(y, h2o_positive(h2o, spec, setting, seed, frames), seen))
            run_mpidl_once(args.dataset, spec, setting, seed, train_csv, test_csv)
            p = pd.read_csv(WORKDIR / f"parity-{args.dataset}-{setting}-{seed}.csv")
            runs["mpidl"].append(aucs(y, p.iloc[:, 2].to_numpy(), seen))
        for system, values in runs.items():
            cells = ["%.4f ± %.4f" % mean_se([v[j] for v in values]) for j in range(3)]
            rows.append([setting, system, *cells])
            print(" | ".join(rows[-1]), flush=True)
    body = (f"{args.dataset}: {len(seen)} test rows, {int(seen.sum())} with every categorical "
            f"level seen in training; seeds 1..{args.seeds}, 2 threads each; AUC mean ± "
            "standard error.\n\n" + table(["setting", "system", "AUC all rows", "AUC seen rows",
                                           "AUC unseen rows"], rows))
    if args.record:
        record(args.section, "Parity gaps: rows with levels unseen in training", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
