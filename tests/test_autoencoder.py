"""Autoencoders end to end, through the command line, on H2O's ECG example (spec 11; data:
../shared/data/ecg_discord, PROVENANCE.md): jobs/ecg_autoencoder.toml trained on the 20 normal
heartbeats, then ``anomaly``, ``predict`` and ``features`` on the test file (the same 20
beats and 3 anomalous ones, its last rows).

References are independent of mpidl's scoring: H2O's NORMALIZE transform and the
reconstruction MSE computed here with numpy from the raw CSVs, and the hidden layer from the
model's weights with numpy.  Also: a pretrained autoencoder's layers seed a supervised model.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from shared_data import need

REPO = Path(__file__).resolve().parents[1]


def _mpidl(*args, cwd) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "mpidl", *map(str, args)], capture_output=True,
                          text=True, timeout=300, cwd=cwd)
    assert proc.returncode == 0, f"mpidl {args} exited {proc.returncode}:\n{proc.stderr}"
    return proc


def _csv(path) -> tuple[list[str], np.ndarray]:
    with open(path) as f:
        names = f.readline().strip().split(",")
    return names, np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)


@pytest.fixture(scope="module")
def ecg(tmp_path_factory):
    """(folder, model, train csv, test csv) after training jobs/ecg_autoencoder.toml."""
    train, test = need("ecg_discord/ecg_discord_train.csv", "ecg_discord/ecg_discord_test.csv")
    folder = tmp_path_factory.mktemp("ecg")
    model = folder / "ecg.h5"
    _mpidl("train", REPO / "jobs" / "ecg_autoencoder.toml", "--threads", "1", "-o", model,
           "--set", f'training_frame="{train}"', "--set", f'validation_frame="{test}"',
           cwd=folder)
    return folder, model, train, test


def _normalized(train, frame):
    """H2O's NORMALIZE of ``frame``'s columns by the training file's (x - mean) / (max - min)."""
    x = np.loadtxt(train, delimiter=",")
    return (frame - x.mean(axis=0)) / (x.max(axis=0) - x.min(axis=0))


def test_ecg_anomalous_beats_have_the_largest_reconstruction_errors(ecg):
    folder, model, train, test = ecg
    _mpidl("anomaly", model, test, "-o", folder / "errors.csv", cwd=folder)
    names, err = _csv(folder / "errors.csv")
    assert names == ["Reconstruction.MSE"] and err.shape == (23, 1)
    top3 = set(np.argsort(-err[:, 0])[:3].tolist())
    print("ECG reconstruction MSE of rows 20-22:", err[20:, 0], "max of the others:",
          err[:20, 0].max())
    assert top3 == {20, 21, 22}
    # H2O's notebook: 9.78, 7.44, 2.93 for rows 21, 22, 20, the others <= 0.0048
    assert err[:20, 0].max() < 0.01 < 1.0 < err[20:, 0].min()


def test_anomaly_and_predict_agree_with_numpy(ecg):
    """predict's reconstr_ columns (data units), normalized with the training file's mean and
    range, give the per-row and per-feature errors of ``anomaly``; the validation metric is
    their mean."""
    folder, model, train, test = ecg
    _mpidl("predict", model, test, "-o", folder / "recon.csv", cwd=folder)
    _mpidl("anomaly", model, test, "-o", folder / "se.csv", "--per-feature", cwd=folder)
    _mpidl("anomaly", model, test, "-o", folder / "mse.csv", cwd=folder)
    rnames, recon = _csv(folder / "recon.csv")
    snames, se = _csv(folder / "se.csv")
    _, mse = _csv(folder / "mse.csv")
    assert rnames == [f"reconstr_C{j}" for j in range(1, 211)]
    assert snames == [f"reconstr_C{j}.SE" for j in range(1, 211)]
    x = np.loadtxt(test, delimiter=",")
    expected = (_normalized(train, recon) - _normalized(train, x)) ** 2
    np.testing.assert_allclose(se, expected, rtol=1e-4, atol=1e-9)
    np.testing.assert_allclose(mse[:, 0], expected.mean(axis=1), rtol=1e-4)
    report = json.loads(_mpidl("inspect", model, "--json", cwd=folder).stdout)
    assert report["validation_metrics"]["MSE"] == pytest.approx(expected.mean(), rel=1e-4)


def test_features_are_the_hidden_tanh_layer(ecg):
    """DF.L1.C1..C50 = tanh(W x + b) of the normalized test rows (weights from the model)."""
    from mpidl.checkpoint import read_model
    folder, model, train, test = ecg
    _mpidl("features", model, test, "--layer", "1", "-o", folder / "df.csv", cwd=folder)
    names, df = _csv(folder / "df.csv")
    assert names == [f"DF.L1.C{j}" for j in range(1, 51)]
    m = read_model(model)
    w, b = m.layout.weights(m.buf, 0).astype(np.float64), m.layout.biases(m.buf, 0)
    x = _normalized(train, np.loadtxt(test, delimiter=","))
    np.testing.assert_allclose(df, np.tanh(x @ w.T + b), rtol=1e-4, atol=1e-6)


