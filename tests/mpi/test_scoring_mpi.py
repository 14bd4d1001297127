"""Distributed scoring: metrics from reduced sums and predictions written in rank order.

Every rank holds a block of one seeded data set; the metrics computed over the ranks must be
plain numpy's on the concatenated data, whatever the rank count (``mpirun -n 1/2/3/4``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mpidl.comm import SerialComm
from mpidl.data.hdf5 import block_range
from mpidl.dist_quantile import global_weighted_quantile
from mpidl.metrics import binomial_metrics, multinomial_metrics, regression_metrics
from mpidl.params import validate
from mpidl.predict import predict_to_csv
from mpidl.train.loop import train
from mpidl.train.setup import validation_score_set

pytestmark = pytest.mark.timeout(180, method="thread")

PROSTATE = str(Path(__file__).resolve().parents[2] / "data" / "prostate.csv")
N = 997   # odd: the blocks differ in size


def my_block(comm, *arrays):
    lo, hi = block_range(N, comm.size, comm.rank)
    return [a[lo:hi] for a in arrays]


def numpy_auc(y, p, w):
    """Exact weighted AUC: P(p_pos > p_neg) + P(tie) / 2 over weighted pairs."""
    pos, neg = y == 1, y == 0
    gt = (p[pos][:, None] > p[neg][None, :]) + 0.5 * (p[pos][:, None] == p[neg][None, :])
    ww = w[pos][:, None] * w[neg][None, :]
    return float((gt * ww).sum() / ww.sum())


@pytest.mark.mpi
def test_binomial_metrics_over_ranks_equal_numpy_on_all_rows(comm, everywhere):
    rng = np.random.default_rng(11)
    y = rng.integers(0, 2, N)
    p = np.round(np.clip(0.25 * y + 0.75 * rng.random(N), 0.01, 0.99), 2)   # < 400 distinct
    w = rng.choice([0.5, 1.0, 2.0], N)

    def body():
        m = binomial_metrics(*my_block(comm, y, p, w), comm=comm)
        assert m["nobs"] == N
        assert m["MSE"] == pytest.approx(np.sum(w * (y - p) ** 2) / w.sum(), rel=1e-12)
        p_act = np.where(y == 1, p, 1 - p)
        assert m["logloss"] == pytest.approx(-np.sum(w * np.log(p_act)) / w.sum(), rel=1e-12)
        assert m["AUC"] == pytest.approx(numpy_auc(y, p, w), rel=1e-12)
        t = m["max_f1_threshold"]
        pred = p >= t
        cm = [[w[(y == 0) & ~pred].sum(), w[(y == 0) & pred].sum()],
              [w[(y == 1) & ~pred].sum(), w[(y == 1) & pred].sum()]]
        np.testing.assert_allclose(m["confusion_matrix"], cm, rtol=1e-12)
        f1 = [2 * w[(p >= s) & (y == 1)].sum()
              / (w[p >= s].sum() + w[y == 1].sum()) for s in np.unique(p)]
        assert max(f1) == pytest.approx(2 * cm[1][1] / (cm[0][1] + cm[1][1] + w[y == 1].sum()))
    everywhere(body)


@pytest.mark.mpi
def test_multinomial_metrics_over_ranks_equal_numpy_on_all_rows(comm, everywhere):
    k = 5
    rng = np.random.default_rng(12)
    y = rng.integers(0, k, N)
    probs = rng.random((N, k)) + 2.0 * np.eye(k)[y] * rng.random((N, 1))
    probs /= probs.sum(axis=1, keepdims=True)
    w = rng.choice([1.0, 3.0], N)

    def body():
        for limit in (20, 4):   # with and without the confusion matrix
            m = multinomial_metrics(*my_block(comm, y, probs, w), max_confusion_matrix_size=limit,
                                    comm=comm)
            pred = probs.argmax(axis=1)
            p_act = probs[np.arange(N), y]
            assert m["MSE"] == pytest.approx(np.sum(w * (1 - p_act) ** 2) / w.sum(), rel=1e-12)
            assert m["classification_error"] == pytest.approx(w[pred != y].sum() / w.sum())
            per_class = [w[(y == c) & (pred != c)].sum() / w[y == c].sum() for c in range(k)]
            assert m["mean_per_class_error"] == pytest.approx(np.mean(per_class))
            order = np.argsort(-probs, axis=1, kind="stable")
            top = [np.sum(w * np.any(order[:, :j] == y[:, None], axis=1)) / w.sum()
                   for j in range(1, k + 1)]
            np.testing.assert_allclose(m["hit_ratios"], top, rtol=1e-12)
            if limit >= k:
                cm = np.zeros((k, k))
                np.add.at(cm, (y, pred), w)
                np.testing.assert_allclose(m["confusion_matrix"], cm)
            else:
                assert "confusion_matrix" not in m and "confusion_matrix_omitted" in m
    everywhere(body)


@pytest.mark.mpi
@pytest.mark.parametrize("dist", ["gaussian", "huber", "laplace"])
def test_regression_metrics_over_ranks_equal_numpy_on_all_rows(comm, everywhere, dist):
    rng = np.random.default_rng(13)
    y = rng.standard_normal(N) * 3 + 1
    f = y + rng.standard_normal(N)
    w = rng.integers(1, 4, N).astype(float)   # integer: a weight is a replication count

    def body():
        m = regression_metrics(*my_block(comm, y, f, w), distribution=dist, huber_alpha=0.8,
                               comm=comm)
        r = y - f
        assert m["MSE"] == pytest.approx(np.sum(w * r * r) / w.sum(), rel=1e-12)
        assert m["mae"] == pytest.approx(np.sum(w * np.abs(r)) / w.sum(), rel=1e-12)
        var = np.sum(w * (y - np.sum(w * y) / w.sum()) ** 2) / w.sum()
        assert m["r2"] == pytest.approx(1 - m["MSE"] / var, rel=1e-10)
        if dist == "huber":   # the deviance needs the global 0.8 quantile of |r|
            ref = regression_metrics(y, f, w, distribution="huber", huber_alpha=0.8)
            assert m["mean_residual_deviance"] == pytest.approx(ref["mean_residual_deviance"],
                                                                rel=1e-12)
        elif dist == "laplace":
            assert m["mean_residual_deviance"] == pytest.approx(m["mae"], rel=1e-12)
        else:
            assert m["mean_residual_deviance"] == pytest.approx(m["MSE"], rel=1e-12)
    everywhere(body)


@pytest.mark.mpi
@pytest.mark.parametrize("alpha", [0.0, 0.1, 0.5, 0.9, 1.0])
def test_quantile_over_ranks_is_numpys_on_the_replicated_rows(comm, everywhere, alpha):
    rng = np.random.default_rng(14)
    x = np.abs(rng.standard_normal(N)) * 5
    x[::7] = 2.5                                  # ties
    w = rng.integers(1, 4, N).astype(float)      # a weight is a replication count

    def body():
        got = global_weighted_quantile(*my_block(comm, x, w), alpha, comm)
        want = np.quantile(np.repeat(x, w.astype(int)), alpha)   # numpy's linear = H2O's
        assert got == pytest.approx(want, rel=1e-12)
    everywhere(body)


@pytest.mark.mpi
def test_predictions_under_mpirun_are_the_one_rank_file(comm, shared_dir, everywhere):
    model_path = str(shared_dir / "m.h5")
    params = validate(dict(training_frame=PROSTATE, response_column="CAPSULE",
                           ignored_columns=["ID"], distribution="bernoulli", hidden=[5],
                           epochs=1, seed=3, reproducible=True), "test")
    model = train(params, comm, 1, model_path, "pred", log=lambda *a, **k: None)
    model = comm.bcast_obj(model)

    def body():
        out = str(shared_dir / "mpi.csv")
        n = predict_to_csv(model, PROSTATE, out, comm, 1)
        assert n == 380
        comm.barrier()
        if comm.is_root:
            one = str(shared_dir / "one.csv")
            predict_to_csv(model, PROSTATE, one, SerialComm(), 1)
            assert Path(out).read_bytes() == Path(one).read_bytes()
            assert len(Path(out).read_text().splitlines()) == 381
    everywhere(body)


@pytest.mark.mpi
def test_validation_sample_is_the_one_rank_sample_whatever_the_rank_count(comm, shared_dir,
                                                                          everywhere):
    params = validate(dict(training_frame=PROSTATE, response_column="CAPSULE",
                           ignored_columns=["ID"], distribution="bernoulli", hidden=[3],
                           epochs=1, seed=5, reproducible=True), "test")
    model = train(params, comm, 1, str(shared_dir / "v.h5"), "v", log=lambda *a, **k: None)
    model = comm.bcast_obj(model)
    model.params = model.params.replace(validation_frame=PROSTATE, score_validation_samples=100)

    def body():
        mine = validation_score_set(model, comm)
        parts = comm.allgather_obj((mine.nums, mine.y))
        nums = np.concatenate([p[0] for p in parts])
        alone = validation_score_set(model, SerialComm())
        assert 50 < alone.n < 150                 # a Bernoulli sample of about 100 of 380
        np.testing.assert_array_equal(nums, alone.nums)
        np.testing.assert_array_equal(np.concatenate([p[1] for p in parts]), alone.y)
    everywhere(body)
