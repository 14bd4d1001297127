"""Variable importances: mpidl's Gedeon importances vs the real H2O-3's on the same data.

    pip install h2o                                   # bundles h2o.jar; needs Java 8+
    python benchmarks/varimp_vs_h2o.py --seeds 5            # print the table (H2O's defaults)
    python benchmarks/varimp_vs_h2o.py --seeds 5 --record   # and write it to benchmarks/RESULTS.md
    python benchmarks/varimp_vs_h2o.py --seeds 5 --hidden 200 --activation Tanh --l1 1e-3 \
        --epochs 20 --record --record-as varimp_vs_h2o_tanh_l1

Two datasets of ``../shared/data``: prostate (numeric predictors) and a sub-sample of
adult_census_income (8 categorical and 6 numeric predictors; the first ``--adult-rows`` rows,
spaces around values trimmed and ``?`` made missing, written once to a CSV both systems read).
For each seed, H2O and mpidl train the same network (same parameters, same seed; the weights
differ: each system has its own random streams), each reports its importances, and the
Spearman rank correlation is taken over the input slots both name (H2O's names:
``col.level``, ``col.missing(NA)``, numeric columns).  As a yardstick, the table also gives
H2O against itself: H2O's importances of seed s against those of seed s+1, and the correlation
of the importances averaged over the seeds.  That the formula is H2O's is checked apart from
training: H2O exports its weights (``export_weights_and_biases``), ``varimp.gedeon`` is applied
to them, and the largest difference from H2O's reported importances is shown.  H2O runs in
one local JVM started and stopped by this script (a fresh port).
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, WORKDIR, record, run_mpidl, start_h2o, table  # noqa: E402
from vs_h2o import h2o_unavailable, java_version  # noqa: E402

from mpidl.varimp import gedeon  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
PROSTATE = {"name": "prostate", "path": DATA / "prostate" / "prostate.csv",
            "response": "CAPSULE", "ignored": ["ID"], "distribution": "bernoulli"}
ADULT = {"name": "adult_census_income", "path": None, "response": "income", "ignored": [],
         "distribution": "bernoulli"}


def adult_subsample(rows: int) -> Path:
    """The first ``rows`` rows of adult_data.csv, values trimmed, '?' empty (missing)."""
    out = WORKDIR / f"adult_{rows}.csv"
    WORKDIR.mkdir(parents=True, exist_ok=True)
    with open(DATA / "adult_census_income" / "adult_data.csv", newline="") as f:
        reader = csv.reader(f)
        lines = [[v.strip() for v in next(reader)]]
        for rec in reader:
            if len(lines) > rows:
                break
            lines.append(["" if v.strip() == "?" else v.strip() for v in rec])
    with open(out, "w", newline="") as f:
        csv.writer(f).writerows(lines)
    return out


def spearman(a: list[float], b: list[float]) -> float:
    """Spearman's rank correlation (average ranks for ties)."""
    def ranks(x):
        x = np.asarray(x, dtype=np.float64)
        order = np.argsort(x, kind="stable")
        r = np.empty(len(x))
        r[order] = np.arange(len(x), dtype=np.float64)
        for v in np.unique(x):
            tie = x == v
            r[tie] = r[tie].mean()
        return r
    return float(np.corrcoef(ranks(a), ranks(b))[0, 1])


def h2o_importances(h2o, frame, ds: dict, net: dict, seed: int) -> tuple[dict, float]:
    """H2O's importances {slot name: relative importance}, and the largest difference between
    them and mpidl's formula (``varimp.gedeon``) applied to H2O's own exported weights."""
    from h2o.estimators import H2ODeepLearningEstimator
    m = H2ODeepLearningEstimator(seed=seed, reproducible=True, export_weights_and_biases=True,
                                 distribution=ds["distribution"], **net)
    x = [c for c in frame.names if c != ds["response"] and c not in ds["ignored"]]
    m.train(x=x, y=ds["response"], training_frame=frame)
    vi = {row[0]: float(row[1]) for row in m.varimp()}
    w1 = h2o.as_list(m.weights(0), use_pandas=True)       # hidden x inputs, named by input
    w2 = h2o.as_list(m.weights(1), use_pandas=False, header=False)
    ours = gedeon(w1.to_numpy(np.float32), np.asarray(w2, dtype=np.float32))
    ours = dict(zip(w1.columns, ours))
    # H2O zeroes NA slots no training row hit: compare the slots it kept
    diff = max(abs(ours[n] - v) for n, v in vi.items() if v > 0)
    h2o.remove(m)
    return vi, float(diff)


