"""Per-sample parity with the real H2O-3: both systems train from the same network, row by row.

    python benchmarks/h2o_steps.py --dataset prostate --hidden 50,50 --epochs 2
    python benchmarks/h2o_steps.py --dataset weather --record     # RESULTS.md section h2o_steps

mpidl draws a network (0 epochs) and writes its weights and biases as H2O's frames
(``export --weights``); H2O-3 and mpidl then train from those frames, reproducible (one
thread), ``train_samples_per_iteration`` = epochs x rows in one iteration (a linear scan of
the rows, in file order, ``epochs`` times: neither system shuffles), and both export the
weights they end with.  The table gives, per weight layer, the largest change training made
(H2O's) and the largest difference between the two systems' final values: a difference of
rounding (float32 against H2O's doubles) is orders of magnitude below the change, a different
rule is of its order.  Uses the split of ``parity.py`` (its ``--list``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, WORKDIR, record, run_mpidl, start_h2o, table  # noqa: E402
from parity import DATASETS, h2o_frames, prepare  # noqa: E402


def mpidl_tables(folder: Path, model: Path, layers: int) -> dict[str, np.ndarray]:
    """{weights_l, biases_l}: float64 tables of an mpidl model file, via ``export --weights``."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "mpidl", "export", str(model), "--weights",
                    str(folder), "-o", str(folder / "scorer.py")], check=True,
                   capture_output=True, cwd=ROOT)
    return {f"{k}_{i}": np.load(folder / f"{k}_{i}.npy").astype(np.float64)
            for i in range(layers) for k in ("weights", "biases")}


def h2o_tables(model, layers: int) -> dict[str, np.ndarray]:
    """The same tables of an H2O model trained with export_weights_and_biases."""
    out = {}
    for i in range(layers):
        for k, get in (("weights", model.weights), ("biases", model.biases)):
            frame = get(i).as_data_frame(use_multi_thread=False)
            out[f"{k}_{i}"] = frame.to_numpy(dtype=np.float64)
    return out


def common_params(args, spec, rows: int) -> dict:
    """The parameters both systems train with (H2O names)."""
    p = {"hidden": args.hidden, "activation": args.activation, "epochs": float(args.epochs),
         "seed": args.seed, "reproducible": True,
         "train_samples_per_iteration": int(args.epochs * rows),
         "export_weights_and_biases": True}
    if spec.task != "regression":
        p["distribution"] = "bernoulli" if spec.task == "binomial" else "multinomial"
    return p


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dataset", default="prostate", help=",".join(DATASETS))
    ap.add_argument("--hidden", default="50,50")
    ap.add_argument("--activation", default="Rectifier")
    ap.add_argument("--epochs", type=int, default=2, help="whole passes (>= 2: no shuffle)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rows", type=int, default=0, help="train on the first ROWS rows (0: all)")
    ap.add_argument("--mem", default="2g")
    ap.add_argument("--record", action="store_true")
    args = ap.parse_args()
    args.hidden = [int(h) for h in args.hidden.split(",")]
    warnings.simplefilter("ignore")
    spec = DATASETS[args.dataset]
    train_csv, _ = prepare(args.dataset, spec)
    if args.rows:
        cut = WORKDIR / "h2o_steps" / f"{args.dataset}_{args.rows}.csv"
        cut.parent.mkdir(parents=True, exist_ok=True)
        pd.read_csv(train_csv, low_memory=False).head(args.rows).to_csv(cut, index=False)
        train_csv = cut
    rows = int(pd.read_csv(train_csv, low_memory=False)[spec.response].notna().sum())
    params = common_params(args, spec, rows)
    layers = len(args.hidden) + 1
    base = {"training_frame": str(train_csv), "response_column": spec.response,
            "quiet_mode": True, **params}
    start = WORKDIR / "h2o_steps" / "start"
    run_mpidl({**base, "epochs": 0.0}, threads=1, tag="h2o_steps-start")
    init = mpidl_tables(start, WORKDIR / "h2o_steps-start.h5", layers)
    frames = {f"initial_{k}s": [str(start / f"{k}s_{i}.csv") for i in range(layers)]
              for k in ("weight", "biase")}
    run_mpidl({**base, "initial_weights": frames["initial_weights"],
               "initial_biases": frames["initial_biases"]}, threads=1, tag="h2o_steps-mpidl")
    ours = mpidl_tables(WORKDIR / "h2o_steps" / "mpidl", WORKDIR / "h2o_steps-mpidl.h5", layers)

    h2o = start_h2o(1, args.mem)
    from h2o.estimators import H2ODeepLearningEstimator
    train, _ = h2o_frames(h2o, spec, train_csv, train_csv)
    theirs_init = {k: [h2o.import_file(p) for p in v] for k, v in frames.items()}
    m = H2ODeepLearningEstimator(**params, **theirs_init)
    m.train(x=[c for c in train.names if c != spec.response], y=spec.response,
            training_frame=train)
    theirs = h2o_tables(m, layers)
    out = []
    for name in init:
        change = np.abs(theirs[name] - init[name]).max()
        diff = np.abs(theirs[name] - ours[name])
        out.append([name, f"{change:.3g}", f"{np.abs(ours[name] - init[name]).max():.3g}",
                    f"{diff.max():.3g}", f"{diff.max() / change if change else 0:.2g}"])
        print(" | ".join(out[-1]), flush=True)
    body = (f"{args.dataset}: {rows} rows, hidden {args.hidden} {args.activation}, "
            f"{args.epochs} linear passes (one iteration), seed {args.seed}, reproducible; "
            f"H2O {h2o.cluster().version}.  Largest |change| of each table over training "
            "(H2O's, mpidl's), largest |H2O - mpidl| of the final values, and their ratio.\n\n"
            + table(["table", "H2O change", "mpidl change", "H2O - mpidl", "ratio"], out))
    if args.record:
        record(f"h2o_steps-{args.dataset}", "Per-sample parity with H2O-3 from the same network",
               body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
