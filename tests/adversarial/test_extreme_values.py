"""Adversarial cases: columns and weights at the ends of float64.

A column of +-1e308 used to give NaN standardization constants, numpy overflow warnings on
stderr and a model that never learned (exit 0); weights of 1e308 a wrong error.  Now such a
column trains like any other (the model learns y = 2 [a > 0] + noise: training r2 far above a
dead model's 0, and nothing on stderr), and what cannot be used is refused naming the column.
"""

import json

import h5py
import numpy as np
import pytest
from harness import fingerprint, refused, run

pytestmark = [pytest.mark.adversarial, pytest.mark.mpi_skip]


def _frame(tmp_path, a_values, weights=None, extra=""):
    rng = np.random.default_rng(11)
    a = np.asarray(a_values, dtype=np.float64)
    y = 2.0 * (a > 0) + rng.normal(0, 0.1, a.size)
    header = "a,b,y" + (",w" if weights is not None else "")
    lines = [f"{float(ai)!r},{rng.normal():.5f},{yi:.5f}" +
             (f",{float(weights[i])!r}" if weights is not None else "")
             for i, (ai, yi) in enumerate(zip(a, y))]
    (tmp_path / "f.csv").write_text(header + "\n" + "\n".join(lines) + "\n")
    (tmp_path / "job.toml").write_text('training_frame = "f.csv"\nresponse_column = "y"\n'
                                       'hidden = [8]\nepochs = 20\nseed = 3\n'
                                       'reproducible = true\n' + extra)
    return tmp_path / "job.toml"


def _signs(n=300, big=1e308):
    return np.where(np.random.default_rng(2).random(n) < 0.5, -big, big)


@pytest.mark.parametrize("big,ranks", [(1e308, None), (1e308, 2), (-1e200, None)])
def test_huge_column_trains_a_live_model_quietly(tmp_path, big, ranks):
    job = _frame(tmp_path, _signs(big=abs(big)))
    proc = run(["train", job, "-o", "m.h5"], cwd=tmp_path, ranks=ranks)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == "", proc.stderr          # no numpy warnings
    report = json.loads(run(["inspect", "m.h5", "--json"], cwd=tmp_path).stdout)
    assert report["training_metrics"]["r2"] > 0.5         # a dead model scores ~0


def test_huge_weights_are_refused_naming_the_column(tmp_path):
    w = np.ones(300)
    w[::2] = 1e308
    job = _frame(tmp_path, np.random.default_rng(0).normal(size=300), w,
                 'weights_column = "w"\n')
    refused(run(["train", job], cwd=tmp_path), "f.csv", "weights column 'w'", "1e+308")


def test_huge_weights_under_mpirun(tmp_path):
    w = np.ones(300)
    w[-1] = 1e200                                           # on the last rank's shard only
    job = _frame(tmp_path, np.random.default_rng(0).normal(size=300), w,
                 'weights_column = "w"\n')
    model = tmp_path / "m.h5"
    model.write_bytes(b"an older model")
    before = fingerprint([model])
    refused(run(["train", job, "-o", model], cwd=tmp_path, ranks=2), "weights column 'w'",
            untouched=before)


def test_sd_too_small_to_standardize(tmp_path):
    job = _frame(tmp_path, np.where(np.arange(300) % 2 == 0, 0.0, 1e-310))
    refused(run(["train", job], cwd=tmp_path), "f.csv", "column 'a'", "standard deviation")


def test_unstandardized_values_beyond_float32(tmp_path):
    job = _frame(tmp_path, _signs(big=1e300), extra="standardize = false\n")
    refused(run(["train", job], cwd=tmp_path, ranks=2), "f.csv", "column 'a'", "standardize")


@pytest.mark.parametrize("value", [np.inf, -np.inf])
def test_infinite_values_in_a_table(tmp_path, value):
    job = _frame(tmp_path, np.random.default_rng(0).normal(size=300))
    assert run(["import", "f.csv", "-o", "t.h5"], cwd=tmp_path).returncode == 0
    with h5py.File(tmp_path / "t.h5", "a") as f:
        f["table"]["c0000"][7] = value
    refused(run(["train", job, "--set", 'training_frame="t.h5"'], cwd=tmp_path),
            "t.h5", "column 'a'", "infinite")


def _scoring_frame(tmp_path, big):
    rng = np.random.default_rng(4)
    lines = [f"{big if i == 17 else rng.normal()!r},{rng.normal():.5f},{rng.normal():.5f}"
             for i in range(60)]
    (tmp_path / "far.csv").write_text("a,b,y\n" + "\n".join(lines) + "\n")


@pytest.mark.parametrize("big,ranks", [(1e308, None), (-1e300, 2)])
def test_scoring_frame_beyond_float32_inputs(tmp_path, big, ranks):
    job = _frame(tmp_path, np.random.default_rng(0).normal(size=300))
    assert run(["train", job, "-o", "m.h5"], cwd=tmp_path).returncode == 0
    _scoring_frame(tmp_path, big)
    refused(run(["predict", "m.h5", "far.csv", "-o", "p.csv"], cwd=tmp_path, ranks=ranks),
            "far.csv", "column 'a'", "float32")
    assert not (tmp_path / "p.csv").exists()


def test_validation_frame_beyond_float32_inputs(tmp_path):
    job = _frame(tmp_path, np.random.default_rng(0).normal(size=300))
    _scoring_frame(tmp_path, 1e250)
    refused(run(["train", job, "--set", 'validation_frame="far.csv"', "-o", "m.h5"],
                cwd=tmp_path), "far.csv", "column 'a'", "float32")
    assert not (tmp_path / "m.h5").exists()
