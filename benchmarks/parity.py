"""Accuracy parity with the real H2O-3 on every dataset of ../shared/data that fits.

    pip install h2o                                   # bundles h2o.jar; needs Java 8+
    python benchmarks/parity.py --list                # the datasets and their splits
    python benchmarks/parity.py --seeds 5 --record    # every dataset, both settings
    python benchmarks/parity.py --datasets prostate,iris --settings default --seeds 3

For each dataset one train/test split is made once (the file's own test file, else a seeded
80/20 split; large files sub-sampled to ``rows``), written as CSV files both systems read.  For
each setting (``default``: H2O's Deep Learning defaults; ``tuned``: RectifierWithDropout,
hidden [100, 100], l1 1e-5) and seed, both systems train the same epochs on 2 threads and
predict the test file (neither sees it before: no validation frame, so both keep the model
their training metrics choose); the test metrics of both come from the same code (scikit-learn's
metrics on each system's downloaded predictions: error of the predicted labels, logloss, AUC;
RMSE and mean residual deviance, gaussian, for regression).  The table gives mean +- standard
error over seeds and the difference in standard errors, (mpidl - H2O) / sqrt(se1^2 + se2^2),
signed so that a positive value means mpidl is worse.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import statistics
import warnings
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, WORKDIR, record, run_mpidl, start_h2o, table  # noqa: E402
from vs_h2o import h2o_unavailable, java_version  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
SPLIT_SEED = 42
SETTINGS = {
    "default": {},
    "tuned": {"activation": "RectifierWithDropout", "hidden": [100, 100], "l1": 1e-5},
    # categorical_encoding (issue 15): the defaults with each encoding H2O's DL has
    **{e.lower(): {"categorical_encoding": e}
       for e in ("Binary", "LabelEncoder", "EnumLimited", "SortByResponse", "Eigen")},
}
# Settings that differ from another only in mpidl-only parameters: (H2O's setting, mpidl's
# extra parameters).  H2O trains the base setting once per dataset and run; both rows compare
# mpidl against those same H2O models.
MPIDL_VARIANTS = {
    "tuned_independent": ("tuned", {"hidden_dropout_masks": "Independent"}),   # not H2O-3's seeds
    "default_shuffled": ("default", {"shuffle_training_data": True}),   # threads' rows mixed
}
SETTINGS.update({k: SETTINGS[base] for k, (base, _) in MPIDL_VARIANTS.items()})


@dataclass
class Spec:
    """One dataset: files (train[, test]) under DATA, the response, its task, the columns left
    out, the most rows kept of train and test, and the epochs both systems train."""

    train: str
    response: str
    task: str                     # binomial | multinomial | regression
    test: str | None = None
    drop: list = field(default_factory=list)
    rows: int = 20_000
    epochs: float = 10.0
    header: bool = True


DATASETS = {
    "prostate": Spec("prostate/prostate.csv", "CAPSULE", "binomial", drop=["ID"]),
    "iris": Spec("iris/iris_wheader.csv", "class", "multinomial"),
    "boston_housing": Spec("boston_housing/BostonHousing.csv", "medv", "regression"),
    "weather": Spec("weather/weather.csv", "RainTomorrow", "binomial", drop=["Date", "RISK_MM"]),
    "higgs_10k": Spec("higgs_10k/higgs_train_10k.csv", "response", "binomial",
                      test="higgs_10k/higgs_test_5k.csv", epochs=5),
    "covtype_20k": Spec("covtype_20k/covtype.20k.data", "C55", "multinomial", epochs=3,
                        header=False),
    "california_housing": Spec("california_housing/cal_housing.data", "C9", "regression",
                               epochs=5, header=False),
    "adult_census_income": Spec("adult_census_income/adult_data.csv", "income", "binomial",
                                test="adult_census_income/adult_test.csv", rows=10_000, epochs=5),
    # IsDepDelayed_REC is the response coded as +-1
    "airlines_allyears2k": Spec("airlines_allyears2k/AirlinesTrain.csv.zip", "IsDepDelayed",
                                "binomial", test="airlines_allyears2k/AirlinesTest.csv.zip",
                                rows=10_000, epochs=5, drop=["IsDepDelayed_REC"]),
    "airlines_2005_100k": Spec("airlines_2005_100k/year2005.csv.gz", "IsDepDelayed", "binomial",
                               rows=10_000, epochs=3,
                               drop=["ActualElapsedTime", "ArrDelay", "DepDelay", "ArrTime",
                                     "DepTime", "IsArrDelayed", "AirTime", "TaxiIn", "TaxiOut",
                                     "Cancelled", "CancellationCode", "Diverted",
                                     "CarrierDelay", "WeatherDelay", "NASDelay",
                                     "SecurityDelay", "LateAircraftDelay"]),
    "kddcup99_10pct": Spec("kddcup99_10pct/kddcup.data_10_percent.gz", "C42", "multinomial",
                           rows=10_000, epochs=3, header=False),
    "mnist": Spec("mnist/train.csv.gz", "C785", "multinomial", test="mnist/test.csv.gz",
                  rows=10_000, epochs=1, header=False),
}


def _read(path: Path, header: bool) -> pd.DataFrame:
    frame = pd.read_csv(path, header=0 if header else None, low_memory=False,
                        skipinitialspace=True)   # adult: " income", " Private"
    if not header:
        frame.columns = [f"C{j + 1}" for j in range(frame.shape[1])]
    return frame


def split_folder(name: str, spec: Spec) -> Path:
    """WORKDIR/parity/<name>-<digest of the spec>: a changed spec makes a new split."""
    digest = hashlib.sha1(repr(spec).encode()).hexdigest()[:8]
    return WORKDIR / "parity" / f"{name}-{digest}"


def prepare(name: str, spec: Spec) -> tuple[Path, Path]:
    """(train.csv, test.csv) of dataset ``name`` in ``split_folder``, made once."""
    folder = split_folder(name, spec)
    train_csv, test_csv = folder / "train.csv", folder / "test.csv"
    if train_csv.exists() and test_csv.exists():
        return train_csv, test_csv
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SPLIT_SEED)
    full = _read(DATA / spec.train, spec.header).drop(columns=spec.drop, errors="ignore")
    if spec.test:
        train = full
        test = _read(DATA / spec.test, spec.header).drop(columns=spec.drop, errors="ignore")
    else:
        order = rng.permutation(len(full))
        cut = int(0.8 * len(full))
        train, test = full.iloc[order[:cut]], full.iloc[order[cut:]]
    train = train.iloc[np.sort(rng.permutation(len(train))[:spec.rows])]
    test = test.iloc[np.sort(rng.permutation(len(test))[:max(spec.rows // 4, 1000)])]
    test = test[test[spec.response].notna()]
    train.to_csv(train_csv, index=False)
    test.to_csv(test_csv, index=False)
    return train_csv, test_csv


def metrics(task: str, truth: pd.Series, labels: np.ndarray, probs: np.ndarray | None,
            classes: list[str]) -> dict:
    """The test metrics of one model's predictions (the same code for both systems)."""
    from sklearn.metrics import log_loss, roc_auc_score
    if task == "regression":
        err = np.asarray(labels, dtype=float) - truth.to_numpy(dtype=float)
        return {"RMSE": float(np.sqrt(np.mean(err ** 2))), "deviance": float(np.mean(err ** 2))}
    y = truth.astype(str).to_numpy()
    out = {"error": float(np.mean(np.asarray(labels).astype(str) != y))}
    index = {c: j for j, c in enumerate(classes)}
    known = np.array([v in index for v in y])
    codes = np.array([index[v] for v in y[known]])
    p = np.clip(probs[known], 1e-15, 1)
    out["logloss"] = float(log_loss(codes, p / p.sum(axis=1, keepdims=True),
                                    labels=list(range(len(classes)))))
    if task == "binomial":
        out["AUC"] = float(roc_auc_score(codes, probs[known, 1]))
    return out