def test_pretrained_autoencoder_seeds_the_hidden_layers(ecg, tmp_path):
    """A supervised model (response: the last column, made categorical) starts from the
    autoencoder of the other 209 columns: its hidden weights and biases are the
    autoencoder's, its output layer the fresh one (H2O's initializeFromPretrainedModel)."""
    from mpidl.checkpoint import read_model
    from mpidl.model.pretrained import start_from_autoencoder
    from mpidl.model.state import Model
    folder, _, train, _ = ecg
    x = np.loadtxt(train, delimiter=",")
    data = tmp_path / "beats.csv"
    header = ",".join(f"C{j}" for j in range(1, 210)) + ",label"
    rows = [",".join(f"{v:.2f}" for v in r[:-1]) + f",{'ab'[i % 2]}" for i, r in enumerate(x)]
    data.write_text(header + "\n" + "\n".join(rows) + "\n")
    common = ['hidden = [8]', 'activation = "Tanh"', 'epochs = 1', 'seed = 3',
              f'training_frame = "{data}"']
    (tmp_path / "ae.toml").write_text("\n".join(common + ['autoencoder = true',
                                                          'ignored_columns = ["label"]']))
    (tmp_path / "sup.toml").write_text("\n".join(common + ['response_column = "label"']))
    _mpidl("train", tmp_path / "ae.toml", "-o", tmp_path / "ae.h5", cwd=tmp_path)
    _mpidl("train", tmp_path / "sup.toml", "-o", tmp_path / "sup.h5", "--set",
           f'pretrained_autoencoder="{tmp_path / "ae.h5"}"', cwd=tmp_path)
    ae, sup = read_model(tmp_path / "ae.h5"), read_model(tmp_path / "sup.h5")
    fresh = Model.create(sup.params, sup.dinfo, "fresh")
    seeded = Model.create(sup.params, sup.dinfo, "seeded")
    start_from_autoencoder(seeded, str(tmp_path / "ae.h5"))
    lay = seeded.layout
    np.testing.assert_array_equal(lay.weights(seeded.buf, 0), ae.layout.weights(ae.buf, 0))
    np.testing.assert_array_equal(lay.biases(seeded.buf, 0), ae.layout.biases(ae.buf, 0))
    np.testing.assert_array_equal(lay.weights(seeded.buf, 1), lay.weights(fresh.buf, 1))
    assert not np.array_equal(lay.weights(fresh.buf, 0), ae.layout.weights(ae.buf, 0))


def test_categorical_and_missing_inputs_are_reconstructed_as_h2o(tmp_path):
    """A categorical column is reconstructed as its one-hot block (all levels, then the NA
    slot, which a missing value sets); a missing numeric is the training mean, 0 after
    NORMALIZE; numerics scale by the range: checked against the per-feature errors."""
    rows = ["a,b", "1,p", ",q", "3,", "5,p", "2,q"]
    (tmp_path / "f.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "ae.toml").write_text('training_frame = "f.csv"\nautoencoder = true\n'
                                      'hidden = [2]\nactivation = "Tanh"\nepochs = 5\n'
                                      'seed = 1\n')
    _mpidl("train", "ae.toml", "--threads", "1", "-o", "ae.h5", cwd=tmp_path)
    _mpidl("predict", "ae.h5", "f.csv", "-o", "recon.csv", cwd=tmp_path)
    _mpidl("anomaly", "ae.h5", "f.csv", "--per-feature", "-o", "se.csv", cwd=tmp_path)
    rnames, recon = _csv(tmp_path / "recon.csv")
    snames, se = _csv(tmp_path / "se.csv")
    assert rnames == ["reconstr_b.p", "reconstr_b.q", "reconstr_b.missing(NA)", "reconstr_a"]
    assert snames == [n + ".SE" for n in rnames]
    mean, span = (1 + 3 + 5 + 2) / 4, 5 - 1
    x = np.array([[1, 0, 0, (1 - mean) / span], [0, 1, 0, 0.0], [0, 0, 1, (3 - mean) / span],
                  [1, 0, 0, (5 - mean) / span], [0, 1, 0, (2 - mean) / span]])
    y = recon.copy()
    y[:, 3] = (recon[:, 3] - mean) / span
    np.testing.assert_allclose(se, (y - x) ** 2, rtol=1e-4, atol=1e-8)