def mpidl_importances(ds: dict, net: dict, seed: int) -> dict[str, float]:
    params = {"training_frame": str(ds["path"]), "response_column": ds["response"],
              "ignored_columns": ds["ignored"], "distribution": ds["distribution"],
              "seed": seed, "reproducible": True, **net}
    info = run_mpidl(params, threads=1, tag=f"varimp_{ds['name']}_{seed}")
    return {r["variable"]: r["relative_importance"] for r in info["variable_importances"]}


def mean_importances(per_seed: list[dict]) -> dict[str, float]:
    """Each slot's importance averaged over the seeds (slots every seed names)."""
    names = set.intersection(*(set(d) for d in per_seed))
    return {n: statistics.fmean(d[n] for d in per_seed) for n in names}


def common_spearman(a: dict, b: dict) -> tuple[float, int]:
    names = sorted(set(a) & set(b))
    return spearman([a[n] for n in names], [b[n] for n in names]), len(names)


def mean_sd(values: list[float]) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.3f} ± {sd:.3f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=3, help="models per system and dataset")
    ap.add_argument("--hidden", type=int, nargs="+", default=[200, 200],
                    help="hidden layers (H2O's default)")
    ap.add_argument("--epochs", type=float, default=10.0, help="epochs (H2O's default)")
    ap.add_argument("--l1", type=float, default=0.0, help="l1 regularization (H2O's l1)")
    ap.add_argument("--activation", default="Rectifier", help="H2O's activation")
    ap.add_argument("--record-as", default="varimp_vs_h2o", help="RESULTS.md section name")
    ap.add_argument("--adult-rows", type=int, default=3000)
    ap.add_argument("--threads", type=int, default=2, help="H2O nthreads")
    ap.add_argument("--mem", default="2g", help="H2O max_mem_size")
    ap.add_argument("--record", action="store_true", help="write the table to RESULTS.md")
    args = ap.parse_args()
    why = h2o_unavailable(False)
    if why:
        sys.exit(f"varimp_vs_h2o: {why}")
    ADULT["path"] = adult_subsample(args.adult_rows)
    net = {"hidden": args.hidden, "epochs": args.epochs, "l1": args.l1,
           "activation": args.activation}
    h2o = start_h2o(args.threads, args.mem)
    version = h2o.cluster().version
    rows = []
    for ds in (PROSTATE, ADULT):
        frame = h2o.import_file(str(ds["path"]))
        frame[ds["response"]] = frame[ds["response"]].asfactor()
        seeds = range(1, args.seeds + 1)
        theirs, diffs = zip(*(h2o_importances(h2o, frame, ds, net, s) for s in seeds))
        ours = [mpidl_importances(ds, net, s) for s in seeds]
        vs = [common_spearman(t, o) for t, o in zip(theirs, ours)]
        averaged = common_spearman(mean_importances(theirs), mean_importances(ours))[0]
        self_h2o = [common_spearman(theirs[i], theirs[(i + 1) % len(theirs)])[0]
                    for i in range(len(theirs))] if len(theirs) > 1 else [float("nan")]
        rows.append([ds["name"], str(vs[0][1]), mean_sd([r for r, _ in vs]),
                     mean_sd(self_h2o), f"{averaged:.3f}", f"{max(diffs):.1e}",
                     ", ".join(f"{r:.3f}" for r, _ in vs)])
        print(" | ".join(rows[-1]), flush=True)
        h2o.remove(frame)
    body = (f"H2O {version} ({java_version()}), DeepLearning {args.activation} hidden {args.hidden}, "
            f"{args.epochs:g} epochs, l1 {args.l1:g}, reproducible, seeds 1..{args.seeds}, every other parameter "
            f"at H2O's default; adult: the first {args.adult_rows} rows of adult_data.csv.  "
            "Spearman rank correlation of the variable importances over the input slots both "
            "name: mpidl vs H2O at the same seed (mean ± sd over seeds, and each seed); H2O "
            "vs H2O at the next seed as a yardstick; mpidl's importances averaged over the seeds "
            "vs H2O's averaged over the seeds.  Last but one column: mpidl's formula "
            "(`varimp.gedeon`) applied to H2O's own exported weights against H2O's reported "
            "importances, the largest absolute difference over slots and seeds.\n\n"
            + table(["dataset", "input slots", "mpidl vs H2O", "H2O vs H2O (next seed)",
                     "seed-averaged mpidl vs H2O", "formula on H2O's weights",
                     "mpidl vs H2O per seed"], rows))
    if args.record:
        record(args.record_as, "Variable importances: mpidl vs H2O-3 (rank correlation), "
               f"{args.activation} {args.hidden}, l1 {args.l1:g}", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