def run_mpidl_once(name, spec, setting, seed, train_csv, test_csv) -> dict:
    """Train mpidl, predict the test file, score the predictions."""
    params = {"training_frame": str(train_csv), "response_column": spec.response,
              "epochs": spec.epochs, "seed": seed, "quiet_mode": True, **SETTINGS[setting],
              **MPIDL_VARIANTS.get(setting, ("", {}))[1]}
    if spec.task != "regression":
        params["distribution"] = "bernoulli" if spec.task == "binomial" else "multinomial"
    tag = f"parity-{name}-{setting}-{seed}"
    info = run_mpidl(params, threads=2, tag=tag)
    preds = WORKDIR / f"{tag}.csv"
    subprocess.run([sys.executable, "-m", "mpidl", "predict", str(WORKDIR / f"{tag}.h5"),
                    str(test_csv), "-o", str(preds)], check=True, capture_output=True, cwd=ROOT)
    p = pd.read_csv(preds, dtype={"predict": str} if spec.task != "regression" else None)
    truth = pd.read_csv(test_csv, low_memory=False)[spec.response]
    if spec.task == "regression":
        return metrics(spec.task, truth, p["predict"].to_numpy(), None, [])
    classes = [str(c) for c in info["response_domain"]]
    return metrics(spec.task, truth, p["predict"].to_numpy(), p.iloc[:, 1:].to_numpy(), classes)


def run_h2o_once(h2o, name, spec, setting, seed, frames) -> dict:
    """Train H2O on the same files, predict the test file, score the predictions."""
    from h2o.estimators import H2ODeepLearningEstimator
    train, test = frames
    m = H2ODeepLearningEstimator(epochs=spec.epochs, seed=seed, **SETTINGS[setting])
    m.train(x=[c for c in train.names if c != spec.response], y=spec.response,
            training_frame=train)
    p = m.predict(test).as_data_frame(use_multi_thread=False)
    truth = pd.read_csv(split_folder(name, spec) / "test.csv", low_memory=False)[spec.response]
    h2o.remove(m)
    if spec.task == "regression":
        return metrics(spec.task, truth, p["predict"].to_numpy(), None, [])
    classes = train[spec.response].levels()[0]
    return metrics(spec.task, truth, p["predict"].astype(str).to_numpy(),
                   p.iloc[:, 1:].to_numpy(), classes)


