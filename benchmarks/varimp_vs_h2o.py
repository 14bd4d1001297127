"""Variable importances: mpidl's Gedeon importances vs the real H2O-3's on the same data.

    pip install h2o                                   # bundles h2o.jar; needs Java 8+
    python benchmarks/varimp_vs_h2o.py --seeds 6                 # print the table
    python benchmarks/varimp_vs_h2o.py --seeds 6 --record        # and write it to RESULTS.md
    python benchmarks/varimp_vs_h2o.py --seeds 6 --epochs 200 --record --record-as NAME

Datasets of ``../shared/data`` (``--datasets``): prostate (RACE, DPROS, DCAPS, GLEASON as
categoricals: H2O's ``asfactor``, mpidl's ``import --categorical``), boston_housing (13 numeric
predictors, regression), and adult_census_income (the first ``--adult-rows`` rows, spaces
around values trimmed and ``?`` made missing, written once to a CSV both systems read).

H2O trains seeds 1..2S and mpidl seeds 1..S (S = ``--seeds``), the same network and
parameters (each system has its own random streams, so the weights differ).  Per dataset:
(a) the Spearman rank correlation of mpidl's and H2O's importances at the same seed, mean ± sd
over the S seeds; (b) the correlation of the importances averaged over seeds 1..S of each
system; and H2O against itself as the ceiling: (c1) H2O seed s vs H2O seed S+s, mean ± sd,
(c2) H2O averaged over seeds 1..S vs averaged over seeds S+1..2S.  (b) and (c2) are single
numbers; the ± beside them is the jackknife standard error over leaving one seed (pair) out.
Correlations run over the input slots (H2O's names: ``col.level``, ``col.missing(NA)``,
numeric columns), less the NA slots both systems zero in every model (no training row hit
them).  Checked on every model: both systems name the same slots (the table gives how many
differ, 0 expected), and mpidl's formula (``varimp.gedeon``) applied to H2O's own exported
weights gives H2O's reported importances (largest difference shown).  H2O runs in one local
JVM started and stopped by this script (a fresh port).
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

from mpidl.data.importer import import_csv  # noqa: E402
from mpidl.varimp import gedeon  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
DATASETS = {
    "prostate": {"csv": DATA / "prostate" / "prostate.csv", "response": "CAPSULE",
                 "ignored": ["ID"], "distribution": "bernoulli",
                 "categorical": ["RACE", "DPROS", "DCAPS", "GLEASON"]},
    "boston_housing": {"csv": DATA / "boston_housing" / "BostonHousing.csv",
                       "response": "medv", "ignored": [], "distribution": "gaussian",
                       "categorical": []},
    "adult_census_income": {"csv": None, "response": "income", "ignored": [],
                            "distribution": "bernoulli", "categorical": []},
}


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


def factor_columns(ds: dict) -> list[str]:
    """The columns both systems read as categorical: the declared ones and, for
    classification, the response."""
    return ds["categorical"] + ([ds["response"]] if ds["distribution"] == "bernoulli" else [])


def mpidl_frame(name: str, ds: dict) -> str:
    """The training frame mpidl reads: the CSV, or (with categoricals to declare) an HDF5
    import of it with those columns and a categorical response as categorical."""
    if not ds["categorical"]:
        return str(ds["csv"])
    WORKDIR.mkdir(parents=True, exist_ok=True)
    out = WORKDIR / f"varimp_{name}.h5"
    import_csv(str(ds["csv"]), str(out), categorical=factor_columns(ds))
    return str(out)


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
    """mpidl's importances {slot name: relative importance} (``inspect --json``)."""
    params = {"training_frame": ds["frame"], "response_column": ds["response"],
              "ignored_columns": ds["ignored"], "distribution": ds["distribution"],
              "seed": seed, "reproducible": True, **net}
    info = run_mpidl(params, threads=1, tag=f"varimp_{ds['name']}_{seed}")
    return {r["variable"]: r["relative_importance"] for r in info["variable_importances"]}


def mean_importances(per_seed: list[dict]) -> dict[str, float]:
    """Each slot's importance averaged over the seeds (slots every seed names)."""
    names = set.intersection(*(set(d) for d in per_seed))
    return {n: statistics.fmean(d[n] for d in per_seed) for n in names}


def corr(a: dict, b: dict, slots: list[str]) -> float:
    """Spearman correlation of two importance dicts over ``slots``."""
    return spearman([a[n] for n in slots], [b[n] for n in slots])


