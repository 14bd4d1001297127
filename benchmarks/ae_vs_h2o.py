"""Autoencoders on MNIST, mpidl next to H2O-3 (issue 13's evidence), in one run:

* accuracy: the booklet's autoencoder (Tanh, hidden [50], l1 1e-5, ignore_const_cols false,
  1 epoch) trained by both systems with seeds 1..N; the test set's reconstruction MSE
  (H2O: the mean of ``anomaly(test)``; mpidl: the validation metric on the whole test set);
* fine-tune (mpidl): a Tanh [50] classifier of C785 for 1 epoch, from that autoencoder
  (``pretrained_autoencoder``) and from scratch, same seeds; test classification error;
* speed: an autoencoder [128, 64, 128] (Tanh, else H2O's defaults), both systems, ``--epochs``
  each; samples/s of training time without scoring (H2O's ``training_speed``).

Both systems use ``--threads`` threads (H2O: ``nthreads``), score as little as vs_h2o.py
(``score_training_samples=100``, ``score_duty_cycle=0``) and train Hogwild, not reproducible.
Figures are means over the seeds with the standard error of the mean.

    pip install h2o && python benchmarks/ae_vs_h2o.py --seeds 3 --record
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import warnings

import common
from vs_h2o import COMMON, H2OSide, h2o_unavailable

BOOKLET = {"activation": "Tanh", "hidden": [50], "l1": 1e-5, "ignore_const_cols": False}
# Tanh: H2O's Rectifier autoencoder [128,64,128] diverged here ("unstable model"), its output
# layer being an unbounded Rectifier trained without the activation's derivative
SPEED = {"activation": "Tanh", "hidden": [128, 64, 128]}


def h2o_autoencoder(side: H2OSide, params: dict, epochs: float, seed: int) -> dict:
    """Train an H2O autoencoder on the MNIST pixels: test MSE and training speed."""
    from h2o.estimators import H2ODeepLearningEstimator
    m = H2ODeepLearningEstimator(autoencoder=True, epochs=epochs,
                                 **{**COMMON, **params, "seed": seed})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m.train(x=side.x, training_frame=side.train)
    hist = m._model_json["output"]["scoring_history"]
    last = dict(zip(hist.col_header, hist.cell_values[-1]))
    speed = float(re.match(r"\s*([\d.eE+-]+)", str(last["training_speed"])).group(1))
    # the mean of h2o.anomaly's per-row Reconstruction.MSE (H2O's autoencoder MSE; its
    # model_performance(test).mse() read NaN here)
    mse = float(m.anomaly(side.test).mean()[0])
    side.h2o.remove(m)
    return {"mse": mse, "speed": speed, "samples": int(float(last["samples"]))}


def mpidl_job(params: dict, epochs: float, seed: int, train_h5: str, test_h5: str,
              threads: int, tag: str, supervised: bool = False, pretrained: str = "") -> dict:
    """Train with mpidl: test MSE (autoencoder) or classification error, and speed."""
    job = {"training_frame": train_h5, "validation_frame": test_h5, "epochs": epochs,
           "score_validation_samples": 0, **COMMON, **params, "seed": seed}
    if supervised:
        job["response_column"] = "C785"
    else:
        job.update(autoencoder=True, ignored_columns=["C785"])
    if pretrained:
        job["pretrained_autoencoder"] = pretrained
    info = common.run_mpidl(job, threads, tag=tag)
    v = info["validation_metrics"]
    return {"mse": v.get("MSE"), "error": v.get("classification_error"),
            "speed": float(info["speed"]), "model": str(common.WORKDIR / f"{tag}.h5")}


def _note(rows: dict, key: str, value: float, seed: int) -> None:
    rows[key].append(value)
    print(f"seed {seed}: {key} {value:.6g}", flush=True)


def mean_se(values: list[float]) -> str:
    """'mean ± standard error of the mean' of ``values``."""
    m = statistics.fmean(values)
    se = statistics.stdev(values) / len(values) ** 0.5 if len(values) > 1 else float("nan")
    return f"{m:.5g} ± {se:.2g}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=float, default=0.1, help="epochs of the speed rows")
    ap.add_argument("--mem", default="4g")
    ap.add_argument("--record", action="store_true")
    a = ap.parse_args()
    why = h2o_unavailable(False)
    if why:
        sys.exit(f"H2O unavailable: {why}")
    train_h5, test_h5 = common.mnist_h5()
    side = H2OSide(a.threads, a.mem, str(common.MNIST / "train.csv.gz"),
                   str(common.MNIST / "test.csv.gz"))
    rows = {"h2o_mse": [], "mpidl_mse": [], "pre_err": [], "scratch_err": [],
            "h2o_speed": [], "mpidl_speed": []}
    seeds = range(1, a.seeds + 1)
    for seed in seeds:   # accuracy first, then speed: each figure printed as it comes
        _note(rows, "h2o_mse", h2o_autoencoder(side, BOOKLET, 1.0, seed)["mse"], seed)
        ae = mpidl_job(BOOKLET, 1.0, seed, train_h5, test_h5, a.threads, f"ae{seed}")
        _note(rows, "mpidl_mse", ae["mse"], seed)
        for key, pre in (("pre_err", ae["model"]), ("scratch_err", "")):
            _note(rows, key, mpidl_job(BOOKLET, 1.0, seed, train_h5, test_h5, a.threads,
                                       f"sup{seed}", supervised=True,
                                       pretrained=pre)["error"], seed)
    for seed in seeds:
        _note(rows, "h2o_speed", h2o_autoencoder(side, SPEED, a.epochs, seed)["speed"], seed)
        _note(rows, "mpidl_speed", mpidl_job(SPEED, a.epochs, seed, train_h5, test_h5,
                                             a.threads, f"speed{seed}")["speed"], seed)
    side.close()
    ratio = statistics.fmean(rows["mpidl_speed"]) / statistics.fmean(rows["h2o_speed"])
    body = (f"H2O-3 {side.version}; {a.threads} threads each; seeds 1-{a.seeds}; means ± "
            "standard error of the mean.\n\n" + common.table(
                ["run", "H2O-3", "mpidl"],
                [["autoencoder Tanh [50], l1 1e-5, 1 epoch: test reconstruction MSE",
                  mean_se(rows["h2o_mse"]), mean_se(rows["mpidl_mse"])],
                 ["classifier Tanh [50], 1 epoch, from that autoencoder: test error", "-",
                  mean_se(rows["pre_err"])],
                 ["classifier Tanh [50], 1 epoch, from scratch: test error", "-",
                  mean_se(rows["scratch_err"])],
                 [f"autoencoder Tanh [128,64,128], {a.epochs:g} epochs: samples/s",
                  mean_se(rows["h2o_speed"]), f"{mean_se(rows['mpidl_speed'])} "
                  f"({ratio:.1f}x)"]]))
    print(body)
    if a.record:
        common.record("ae_vs_h2o", "Autoencoders on MNIST: mpidl and H2O-3", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
