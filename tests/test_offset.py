"""``offset_column`` (issue 15, point 3): H2O's offset, added to the regression output in link
space before the loss (training) and before the inverse link (prediction); not a predictor.

Checked against hand formulas: one plain-SGD step of a 1-1-1 Tanh network with an offset
(online and mini-batch kernels; gaussian and poisson gradients written out here);
predictions = network + offset (gaussian) and exp(link + offset) (poisson), read off the
same model on the frame with its offset set to 0; an all-zero offset trains the very model
a job without offset trains.
"""

from __future__ import annotations

import csv
from pathlib import Path

import h5py
import numpy as np
import pytest
from cli_run import mpidl

from mpidl.checkpoint import read_model
from mpidl.kernels import codes as C
from mpidl.kernels import minibatch, online
from mpidl.kernels.bundles import Net, Objective, Rows
from mpidl.model.network import Layout, activation_code, init_buffer

RATE = 0.05


def _plain_hp() -> np.ndarray:
    hp = np.zeros(C.HP_SIZE)
    hp[C.HP_RATE], hp[C.HP_DECAY], hp[C.HP_MAX_W2], hp[C.HP_FAST_MODE] = RATE, 1.0, 3.4e38, 1.0
    return hp


@pytest.mark.parametrize("kernel", ["online", "minibatch"])
@pytest.mark.parametrize("loss", ["gaussian", "poisson"])
def test_one_step_with_an_offset_matches_the_hand_gradient(kernel, loss):
    """w -= rate * dE/dw with f = w2 tanh(w1 x + b1) + b2 + offset; dE/df = 2 (f - y)
    (gaussian) or 2 (exp(f) - y) (poisson); the mini-batch averages its two rows."""
    lay = Layout(units=(1, 1, 1), activation="Tanh", classification=False, slots=0)
    buf = init_buffer(lay, "Uniform", 0.5, 11, dtype=np.float64)
    woff, boff = lay.offsets()
    w1, b1, w2, b2 = buf[woff[0]], buf[boff[0]], buf[woff[1]], buf[boff[1]]
    x, y, off = np.array([0.7, -0.4]), np.array([0.2, 1.5]), np.array([0.9, -0.3])
    n = 1 if kernel == "online" else 2
    h = np.tanh(w1 * x[:n] + b1)
    f = w2 * h + b2 + off[:n]
    g = 2 * (f - y[:n]) if loss == "gaussian" else 2 * (np.exp(f) - y[:n])
    gh = g * w2 * (1 - h * h)
    want = {woff[1]: w2 - RATE * np.mean(g * h), boff[1]: b2 - RATE * np.mean(g),
            woff[0]: w1 - RATE * np.mean(gh * x[:n]), boff[0]: b1 - RATE * np.mean(gh)}
    net = Net(np.array(lay.units, dtype=np.int64), lay.mult, woff, boff,
              activation_code("Tanh"), C.OUT_LINEAR, np.zeros(1))
    objective = Objective(C.LOSS_QUADRATIC if loss == "gaussian" else C.LOSS_POISSON,
                          C.OPT_PLAIN, _plain_hp())
    rows = Rows(x[:, None], np.zeros((2, 0), dtype=np.int32), y, off)
    if kernel == "online":
        online.train_chunk(net, objective, buf, np.zeros(1), rows, np.array([0]), 0, 1, 1, 1)
    else:
        minibatch.train_minibatch(net, objective, buf, np.zeros(1), rows, np.arange(2), 2, 1,
                                  np.array([1]))
    for idx, value in want.items():
        assert buf[idx] == pytest.approx(value, rel=1e-12)