def averaged_corr(xs: list[dict], ys: list[dict], slots: list[str]) -> tuple[float, float]:
    """(correlation of the seed-averaged importances of ``xs`` and ``ys``, its jackknife
    standard error over leaving out pair i of both lists)."""
    full = corr(mean_importances(xs), mean_importances(ys), slots)
    n = len(xs)
    if n < 3:
        return full, float("nan")
    loo = [corr(mean_importances(xs[:i] + xs[i + 1:]), mean_importances(ys[:i] + ys[i + 1:]),
                slots) for i in range(n)]
    mean = statistics.fmean(loo)
    return full, float(np.sqrt((n - 1) / n * sum((v - mean) ** 2 for v in loo)))


def mean_sd(values: list[float]) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.3f} ± {sd:.3f}"


def compare(name: str, theirs: list[dict], ours: list[dict], diffs: list[float]) -> list[str]:
    """One table row from H2O's 2S and mpidl's S importance dicts (seed order)."""
    s = len(ours)
    named_by_one = max(len(set(t) ^ set(o)) for t, o in zip(theirs, ours))
    models = theirs + ours
    slots = sorted(n for n in set.intersection(*(set(d) for d in models))
                   if any(d[n] > 0 for d in models))
    a = [corr(t, o, slots) for t, o in zip(theirs, ours)]
    b = averaged_corr(theirs[:s], ours, slots)
    c1 = [corr(theirs[i], theirs[s + i], slots) for i in range(s)]
    c2 = averaged_corr(theirs[:s], theirs[s:], slots)
    return [name, str(len(slots)), str(named_by_one), mean_sd(a), f"{b[0]:.3f} ± {b[1]:.3f}",
            mean_sd(c1), f"{c2[0]:.3f} ± {c2[1]:.3f}", f"{max(diffs):.1e}",
            ", ".join(f"{r:.2f}" for r in a)]


def run_dataset(h2o, name: str, ds: dict, net: dict, seeds: int) -> list[str]:
    """Train H2O (seeds 1..2S) and mpidl (seeds 1..S) on one dataset; its table row."""
    ds = dict(ds, name=name, frame=mpidl_frame(name, ds))
    frame = h2o.import_file(str(ds["csv"]))
    for col in factor_columns(ds):
        frame[col] = frame[col].asfactor()
    theirs, diffs = zip(*(h2o_importances(h2o, frame, ds, net, s)
                          for s in range(1, 2 * seeds + 1)))
    ours = [mpidl_importances(ds, net, s) for s in range(1, seeds + 1)]
    h2o.remove(frame)
    return compare(name, list(theirs), ours, list(diffs))


HEADER = ["dataset", "slots", "slots named by one system only", "(a) mpidl vs H2O, same seed",
          "(b) seed-averaged mpidl vs H2O", "(c1) H2O vs H2O, other seed",
          "(c2) seed-averaged H2O vs H2O, other seeds", "formula on H2O's weights",
          "(a) per seed"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=3,
                    help="S: mpidl models per dataset (H2O trains 2S)")
    ap.add_argument("--datasets", nargs="+", default=["prostate", "boston_housing"],
                    choices=sorted(DATASETS))
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
    if "adult_census_income" in args.datasets:
        DATASETS["adult_census_income"]["csv"] = adult_subsample(args.adult_rows)
    net = {"hidden": args.hidden, "epochs": args.epochs, "l1": args.l1,
           "activation": args.activation}
    h2o = start_h2o(args.threads, args.mem)
    version = h2o.cluster().version
    rows = []
    for name in args.datasets:
        rows.append(run_dataset(h2o, name, DATASETS[name], net, args.seeds))
        print(" | ".join(rows[-1]), flush=True)
    s = args.seeds
    body = (f"H2O {version} ({java_version()}), DeepLearning {args.activation} hidden "
            f"{args.hidden}, {args.epochs:g} epochs, l1 {args.l1:g}, reproducible, every other "
            f"parameter at H2O's default; mpidl seeds 1..{s}, H2O seeds 1..{2 * s}"
            + (f"; adult: the first {args.adult_rows} rows of adult_data.csv"
               if "adult_census_income" in args.datasets else "")
            + ".  Spearman rank correlation of the variable importances (what each column "
            "means: the docstring of benchmarks/varimp_vs_h2o.py): (a) mpidl vs H2O at the same "
            f"seed, mean ± sd over {s} seeds; (b) mpidl's importances averaged over seeds "
            f"1..{s} vs H2O's averaged over the same seeds (± jackknife standard error); (c1), "
            f"(c2) the same two for H2O against H2O at other seeds (s vs {s}+s; seeds "
            f"1..{s} vs {s + 1}..{2 * s}), the ceiling.  Formula column: mpidl's "
            "`varimp.gedeon` on H2O's own exported weights vs H2O's reported importances, "
            "the largest absolute difference over slots and models.\n\n"
            + table(HEADER, rows))
    if args.record:
        record(args.record_as, "Variable importances: mpidl vs H2O-3 (rank correlation), "
               f"{args.activation} {args.hidden}, {args.epochs:g} epochs", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
