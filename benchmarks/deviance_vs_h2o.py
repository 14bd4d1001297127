"""mean_residual_deviance: mpidl's metric code on H2O-3's own predictions vs H2O's reported value.

    pip install h2o                                   # bundles h2o.jar; needs Java 8+
    python benchmarks/deviance_vs_h2o.py              # print the table
    python benchmarks/deviance_vs_h2o.py --record     # and write it to benchmarks/RESULTS.md

For each regression distribution and seed, the real H2O-3 trains a Deep Learning model on Boston
Housing (``/work/shared/data/boston_housing``: 506 rows, response ``medv``, all positive, so
poisson, gamma and tweedie apply), predicts the training frame, and reports
``model_performance(train).mean_residual_deviance()``.  mpidl's ``metrics.regression_metrics``
is then applied to the same predictions and responses.  Same formula and same predictions must
give the same number: the table shows both (means over seeds ± standard deviation) and the
largest relative difference over the seeds.  H2O runs in one local JVM started and stopped by
this script (a fresh port, never a cluster someone else started).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, record, start_h2o, table  # noqa: E402
from vs_h2o import h2o_unavailable, java_version  # noqa: E402

from mpidl.metrics import regression_metrics  # noqa: E402

BOSTON = ROOT.parent / "shared" / "data" / "boston_housing" / "BostonHousing.csv"
RESPONSE = "medv"
DISTRIBUTIONS = ("gaussian", "poisson", "gamma", "tweedie", "laplace", "quantile", "huber")
# distribution parameters away from H2O's defaults where that exercises more of the formula
EXTRA = {"tweedie": {"tweedie_power": 1.3}, "quantile": {"quantile_alpha": 0.3},
         "huber": {"huber_alpha": 0.8}}


def h2o_deviances(h2o, frame, dist: str, seed: int, epochs: float) -> tuple[float, float]:
    """(H2O's reported deviance, mpidl's deviance of H2O's predictions) for one model."""
    from h2o.estimators import H2ODeepLearningEstimator
    extra = EXTRA.get(dist, {})
    m = H2ODeepLearningEstimator(distribution=dist, hidden=[10, 10], epochs=epochs, seed=seed,
                                 reproducible=True, **extra)
    x = [c for c in frame.names if c != RESPONSE]
    m.train(x=x, y=RESPONSE, training_frame=frame)
    reported = float(m.model_performance(frame).mean_residual_deviance())
    preds = h2o.as_list(m.predict(frame), use_pandas=False, header=False)
    actual = h2o.as_list(frame[RESPONSE], use_pandas=False, header=False)
    f = [float(r[0]) for r in preds]
    y = [float(r[0]) for r in actual]
    ours = regression_metrics(y, f, distribution=dist, **extra)["mean_residual_deviance"]
    h2o.remove(m)
    return reported, float(ours)


def mean_sd(values: list[float]) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.6g} ± {sd:.2g}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=3, help="models per distribution (default 3)")
    ap.add_argument("--epochs", type=float, default=10.0, help="H2O epochs (default 10)")
    ap.add_argument("--threads", type=int, default=1, help="H2O nthreads (default 1)")
    ap.add_argument("--mem", default="2g", help="H2O max_mem_size (default 2g)")
    ap.add_argument("--record", action="store_true", help="write the table to RESULTS.md")
    args = ap.parse_args()
    why = h2o_unavailable(False)
    if why:
        sys.exit(f"deviance_vs_h2o: {why}")
    if not BOSTON.exists():
        sys.exit(f"{BOSTON}: Boston Housing not found")
    h2o = start_h2o(args.threads, args.mem)
    version = h2o.cluster().version
    frame = h2o.import_file(str(BOSTON))
    rows, worst = [], 0.0
    for dist in DISTRIBUTIONS:
        pairs = [h2o_deviances(h2o, frame, dist, seed, args.epochs)
                 for seed in range(1, args.seeds + 1)]
        rel = max(abs(o - r) / abs(r) if r else abs(o) for r, o in pairs)
        worst = max(worst, rel) if math.isfinite(rel) else math.inf
        params = ", ".join(f"{k} {v}" for k, v in EXTRA.get(dist, {}).items())
        rows.append([dist + (f" ({params})" if params else ""), mean_sd([r for r, _ in pairs]),
                     mean_sd([o for _, o in pairs]), f"{rel:.1e}"])
        print(" | ".join(rows[-1]), flush=True)
    body = (f"H2O {version} ({java_version()}), DeepLearning hidden [10, 10], {args.epochs:g} "
            f"epochs, reproducible, seeds 1..{args.seeds}, on Boston Housing (506 rows, response "
            "medv); deviance of the training frame's predictions.  Columns: H2O's "
            "`model_performance(train).mean_residual_deviance()`, mpidl's "
            "`metrics.regression_metrics` on H2O's downloaded predictions (means over seeds ± "
            "sd), and the largest relative difference over the seeds.\n\n"
            + table(["distribution", "H2O reported", "mpidl on H2O's predictions",
                     "max rel. diff."], rows))
    print(f"largest relative difference: {worst:.1e}")
    if args.record:
        record("deviance_vs_h2o", "mean_residual_deviance: mpidl's metric vs H2O-3", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