def h2o_runs(h2o, name, spec, setting, seeds, frames) -> list[dict] | str:
    """H2O's metrics for each seed, or its exception (the last `...Exception: message`)
    when H2O cannot train."""
    try:
        return [run_h2o_once(h2o, name, spec, setting, s, frames) for s in seeds]
    except Exception as e:  # noqa: BLE001 - H2O's failure is a result to record
        cause = re.findall(r"\w+(?:Exception|Error): [^\n]*", str(e)) or [str(e)]
        return cause[-1][:100]


def h2o_frames(h2o, spec: Spec, train_csv: Path, test_csv: Path):
    train, test = h2o.import_file(str(train_csv)), h2o.import_file(str(test_csv))
    if spec.task != "regression":
        train[spec.response] = train[spec.response].asfactor()
        test[spec.response] = test[spec.response].asfactor()
    return train, test


def mean_se(values: list[float]) -> tuple[float, float]:
    se = statistics.stdev(values) / len(values) ** 0.5 if len(values) > 1 else 0.0
    return statistics.fmean(values), se


def rows_of(name: str, setting: str, theirs: list[dict] | str, ours: list[dict]) -> list[list]:
    """Table rows, one per metric: H2O, mpidl (mean +- se), difference in se (+ = mpidl worse);
    H2O's error instead of its figures where it failed (``theirs`` a string)."""
    out = []
    if isinstance(theirs, str):
        return [[name, setting, metric, f"fails: {theirs}", "%.4f ± %.4f" % mean_se(
            [r[metric] for r in ours]), ""] for metric in ours[0]]
    for metric in theirs[0]:
        (hm, hs), (om, osd) = (mean_se([r[metric] for r in runs]) for runs in (theirs, ours))
        sign = -1 if metric == "AUC" else 1
        se = (hs ** 2 + osd ** 2) ** 0.5
        z = sign * (om - hm) / se if se else 0.0
        out.append([name, setting, metric, f"{hm:.4f} ± {hs:.4f}", f"{om:.4f} ± {osd:.4f}",
                    f"{z:+.1f}" + (" **" if z > 2 else "")])
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", help="comma-separated names (default: all)")
    ap.add_argument("--settings", default="default,tuned",
                    help=",".join(SETTINGS) + " (an mpidl variant: the same H2O models as its base)")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--mem", default="4g")
    ap.add_argument("--reproducible", action="store_true",
                    help="both systems reproducible (one thread each): no Hogwild noise")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--record", action="store_true")
    ap.add_argument("--section", help="RESULTS.md section to record into (default parity)")
    args = ap.parse_args()
    names = args.datasets.split(",") if args.datasets else list(DATASETS)
    if args.list or any(n not in DATASETS for n in names):
        for n, s in DATASETS.items():
            print(f"{n}: {s.train} -> {s.response} ({s.task}), {s.epochs:g} epochs, "
                  f"<= {s.rows} rows")
        return 0 if args.list else 2
    warnings.simplefilter("ignore")
    why = h2o_unavailable(False)
    if why:
        sys.exit(f"parity: {why}")
    h2o = start_h2o(2, args.mem)
    rows = []
    for name in names:
        spec = DATASETS[name]
        train_csv, test_csv = prepare(name, spec)
        frames = h2o_frames(h2o, spec, train_csv, test_csv)
        h2o_done = {}     # H2O's runs by the parameters it trained with
        for setting in args.settings.split(","):
            if args.reproducible:
                SETTINGS[setting] = {**SETTINGS[setting], "reproducible": True}
            seeds = range(1, args.seeds + 1)
            key = repr(sorted(SETTINGS[setting].items()))
            if key not in h2o_done:
                h2o_done[key] = h2o_runs(h2o, name, spec, setting, seeds, frames)
            theirs = h2o_done[key]
            ours = [run_mpidl_once(name, spec, setting, s, train_csv, test_csv) for s in seeds]
            rows += rows_of(name, setting, theirs, ours)
            for r in rows_of(name, setting, theirs, ours):
                print(" | ".join(r), flush=True)
    threads = "reproducible, one thread each" if args.reproducible else "2 threads each"
    body = (f"H2O {h2o.cluster().version} ({java_version()}) and mpidl, {threads}, "
            f"seeds 1..{args.seeds} each; test metrics of each system's predictions by the same "
            "code (scikit-learn); mean ± standard error; last column (mpidl - H2O) in standard "
            "errors, + = mpidl worse, ** beyond 2.  Splits and epochs: `--list`.\n\n"
            + table(["dataset", "setting", "metric", "H2O", "mpidl", "diff (se)"], rows))
    if args.record:
        key = args.section or ("parity-reproducible" if args.reproducible else "parity")
        record(key, "Accuracy parity with H2O-3 across datasets", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
