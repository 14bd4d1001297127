"""Convergence on the staged real data sets, driven through the command line as a user would.

Each test trains with the settings recorded in its docstring (the job files in jobs/ with
``--set`` overrides where one exists) and asserts an error level stated in the brief; the
levels leave a margin over what was measured on a 2-core machine with ``--threads 2`` (noted per
test), so a regression in the trainer makes them fail.  Data: ../shared/data (tests/shared_data.py: skipped when absent, failed
with MPIDL_REQUIRE_DATA=1 as .ci/run sets).
"""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from launcher import mpirun_argv
from shared_data import need

REPO = Path(__file__).resolve().parents[1]
JOBS = REPO / "jobs"
THREADS = "2"


def _run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.run([sys.executable, "-m", "mpidl", *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=REPO)
    assert proc.returncode == 0, (
        f"mpidl {' '.join(args)} exited {proc.returncode}\nstdout:\n{proc.stdout[-3000:]}"
        f"\nstderr:\n{proc.stderr[-3000:]}")
    return proc


def _train(job: Path, out: Path, *sets: str, timeout: float = 300) -> dict:
    """Train ``job`` with ``--set`` overrides; returns ``inspect --json`` of the model."""
    args = ["train", str(job), "--threads", THREADS, "-o", str(out)]
    for s in sets:
        args += ["--set", s]
    _run(*args, timeout=timeout)
    assert out.exists()
    return json.loads(_run("inspect", str(out), "--json").stdout)


def _job(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("real_data")


@pytest.fixture(scope="module")
def mnist(work) -> tuple[Path, Path]:
    """MNIST train/test imported once per module (~10 s), response C785 categorical."""
    train_csv, test_csv = need("mnist/train.csv.gz", "mnist/test.csv.gz")
    out = []
    for src, name in ((train_csv, "mnist_train.h5"), (test_csv, "mnist_test.h5")):
        dst = work / name
        _run("import", str(src), "-o", str(dst), "--categorical", "C785")
        out.append(dst)
    return out[0], out[1]


# ------------------------------------------------------------------------------------ MNIST

@pytest.mark.slow
def test_mnist_default_network_one_epoch(work, mnist):
    """jobs/mnist.toml: H2O defaults (hidden [200,200], Rectifier, ADADELTA), 1 epoch, seed 1234,
    2 threads, validation = the 10k test set.  Hogwild threads make the result vary from run to
    run: measured 0.045-0.051 on a quiet machine (0.0489 on 2026-12-03), 0.0512 and 0.0551 in
    CI runs, whose two lanes load both cores (the threads interleave otherwise); H2O-3 3.46 on
    the same job measured 0.0478, and 0.0440 +- 0.0010 over 6 seeds (benchmarks/RESULTS.md,
    "accuracy").  The limit is the single-run H2O figure plus 1 point: a sanity bound (a
    broken rule lands far above it); parity over seeds is benchmarks/parity.py's."""
    train_h5, test_h5 = mnist
    m = _train(JOBS / "mnist.toml", work / "mnist.h5", f"training_frame={train_h5}",
               f"validation_frame={test_h5}")
    p = m["parameters"]
    assert p["hidden"] == [200, 200] and p["activation"] == "Rectifier" and p["adaptive_rate"]
    assert m["response_domain"] == [str(d) for d in range(10)]
    # the run trains exactly 1 epoch; the kept model (overwrite_with_best_model) may be an
    # earlier scoring point's, as in H2O
    assert m["run"]["epochs"] == pytest.approx(1.0)
    assert 0 < m["epochs"] <= m["run"]["epochs"]
    err = m["validation_metrics"]["classification_error"]
    assert m["validation_metrics"]["nobs"] == 10000
    print(f"MNIST test classification error {err:.4f}")
    assert err <= 0.058, f"MNIST test error {err:.4f} > 0.058"


@pytest.mark.slow
def test_mnist_adam_minibatches(work, mnist):
    """jobs/mnist.toml with mini-batches of 32 and Adam (adaptive_rate_method, an mpidl
    extension) at rate 0.001 for 1 epoch on 2 threads, H2O's standardized inputs and init.
    Hogwild threads make it vary from run to run: measured 0.053-0.065 over eight runs on two
    machines (Adam without bias correction, or with a wrong sign, is far off).
    The recipe that beats PyTorch's time to 2 % is in benchmarks/RESULTS.md."""
    train_h5, test_h5 = mnist
    m = _train(JOBS / "mnist.toml", work / "adam.h5", f"training_frame={train_h5}",
               f"validation_frame={test_h5}", 'adaptive_rate_method="Adam"', "rate=0.001",
               "mini_batch_size=32")
    p = m["parameters"]
    assert p["adaptive_rate_method"] == "Adam" and p["rate"] == 0.001 and p["rho"] == 0
    err = m["validation_metrics"]["classification_error"]
    print(f"MNIST Adam test classification error {err:.4f}")
    assert err <= 0.075, f"MNIST Adam test error {err:.4f} > 0.075"


@pytest.mark.slow
def test_mnist_world_record_settings_learn(work, mnist):
    """jobs/world_record.toml (hidden [1024,1024,2048], RectifierWithDropout, input dropout 0.2,
    l1 1e-5, max_w2 10) for 0.1 epoch in iterations of 2000 rows, scored on 1000 sampled rows
    each iteration: the training logloss falls (measured 0.57 -> 0.45 and 0.61 -> 0.37)."""
    train_h5, test_h5 = mnist
    m = _train(JOBS / "world_record.toml", work / "wr.h5", f"training_frame={train_h5}",
               f"validation_frame={test_h5}", "epochs=0.1", "train_samples_per_iteration=2000",
               "score_training_samples=1000", "score_validation_samples=1000",
               "score_each_iteration=true")
    p = m["parameters"]
    assert p["hidden"] == [1024, 1024, 2048] and p["activation"] == "RectifierWithDropout"
    assert p["input_dropout_ratio"] == 0.2 and p["l1"] == 1e-5 and p["max_w2"] == 10
    assert [l["type"] for l in m["layers"]] == ["Input", "RectifierDropout", "RectifierDropout",
                                                "RectifierDropout", "Softmax"]
    hist = m["scoring_history"]
    assert len(hist) >= 3
    losses = [h["training_logloss"] for h in hist]
    assert all(math.isfinite(v) for v in losses), losses
    assert all(math.isfinite(h["validation_logloss"]) for h in hist)
    print(f"world-record settings: training logloss {losses}")
    assert losses[-1] < losses[0], f"training logloss did not fall: {losses}"


@pytest.mark.slow
def test_mnist_best_job_learns_within_its_time_limit(work, mnist):
    """jobs/mnist_best.toml (mini-batches of 128, Adam, dropout 0.2 / 0.5, max_w2) cut to 25 s:
    stopped by max_runtime_secs, below 4 % test error (measured 2.4-2.5 % at 20-25 s alone on 2
    threads; its one-hour curve: RESULTS.md mnist_best)."""
    train_h5, test_h5 = mnist
    m = _train(JOBS / "mnist_best.toml", work / "best.h5", f"training_frame={train_h5}",
               f"validation_frame={test_h5}", "max_runtime_secs=25", "score_interval=5")
    p = m["parameters"]
    assert p["mini_batch_size"] == 128 and p["adaptive_rate_method"] == "Adam"
    assert p["stopping_rounds"] == 0 and p["overwrite_with_best_model"] is False
    assert m["stop_reason"] == "max_runtime_secs"
    err = m["validation_metrics"]["classification_error"]
    print(f"mnist_best for 25 s: {m['epochs']:.1f} epochs, test error {err:.4f}")
    assert err < 0.04


@pytest.mark.slow
def test_mnist_two_ranks_match_one_rank_at_equal_samples(work, mnist):
    """jobs/mnist.toml for 1 epoch with 1 thread per rank: ``mpirun -n 2`` with each rank on its
    own half of the rows (replicate_training_data = false, models averaged every 6000 global
    samples, i.e. 10 times an epoch, each iteration a fresh sample of the rank's rows) reaches a
    test error within 0.5 points of one rank passing once over all 60k rows in one iteration.
    One thread per rank and fixed iteration sizes make both runs deterministic on a given machine
    (an auto-tuned size depends on measured timings).  Measured: 1 rank 0.0463, 2 ranks 0.0489."""
    train_h5, test_h5 = mnist
    sets = [f"training_frame={train_h5}", f"validation_frame={test_h5}",
            "replicate_training_data=false", "score_training_samples=1000"]
    errs = {}
    for ranks, tspi in ((1, 0), (2, 6000)):
        out = work / f"mnist_n{ranks}.h5"
        args = ["train", str(JOBS / "mnist.toml"), "--threads", "1", "-o", str(out)]
        for s in sets + [f"train_samples_per_iteration={tspi}"]:
            args += ["--set", s]
        cmd = [sys.executable, "-m", "mpidl", *args]
        if ranks > 1:
            cmd = mpirun_argv(ranks) + cmd
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=REPO)
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        m = json.loads(_run("inspect", str(out), "--json").stdout)
        assert m["nranks"] == ranks
        assert m["epochs"] == pytest.approx(1.0, abs=0.11)
        errs[ranks] = m["validation_metrics"]["classification_error"]
    print(f"MNIST test error: 1 rank {errs[1]:.4f}, 2 ranks {errs[2]:.4f}")
    assert abs(errs[2] - errs[1]) <= 0.005, errs


# ------------------------------------------------------------------------------------ HIGGS

def test_higgs_validation_auc(work):
    """jobs/higgs.toml: RectifierWithDropout [200,200] (hidden dropout 0.2), 20 epochs of one
    iteration each, scored every iteration, best model by validation logloss (H2O default).
    Measured test AUC 0.745-0.750 over 4 seeds (~12 s); H2O AutoML's DL models: 0.69-0.74."""
    train, test = need("higgs_10k/higgs_train_10k.csv", "higgs_10k/higgs_test_5k.csv")
    m = _train(JOBS / "higgs.toml", work / "higgs.h5", f"training_frame={train}",
               f"validation_frame={test}")
    assert m["parameters"]["distribution"] == "bernoulli"
    assert m["response_domain"] == ["0", "1"]
    v = m["validation_metrics"]
    assert v["nobs"] == 5000
    print(f"HIGGS test AUC {v['AUC']:.4f}")
    assert v["AUC"] >= 0.72, f"HIGGS test AUC {v['AUC']:.4f} < 0.72"


# ------------------------------------------------------------------- prostate and weather

def test_prostate_capsule_training_auc(work):
    """CAPSULE ~ everything but ID, bernoulli, Rectifier [50,50], 50 epochs.  Measured training
    AUC ~0.84 (20 epochs) to ~0.9."""
    (csvfile,) = need("prostate/prostate.csv")
    job = _job(work / "prostate.toml", f"""
training_frame = "{csvfile}"
response_column = "CAPSULE"
ignored_columns = ["ID"]
distribution = "bernoulli"
hidden = [50, 50]
epochs = 50
seed = 1234
""")
    m = _train(job, work / "prostate.h5")
    t = m["training_metrics"]
    assert t["nobs"] == 380
    assert all(math.isfinite(t[k]) for k in ("logloss", "MSE", "AUC"))
    print(f"prostate training AUC {t['AUC']:.4f}")
    assert t["AUC"] > 0.8, f"prostate training AUC {t['AUC']:.4f} <= 0.8"


def test_weather_categoricals_and_missing(work):
    """jobs/weather.toml: RainTomorrow, Date and RISK_MM ignored, 5 categoricals and NAs,
    RectifierWithDropout [50,50] with input dropout 0.1, 50 epochs.  Measured training AUC 0.91
    (0.9995 without dropout)."""
    (csvfile,) = need("weather/weather.csv")
    m = _train(JOBS / "weather.toml", work / "weather.h5", f"training_frame={csvfile}")
    # 16 numeric predictors (RainToday is numeric 0/1) + the one-hot levels of the 5 categoricals
    # (2+2+4+4+3) + one missing-value level per categorical (H2O's DataInfo with mean imputation)
    assert m["layers"][0]["units"] == 16 + 15 + 5
    t = m["training_metrics"]
    assert t["nobs"] == 355
    assert all(math.isfinite(t[k]) for k in ("logloss", "MSE", "AUC"))
    print(f"weather training AUC {t['AUC']:.4f}")
    assert t["AUC"] > 0.8, f"weather training AUC {t['AUC']:.4f} <= 0.8"


# ------------------------------------------------------------------------- Boston housing

def _split_boston(src: Path, work: Path) -> tuple[Path, Path]:
    """Deterministic 80/20 row split (numpy seed 20240), rows kept in file order."""
    with open(src, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    perm = np.random.default_rng(20240).permutation(len(body))
    ntrain = int(round(0.8 * len(body)))
    out = []
    for name, idx in (("boston_train.csv", perm[:ntrain]), ("boston_valid.csv", perm[ntrain:])):
        path = work / name
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            w.writerows(body[i] for i in sorted(idx))
        out.append(path)
    return out[0], out[1]


def test_boston_regression_validation_r2(work):
    """jobs/boston.toml on an 80/20 split (405/101 rows): Rectifier [100,100], 50 epochs, scored
    every iteration, no early stopping, best model by validation deviance.  Measured validation
    r2 0.77-0.84 over 6 seeds."""
    (src,) = need("boston_housing/BostonHousing.csv")
    train, valid = _split_boston(src, work)
    m = _train(JOBS / "boston.toml", work / "boston.h5", f"training_frame={train}",
               f"validation_frame={valid}")
    assert m["response_domain"] in (None, [])
    assert m["parameters"]["distribution"] == "gaussian"
    v = m["validation_metrics"]
    assert v["nobs"] == 101
    assert math.isfinite(v["MSE"]) and v["RMSE"] == pytest.approx(math.sqrt(v["MSE"]))
    print(f"Boston validation r2 {v['r2']:.4f}")
    assert v["r2"] >= 0.75, f"Boston validation r2 {v['r2']:.4f} < 0.75"


# ----------------------------------------------------------------------------------- iris

def test_iris_multiclass_training_error(work):
    """3 classes, 4 numeric predictors: Rectifier [20,20], 50 epochs.  Measured training error
    0.013."""
    (csvfile,) = need("iris/iris_wheader.csv")
    job = _job(work / "iris.toml", f"""
training_frame = "{csvfile}"
response_column = "class"
hidden = [20, 20]
epochs = 50
seed = 1234
""")
    m = _train(job, work / "iris.h5")
    assert m["response_domain"] == ["Iris-setosa", "Iris-versicolor", "Iris-virginica"]
    assert m["parameters"]["distribution"] == "multinomial"
    t = m["training_metrics"]
    assert t["nobs"] == 150
    print(f"iris training error {t['classification_error']:.4f}")
    assert t["classification_error"] < 0.1, f"iris training error {t['classification_error']}"