def _frame(path: Path, offsets: np.ndarray, poisson: bool) -> Path:
    """x1, x2, o (the offset) and y: y = 3 x1 - x2 + o (gaussian) or a Poisson count of mean
    exp(0.5 x1 + o)."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(len(offsets), 2))
    if poisson:
        y = rng.poisson(np.exp(0.5 * x[:, 0] + offsets))
    else:
        y = 3 * x[:, 0] - x[:, 1] + offsets + 0.1 * rng.normal(size=len(offsets))
    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["x1", "x2", "o", "y"])
        out.writerows(zip(x[:, 0], x[:, 1], offsets, y))
    return path


def _train(d: Path, name: str, frame: Path, **extra) -> Path:
    lines = [f'training_frame = "{frame}"', 'response_column = "y"', "hidden = [5]",
             "epochs = 3", "seed = 4", "reproducible = true", "export_weights_and_biases = true"]
    lines += [f"{k} = {v}" for k, v in extra.items()]
    (d / f"{name}.toml").write_text("\n".join(lines) + "\n")
    proc = mpidl("train", f"{name}.toml", "--threads", "1", "-o", f"{name}.h5", cwd=d)
    assert proc.returncode == 0, proc.stderr
    return d / f"{name}.h5"


def _predict(d: Path, model: Path, frame: Path) -> np.ndarray:
    out = d / f"{model.stem}-{frame.stem}.csv"
    proc = mpidl("predict", model, frame, "-o", out, cwd=d)
    assert proc.returncode == 0, proc.stderr
    with open(out) as f:
        return np.array([float(r["predict"]) for r in csv.DictReader(f)])


@pytest.mark.parametrize("dist", ["gaussian", "poisson"])
def test_prediction_adds_the_offset_in_link_space(tmp_path, dist):
    rng = np.random.default_rng(1)
    poisson = dist == "poisson"
    train = _frame(tmp_path / "train.csv", rng.uniform(-1, 1, 300), poisson)
    model = _train(tmp_path, dist, train, offset_column='"o"', distribution=f'"{dist}"')
    offsets = rng.uniform(-1, 1, 300)
    with_off = _predict(tmp_path, model, _frame(tmp_path / "with.csv", offsets, poisson))
    no_off = _predict(tmp_path, model, _frame(tmp_path / "zero.csv", np.zeros(300), poisson))
    want = no_off * np.exp(offsets) if poisson else no_off + offsets
    np.testing.assert_allclose(with_off, want, rtol=1e-5, atol=1e-5)


def test_an_all_zero_offset_trains_the_model_a_job_without_offset_trains(tmp_path):
    frame = _frame(tmp_path / "train.csv", np.zeros(300), False)
    with_off = _train(tmp_path, "zero", frame, offset_column='"o"')
    without = _train(tmp_path, "none", frame, ignored_columns='["o"]')
    with h5py.File(with_off, "r") as a, h5py.File(without, "r") as b:
        for name, table in a["weights_and_biases"].items():
            np.testing.assert_array_equal(table[...], b["weights_and_biases"][name][...])


def test_the_offset_is_used_in_training_and_is_no_predictor(tmp_path):
    """y = 3 x1 - x2 + o with a wide offset: the model that knows o fits y far better than
    one trained without it, and o is not among its inputs."""
    rng = np.random.default_rng(2)
    frame = _frame(tmp_path / "train.csv", rng.uniform(-20, 20, 300), False)
    model = _train(tmp_path, "off", frame, offset_column='"o"')
    blind = _train(tmp_path, "blind", frame, ignored_columns='["o"]')
    y = np.loadtxt(frame, delimiter=",", skiprows=1)[:, 3]
    rmse = [np.sqrt(np.mean((_predict(tmp_path, m, frame) - y) ** 2)) for m in (model, blind)]
    assert rmse[0] < 0.2 * rmse[1]
    with h5py.File(model, "r") as f:
        assert f["weights_and_biases"]["weights_0"].shape == (5, 2)


def test_with_an_offset_the_standardization_ignores_the_weights(tmp_path):
    """H2O (spec 10.3): weighted means and sds only when there is no offset column; with one,
    x1's mean and sample sd are numpy's, unweighted."""
    frame = _frame(tmp_path / "train.csv", np.linspace(-1, 1, 300), False)
    table = np.loadtxt(frame, delimiter=",", skiprows=1)
    weighted = np.column_stack([table, np.where(np.arange(300) % 3 == 0, 5.0, 1.0)])
    header = "x1,x2,o,y,w\n"
    (tmp_path / "w.csv").write_text(header + "\n".join(",".join(map(repr, r.tolist()))
                                                      for r in weighted) + "\n")
    model = _train(tmp_path, "weighted", tmp_path / "w.csv", offset_column='"o"',
                   weights_column='"w"')
    d = read_model(str(model)).dinfo
    x1 = table[:, 0]
    assert d.num_sub[d.num_names.index("x1")] == pytest.approx(x1.mean(), rel=1e-9)
    assert d.num_mul[d.num_names.index("x1")] == pytest.approx(1 / x1.std(ddof=1), rel=1e-9)
